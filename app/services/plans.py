"""Every write to a plan. Each function validates, writes, records one audit event in the same
transaction, commits, then publishes the live update.

The six element kinds (DOE statements, problems, KRAs, KPIs, actions, agencies) share one set of
functions driven by an ElementSpec: the kinds differ in fields and links, not in how they are
created, changed, reordered and deleted.
"""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, update
from sqlmodel import Session, SQLModel, col, or_, select

from app import labels
from app.models import (
    KPI,
    KPIKRA,
    Action,
    ActionKPI,
    ActionKRA,
    ActionPartner,
    Agency,
    AgencyType,
    Area,
    AuditEvent,
    CommonIndicator,
    DataItem,
    DOEItem,
    DOEStatement,
    DOEStatementItem,
    KeyResultArea,
    KPICoOwner,
    KPIDataItem,
    KRADOEItem,
    Plan,
    StrategyTheme,
)
from app.models.enums import AuditOp
from app.schemas import (
    ActionIn,
    AgencyIn,
    DOEStatementIn,
    InputModel,
    KPIIn,
    KRAIn,
    PlanIn,
)
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate

Target = Literal["doe_items", "kras", "kpis", "agencies", "data_items"]


@dataclass(frozen=True)
class LinkSpec:
    """A many-to-many link owned by the element: `field` in the input holds the target ids."""

    field: str
    table: type[SQLModel]
    own: str
    other: str
    target: Target


@dataclass(frozen=True)
class ElementSpec:
    kind: str  # URL segment and form prefix
    entity_type: str  # audit entity type and DOM id prefix
    model: type[SQLModel]
    schema: type[InputModel]
    links: tuple[LinkSpec, ...] = ()
    code_prefix: str | None = None  # coded elements get KRA1, KPI2 ... by default
    owner: Literal["plan", "area"] = "plan"
    label_field: str = "code"


SPECS: dict[str, ElementSpec] = {
    spec.kind: spec
    for spec in (
        ElementSpec(
            "doe",
            "doe_statement",
            DOEStatement,
            DOEStatementIn,
            links=(LinkSpec("item_ids", DOEStatementItem, "statement_id", "item_id", "doe_items"),),
            label_field="text",
        ),
        ElementSpec(
            "kras",
            "kra",
            KeyResultArea,
            KRAIn,
            code_prefix="KRA",
            links=(LinkSpec("doe_item_ids", KRADOEItem, "kra_id", "item_id", "doe_items"),),
        ),
        ElementSpec(
            "kpis",
            "kpi",
            KPI,
            KPIIn,
            code_prefix="KPI",
            links=(
                LinkSpec("kra_ids", KPIKRA, "kpi_id", "kra_id", "kras"),
                LinkSpec("co_owner_ids", KPICoOwner, "kpi_id", "agency_id", "agencies"),
                LinkSpec("data_item_ids", KPIDataItem, "kpi_id", "data_item_id", "data_items"),
            ),
        ),
        ElementSpec(
            "actions",
            "action",
            Action,
            ActionIn,
            code_prefix="ACT",
            links=(
                LinkSpec("kpi_ids", ActionKPI, "action_id", "kpi_id", "kpis"),
                LinkSpec("kra_ids", ActionKRA, "action_id", "kra_id", "kras"),
                LinkSpec("partner_ids", ActionPartner, "action_id", "agency_id", "agencies"),
            ),
        ),
        ElementSpec("agencies", "agency", Agency, AgencyIn, owner="area", label_field="name_th"),
    )
}

# Links that point *at* an element of a kind, from elements of other kinds (for delete warnings).
INBOUND: dict[str, tuple[tuple[str, LinkSpec], ...]] = {
    target: tuple(
        (spec.kind, link) for spec in SPECS.values() for link in spec.links if link.target == target
    )
    for target in ("kras", "kpis", "agencies")
}
AGENCY_FKS = ((KPI, "kpis"), (Action, "actions"))  # lead_agency_id columns


