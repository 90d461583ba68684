"""The area's developmental-evaluation layer as a whole: the hub's counts, the reasons asked
for when the plan changes materially (adaptations), and the timeline."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from app.display import entry_label
from app.i18n import as_utc, format_date, gettext, local_time, parse_day, thai_today
from app.inputs import parse_id
from app.models import (
    Area,
    AuditEvent,
    BoundaryPartner,
    ChangeProposal,
    DataItem,
    EmergentOutcome,
    EvidenceFile,
    GuidingPrinciple,
    KeyDevelopment,
    LearningQuestion,
    PlanVersion,
    Reflection,
    Resource,
)
from app.models.de import DevelopmentKind, ReasonCategory
from app.models.enums import ActionStatus, AuditOp
from app.schemas import Day, InputModel, Text, fail
from app.services.errors import Msg, ValidationFailed
from app.services.plans import PLAN_ENTITIES
from app.services.records import RecordSpec

COUNTED = {
    "versions": PlanVersion,
    "reflections": Reflection,
    "questions": LearningQuestion,
    "proposals": ChangeProposal,
    "developments": KeyDevelopment,
    "outcomes": EmergentOutcome,
    "partners": BoundaryPartner,
    "resources": Resource,
    "data_items": DataItem,
    "principles": GuidingPrinciple,
}


def counts(session: Session, area: Area) -> dict[str, int]:
    """How many records of each kind the area holds, in one query."""
    parts = [
        select(func.count()).select_from(model).where(model.area_id == area.id).scalar_subquery()
        for model in COUNTED.values()
    ]
    row = session.exec(select(*parts)).one()
    return dict(zip(COUNTED, row, strict=True))


# ---- adaptations: the reason asked for when the plan changes materially ---------------------

REASON_FIELDS = ("reason_category", "reason", "cites")
# What a change may cite, by audit entity type: each model has the area's id.
CITABLE = {
    "reflection": Reflection,
    "emergent_outcome": EmergentOutcome,
    "evidence_file": EvidenceFile,
}
CITED_FILES = 50  # the newest evidence files offered


@dataclass(frozen=True)
class Reason:
    """Why a change was made: a category, a sentence and the record behind it (all optional)."""

    category: str | None = None
    text: str | None = None
    cites: tuple[str, int] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {"reason_category": self.category, "reason": self.text, "cites": self.cites}


def parse_reason(session: Session, area: Area, raw: Mapping[str, Any]) -> Reason:
    """The reason fields of a form, checked: a known category, a sentence of at most 1,000
    characters, and a citation of one of this area's reflections or emergent outcomes."""
    errors: dict[str, Msg] = {}
    category = str(raw.get("reason_category") or "").strip() or None
    if category is not None and category not in ReasonCategory.__members__:
        errors["reason_category"] = Msg("Choose one of the options.")
    text = str(raw.get("reason") or "").strip() or None
    if text is not None and len(text) > 1000:
        errors["reason"] = Msg("Too long: at most %(max_length)s characters.", {"max_length": 1000})
    cites = _citation(session, area, str(raw.get("cites") or "").strip())
    if cites is False:
        errors["cites"] = Msg("Pick from the list.")
    if errors:
        raise ValidationFailed(errors)
    return Reason(category, text, cites or None)


def _citation(session: Session, area: Area, value: str) -> tuple[str, int] | None | bool:
    if not value:
        return None
    entity_type, _, raw_id = value.partition(":")
    model = CITABLE.get(entity_type)
    if model is None or parse_id(raw_id) is None:
        return False
    row = session.get(model, parse_id(raw_id))
    if row is None or row.area_id != area.id:
        return False
    return entity_type, row.id


