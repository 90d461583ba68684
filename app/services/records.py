"""Writes to the area's developmental-evaluation records (app/models/de.py), driven by a
RecordSpec the way plans.py is driven by an ElementSpec: the record kinds differ in fields and
links, not in how they are created, changed and deleted.

Each write validates, writes the row and its links, records one audit event (entity type = the
table name) in the same transaction, commits, then publishes `learning.changed` on the area's
live channel.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, or_, select

from app.models import KPI, Action, Agency, Area, CategorySet, DOEItem, KeyResultArea, Plan
from app.models.enums import AuditOp
from app.schemas import InputModel
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.plan_tree import current_plan_ids
from app.services.validation import validate

# Targets a record may link to: elements of the area's current plan, national DOE items, and
# agencies (national ones and the area's own).
PLAN_TARGETS: dict[str, type[SQLModel]] = {"actions": Action, "kras": KeyResultArea, "kpis": KPI}


@dataclass(frozen=True)
class RecordLink:
    """A many-to-many link owned by the record: `field` in the input holds the target ids."""

    field: str
    table: type[SQLModel]
    own: str
    other: str
    target: str  # "actions", "kras", "kpis" or "doe_items"


@dataclass(frozen=True)
class RecordSpec:
    entity_type: str  # the table name: audit entity type and DOM id prefix
    model: type[SQLModel]
    schema: type[InputModel]
    links: tuple[RecordLink, ...] = ()
    agency_fields: tuple[str, ...] = ()  # columns that name an agency
    positioned: bool = False  # has a `position` kept in order of creation
    author_field: str | None = None  # column set to the author's user id on create


def get(session: Session, spec: RecordSpec, area: Area, record_id: int) -> Any:
    """The record, only when it belongs to this area."""
    row = session.get(spec.model, record_id)
    if row is None or row.area_id != area.id:
        raise NotFound(f"{spec.entity_type}/{record_id}")
    return row


def links_of(session: Session, spec: RecordSpec, record_id: int) -> dict[str, list[int]]:
    out = {}
    for link in spec.links:
        query = select(getattr(link.table, link.other)).where(
            getattr(link.table, link.own) == record_id
        )
        out[link.field] = sorted(session.exec(query).all())
    return out


def values(session: Session, spec: RecordSpec, row: Any) -> dict[str, Any]:
    """The record as its input schema sees it: columns plus link id lists (for an edit form)."""
    out = {name: getattr(row, name) for name in spec.schema.model_fields if hasattr(row, name)}
    out.update(links_of(session, spec, row.id))
    return out


def links_by_record(
    session: Session, spec: RecordSpec, record_ids: list[int]
) -> dict[str, dict[int, list[int]]]:
    """Every link of many records, one query per link table: {field: {record id: [ids]}}."""
    out: dict[str, dict[int, list[int]]] = {}
    for link in spec.links:
        own, other = getattr(link.table, link.own), getattr(link.table, link.other)
        found: dict[int, list[int]] = {i: [] for i in record_ids}
        if record_ids:
            for record_id, target_id in session.exec(
                select(own, other).where(col(own).in_(record_ids))
            ).all():
                found[record_id].append(target_id)
        out[link.field] = found
    return out


def allowed_ids(session: Session, area: Area, target: str) -> set[int]:
    """What a record of this area may link to or name."""
    if target == "doe_items":
        return set(session.exec(select(DOEItem.id)).all())
    if target == "category_sets":
        query = select(CategorySet.id).where(
            or_(col(CategorySet.area_id).is_(None), CategorySet.area_id == area.id)
        )
        return set(session.exec(query).all())
    if target == "agencies":
        query = select(Agency.id).where(
            or_(col(Agency.area_id).is_(None), Agency.area_id == area.id)
        )
        return set(session.exec(query).all())
    model = PLAN_TARGETS[target]
    query = select(model.id).where(col(model.plan_id).in_(current_plan_ids([area.id])))
    return set(session.exec(query).all())


def create(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    spec: RecordSpec,
    record_in: dict[str, Any],
    extra: dict[str, Any] | None = None,
    commit: bool = True,
    reason: str | None = None,
) -> Any:
    """Create a record. `extra` sets columns the form does not hold (a frozen copy, a source);
    with `commit=False` the audit event is recorded and the caller commits (see `finish`);
    `reason` is kept on the audit event ("Imported from …")."""
    data = validate(spec.schema, record_in)
    _check_references(session, spec, area, data)
    row = spec.model(**_columns(spec, data), **(extra or {}), area_id=area.id)
    if spec.positioned:
        current = session.exec(
            select(func.max(spec.model.position)).where(spec.model.area_id == area.id)
        ).one()
        row.position = 0 if current is None else current + 1
    if spec.author_field:
        setattr(row, spec.author_field, actor.id)
    session.add(row)
    session.flush()
    links = _write_links(session, spec, row.id, data)
    after = audit.snapshot(row, **links)
    record(session, actor, area, spec, row.id, AuditOp.create, None, after, reason)
    if commit:
        finish(session, area, spec, row.id, AuditOp.create)
    return row


def update(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    spec: RecordSpec,
    record_id: int,
    record_in: dict[str, Any],
    expected_version: int | None = None,
    partial: bool = False,
    extra: dict[str, Any] | None = None,
    commit: bool = True,
    reason: str | None = None,
) -> Any:
    """Change a record. With `partial`, fields missing from `record_in` keep their values;
    with `commit=False` the audit event is recorded and the caller commits (see `finish`)."""
    row = get(session, spec, area, record_id)
    if expected_version is not None and expected_version != row.version:
        raise Conflict(
            Msg("Someone else changed this since you opened it."),
            current={"version": row.version, **values(session, spec, row)},
        )
    merged = {**values(session, spec, row), **record_in} if partial else record_in
    data = validate(spec.schema, merged)
    _check_references(session, spec, area, data)
    before = audit.snapshot(row, **links_of(session, spec, row.id))
    for name, value in {**_columns(spec, data), **(extra or {})}.items():
        setattr(row, name, value)
    row.version += 1
    session.add(row)
    links = _write_links(session, spec, row.id, data, replace=True)
    after = audit.snapshot(row, **links)
    record(session, actor, area, spec, row.id, AuditOp.update, before, after, reason)
    if commit:
        finish(session, area, spec, row.id, AuditOp.update)
    return row


def delete(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    spec: RecordSpec,
    record_id: int,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Delete a record; its links go with it. Returns what it held (kept on the audit event)."""
    row = get(session, spec, area, record_id)
    if expected_version is not None and expected_version != row.version:
        raise Conflict(Msg("Someone else changed this since you opened it."))
    before = audit.snapshot(row, **links_of(session, spec, row.id))
    session.delete(row)
    session.flush()
    record(session, actor, area, spec, record_id, AuditOp.delete, before, None)
    finish(session, area, spec, record_id, AuditOp.delete)
    return before