def get_spec(kind: str) -> ElementSpec:
    spec = SPECS.get(kind)
    if spec is None:
        raise NotFound(kind)
    return spec


# ---- reading one element --------------------------------------------------------------------


def get_element(session: Session, *, plan: Plan, kind: str, element_id: int) -> SQLModel:
    """The element, only when it belongs to this plan (or this plan's area, for agencies)."""
    spec = get_spec(kind)
    row = session.get(spec.model, element_id)
    if row is None or not _owned(spec, row, plan):
        raise NotFound(f"{kind}/{element_id}")
    return row


def _owned(spec: ElementSpec, row: SQLModel, plan: Plan) -> bool:
    if spec.owner == "area":
        return row.area_id == plan.area_id
    return row.plan_id == plan.id


def element_links(session: Session, spec: ElementSpec, element_id: int) -> dict[str, list[int]]:
    out = {}
    for link in spec.links:
        query = select(getattr(link.table, link.other)).where(
            getattr(link.table, link.own) == element_id
        )
        out[link.field] = sorted(session.exec(query).all())
    return out


def element_values(session: Session, spec: ElementSpec, row: SQLModel) -> dict[str, Any]:
    """The element as its input schema sees it: columns plus link id lists."""
    values = {name: getattr(row, name) for name in spec.schema.model_fields if hasattr(row, name)}
    values.update(element_links(session, spec, row.id))
    return values


@dataclass(frozen=True)
class Dependent:
    kind: str
    element_id: int
    label: str


def dependents(session: Session, *, plan: Plan, kind: str, row: SQLModel) -> list[Dependent]:
    """Other plan elements that lose a link to this one if it is deleted."""
    spec = get_spec(kind)
    found: list[Dependent] = []
    for link in spec.links:
        if link.target in ("kras", "kpis"):
            target = get_spec(link.target)
            ids = _ids(session, link.table, link.own, link.other, row.id)
            found += _labelled(session, target, ids)
    for source_kind, link in INBOUND.get(kind, ()):
        source = get_spec(source_kind)
        found += _labelled(session, source, _ids(session, link.table, link.other, link.own, row.id))
    if kind == "agencies":
        for model, source_kind in AGENCY_FKS:
            ids = session.exec(select(model.id).where(model.lead_agency_id == row.id)).all()
            found += _labelled(session, get_spec(source_kind), list(ids))
    unique = {(d.kind, d.element_id): d for d in found}
    return sorted(unique.values(), key=lambda d: (d.kind, d.label))


def _ids(session: Session, table: type[SQLModel], by: str, pick: str, value: int) -> list[int]:
    return list(session.exec(select(getattr(table, pick)).where(getattr(table, by) == value)).all())


def _labelled(session: Session, spec: ElementSpec, ids: list[int]) -> list[Dependent]:
    if not ids:
        return []
    rows = session.exec(select(spec.model).where(col(spec.model.id).in_(ids))).all()
    return [Dependent(spec.kind, r.id, str(getattr(r, spec.label_field))) for r in rows]


# ---- writing elements -----------------------------------------------------------------------


def suggest_code(session: Session, *, plan: Plan, kind: str) -> str:
    spec = get_spec(kind)
    if spec.code_prefix is None:
        return ""
    codes = session.exec(select(spec.model.code).where(spec.model.plan_id == plan.id)).all()
    numbers = [int(m.group(1)) for c in codes if (m := re.search(r"(\d+)\s*$", c))]
    return f"{spec.code_prefix}{max(numbers, default=0) + 1}"


