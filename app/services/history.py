"""Reading the audit trail: an area's changes (filtered), one element's changes, and what
each change did field by field."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app import display, models
from app.i18n import THAI_TZ
from app.inputs import parse_id
from app.models import AuditEvent, DataItem, OrgUnit, Plan, User
from app.services.plans import SPECS, restorable

PAGE_SIZE = 50
# Bookkeeping columns a person did not type; left out of the field-by-field view.
HIDDEN = frozenset(
    {
        "id",
        "plan_id",
        "area_id",
        "version",
        "created_at",
        "is_demo",
        "unlinked",
        "position",
        "inbound",
        "figures",  # the plan's figures copied onto a reflection when it was held
        "snapshot",  # a whole plan version's copy (kept for restoring, not for reading)
        "token_hash",
        "sha256",
    }
)


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Entry:
    event: AuditEvent
    changes: list[Change]
    restorable: bool


@dataclass(frozen=True)
class Filters:
    actor_id: int | None = None
    entity_type: str | None = None
    since: date | None = None
    until: date | None = None
    before_id: int | None = None  # paging: events older than this one


# Audited with their area but shown by their own pages under their own visibility rules, never
# in the area's history (a comment may be a note for reviewers only).
UNLISTED = ("comment",)
# Recorded in the audit trail (who came in, under which name) but not changes to the plan: a
# guest joining a workshop is a sign-in, and forty of them would bury the plan's history.
NOT_CHANGES = ("workshop_participant", "workshop_ballot")  # kept in the trail, not listed


def listed() -> Any:
    return col(AuditEvent.entity_type).not_in(UNLISTED + NOT_CHANGES)


def area_history(
    session: Session, area_id: int, filters: Filters, size: int = PAGE_SIZE
) -> tuple[list[Entry], bool]:
    """The newest changes first, `size` at a time; also whether an older page exists."""
    query = select(AuditEvent).where(AuditEvent.area_id == area_id, listed())
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.entity_type:
        query = query.where(AuditEvent.entity_type == filters.entity_type)
    if filters.since:
        query = query.where(col(AuditEvent.at) >= _start_of(filters.since))
    if filters.until:
        query = query.where(col(AuditEvent.at) < _start_of(filters.until + timedelta(days=1)))
    if filters.before_id:
        query = query.where(col(AuditEvent.id) < filters.before_id)
    rows = session.exec(query.order_by(col(AuditEvent.id).desc()).limit(size + 1)).all()
    return [entry(e) for e in rows[:size]], len(rows) > size


def element_history(
    session: Session, area_id: int, entity_type: str, entity_id: int
) -> list[Entry]:
    rows = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.area_id == area_id,
            AuditEvent.entity_type == entity_type,
            listed(),
            AuditEvent.entity_id == entity_id,
        )
        .order_by(col(AuditEvent.id).desc())
    ).all()
    return [entry(e) for e in rows]


# Records of an area, outside the plan, whose history pages link from their own pages.
AREA_RECORDS: dict[str, tuple[Any, str]] = {
    "org_unit": (OrgUnit, "name"),
    "data_item": (DataItem, "name"),
}


def unrecorded_name(session: Session, area_id: int, entity_type: str, entity_id: int) -> str | None:
    """The name of an element of the area that no recorded change names yet (an agency loaded
    with the reference data has none until someone edits it); None if there is no such element."""
    spec = next((s for s in SPECS.values() if s.entity_type == entity_type), None)
    if spec is None and entity_type in AREA_RECORDS:  # loaded by a seed, never edited since
        model, label = AREA_RECORDS[entity_type]
        found = session.get(model, entity_id)
        return str(getattr(found, label)) if found and found.area_id == area_id else None
    row = session.get(spec.model, entity_id) if spec else None
    if spec is None or row is None:
        return None
    if spec.owner == "area":
        owner_area = row.area_id
    else:
        plan = session.get(Plan, row.plan_id)
        owner_area = plan.area_id if plan else None
    return str(getattr(row, spec.label_field)) if owner_area == area_id else None


def people(session: Session, area_id: int) -> list[tuple[int, str]]:
    """Who has changed this area (signed-in people only), by name, for the filter."""
    rows = session.exec(
        select(AuditEvent.actor_id, AuditEvent.actor)
        .where(AuditEvent.area_id == area_id, col(AuditEvent.actor_id).is_not(None), listed())
        .distinct()
    ).all()
    named = names_of(session, {uid for uid, _ in rows})
    return sorted({(uid, named.get(uid) or label) for uid, label in rows}, key=lambda p: p[1])


def actor_names(session: Session, entries: list[Entry]) -> dict[int, str]:
    """People's names as they are now (the trail keeps the email they acted under)."""
    return names_of(session, {e.event.actor_id for e in entries})


