"""The public portal (issue 24 part 4): an area's adopted plan, its KPI results and its results
chain map, for anyone, once an administrator has opened the area's portal.

What the portal shows is the plan version the area's committee adopted last (a resolution citing
the version with kind "adopt"; the meeting's date is the adoption date), never the working plan:
its vision, desired outcomes, KRAs, KPIs with their targets and agencies, and actions. The KPI
results are the values recorded for those KPIs, judged against the adopted targets. Nothing
else: no comments, notes, evidence, reviews, workshop contributions or people's names (agencies
only). The read models here hold only those fields, so a template cannot show more.

Opening or closing is one audited change of `Area.public_since` (NULL: closed, the default).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.i18n import N_, thai_sort_key, thai_today
from app.models import (
    Agency,
    Area,
    Measurement,
    Meeting,
    PlanVersion,
    Resolution,
    ResolutionCitation,
)
from app.models.base import utcnow
from app.models.committee import CitationKind
from app.models.enums import AuditOp
from app.periods import sort_key
from app.schemas import InputModel
from app.services import audit
from app.services.errors import Msg, NotFound, ValidationFailed
from app.services.plan_tree import PlanTree
from app.services.progress import KPIProgress, kpi_row
from app.services.validation import validate
from app.services.versions import thaw

CONFIRM = N_("Tick the box to confirm that these pages become public.")


class PortalIn(InputModel):
    public: bool = False
    confirm: bool = False


@dataclass(frozen=True)
class Adoption:
    version: PlanVersion
    adopted_on: date  # the day of the meeting whose resolution adopted it


@dataclass
class PublicPlan:
    """An open area's adopted plan (None when the committee has adopted no version yet)."""

    area: Area
    adoption: Adoption | None
    tree: PlanTree | None
    targets: dict[int, list[tuple[str, float]]]  # KPI id -> (period, target), in time order
    agencies: dict[int, Agency]  # the agencies the KPIs and actions name


# ---- opening and closing --------------------------------------------------------------------


def set_portal(
    session: Session, *, actor: audit.Actor, area: Area, portal_in: dict[str, Any]
) -> Area:
    """Open (`public`, with `confirm`) or close the area's portal; nothing happens when it is
    already so. Closing needs no confirmation: it only takes pages away."""
    data = validate(PortalIn, portal_in)
    if data.public and not data.confirm:
        raise ValidationFailed({"confirm": Msg(CONFIRM)})
    if data.public == (area.public_since is not None):
        return area
    before = audit.snapshot(area)
    area.public_since = utcnow() if data.public else None
    session.add(area)
    audit.commit(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="area",
        entity_id=area.id,
        op=AuditOp.update,
        before=before,
        after=audit.snapshot(area),
        publish={"type": "reference.changed", "entity": "area", "id": area.id},
    )
    return area


# ---- reading --------------------------------------------------------------------------------


def open_areas(session: Session) -> list[Area]:
    """The areas whose portal is open, in Thai order."""
    rows = session.exec(select(Area).where(col(Area.public_since).is_not(None))).all()
    return sorted(rows, key=lambda a: thai_sort_key(a.name_th))


def open_area(session: Session, slug: str) -> Area:
    """The area, if its portal is open; an unknown slug and a closed portal are the same 404."""
    area = session.exec(select(Area).where(Area.slug == slug)).first()
    if area is None or area.public_since is None:
        raise NotFound("public/area")
    return area


def adoption(session: Session, area: Area) -> Adoption | None:
    """The version the area's committee adopted last (latest meeting, then resolution)."""
    row = session.exec(
        select(PlanVersion, Meeting.held_on)
        .join(
            ResolutionCitation,
            (col(ResolutionCitation.target_id) == col(PlanVersion.id))
            & (ResolutionCitation.target_type == "plan_version")
            & (ResolutionCitation.kind == CitationKind.adopt.value),
        )
        .join(Resolution, col(Resolution.id) == col(ResolutionCitation.resolution_id))
        .join(Meeting, col(Meeting.id) == col(Resolution.meeting_id))
        .where(PlanVersion.area_id == area.id, Meeting.area_id == area.id)
        .order_by(
            col(Meeting.held_on).desc(),
            col(Meeting.id).desc(),
            col(Resolution.position).desc(),
            col(ResolutionCitation.id).desc(),
        )
        .limit(1)
    ).first()
    return Adoption(row[0], row[1]) if row else None


def public_plan(session: Session, area: Area) -> PublicPlan:
    found = adoption(session, area)
    if found is None:
        return PublicPlan(area, None, None, {}, {})
    state = thaw(session, area, found.version)
    tree = state.tree
    targets: dict[int, list[tuple[str, float]]] = {}
    for (kpi_id, period), value in state.targets.items():
        targets.setdefault(kpi_id, []).append((period, value))
    for rows in targets.values():
        rows.sort(key=lambda pv: sort_key(pv[0]))
    ids = {k.lead_agency_id for k in tree.kpis} | {a.lead_agency_id for a in tree.actions}
    ids |= {
        i for links in (tree.kpi_co_owners, tree.action_partners) for v in links.values() for i in v
    }
    ids.discard(None)
    agencies = session.exec(select(Agency).where(col(Agency.id).in_(ids))).all() if ids else []
    return PublicPlan(area, found, tree, targets, {a.id: a for a in agencies})


def results(
    session: Session, plan: PublicPlan, today: date | None = None
) -> dict[int, KPIProgress]:
    """Each adopted KPI's recorded values (value and how many were measured: no notes, evidence
    or authors) judged against the adopted version's targets."""
    if plan.tree is None or plan.adoption is None:
        return {}
    kpi_ids = [k.id for k in plan.tree.kpis]
    actuals: dict[int, dict[str, Measurement]] = {i: {} for i in kpi_ids}
    if kpi_ids:
        query = select(
            Measurement.kpi_id, Measurement.period, Measurement.value, Measurement.n_measured
        ).where(col(Measurement.kpi_id).in_(kpi_ids))
        for kpi_id, period, value, n_measured in session.exec(query):
            actuals[kpi_id][period] = Measurement(
                kpi_id=kpi_id, period=period, value=value, n_measured=n_measured
            )
    targets = {k: dict(v) for k, v in plan.targets.items()}
    day = today or thai_today()
    return {
        k.id: kpi_row(plan.tree.plan, k, actuals[k.id], targets.get(k.id, {}), day)
        for k in plan.tree.kpis
    }