def citation_choices(session: Session, area: Area) -> list[tuple[str, str]]:
    """What a change may cite: the area's reflections, emergent outcomes and (newest) evidence
    files, newest first. Three queries."""
    reflections = session.exec(
        select(Reflection.id, Reflection.title, Reflection.held_on)
        .where(Reflection.area_id == area.id)
        .order_by(col(Reflection.held_on).desc(), col(Reflection.id).desc())
    ).all()
    outcomes = session.exec(
        select(EmergentOutcome.id, EmergentOutcome.who, EmergentOutcome.observed_on)
        .where(EmergentOutcome.area_id == area.id)
        .order_by(col(EmergentOutcome.observed_on).desc(), col(EmergentOutcome.id).desc())
    ).all()
    files = session.exec(
        select(EvidenceFile.id, EvidenceFile.filename, EvidenceFile.uploaded_at)
        .where(EvidenceFile.area_id == area.id)
        .order_by(col(EvidenceFile.id).desc())
        .limit(CITED_FILES)
    ).all()
    reflection = gettext("Reflection")
    outcome = gettext("Emergent outcome")
    evidence = gettext("Evidence file")
    return [
        *((f"reflection:{i}", f"{reflection} · {format_date(d)} · {t}") for i, t, d in reflections),
        *((f"emergent_outcome:{i}", f"{outcome} · {format_date(d)} · {w}") for i, w, d in outcomes),
        *((f"evidence_file:{i}", f"{evidence} · {format_date(d)} · {n}") for i, n, d in files),
    ]


# Material changes (the list): what is asked for a reason and shown on the timeline even
# without one. Fields per entity type whose change is material; "*" = every create and delete.
MATERIAL_FIELDS = {
    "plan": {"vision"},
    "kra": {"title", "description"},
    "kpi": {"name", "definition", "target_value", "target_period", "kind", "direction"},
    "action": {"title", "description", "kpi_ids", "kra_ids"},
}
MATERIAL_ALWAYS = {"kra", "kpi", "action"}  # added or dropped: always material
STOPPED = {ActionStatus.dropped.value}


def material(event: AuditEvent) -> bool:
    """Whether a plan change is material: a KRA, KPI or action added or dropped, a KPI's
    definition or target changed, an action stopped or redirected, the vision reworded."""
    fields = MATERIAL_FIELDS.get(event.entity_type)
    if fields is None:
        return False
    if event.op in (AuditOp.create.value, AuditOp.delete.value):
        return event.entity_type in MATERIAL_ALWAYS
    before, after = event.before or {}, event.after or {}
    if event.entity_type == "action" and after.get("status") in STOPPED:
        return before.get("status") not in STOPPED
    return any(_changed(before.get(f), after.get(f)) for f in fields if f in after)