def create_element(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    kind: str,
    element_in: dict[str, Any],
    reason: str | None = None,
    reason_category: str | None = None,
    cites: tuple[str, int] | None = None,
    then: Callable[[SQLModel], None] | None = None,
) -> SQLModel:
    """`then` writes more in the same transaction (a KPI's computation) before the commit."""
    spec = get_spec(kind)
    data = validate(spec.schema, element_in)
    _check_references(session, spec, plan, data, current_id=None)
    row = spec.model(**_columns(spec, data), **_ownership(spec, plan))
    row.position = _next_position(session, spec, plan)
    session.add(row)
    session.flush()
    links = _write_links(session, spec, row.id, data)
    if then is not None:
        then(row)
    _finish(
        session,
        actor=actor,
        plan=plan,
        entity_type=spec.entity_type,
        entity_id=row.id,
        op=AuditOp.create,
        after=audit.snapshot(row, **links),
        reason=reason,
        reason_category=reason_category,
        cites=cites,
    )
    return row


def update_element(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    kind: str,
    element_id: int,
    element_in: dict[str, Any],
    expected_version: int | None = None,
    partial: bool = False,
    reason: str | None = None,
    reason_category: str | None = None,
    cites: tuple[str, int] | None = None,
    op: AuditOp = AuditOp.update,  # restore() records AuditOp.restore
    then: Callable[[SQLModel], None] | None = None,  # more to write before the commit
) -> SQLModel:
    spec = get_spec(kind)
    row = get_element(session, plan=plan, kind=kind, element_id=element_id)
    _check_version(session, spec, row, expected_version)
    current = element_values(session, spec, row)
    merged = {**current, **element_in} if partial else element_in
    data = validate(spec.schema, merged)
    _check_references(session, spec, plan, data, current_id=row.id)
    before = audit.snapshot(row, **element_links(session, spec, row.id))
    with audit.lost_race(session, row, lambda: _conflict(session, spec, row)):
        for name, value in _columns(spec, data).items():
            setattr(row, name, value)
        row.version += 1
        session.add(row)
        links = _write_links(session, spec, row.id, data, replace=True)
        if then is not None:
            then(row)
        _finish(
            session,
            actor=actor,
            plan=plan,
            entity_type=spec.entity_type,
            entity_id=row.id,
            op=op,
            before=before,
            after=audit.snapshot(row, **links),
            reason=reason,
            reason_category=reason_category,
            cites=cites,
        )
    return row