def finish(
    session: Session,
    area: Area,
    spec: RecordSpec,
    record_id: int,
    op: AuditOp,
) -> None:
    """Commit what was recorded, then tell the area's live channel."""
    publish = {"type": "learning.changed", "entity": spec.entity_type, "id": record_id}
    audit.finish(session, area_id=area.id, publish={**publish, "op": op.value})


def record(
    session: Session,
    actor: audit.Actor,
    area: Area,
    spec: RecordSpec,
    record_id: int,
    op: AuditOp,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
) -> None:
    """Record one change of a record in the caller's transaction (see `finish`)."""
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type=spec.entity_type,
        entity_id=record_id,
        op=op,
        before=before,
        after=after,
        reason=reason,
    )


def _columns(spec: RecordSpec, data: InputModel) -> dict[str, Any]:
    link_fields = {link.field for link in spec.links}
    dumped = data.model_dump(exclude=link_fields)
    model_fields = spec.model.model_fields
    return {
        k: (v.value if hasattr(v, "value") else v) for k, v in dumped.items() if k in model_fields
    }


def _check_references(session: Session, spec: RecordSpec, area: Area, data: InputModel) -> None:
    errors: dict[str, Msg] = {}
    for link in spec.links:
        if set(getattr(data, link.field)) - allowed_ids(session, area, link.target):
            errors[link.field] = Msg("Pick from the list.")
    if spec.agency_fields:
        agencies = allowed_ids(session, area, "agencies")
        for name in spec.agency_fields:
            value = getattr(data, name, None)
            if value is not None and value not in agencies:
                errors[name] = Msg("Pick from the list.")
    if errors:
        raise ValidationFailed(errors)


def _write_links(
    session: Session, spec: RecordSpec, record_id: int, data: InputModel, replace: bool = False
) -> dict[str, list[int]]:
    written = {}
    for link in spec.links:
        own = getattr(link.table, link.own)
        if replace:
            session.exec(sql_delete(link.table).where(own == record_id))
        ids = sorted(set(getattr(data, link.field)))
        for target_id in ids:
            session.add(link.table(**{link.own: record_id, link.other: target_id}))
        written[link.field] = ids
    session.flush()
    return written


def current_plan(session: Session, area: Area) -> Plan | None:
    return session.exec(select(Plan).where(col(Plan.id).in_(current_plan_ids([area.id])))).first()