def names_of(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    """People's display names by id, in one query (asked even for nobody, so that a page's
    query count does not change when the first signed-in person edits)."""
    ids = {i for i in user_ids if i is not None}
    rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all()
    return dict(rows)


def reference_names(
    session: Session, entries: list[Entry], names: dict[str, dict[int, str]]
) -> dict[str, dict[int, str]]:
    """`names` (from the plan view) with the other records the entries refer to: people,
    workshop sessions, markers... one query per kind of record, however many entries."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in entries:
        if e.event.actor_id is not None:
            wanted["users"].add(e.event.actor_id)
        for snapshot in (e.event.before or {}, e.event.after or {}):
            for field, value in snapshot.items():
                kind = display.reference_kind(field, snapshot)
                if field == "units" and isinstance(value, dict):
                    kind, value = "org_units", list(value)
                if kind is None or (kind not in display.LOADABLE and kind not in names):
                    continue
                for one in value if isinstance(value, list) else [value]:
                    number = parse_id(str(one))
                    if number is not None and number not in names.get(kind, {}):
                        wanted[kind].add(number)
    found = {kind: dict(known) for kind, known in names.items()}
    found.setdefault("users", {})
    wanted.setdefault("users", set())  # asked even for nobody: the query count stays the same
    for kind, row_id, text in _load_names(session, wanted):
        if text:
            found.setdefault(kind, {})[row_id] = _short(str(text))
    return found


# Records of the plan that are gone from the plan view (deleted): named from their table when
# they are still there (another plan's), else shown as deleted.
PLAN_RECORDS = {
    "kras": "KeyResultArea.code",
    "kpis": "KPI.code",
    "actions": "Action.code",
    "kpi_titles": "KPI.code",
    "action_titles": "Action.code",
    "data_items": "DataItem.name",
    "agencies": "Agency.name_th",
    "indicators": "CommonIndicator.name_th",
}


def _load_names(session: Session, wanted: dict[str, set[int]]) -> list[tuple[str, int, str]]:
    """(kind, id, name) of every record wanted, in one query whatever the kinds."""
    parts = []
    for kind, ids in sorted(wanted.items()):
        path = display.LOADABLE[kind][1] if kind in display.LOADABLE else PLAN_RECORDS.get(kind)
        if path is None:
            continue
        model_name, field = path.split(".")
        model = getattr(models, model_name)
        name = sa.cast(getattr(model, field), sa.String).label("name")
        parts.append(
            sa.select(sa.literal(kind).label("kind"), col(model.id).label("id"), name).where(
                col(model.id).in_(ids)
            )
        )
    return [tuple(row) for row in session.execute(sa.union_all(*parts)).all()]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def entry(event: AuditEvent) -> Entry:
    return Entry(event, changes(event), restorable(event))


def changes(event: AuditEvent) -> list[Change]:
    before, after = event.before or {}, event.after or {}
    names = [k for k in {**before, **after} if k not in HIDDEN]
    found = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if event.op in ("update", "restore") and old == new:
            continue
        if old in (None, "", [], {}) and new in (None, "", [], {}):
            continue
        found.append(Change(name, old, new))
    return found


def _start_of(day: date) -> datetime:
    """Midnight in Thailand (people filter by the day they saw on the wall clock), in UTC as the
    times are stored."""
    return datetime.combine(day, time.min, tzinfo=THAI_TZ).astimezone(UTC)