def _changed(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(a) != sorted(b)
    return (a or None) != (b or None)


def stated_reason() -> Any:
    """Audit events that say why: a reason, its category or the record behind the change."""
    return or_(
        col(AuditEvent.reason).is_not(None),
        col(AuditEvent.reason_category).is_not(None),
        col(AuditEvent.cites_type).is_not(None),
    )


# ---- the timeline ---------------------------------------------------------------------------

TIMELINE_KINDS = ("adaptation", "version", "reflection", "outcome", "review", "development")
DECISIONS = ("approved", "returned")  # review round steps that are decisions


@dataclass(frozen=True)
class TimelineFilters:
    kinds: tuple[str, ...] = TIMELINE_KINDS
    since: date | None = None
    until: date | None = None
    category: str | None = None  # adaptations with this reason category only

    @classmethod
    def parse(cls, params: Mapping[str, Any], kinds: list[str]) -> "TimelineFilters":
        """The filters from the URL; a value that names nothing is refused beside its field."""
        errors: dict[str, Msg] = {}
        if set(kinds) - set(TIMELINE_KINDS):
            errors["kind"] = Msg("Choose one of the options.")
        days = {}
        for name in ("since", "until"):
            raw = str(params.get(name) or "").strip()
            days[name] = parse_day(raw)
            if raw and days[name] is None:
                errors[name] = Msg("Enter a date (day, month, year).")
        category = str(params.get("category") or "").strip() or None
        if category is not None and category not in ReasonCategory.__members__:
            errors["category"] = Msg("Choose one of the options.")
        if not errors and days["since"] and days["until"] and days["until"] < days["since"]:
            errors["until"] = Msg("The end is before the start.")
        if errors:
            raise ValidationFailed(errors)
        chosen = tuple(k for k in TIMELINE_KINDS if k in kinds) or TIMELINE_KINDS
        return cls(chosen, days["since"], days["until"], category)

    def keeps(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    day: date
    order: tuple  # ties on a day: in the order things were recorded
    title: str
    record: Any  # the row behind it: an AuditEvent, PlanVersion, Reflection ...
    material: bool = False  # an adaptation without a stated reason, after the first version


def timeline(session: Session, area: Area, filters: TimelineFilters) -> list[TimelineEntry]:
    """Everything that tells the story of the area's plan, newest first: adaptations (changes
    with a reason, and material changes without one once a first version was named), named
    versions, reflections, emergent outcomes, review decisions and key developments. Six
    queries, whatever the size."""
    entries: list[TimelineEntry] = []
    versions = session.exec(
        select(PlanVersion).where(PlanVersion.area_id == area.id).order_by(col(PlanVersion.as_of))
    ).all()
    if "version" in filters.kinds:
        entries += [
            TimelineEntry("version", local_time(v.as_of).date(), (v.as_of, v.id), v.name, v)
            for v in versions
        ]
    if {"adaptation", "review"} & set(filters.kinds):
        first = versions[0].as_of if versions else None
        entries += _trail_entries(session, area, filters, first)
    for kind, model, day_field, title_field in (
        ("reflection", Reflection, "held_on", "title"),
        ("outcome", EmergentOutcome, "observed_on", "who"),
        ("development", KeyDevelopment, "happened_on", "title"),
    ):
        if kind not in filters.kinds:
            continue
        rows = session.exec(select(model).where(model.area_id == area.id)).all()
        entries += [
            TimelineEntry(
                kind,
                getattr(r, day_field),
                (r.created_at, r.id),
                getattr(r, title_field),
                r,
            )
            for r in rows
        ]
    kept = [e for e in entries if filters.keeps(e.day)]
    if filters.category:
        kept = [
            e
            for e in kept
            if e.kind == "adaptation" and e.record.reason_category == filters.category
        ]
    return sorted(kept, key=lambda e: (e.day, as_utc(e.order[0]), e.order[1]), reverse=True)


def _trail_entries(
    session: Session, area: Area, filters: TimelineFilters, first_version: datetime | None
) -> list[TimelineEntry]:
    explained = stated_reason()
    wanted = []
    if "adaptation" in filters.kinds:
        plan_changes = col(AuditEvent.entity_type).in_(PLAN_ENTITIES)
        if first_version is not None:  # after v1 every material change counts
            plan_changes = plan_changes & or_(
                explained, col(AuditEvent.at) >= first_version.astimezone(UTC)
            )
        else:
            plan_changes = plan_changes & explained
        wanted.append(plan_changes)
    if "review" in filters.kinds:
        wanted.append(AuditEvent.entity_type == "review_round")
    events = session.exec(
        select(AuditEvent).where(AuditEvent.area_id == area.id, or_(*wanted))
    ).all()
    found = []
    for event in events:
        day = local_time(event.at).date()
        if event.entity_type == "review_round":
            state = (event.after or {}).get("state")
            if state in DECISIONS:
                title = (event.after or {}).get("period", "")
                found.append(TimelineEntry("review", day, (event.at, event.id), title, event))
            continue
        stated = bool(event.reason or event.reason_category or event.cites_type)
        if stated or material(event):
            title = entry_label(event)
            found.append(
                TimelineEntry(
                    "adaptation", day, (event.at, event.id), title, event, material=not stated
                )
            )
    return found


# ---- key developments -----------------------------------------------------------------------


class DevelopmentIn(InputModel):
    happened_on: Day
    kind: DevelopmentKind
    title: Text = Field(min_length=1, max_length=300)
    description: Text = Field(default="", max_length=4000)

    @field_validator("happened_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > thai_today():
            raise fail("This date is in the future.")
        return value


DEVELOPMENTS = RecordSpec(
    "key_development", KeyDevelopment, DevelopmentIn, author_field="created_by"
)
