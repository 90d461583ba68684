"""Emergent outcomes (outcome harvesting) and guiding principles (DOMAIN.md §5).

An outcome is an observed change in a social actor (who changed what, when, where), with its
significance, how the area's actions contributed, the evidence and how far it is substantiated;
it links to the actions and KRAs of the area's current plan and to national DOE items. A guiding
principle carries the committee's self-rating on Patton's GUIDE criteria.

Both are written through `records` (validate, links, audit event, commit, live update); this
module holds their input schemas, their RecordSpecs and the read models of their pages.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.i18n import N_, thai_today
from app.models import (
    Action,
    Area,
    DOEAspect,
    DOEItem,
    EmergentOutcome,
    GuidingPrinciple,
    KeyResultArea,
    OutcomeAction,
    OutcomeDOEItem,
    OutcomeKRA,
)
from app.models.de import GUIDE, Substantiation
from app.numbers import NotANumber, parse_integer
from app.schemas import Day, Ids, InputModel, Text, fail
from app.services import records
from app.services.audit import Actor
from app.services.errors import Msg, ValidationFailed
from app.services.plan_tree import current_plan_ids
from app.services.reference import current_framework

# ---- input ----------------------------------------------------------------------------------

POLARITY = {"positive": True, "negative": False}
PLANNING = {"planned": True, "unplanned": False}


def _choice(words: dict[str, bool]) -> Any:
    """A radio button's word (or a bool, as stored and in the API) as a bool."""

    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        text = str(value or "").strip().lower()
        if text in words:
            return words[text]
        if text in ("true", "1", "on"):
            return True
        if text in ("false", "0"):
            return False
        raise fail("Choose one of the options.")

    return BeforeValidator(parse)


