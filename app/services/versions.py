"""Named versions of an area's plan ("v1 workshop output มิ.ย. 2566", "v2 after review"), and the
comparison of any two versions or dates with the reasons recorded for each change.

A version is an immutable copy of what `maps.state_at` replays from the audit trail at a moment:
each element's columns and links, the vision and the per-period targets. A version named for a
past date copies the plan as the trail had it then. Comparing reads two such states (a stored
version, or a replay at the end of a date) and `maps.compare` marks what was added, removed or
changed; the reasons come from the audit events of each element between the two moments.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field
from sqlmodel import Session, col, select

from app.i18n import N_, as_utc, format_date, gettext, parse_day, thai_today
from app.inputs import parse_id
from app.models import Area, AuditEvent, Plan, PlanVersion
from app.models.enums import AuditOp
from app.schemas import InputModel, OptionalDate, Text
from app.services import audit, learning, maps
from app.services.errors import Msg, NotFound, ValidationFailed
from app.services.plans import PLAN_ENTITIES
from app.services.validation import validate


class VersionIn(InputModel):
    name: Text = Field(min_length=1, max_length=200)
    note: Text = Field(default="", max_length=2000)
    as_of: OptionalDate = None  # the plan as it stood at the end of that day; empty: now


def name_version(
    session: Session, *, actor: audit.Actor, area: Area, plan: Plan, version_in: dict[str, Any]
) -> PlanVersion:
    """Name the plan as it stands now (or stood at the end of `as_of`) and keep a copy."""
    data = validate(VersionIn, version_in)
    now = datetime.now(UTC)
    errors: dict[str, Msg] = {}
    if data.as_of is not None and data.as_of > thai_today():
        errors["as_of"] = Msg(N_("This date is in the future."))
    taken = session.exec(
        select(PlanVersion.id).where(PlanVersion.area_id == area.id, PlanVersion.name == data.name)
    ).first()
    if taken is not None:
        errors["name"] = Msg(N_("This area already has a version with this name."))
    if errors:
        raise ValidationFailed(errors)
    moment = now if data.as_of is None or data.as_of >= thai_today() else maps.end_of(data.as_of)
    state = maps.state_at(session, area, plan, moment)
    row = PlanVersion(
        area_id=area.id,
        plan_id=plan.id,
        name=data.name,
        note=data.note,
        # in UTC like every time; a past day's version is dated its last instant, on that day
        as_of=(moment if moment is now else moment - timedelta(microseconds=1)).astimezone(UTC),
        snapshot=freeze(state),
        created_by=actor.id,
    )
    session.add(row)
    session.flush()
    audit.commit(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="plan_version",
        entity_id=row.id,
        op=AuditOp.create,
        after={**_summary(row), **element_counts(row.snapshot)},
        publish={"type": "learning.changed", "entity": "plan_version", "id": row.id},
    )
    return row


def delete_version(session: Session, *, actor: audit.Actor, area: Area, version_id: int) -> None:
    """Remove a version named by mistake; its copy stays on the audit event."""
    row = get_version(session, area, version_id)
    before = {**_summary(row), "snapshot": row.snapshot}
    session.delete(row)
    audit.commit(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="plan_version",
        entity_id=version_id,
        op=AuditOp.delete,
        before=before,
        publish={"type": "learning.changed", "entity": "plan_version", "id": version_id},
    )


def get_version(session: Session, area: Area, version_id: int) -> PlanVersion:
    row = session.get(PlanVersion, version_id)
    if row is None or row.area_id != area.id:
        raise NotFound(f"plan_version/{version_id}")
    return row


def list_versions(session: Session, area: Area) -> list[PlanVersion]:
    return list(
        session.exec(
            select(PlanVersion)
            .where(PlanVersion.area_id == area.id)
            .order_by(col(PlanVersion.as_of), col(PlanVersion.id))
        ).all()
    )


def _summary(row: PlanVersion) -> dict[str, Any]:
    return {"name": row.name, "note": row.note, "as_of": row.as_of.isoformat()}


def element_counts(snapshot: dict[str, Any]) -> dict[str, int]:
    """How many KRAs, KPIs and actions a version holds."""
    counts: dict[str, int] = defaultdict(int)
    for element in snapshot.get("elements", []):
        counts[element["type"]] += 1
    return {t: counts[t] for t in ("kra", "kpi", "action")}


# ---- the copy -------------------------------------------------------------------------------


def freeze(state: maps.State) -> dict[str, Any]:
    """A JSON copy of a replayed state (what `thaw` reads back)."""
    return {
        "vision": state.vision,
        "elements": [
            {"type": entity_type, **snap}
            for (entity_type, _id), snap in sorted(state.snapshots.items())
        ],
        "targets": [[k, p, v] for (k, p), v in sorted(state.targets.items())],
    }


def thaw(session: Session, area: Area, row: PlanVersion) -> maps.State:
    plan = session.get(Plan, row.plan_id)
    snapshots = {
        (e["type"], e["id"]): {k: v for k, v in e.items() if k != "type"}
        for e in row.snapshot.get("elements", [])
    }
    targets = {(k, p): v for k, p, v in row.snapshot.get("targets", [])}
    return maps.State(plan, area, snapshots, {}, targets, vision=row.snapshot.get("vision", ""))


# ---- comparing two versions or dates --------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a named version, a date (the end of that day) or now."""

    key: str  # "v<id>", a date "2023-06-16", or "now"
    label: str
    moment: datetime
    version: PlanVersion | None = None