def delete_element(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    kind: str,
    element_id: int,
    force: bool = False,
    expected_version: int | None = None,
    reason: str | None = None,
    reason_category: str | None = None,
    cites: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """Delete, unlinking what pointed at it. Without `force`, a linked element is refused with
    the list of what would be unlinked, so the caller can show it first."""
    spec = get_spec(kind)
    row = get_element(session, plan=plan, kind=kind, element_id=element_id)
    _check_version(session, spec, row, expected_version)
    linked = dependents(session, plan=plan, kind=kind, row=row)
    if linked and not force:
        raise Conflict(
            Msg("This element is still linked; confirm to unlink and delete it."),
            current={"unlinks": [d.__dict__ for d in linked]},
        )
    before = audit.snapshot(
        row,
        **element_links(session, spec, row.id),
        unlinked=[{"kind": d.kind, "id": d.element_id} for d in linked],
        inbound=_inbound_links(session, kind, row.id),
    )
    with audit.lost_race(session, row, lambda: _conflict(session, spec, row)):
        _unlink_inbound(session, kind, row.id)
        session.delete(row)
        _finish(
            session,
            actor=actor,
            plan=plan,
            entity_type=spec.entity_type,
            entity_id=element_id,
            op=AuditOp.delete,
            before=before,
            reason=reason,
            reason_category=reason_category,
            cites=cites,
        )
    return before


def move_element(
    session: Session, *, actor: audit.Actor, plan: Plan, kind: str, element_id: int, direction: str
) -> SQLModel:
    """Swap the element with its neighbour above or below."""
    spec = get_spec(kind)
    if direction not in ("up", "down"):
        raise ValidationFailed({"direction": Msg("Choose one of the options.")})
    row = get_element(session, plan=plan, kind=kind, element_id=element_id)
    siblings = list(
        session.exec(
            select(spec.model)
            .where(*_sibling_filter(spec, plan))
            .order_by(spec.model.position, spec.model.id)
        ).all()
    )
    index = next(i for i, s in enumerate(siblings) if s.id == row.id)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(siblings):
        return row
    before = {"position": row.position, "order": [s.id for s in siblings]}
    siblings.insert(other_index, siblings.pop(index))
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            session.add(sibling)
    row.version += 1
    _finish(
        session,
        actor=actor,
        plan=plan,
        entity_type=spec.entity_type,
        entity_id=row.id,
        op=AuditOp.update,
        before=before,
        after={"position": row.position, "order": [s.id for s in siblings]},
    )
    return row


# ---- plan-level writes ----------------------------------------------------------------------


def create_plan(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    plan_in: dict[str, Any],
    is_demo: bool = False,
) -> Plan:
    data = validate(PlanIn, plan_in)
    plan = Plan(area_id=area.id, is_demo=is_demo, **data.model_dump())
    session.add(plan)
    session.flush()
    _finish(
        session,
        actor=actor,
        plan=plan,
        entity_type="plan",
        entity_id=plan.id,
        op=AuditOp.create,
        after=audit.snapshot(plan),
    )
    return plan


def update_plan(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    plan_in: dict[str, Any],
    expected_version: int | None = None,
    reason: str | None = None,
    reason_category: str | None = None,
    cites: tuple[str, int] | None = None,
    op: AuditOp = AuditOp.update,
) -> Plan:
    """Fields missing from `plan_in` keep their values (the header and the vision are edited
    separately)."""
    current = {name: getattr(plan, name) for name in PlanIn.model_fields}
    values = validate(PlanIn, {**current, **plan_in}).model_dump()
    if expected_version is not None and expected_version != plan.version:
        raise Conflict(Msg(audit.STALE), current=audit.snapshot(plan))
    before = audit.snapshot(plan)
    for name, value in values.items():
        setattr(plan, name, value)
    plan.version += 1
    session.add(plan)
    with audit.lost_race(session, plan, lambda: Conflict(Msg(audit.STALE), audit.snapshot(plan))):
        _finish(
            session,
            actor=actor,
            plan=plan,
            entity_type="plan",
            entity_id=plan.id,
            op=op,
            before=before,
            after=audit.snapshot(plan),
            reason=reason,
            reason_category=reason_category,
            cites=cites,
        )
    return plan


# ---- restoring from the audit trail ---------------------------------------------------------

ENTITY_KINDS = {spec.entity_type: spec.kind for spec in SPECS.values()}
# audit entity types of the plan and its elements (the problem tree's nodes second, as in the
# workshop's order: DOE, problems, then KRAs, KPIs, actions)
PLAN_ENTITIES = (
    "plan",
    "doe_statement",
    "problem_node",
    *(entity for entity in ENTITY_KINDS if entity != "doe_statement"),
)
CANNOT_RESTORE = Msg("This change cannot be put back.")


def restorable(event: AuditEvent) -> bool:
    """Whether `restore` can act on the event: a deletion, or a saved version of an element
    (not a reordering, whose snapshot holds only positions)."""
    if event.entity_type == "plan":
        return event.op != AuditOp.delete and bool(event.after) and "title" in event.after
    kind = ENTITY_KINDS.get(event.entity_type)
    if kind is None:
        return False
    if event.op == AuditOp.delete:
        return bool(event.before)
    return bool(event.after) and SPECS[kind].label_field in event.after


def restore(
    session: Session, *, actor: audit.Actor, plan: Plan, event_id: int, reason: str | None = None
) -> SQLModel:
    """Bring back a deleted element, or put an element (or the plan) back as an event saved
    it. The restore is itself one audited change (op `restore`)."""
    event = session.get(AuditEvent, event_id)
    if event is None or event.area_id != plan.area_id:
        raise NotFound(f"audit_event/{event_id}")
    if not restorable(event):
        raise Conflict(CANNOT_RESTORE)
    reason = reason or f"restored from change #{event.id}"
    if event.entity_type == "plan":
        if event.entity_id != plan.id:
            raise Conflict(Msg("This change belongs to an earlier plan of the area."))
        values = {k: event.after[k] for k in PlanIn.model_fields if k in event.after}
        return update_plan(
            session, actor=actor, plan=plan, plan_in=values, reason=reason, op=AuditOp.restore
        )
    spec = SPECS[ENTITY_KINDS[event.entity_type]]
    if event.op == AuditOp.delete:
        return _undelete(session, actor, plan, spec, event, reason)
    try:
        get_element(session, plan=plan, kind=spec.kind, element_id=event.entity_id)
    except NotFound:
        raise Conflict(
            Msg("This element has been deleted since. Restore it from its deletion first.")
        ) from None
    return update_element(
        session,
        actor=actor,
        plan=plan,
        kind=spec.kind,
        element_id=event.entity_id,
        element_in=_still_valid(session, spec, plan, event.after),
        reason=reason,
        op=AuditOp.restore,
    )


def _still_valid(
    session: Session, spec: ElementSpec, plan: Plan, snapshot: dict[str, Any]
) -> dict[str, Any]:
    """A snapshot's values as input, without links to what no longer exists."""
    values = {name: snapshot[name] for name in spec.schema.model_fields if name in snapshot}
    for link in spec.links:
        allowed = _allowed_ids(session, link.target, plan)
        values[link.field] = [i for i in values.get(link.field) or [] if i in allowed]
    for name, target in (
        ("lead_agency_id", "agencies"),
        ("theme_id", "themes"),
        ("type_id", "agency_types"),
    ):
        if values.get(name) is not None and values[name] not in _allowed_ids(session, target, plan):
            values[name] = None
    return values


def _undelete(
    session: Session,
    actor: audit.Actor,
    plan: Plan,
    spec: ElementSpec,
    event: AuditEvent,
    reason: str,
) -> SQLModel:
    snapshot = event.before or {}
    if session.get(spec.model, event.entity_id) is not None:
        raise Conflict(Msg("This element exists: it was restored already."))
    if spec.owner == "plan" and snapshot.get("plan_id") != plan.id:
        raise Conflict(Msg("This change belongs to an earlier plan of the area."))
    values = _still_valid(session, spec, plan, snapshot)
    if spec.code_prefix and _code_taken(session, spec, plan, str(values.get("code")), None):
        values["code"] = suggest_code(session, plan=plan, kind=spec.kind)
    data = validate(spec.schema, values)
    _check_references(session, spec, plan, data, current_id=None)
    row = spec.model(id=event.entity_id, **_columns(spec, data), **_ownership(spec, plan))
    if spec.owner == "area" and snapshot.get("code"):
        taken = session.exec(select(Agency.id).where(Agency.code == snapshot["code"])).first()
        row.code = row.code if taken else snapshot["code"]
    row.position = snapshot.get("position", _next_position(session, spec, plan))
    session.add(row)
    session.flush()
    links = _write_links(session, spec, row.id, data)
    relinked = _relink_inbound(session, plan, row.id, snapshot.get("inbound") or {})
    _finish(
        session,
        actor=actor,
        plan=plan,
        entity_type=spec.entity_type,
        entity_id=row.id,
        op=AuditOp.restore,
        after=audit.snapshot(row, **links, inbound=relinked),
        reason=reason,
    )
    return row


def _inbound_links(session: Session, kind: str, element_id: int) -> dict[str, list[int]]:
    """Which other elements point at this one, and through which field: what a deletion
    unlinks and a restore puts back."""
    found: dict[str, list[int]] = {}
    for source_kind, link in INBOUND.get(kind, ()):
        ids = _ids(session, link.table, link.other, link.own, element_id)
        if ids:
            found[f"{source_kind}.{link.field}"] = sorted(ids)
    if kind == "agencies":
        for model, source_kind in AGENCY_FKS:
            ids = session.exec(select(model.id).where(model.lead_agency_id == element_id)).all()
            if ids:
                found[f"{source_kind}.lead_agency_id"] = sorted(ids)
    return found


def _relink_inbound(
    session: Session, plan: Plan, element_id: int, inbound: dict[str, list[int]]
) -> dict[str, list[int]]:
    relinked: dict[str, list[int]] = {}
    for key, ids in inbound.items():
        source_kind, field = key.split(".", 1)
        source = SPECS.get(source_kind)
        if source is None:
            continue
        existing = sorted(
            session.exec(
                select(source.model.id).where(
                    col(source.model.id).in_(ids), *_sibling_filter(source, plan)
                )
            ).all()
        )
        if not existing:
            continue
        if field == "lead_agency_id":
            session.exec(
                update(source.model)
                .where(
                    col(source.model.id).in_(existing), col(source.model.lead_agency_id).is_(None)
                )
                .values(lead_agency_id=element_id)
            )
        else:
            link = next(lk for lk in source.links if lk.field == field)
            for source_id in existing:
                session.add(link.table(**{link.own: source_id, link.other: element_id}))
        relinked[key] = existing
    session.flush()
    return relinked


# ---- helpers --------------------------------------------------------------------------------


def _columns(spec: ElementSpec, data: InputModel) -> dict[str, Any]:
    link_fields = {link.field for link in spec.links}
    values = data.model_dump(exclude=link_fields)
    return {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}


def _ownership(spec: ElementSpec, plan: Plan) -> dict[str, Any]:
    if spec.owner == "area":
        return {"area_id": plan.area_id, "code": f"custom-{secrets.token_hex(4)}"}
    return {"plan_id": plan.id}


def _sibling_filter(spec: ElementSpec, plan: Plan) -> tuple:
    if spec.owner == "area":
        return (spec.model.area_id == plan.area_id,)
    return (spec.model.plan_id == plan.id,)


def _next_position(session: Session, spec: ElementSpec, plan: Plan) -> int:
    query = select(func.max(spec.model.position)).where(*_sibling_filter(spec, plan))
    current = session.exec(query).one()
    return 0 if current is None else current + 1


def _check_version(
    session: Session, spec: ElementSpec, row: SQLModel, expected: int | None
) -> None:
    if expected is not None and expected != row.version:
        raise _conflict(session, spec, row)


def _conflict(session: Session, spec: ElementSpec, row: SQLModel) -> Conflict:
    """A 409 carrying the element as it now is, for the conflict view and the API."""
    return Conflict(
        Msg(audit.STALE), current={"version": row.version, **element_values(session, spec, row)}
    )


def _check_references(
    session: Session, spec: ElementSpec, plan: Plan, data: InputModel, current_id: int | None
) -> None:
    errors: dict[str, Msg] = {}
    allowed: dict[str, set[int]] = {}

    def allowed_ids(target: str) -> set[int]:
        if target not in allowed:
            allowed[target] = _allowed_ids(session, target, plan)
        return allowed[target]

    for link in spec.links:
        wanted = set(getattr(data, link.field))
        if wanted - allowed_ids(link.target):
            errors[link.field] = Msg("Pick from the list.")
    for name, target in (
        ("lead_agency_id", "agencies"),
        ("theme_id", "themes"),
        ("type_id", "agency_types"),
        ("indicator_id", "indicators"),
    ):
        value = getattr(data, name, None)
        if value is not None and value not in allowed_ids(target):
            errors[name] = Msg("Pick from the list.")
    if "indicator_id" in errors and _keeps_indicator(session, current_id, data.indicator_id):
        del errors["indicator_id"]  # a retired indicator stays on the KPIs that measure it
    if getattr(data, "indicator_id", None) is not None and "indicator_id" not in errors:
        problem = _indicator_mismatch(session.get(CommonIndicator, data.indicator_id), data)
        if problem:
            errors["indicator_id"] = problem
    if spec.code_prefix and _code_taken(session, spec, plan, data.code, current_id):
        errors["code"] = Msg("This code is already used in this plan.")
    if errors:
        raise ValidationFailed(errors)


def _allowed_ids(session: Session, target: str, plan: Plan) -> set[int]:
    if target == "doe_items":
        query = select(DOEItem.id)
    elif target == "themes":
        query = select(StrategyTheme.id)
    elif target == "agency_types":
        query = select(AgencyType.id)
    elif target == "indicators":
        query = select(CommonIndicator.id).where(col(CommonIndicator.is_active).is_(True))
    elif target == "agencies":
        query = select(Agency.id).where(
            or_(col(Agency.area_id).is_(None), Agency.area_id == plan.area_id)
        )
    elif target == "data_items":  # the area's data catalogue
        query = select(DataItem.id).where(DataItem.area_id == plan.area_id)
    else:
        model = get_spec(target).model
        query = select(model.id).where(model.plan_id == plan.id)
    return set(session.exec(query).all())


def _keeps_indicator(session: Session, kpi_id: int | None, indicator_id: int | None) -> bool:
    if kpi_id is None or indicator_id is None:
        return False
    return session.get(KPI, kpi_id).indicator_id == indicator_id


def _indicator_mismatch(indicator: CommonIndicator, data: InputModel) -> Msg | None:
    """Values compare across areas only when they are the same kind, over the same periods."""
    if indicator.kind != data.kind or indicator.period_type != data.period_type:
        return Msg(
            "This indicator is %(kind)s per %(period_type)s: a KPI that measures it must be too.",
            {
                "kind": labels.label("kpi_kind", indicator.kind),
                "period_type": labels.label("period_type", indicator.period_type),
            },
        )
    return None


def _code_taken(
    session: Session, spec: ElementSpec, plan: Plan, code: str, current_id: int | None
) -> bool:
    query = select(spec.model.id).where(
        spec.model.plan_id == plan.id, func.lower(spec.model.code) == code.lower()
    )
    if current_id is not None:
        query = query.where(spec.model.id != current_id)
    return session.exec(query).first() is not None


def _write_links(
    session: Session, spec: ElementSpec, element_id: int, data: InputModel, replace: bool = False
) -> dict[str, list[int]]:
    written = {}
    for link in spec.links:
        own = getattr(link.table, link.own)
        if replace:
            session.exec(sql_delete(link.table).where(own == element_id))
        ids = sorted(set(getattr(data, link.field)))
        for target_id in ids:
            session.add(link.table(**{link.own: element_id, link.other: target_id}))
        written[link.field] = ids
    session.flush()
    return written


def _unlink_inbound(session: Session, kind: str, element_id: int) -> None:
    """Remove links that point at the element (the database cascades its own links)."""
    for _source_kind, link in INBOUND.get(kind, ()):
        session.exec(sql_delete(link.table).where(getattr(link.table, link.other) == element_id))
    if kind == "agencies":
        for model, _source in AGENCY_FKS:
            session.exec(
                update(model).where(model.lead_agency_id == element_id).values(lead_agency_id=None)
            )
    for link in get_spec(kind).links:
        session.exec(sql_delete(link.table).where(getattr(link.table, link.own) == element_id))
    session.flush()


def _finish(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    entity_type: str,
    entity_id: int,
    op: AuditOp,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    reason_category: str | None = None,
    cites: tuple[str, int] | None = None,
) -> None:
    """The tail of every plan write (see `audit.commit`). A change's reason, its category
    (de.ReasonCategory) and the record it cites make it an adaptation."""
    audit.commit(
        session,
        actor=actor,
        area_id=plan.area_id,
        entity_type=entity_type,
        entity_id=entity_id,
        op=op,
        before=before,
        after=after,
        reason=(reason or "").strip()[:1000] or None,
        reason_category=reason_category or None,
        cites=cites,
        publish={
            "type": "plan.changed",
            "plan_id": plan.id,
            "entity": entity_type,
            "id": entity_id,
            "op": op.value,
        },
    )