class OutcomeIn(InputModel):
    observed_on: Day
    who: Text = Field(min_length=1, max_length=300)
    change: Text = Field(min_length=1, max_length=4000)
    place: Text = Field(default="", max_length=300)
    significance: Text = Field(default="", max_length=4000)
    contribution: Text = Field(default="", max_length=4000)
    evidence: Text = Field(default="", max_length=4000)
    substantiation: Substantiation = Substantiation.draft
    positive: Annotated[bool, _choice(POLARITY)] = True
    planned: Annotated[bool, _choice(PLANNING)] = False
    action_ids: Ids = []
    kra_ids: Ids = []
    doe_item_ids: Ids = []

    @field_validator("observed_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > thai_today():
            raise fail("An outcome cannot be observed in the future.")
        return value


def _rating(value: Any) -> Any:
    """1 weak, 2 partly, 3 strong; blank: not rated. Thai digits are fine."""
    try:
        number = parse_integer(value)
    except NotANumber:
        number = 0
    if number is not None and number not in (1, 2, 3):
        raise fail("Choose 1 (weak), 2 (partly) or 3 (strong), or leave it not rated.")
    return number


Rating = Annotated[int | None, BeforeValidator(_rating)]


class PrincipleIn(InputModel):
    statement: Text = Field(min_length=1, max_length=1000)
    explanation: Text = Field(default="", max_length=4000)
    guiding: Rating = None
    useful: Rating = None
    inspiring: Rating = None
    developmental: Rating = None
    evaluable: Rating = None


OUTCOME = records.RecordSpec(
    entity_type="emergent_outcome",
    model=EmergentOutcome,
    schema=OutcomeIn,
    links=(
        records.RecordLink("action_ids", OutcomeAction, "outcome_id", "action_id", "actions"),
        records.RecordLink("kra_ids", OutcomeKRA, "outcome_id", "kra_id", "kras"),
        records.RecordLink("doe_item_ids", OutcomeDOEItem, "outcome_id", "item_id", "doe_items"),
    ),
    author_field="created_by",
)
LINK_FIELDS = tuple(link.field for link in OUTCOME.links)
PRINCIPLE = records.RecordSpec(
    entity_type="guiding_principle",
    model=GuidingPrinciple,
    schema=PrincipleIn,
    positioned=True,
)


# ---- writes ---------------------------------------------------------------------------------


def create_outcome(
    session: Session, *, actor: Actor, area: Area, outcome_in: dict[str, Any]
) -> EmergentOutcome:
    return records.create(session, actor=actor, area=area, spec=OUTCOME, record_in=outcome_in)


def update_outcome(
    session: Session,
    *,
    actor: Actor,
    area: Area,
    outcome_id: int,
    outcome_in: dict[str, Any],
    expected_version: int | None = None,
    partial: bool = False,
) -> EmergentOutcome:
    """Change an outcome; a new substantiation status is an ordinary, audited change."""
    return records.update(
        session,
        actor=actor,
        area=area,
        spec=OUTCOME,
        record_id=outcome_id,
        record_in=outcome_in,
        expected_version=expected_version,
        partial=partial,
    )


def delete_outcome(
    session: Session,
    *,
    actor: Actor,
    area: Area,
    outcome_id: int,
    expected_version: int | None = None,
) -> dict[str, Any]:
    return records.delete(
        session,
        actor=actor,
        area=area,
        spec=OUTCOME,
        record_id=outcome_id,
        expected_version=expected_version,
    )


def create_principle(
    session: Session, *, actor: Actor, area: Area, principle_in: dict[str, Any]
) -> GuidingPrinciple:
    return records.create(session, actor=actor, area=area, spec=PRINCIPLE, record_in=principle_in)


def update_principle(
    session: Session,
    *,
    actor: Actor,
    area: Area,
    principle_id: int,
    principle_in: dict[str, Any],
    expected_version: int | None = None,
) -> GuidingPrinciple:
    return records.update(
        session,
        actor=actor,
        area=area,
        spec=PRINCIPLE,
        record_id=principle_id,
        record_in=principle_in,
        expected_version=expected_version,
    )


def delete_principle(
    session: Session,
    *,
    actor: Actor,
    area: Area,
    principle_id: int,
    expected_version: int | None = None,
) -> dict[str, Any]:
    return records.delete(
        session,
        actor=actor,
        area=area,
        spec=PRINCIPLE,
        record_id=principle_id,
        expected_version=expected_version,
    )


# ---- the harvest's filters ------------------------------------------------------------------

EFFECTS = ("positive", "negative")
PLANNED = ("planned", "unplanned")


@dataclass(frozen=True)
class Filters:
    """Which outcomes the harvest shows; the URL carries them (`query()`)."""

    substantiation: str | None = None
    effect: str | None = None  # positive | negative
    planned: str | None = None  # planned | unplanned
    kra: int | None = None  # a KRA of the current plan
    action: int | None = None  # an action of the current plan

    @classmethod
    def parse(cls, params: Mapping[str, str], choices: "PlanChoices") -> "Filters":
        """Blank means any; a value that is not offered is refused beside its field."""
        raw = {f.name: (params.get(f.name) or "").strip() for f in fields(cls)}
        offered: dict[str, Any] = {
            "substantiation": {s.value for s in Substantiation},
            "effect": set(EFFECTS),
            "planned": set(PLANNED),
            "kra": {str(k.id) for k in choices.kras},
            "action": {str(a.id) for a in choices.actions},
        }
        errors = {
            name: Msg(N_("Pick from the list."))
            for name, value in raw.items()
            if value and value not in offered[name]
        }
        if errors:
            raise ValidationFailed(errors)
        values: dict[str, Any] = {k: v or None for k, v in raw.items()}
        for name in ("kra", "action"):
            values[name] = int(raw[name]) if raw[name] else None
        return cls(**values)

    def query(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of these filters (with some changed), blanks left out."""
        current = replace(self, **changes) if changes else self
        return {f.name: str(v) for f in fields(self) if (v := getattr(current, f.name)) is not None}

    def __bool__(self) -> bool:
        return bool(self.query())


def parse_filters(
    params: Mapping[str, str], choices: "PlanChoices"
) -> tuple[Filters, dict[str, Msg]]:
    """The filters, and the messages for those refused (which are then left out)."""
    try:
        return Filters.parse(params, choices), {}
    except ValidationFailed as exc:
        kept = {k: v for k, v in params.items() if k not in exc.errors}
        return Filters.parse(kept, choices), exc.errors


# ---- read models ----------------------------------------------------------------------------


@dataclass
class PlanChoices:
    """What an outcome may link to: the current plan's actions and KRAs, the national DOE items
    by aspect; plus, to name old links, the actions and KRAs outcomes link to from earlier plans."""

    actions: list[Action] = field(default_factory=list)
    kras: list[KeyResultArea] = field(default_factory=list)
    aspects: list[DOEAspect] = field(default_factory=list)
    items_by_aspect: dict[int, list[DOEItem]] = field(default_factory=dict)
    action_names: dict[int, Action] = field(default_factory=dict)
    kra_names: dict[int, KeyResultArea] = field(default_factory=dict)
    items: dict[int, DOEItem] = field(default_factory=dict)


def plan_choices(session: Session, area: Area) -> PlanChoices:
    """Four queries whatever the plan's size: actions, KRAs, DOE aspects, DOE items."""
    current = current_plan_ids([area.id])
    linked_actions = (
        select(OutcomeAction.action_id)
        .join(EmergentOutcome, col(EmergentOutcome.id) == OutcomeAction.outcome_id)
        .where(EmergentOutcome.area_id == area.id)
    )
    linked_kras = (
        select(OutcomeKRA.kra_id)
        .join(EmergentOutcome, col(EmergentOutcome.id) == OutcomeKRA.outcome_id)
        .where(EmergentOutcome.area_id == area.id)
    )
    actions = session.exec(
        select(Action, col(Action.plan_id).in_(current))
        .where(col(Action.plan_id).in_(current) | col(Action.id).in_(linked_actions))
        .order_by(col(Action.position), col(Action.id))
    ).all()
    kras = session.exec(
        select(KeyResultArea, col(KeyResultArea.plan_id).in_(current))
        .where(col(KeyResultArea.plan_id).in_(current) | col(KeyResultArea.id).in_(linked_kras))
        .order_by(col(KeyResultArea.position), col(KeyResultArea.id))
    ).all()
    choices = PlanChoices(
        actions=[a for a, in_plan in actions if in_plan],
        kras=[k for k, in_plan in kras if in_plan],
        action_names={a.id: a for a, _ in actions if a.id is not None},
        kra_names={k.id: k for k, _ in kras if k.id is not None},
    )
    _doe_items(session, choices)
    return choices


def _doe_items(session: Session, choices: PlanChoices) -> None:
    framework = current_framework(session)
    if framework is None:
        return
    choices.aspects = list(
        session.exec(
            select(DOEAspect)
            .where(DOEAspect.framework_id == framework.id)
            .order_by(col(DOEAspect.position))
        ).all()
    )
    items = session.exec(
        select(DOEItem)
        .where(col(DOEItem.aspect_id).in_([a.id for a in choices.aspects]))
        .order_by(col(DOEItem.aspect_id), col(DOEItem.position))
    ).all()
    for item in items:
        choices.items[item.id] = item  # type: ignore[index]
        choices.items_by_aspect.setdefault(item.aspect_id, []).append(item)


@dataclass
class Harvest:
    """The outcomes the filters let through, newest observed first, with their links."""

    outcomes: list[EmergentOutcome]
    links: dict[str, dict[int, list[int]]]  # link field -> outcome id -> target ids
    counts: dict[str, int]  # substantiation status -> outcomes of the area (unfiltered)
    total: int
    filters: Filters
    choices: PlanChoices


def harvest(session: Session, area: Area, filters: Filters, choices: PlanChoices) -> Harvest:
    """Five queries at most, whatever the number of outcomes."""
    query = select(EmergentOutcome).where(EmergentOutcome.area_id == area.id)
    if filters.substantiation:
        query = query.where(EmergentOutcome.substantiation == filters.substantiation)
    if filters.effect:
        query = query.where(EmergentOutcome.positive == (filters.effect == "positive"))
    if filters.planned:
        query = query.where(EmergentOutcome.planned == (filters.planned == "planned"))
    if filters.kra is not None:
        linked = select(OutcomeKRA.outcome_id).where(OutcomeKRA.kra_id == filters.kra)
        query = query.where(col(EmergentOutcome.id).in_(linked))
    if filters.action is not None:
        linked = select(OutcomeAction.outcome_id).where(OutcomeAction.action_id == filters.action)
        query = query.where(col(EmergentOutcome.id).in_(linked))
    order = (col(EmergentOutcome.observed_on).desc(), col(EmergentOutcome.id).desc())
    rows = list(session.exec(query.order_by(*order)).all())
    links = records.links_by_record(session, OUTCOME, [r.id for r in rows if r.id is not None])
    counts = substantiation_counts(session, area)
    return Harvest(rows, links, counts, sum(counts.values()), filters, choices)


def substantiation_counts(session: Session, area: Area) -> dict[str, int]:
    """Outcomes of the area per substantiation status, every status named (0 when none)."""
    found = session.exec(
        select(EmergentOutcome.substantiation, func.count())
        .where(EmergentOutcome.area_id == area.id)
        .group_by(EmergentOutcome.substantiation)
    ).all()
    counts = Counter(dict(found))
    return {s.value: counts.get(s.value, 0) for s in Substantiation}


def get_outcome(session: Session, area: Area, outcome_id: int) -> EmergentOutcome:
    return records.get(session, OUTCOME, area, outcome_id)


def outcome_links(session: Session, outcome: EmergentOutcome) -> dict[str, list[int]]:
    return records.links_of(session, OUTCOME, outcome.id)  # type: ignore[arg-type]


def outcome_values(session: Session, outcome: EmergentOutcome) -> dict[str, Any]:
    """The outcome as its form shows it."""
    return records.values(session, OUTCOME, outcome)


def counts_by_action(session: Session, area: Area) -> dict[int, int]:
    """Action id -> how many of the area's outcomes it contributed to, in one query."""
    rows = session.exec(
        select(OutcomeAction.action_id, func.count())
        .join(EmergentOutcome, col(EmergentOutcome.id) == OutcomeAction.outcome_id)
        .where(EmergentOutcome.area_id == area.id)
        .group_by(OutcomeAction.action_id)
    ).all()
    return dict(rows)


def principles(session: Session, area: Area) -> list[GuidingPrinciple]:
    query = select(GuidingPrinciple).where(GuidingPrinciple.area_id == area.id)
    return list(
        session.exec(query.order_by(col(GuidingPrinciple.position), col(GuidingPrinciple.id))).all()
    )


def get_principle(session: Session, area: Area, principle_id: int) -> GuidingPrinciple:
    return records.get(session, PRINCIPLE, area, principle_id)


def principle_values(principle: GuidingPrinciple) -> dict[str, Any]:
    return {name: getattr(principle, name) for name in PrincipleIn.model_fields}


CRITERIA = GUIDE  # the order the ratings are shown in