@dataclass
class Change:
    """One element added, removed or changed, with the reasons recorded for it in between."""

    difference: maps.Difference
    entity_type: str
    element_id: int
    reasons: list[AuditEvent] = field(default_factory=list)

    @property
    def unexplained(self) -> bool:
        return not self.reasons


@dataclass
class Comparison:
    left: Side
    right: Side
    changes: list[Change]
    codes: dict[tuple[str, int], str]  # every coded element of either side (linked id lists)

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.difference.change == change)


def parse_side(session: Session, area: Area, value: str) -> Side | None:
    """A side from the URL, or None when it names nothing of this area."""
    value = (value or "").strip()
    if value == "now":
        return Side("now", gettext("Today"), datetime.now(UTC))
    if value.startswith("v") and (version_id := parse_id(value[1:])) is not None:
        row = session.get(PlanVersion, version_id)
        if row is None or row.area_id != area.id:
            return None
        return Side(value, row.name, as_utc(row.as_of), row)
    day = parse_day(value)
    if day is None:
        return None
    return Side(day.isoformat(), format_date(day), maps.end_of(day))


def compare(session: Session, area: Area, plan: Plan, left: Side, right: Side) -> Comparison:
    """What changed from `left` to `right` and why: two states, one query for the reasons."""
    old = _state(session, area, plan, left)
    new = _state(session, area, plan, right)
    differences = maps.compare(old, new)
    start, end = sorted((left.moment, right.moment))
    reasons = _reasons(session, area, start, end)
    changes = []
    for difference in differences:
        layer, _, raw_id = difference.key.partition(":")
        entity_type = "plan" if layer == "vision" else _ENTITY_OF_LAYER.get(layer, layer)
        element_id = plan.id if layer == "vision" else int(raw_id)
        found = reasons.get((entity_type, element_id), [])
        if layer == "vision":
            found = [e for e in found if "vision" in (e.after or {})]
        changes.append(Change(difference, entity_type, element_id, found))
    codes = {
        key: str(snap["code"])
        for state in (old, new)
        for key, snap in state.snapshots.items()
        if snap.get("code")
    }
    return Comparison(left, right, changes, codes)


_ENTITY_OF_LAYER = {layer: entity for entity, layer in maps.NODE_LAYERS.items()}


def _state(session: Session, area: Area, plan: Plan, side: Side) -> maps.State:
    if side.version is not None:
        return thaw(session, area, side.version)
    return maps.state_at(session, area, plan, side.moment)


def _reasons(
    session: Session, area: Area, start: datetime, end: datetime
) -> dict[tuple[str, int], list[AuditEvent]]:
    """The plan changes between two moments that say why (`learning.stated_reason`)."""
    events = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.area_id == area.id,
            col(AuditEvent.entity_type).in_(PLAN_ENTITIES),
            col(AuditEvent.at) >= start.astimezone(UTC),
            col(AuditEvent.at) < end.astimezone(UTC),
            learning.stated_reason(),
        )
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    found: dict[tuple[str, int], list[AuditEvent]] = defaultdict(list)
    for event in events:
        found[(event.entity_type, event.entity_id)].append(event)
    return found
