"""Reflections in the What? So what? Now what? form, what their Now-what lines became (a new
action, a change proposal, a learning question), change proposals and learning questions.

A reflection keeps a frozen copy of the figures the committee looked at (`Reflection.figures`):
each chosen KPI's reading in the chosen period, each KRA's KPIs by status, each action's status
and latest check-in, read through the progress read models when the reflection is recorded and
never recomputed, so later values do not rewrite what was seen.

A Now-what line turned into something is linked both ways by a ReflectionFollowUp row (its
`line` holds the line's text, so an edited Now what? keeps its links), and the new action's
audit event cites the reflection.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.i18n import N_, gettext, thai_today
from app.inputs import parse_id
from app.labels import label
from app.models import (
    KPI,
    KPIKRA,
    Action,
    Area,
    ChangeProposal,
    KeyResultArea,
    LearningQuestion,
    Plan,
    Reflection,
    ReflectionElement,
    ReflectionFollowUp,
)
from app.models.de import FollowUpKind, ProposalState, QuestionState
from app.models.enums import AuditOp, KPIStatus
from app.periods import parse_period, period_span, periods_of, sort_key
from app.schemas import (
    Day,
    InputModel,
    MultiFieldError,
    OptionalDate,
    OptionalId,
    OptionalPeriod,
    Text,
    fail,
)
from app.services import audit, plans, progress, records
from app.services.errors import Conflict, Msg, ServiceError, ValidationFailed
from app.services.plan_tree import current_plan_ids, current_plans
from app.services.progress import KPIProgress
from app.services.validation import validate
from app.status import Judgement, distribution

# The new action's reason, stored on its audit event as plain text in the writer's language.
FOLLOW_UP_REASON = N_("From reflection: %(title)s")
FOLLOW_UP_ENTITY = "reflection_follow_up"
TARGET_TYPES = {  # what a line becomes -> the audit entity type of the new record
    FollowUpKind.action: "action",
    FollowUpKind.proposal: "change_proposal",
    FollowUpKind.question: "learning_question",
}
ELEMENT_TARGETS = {"kra": "kras", "kpi": "kpis", "action": "actions"}  # for records.allowed_ids
BULLET = re.compile(r"^(?:[-*•–·]|\d{1,2}[.)])\s+")
NOT_IN_PLAN = N_("Pick from the list: only elements of the area's current plan.")


# ---- input ----------------------------------------------------------------------------------


def _element(value: Any) -> tuple[str, int] | None:
    """'kpi:12' -> ('kpi', 12)."""
    if value is None or isinstance(value, tuple):
        return value
    text = str(value).strip()
    if not text:
        return None
    kind, _, number = text.partition(":")
    if kind not in ELEMENT_TARGETS or parse_id(number) is None:
        raise fail("Pick from the list.")
    return kind, int(number)


def _elements(value: Any) -> list[tuple[str, int]]:
    if value in (None, ""):
        return []
    values = [value] if isinstance(value, str | tuple) else list(value)
    found = [e for e in (_element(v) for v in values) if e is not None]
    return sorted(set(found))


Element = Annotated[tuple[str, int] | None, BeforeValidator(_element)]
Elements = Annotated[list[tuple[str, int]], BeforeValidator(_elements)]


def _not_future(value: date | None) -> date | None:
    if value is not None and value > thai_today():
        raise fail("This date is in the future.")
    return value


class ReflectionEditIn(InputModel):
    """What can change after a reflection is recorded: not its period, elements or figures."""

    held_on: Day
    title: Text = Field(min_length=1, max_length=300)
    participants: Text = Field(default="", max_length=2000)
    what: Text = Field(default="", max_length=5000)
    so_what: Text = Field(default="", max_length=5000)
    now_what: Text = Field(default="", max_length=5000)

    @field_validator("held_on", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        if value is None or isinstance(value, str) and not value.strip():
            raise fail("Give the date the committee met.")
        return value

    @field_validator("held_on")
    @classmethod
    def _held(cls, value: date) -> date:
        return _not_future(value)  # type: ignore[return-value]


class ReflectionIn(ReflectionEditIn):
    period: OptionalPeriod = None
    elements: Elements = []

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = parse_period(value)
        if parsed is None:
            raise fail("Use a period code such as AY2567, AY2567-S1, FY2568, FY2568-Q2 or CY2567.")
        return parsed.code


class ProposalIn(InputModel):
    text: Text = Field(min_length=1, max_length=4000)
    element: Element = None  # 'kra:3', 'kpi:12' or 'action:5'
    element_type: str | None = None
    element_id: int | None = None

    @model_validator(mode="after")
    def _split(self) -> "ProposalIn":
        if self.element is not None:
            self.element_type, self.element_id = self.element
        return self


DECISIONS = {
    "adopt": "adopted",
    "decline": "declined",
    "adopted": "adopted",
    "declined": "declined",
}


def _decision(value: Any) -> str:
    text = str(value or "").strip()
    return DECISIONS.get(text, text)


class DecisionIn(InputModel):
    state: Annotated[str, BeforeValidator(_decision)]
    decision_note: Text = Field(default="", max_length=4000)
    decided_on: OptionalDate = None

    @field_validator("state")
    @classmethod
    def _decided(cls, value: str) -> str:
        if value not in (ProposalState.adopted, ProposalState.declined):
            raise fail("Adopt or decline the proposal.")
        return value

    @field_validator("decided_on")
    @classmethod
    def _on(cls, value: date | None) -> date:
        return _not_future(value) or thai_today()  # type: ignore[return-value]


class QuestionIn(InputModel):
    question: Text = Field(min_length=1, max_length=2000)
    state: QuestionState = QuestionState.open
    answer: Text = Field(default="", max_length=5000)
    evidence: Text = Field(default="", max_length=5000)
    answered_on: OptionalDate = None
    answer_reflection_id: OptionalId = None

    @field_validator("answered_on")
    @classmethod
    def _answered(cls, value: date | None) -> date | None:
        return _not_future(value)

    @model_validator(mode="after")
    def _answer(self) -> "QuestionIn":
        if self.state == QuestionState.answered:
            if not self.answer:
                raise MultiFieldError({"answer": fail("Write the answer to mark it answered.")})
            self.answered_on = self.answered_on or thai_today()
        return self


class FollowUpIn(InputModel):
    line: int = Field(ge=0)
    kind: FollowUpKind
    text: Text = Field(default="", max_length=5000)  # the line as edited; the line when blank


REFLECTION = records.RecordSpec("reflection", Reflection, ReflectionIn, author_field="created_by")
REFLECTION_EDIT = records.RecordSpec("reflection", Reflection, ReflectionEditIn)
PROPOSAL = records.RecordSpec(
    "change_proposal", ChangeProposal, ProposalIn, author_field="created_by"
)
DECISION = records.RecordSpec("change_proposal", ChangeProposal, DecisionIn)
QUESTION = records.RecordSpec("learning_question", LearningQuestion, QuestionIn, positioned=True)


# ---- the area's current plan, as pickers show it --------------------------------------------


@dataclass
class PlanChoices:
    """The current plan's elements (in the plan's order) and the periods its KPIs have begun."""

    plan: Plan | None
    kras: list[KeyResultArea] = field(default_factory=list)
    kpis: list[KPI] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)  # newest first

    def named(self) -> dict[str, dict[int, Any]]:
        """Entity type -> id -> element."""
        return {
            "kra": {k.id: k for k in self.kras},
            "kpi": {k.id: k for k in self.kpis},
            "action": {a.id: a for a in self.actions},
        }


def plan_choices(session: Session, area: Area, today: date | None = None) -> PlanChoices:
    """Four queries, however large the plan."""
    plan = current_plans(session, [area.id]).get(area.id)
    if plan is None:
        return PlanChoices(None)
    found: dict[type, list[Any]] = {}
    for model in (KeyResultArea, KPI, Action):
        query = select(model).where(model.plan_id == plan.id)
        found[model] = list(session.exec(query.order_by(model.position, model.id)))
    kpis = found[KPI]
    return PlanChoices(
        plan, found[KeyResultArea], kpis, found[Action], begun_periods(plan, kpis, today)
    )


def begun_periods(plan: Plan, kpis: list[KPI], today: date | None = None) -> list[str]:
    """Every period of the plan's KPIs that has begun, newest first (the results chain map's steps)."""
    today = today or thai_today()
    found = {
        p
        for kind in {k.period_type for k in kpis}
        for p in periods_of(kind, plan.span_start_be, plan.span_end_be)
        if period_span(p).starts_on <= today
    }
    return sorted(found, key=sort_key, reverse=True)


# ---- reflections: writes --------------------------------------------------------------------


def create_reflection(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    reflection_in: dict[str, Any],
    today: date | None = None,
) -> Reflection:
    """Record a reflection with a frozen copy of the figures of the elements it looked at."""
    data = _checked(session, area, reflection_in)
    plan = current_plans(session, [area.id]).get(area.id)
    figures = freeze(session, area, plan, data.elements, data.period, data.held_on, today)
    row = records.create(
        session,
        actor=actor,
        area=area,
        spec=REFLECTION,
        record_in=data.model_dump(),
        extra={"figures": figures},
        commit=False,
    )
    for entity_type, entity_id in data.elements:
        session.add(
            ReflectionElement(reflection_id=row.id, entity_type=entity_type, entity_id=entity_id)
        )
    session.flush()
    records.finish(session, area, REFLECTION, row.id, AuditOp.create)
    return row


def _checked(session: Session, area: Area, reflection_in: dict[str, Any]) -> ReflectionIn:
    """Validate every field, and the elements against the current plan, in one go."""
    errors: dict[str, Msg] = {}
    data = None
    try:
        data = validate(ReflectionIn, reflection_in)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if "elements" not in errors:
        chosen = data.elements if data else _elements_or_none(reflection_in.get("elements"))
        if chosen and not _in_plan(session, area, chosen):
            errors["elements"] = Msg(NOT_IN_PLAN)
    if errors or data is None:
        raise ValidationFailed(errors)
    return data


def _elements_or_none(value: Any) -> list[tuple[str, int]]:
    try:
        return _elements(value)
    except ValueError:
        return []


def _in_plan(session: Session, area: Area, elements: list[tuple[str, int]]) -> bool:
    for entity_type, target in ELEMENT_TARGETS.items():
        wanted = {i for t, i in elements if t == entity_type}
        if wanted and wanted - records.allowed_ids(session, area, target):
            return False
    return True


def update_reflection(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    reflection_id: int,
    reflection_in: dict[str, Any],
    expected_version: int | None = None,
) -> Reflection:
    """Change the date, title, participants and the three answers; the period, the elements
    and their figures stay as they were frozen."""
    return records.update(
        session,
        actor=actor,
        area=area,
        spec=REFLECTION_EDIT,
        record_id=reflection_id,
        record_in=reflection_in,
        expected_version=expected_version,
    )


def edit_values(session: Session, row: Reflection) -> dict[str, Any]:
    """The reflection as its edit form shows it."""
    return records.values(session, REFLECTION_EDIT, row)


def delete_reflection(
    session: Session, *, actor: audit.Actor, area: Area, reflection_id: int
) -> dict[str, Any]:
    """Delete a reflection. What its lines became stays, without the link back; a question it
    answered keeps its answer."""
    return records.delete(session, actor=actor, area=area, spec=REFLECTION, record_id=reflection_id)


# ---- the frozen figures ---------------------------------------------------------------------


def freeze(
    session: Session,
    area: Area,
    plan: Plan | None,
    elements: list[tuple[str, int]],
    period: str | None,
    held_on: date,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """The figures as shown now: KRAs, then KPIs, then actions, each in the plan's order."""
    if plan is None or not elements:
        return []
    today = today or thai_today()
    choices = plan_choices(session, area, today)
    chosen = {t: {i for kind, i in elements if kind == t} for t in ELEMENT_TARGETS}
    kra_kpis = _kra_kpis(session, chosen["kra"])
    needed = chosen["kpi"] | {k for ids in kra_kpis.values() for k in ids}
    rows = progress.kpi_rows(session, plan, [k for k in choices.kpis if k.id in needed], today)
    readings = {kpi_id: reading(row, period) for kpi_id, row in rows.items()}
    figures = [
        _kra_figure(kra, [readings.get(k) for k in kra_kpis.get(kra.id, []) if k in rows])
        for kra in choices.kras
        if kra.id in chosen["kra"]
    ]
    figures += [_kpi_figure(k, readings.get(k.id)) for k in choices.kpis if k.id in chosen["kpi"]]
    updates = progress.action_updates(session, sorted(chosen["action"]))
    figures += [
        _action_figure(a, updates.get(a.id, []), held_on)
        for a in choices.actions
        if a.id in chosen["action"]
    ]
    return figures


def _kra_kpis(session: Session, kra_ids: set[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if kra_ids:
        query = select(KPIKRA.kra_id, KPIKRA.kpi_id).where(col(KPIKRA.kra_id).in_(kra_ids))
        for kra_id, kpi_id in session.exec(query):
            found.setdefault(kra_id, []).append(kpi_id)
    return found


Reading = tuple[str, Judgement] | None


def reading(row: KPIProgress, period: str | None) -> Reading:
    """A KPI's period and judgement at the chosen period, read as the results chain map reads it
    (maps.status_at): that period when the KPI is counted by it, else its latest own period that
    had ended by then. Without a period: its newest period with a figure."""
    if period is None:
        known = [p for p in row.periods if row.judgements[p].figure is not None]
        return (known[-1], row.judgements[known[-1]]) if known else None
    if period in row.judgements:
        return period, row.judgements[period]
    ends = period_span(period).ends_on
    done = [p for p in row.periods if period_span(p).ends_on <= ends]
    return (done[-1], row.judgements[done[-1]]) if done else None


def _kpi_figure(kpi: KPI, found: Reading) -> dict[str, Any]:
    period, judgement = found if found else (None, None)
    return {
        "type": "kpi",
        "id": kpi.id,
        "code": kpi.code,
        "name": kpi.name,
        "unit": kpi.unit,
        "baseline": kpi.baseline_value,
        "baseline_period": kpi.baseline_period,
        "target": kpi.target_value,
        "target_period": kpi.target_period,
        "period": period,
        "value": judgement.figure if judgement else None,
        "period_target": judgement.target if judgement else None,
        "interpolated": bool(judgement and judgement.interpolated),
        "status": (judgement.status if judgement else KPIStatus.no_data).value,
    }


def _kra_figure(kra: KeyResultArea, found: list[Reading]) -> dict[str, Any]:
    counts = distribution(r[1].status if r else KPIStatus.no_data for r in found)
    return {
        "type": "kra",
        "id": kra.id,
        "code": kra.code,
        "title": kra.title,
        "kpis": len(found),
        "counts": {status.value: n for status, n in counts.items()},
    }


def _action_figure(action: Action, updates: list[Any], held_on: date) -> dict[str, Any]:
    """Its latest check-in on or before the day of the reflection (what could be seen then)."""
    last = next((u for u in updates if u.on_date <= held_on), None)
    checkin = None
    if last is not None:
        checkin = {
            "on_date": last.on_date.isoformat(),
            "percent_complete": last.percent_complete,
            "spent_thb": last.spent_thb,
            "confidence": last.confidence,
        }
    return {
        "type": "action",
        "id": action.id,
        "code": action.code,
        "title": action.title,
        "status": last.status if last else action.status,
        "budget": action.budget_thb,
        "checkin": checkin,
    }


# ---- Now-what lines and what they became ----------------------------------------------------


def now_what_lines(text: str) -> list[str]:
    """The non-empty lines of a Now what?, without list bullets: one proposal per line."""
    lines = (BULLET.sub("", line.strip()).strip() for line in (text or "").splitlines())
    return [line for line in lines if line]


def turn_line(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    reflection_id: int,
    follow_up_in: dict[str, Any],
) -> ReflectionFollowUp:
    """Turn one Now-what line into a new action, a change proposal or a learning question, and
    link the two. An action is created in the current plan like any other (its audit event
    cites the reflection and gives it as the reason); the link follows in its own audited
    commit, as workshops.accept does. A proposal or question and the link are one commit."""
    reflection = records.get(session, REFLECTION, area, reflection_id)
    data = validate(FollowUpIn, follow_up_in)
    lines = now_what_lines(reflection.now_what)
    if data.line >= len(lines):
        raise ValidationFailed({"line": Msg("Choose one of the Now what? lines.")})
    line = lines[data.line]
    done = follow_ups_of(session, [reflection.id]).get(reflection.id, [])
    earlier = next((f for f in done if f.line == line), None)
    if earlier is not None:
        what = label("follow_up_kind", earlier.kind)
        raise Conflict(Msg("This line has already been turned into: %(what)s.", {"what": what}))
    text = data.text or line
    target_id = _create_target(session, actor, area, reflection, data.kind, text)
    row = ReflectionFollowUp(
        reflection_id=reflection.id,
        line=line,
        kind=data.kind.value,
        target_type=TARGET_TYPES[data.kind],
        target_id=target_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type=FOLLOW_UP_ENTITY,
        entity_id=row.id,
        op=AuditOp.create,
        after=audit.snapshot(row, title=reflection.title),
        cites=("reflection", reflection.id),
    )
    publish = {"type": "learning.changed", "entity": FOLLOW_UP_ENTITY, "id": row.id, "op": "create"}
    audit.finish(session, area_id=area.id, publish=publish)
    return row


def _create_target(
    session: Session,
    actor: audit.Actor,
    area: Area,
    reflection: Reflection,
    kind: FollowUpKind,
    text: str,
) -> int:
    try:
        if kind == FollowUpKind.action:
            return _new_action(session, actor, area, reflection, text)
        spec, record_in = (
            (PROPOSAL, {"text": text})
            if kind == FollowUpKind.proposal
            else (QUESTION, {"question": text})
        )
        row = records.create(
            session, actor=actor, area=area, spec=spec, record_in=record_in, commit=False
        )
        return row.id
    except ValidationFailed as exc:
        session.rollback()
        raise ValidationFailed({"text": next(iter(exc.errors.values()))}) from None
    except ServiceError:
        session.rollback()
        raise


def _new_action(
    session: Session, actor: audit.Actor, area: Area, reflection: Reflection, title: str
) -> int:
    plan = current_plans(session, [area.id]).get(area.id)
    if plan is None:
        raise Conflict(
            Msg("This area has no plan yet: start the plan, then turn the line into an action.")
        )
    # create_element commits the action; the link follows in the follow-up's own commit
    action = plans.create_element(
        session,
        actor=actor,
        plan=plan,
        kind="actions",
        element_in={"code": plans.suggest_code(session, plan=plan, kind="actions"), "title": title},
        reason=gettext(FOLLOW_UP_REASON, title=reflection.title),
        reason_category=None,
        cites=("reflection", reflection.id),
    )
    return action.id


def follow_ups_of(
    session: Session, reflection_ids: list[int]
) -> dict[int, list[ReflectionFollowUp]]:
    found: dict[int, list[ReflectionFollowUp]] = {i: [] for i in reflection_ids}
    if reflection_ids:
        query = (
            select(ReflectionFollowUp)
            .where(col(ReflectionFollowUp.reflection_id).in_(reflection_ids))
            .order_by(col(ReflectionFollowUp.id))
        )
        for row in session.exec(query):
            found[row.reflection_id].append(row)
    return found


@dataclass(frozen=True)
class Origin:
    """The reflection a record came from."""

    reflection_id: int
    title: str
    held_on: date


def origins(
    session: Session, area_id: int, target_type: str, target_ids: list[int]
) -> dict[int, Origin]:
    """Target id -> the reflection it came from: one query, however many targets."""
    query = (
        select(ReflectionFollowUp.target_id, Reflection.id, Reflection.title, Reflection.held_on)
        .join(Reflection, col(Reflection.id) == col(ReflectionFollowUp.reflection_id))
        .where(Reflection.area_id == area_id)
        .where(ReflectionFollowUp.target_type == target_type)
        .where(col(ReflectionFollowUp.target_id).in_(target_ids))
    )
    return {t: Origin(r, title, held) for t, r, title, held in session.exec(query).all()}


# ---- reflections: read models ---------------------------------------------------------------


@dataclass
class ReflectionSummary:
    reflection: Reflection
    follow_ups: int


def reflection_list(session: Session, area: Area) -> list[ReflectionSummary]:
    """The area's reflections, newest meeting first, with how many lines were turned into
    something: two queries."""
    rows = area_reflections(session, area)
    counts = _follow_up_counts(session, [r.id for r in rows])
    return [ReflectionSummary(r, counts.get(r.id, 0)) for r in rows]


def area_reflections(session: Session, area: Area) -> list[Reflection]:
    query = (
        select(Reflection)
        .where(Reflection.area_id == area.id)
        .order_by(col(Reflection.held_on).desc(), col(Reflection.id).desc())
    )
    return list(session.exec(query))


def _follow_up_counts(session: Session, ids: list[int]) -> dict[int, int]:
    query = (
        select(ReflectionFollowUp.reflection_id, func.count())
        .where(col(ReflectionFollowUp.reflection_id).in_(ids))
        .group_by(col(ReflectionFollowUp.reflection_id))
    )
    return dict(session.exec(query).all())


@dataclass
class LineView:
    index: int
    text: str
    follow_up: ReflectionFollowUp | None = None
    target: Any = None  # the action, proposal or question; None when it is gone


@dataclass
class ElementView:
    entity_type: str
    entity_id: int
    label: str
    exists: bool  # still in the area's current plan


@dataclass
class ReflectionDetail:
    reflection: Reflection
    lines: list[LineView]
    earlier: list[LineView]  # follow-ups of lines no longer in the Now what? (it was edited)
    elements: list[ElementView]

    @property
    def frozen_on(self) -> datetime:
        return self.reflection.created_at


def reflection_detail(session: Session, area: Area, reflection_id: int) -> ReflectionDetail:
    """One reflection, its lines with what they became, its elements: nine queries."""
    row = records.get(session, REFLECTION, area, reflection_id)
    follow_ups = follow_ups_of(session, [row.id])[row.id]
    targets = _targets(session, follow_ups)
    by_line = {f.line: f for f in follow_ups}
    lines = []
    for index, text in enumerate(now_what_lines(row.now_what)):
        done = by_line.pop(text, None)
        lines.append(LineView(index, text, done, _target_of(targets, done)))
    earlier = [LineView(-1, f.line, f, _target_of(targets, f)) for f in by_line.values()]
    return ReflectionDetail(row, lines, earlier, _element_views(session, area, row))


def _targets(session: Session, follow_ups: list[ReflectionFollowUp]) -> dict[tuple[str, int], Any]:
    found: dict[tuple[str, int], Any] = {}
    for target_type, model in (
        ("action", Action),
        ("change_proposal", ChangeProposal),
        ("learning_question", LearningQuestion),
    ):
        ids = [f.target_id for f in follow_ups if f.target_type == target_type]
        for target in session.exec(select(model).where(col(model.id).in_(ids))):
            found[(target_type, target.id)] = target
    return found


def _target_of(targets: dict[tuple[str, int], Any], follow_up: ReflectionFollowUp | None) -> Any:
    if follow_up is None:
        return None
    return targets.get((follow_up.target_type, follow_up.target_id))


def _element_views(session: Session, area: Area, row: Reflection) -> list[ElementView]:
    """The elements looked at, named as they were frozen, in the figures' order."""
    query = select(ReflectionElement).where(ReflectionElement.reflection_id == row.id)
    stored = {(e.entity_type, e.entity_id) for e in session.exec(query)}
    plan_ids = current_plan_ids([area.id])
    alive: set[tuple[str, int]] = set()
    for entity_type, model in (("kra", KeyResultArea), ("kpi", KPI), ("action", Action)):
        ids = [i for t, i in stored if t == entity_type]
        query = select(model.id).where(col(model.id).in_(ids), col(model.plan_id).in_(plan_ids))
        alive |= {(entity_type, i) for i in session.exec(query)}
    named = {(f["type"], f["id"]): f for f in row.figures or []}
    order = {key: n for n, key in enumerate(named)}
    views = [
        ElementView(t, i, figure_label(named.get((t, i), {})) or f"#{i}", (t, i) in alive)
        for t, i in stored
    ]
    return sorted(views, key=lambda v: order.get((v.entity_type, v.entity_id), len(order)))


def figure_label(figure: dict[str, Any]) -> str:
    text = figure.get("name") or figure.get("title") or ""
    return " ".join(p for p in (figure.get("code") or "", text) if p)


# ---- change proposals -----------------------------------------------------------------------


def create_proposal(
    session: Session, *, actor: audit.Actor, area: Area, proposal_in: dict[str, Any]
) -> ChangeProposal:
    data = validate(ProposalIn, proposal_in)
    if data.element is not None and not _in_plan(session, area, [data.element]):
        raise ValidationFailed({"element": Msg(NOT_IN_PLAN)})
    return records.create(session, actor=actor, area=area, spec=PROPOSAL, record_in=proposal_in)


def decide(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    proposal_id: int,
    decision_in: dict[str, Any],
) -> ChangeProposal:
    """Adopt or decline an open proposal, with the committee's note and the day it decided."""
    row = records.get(session, PROPOSAL, area, proposal_id)
    if row.state != ProposalState.open:
        state = label("proposal_state", row.state)
        raise Conflict(Msg("This proposal was decided already: %(state)s.", {"state": state}))
    return records.update(
        session, actor=actor, area=area, spec=DECISION, record_id=row.id, record_in=decision_in
    )


@dataclass
class ProposalsView:
    rows: list[ChangeProposal]
    counts: dict[str, int]  # per state, of all the area's proposals
    origins: dict[int, Origin]
    choices: PlanChoices


def proposals_view(session: Session, area: Area, state: str | None = None) -> ProposalsView:
    """The area's proposals (of one state), open ones first, newest first: seven queries."""
    query = select(ChangeProposal).where(ChangeProposal.area_id == area.id)
    if state:
        query = query.where(ChangeProposal.state == state)
    rows = list(session.exec(query.order_by(col(ChangeProposal.id).desc())))
    rows.sort(key=lambda r: r.state != ProposalState.open)
    counts_query = (
        select(ChangeProposal.state, func.count())
        .where(ChangeProposal.area_id == area.id)
        .group_by(col(ChangeProposal.state))
    )
    counts = Counter(dict(session.exec(counts_query).all()))
    found = origins(session, area.id, "change_proposal", [r.id for r in rows])
    return ProposalsView(rows, dict(counts), found, plan_choices(session, area))


# ---- learning questions ---------------------------------------------------------------------


def create_question(
    session: Session, *, actor: audit.Actor, area: Area, question_in: dict[str, Any]
) -> LearningQuestion:
    _check_answer_reflection(session, area, question_in)
    return records.create(session, actor=actor, area=area, spec=QUESTION, record_in=question_in)


def update_question(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    question_id: int,
    question_in: dict[str, Any],
    expected_version: int | None = None,
) -> LearningQuestion:
    """Change, answer, reopen or retire a question (fields not sent keep their values)."""
    _check_answer_reflection(session, area, question_in)
    return records.update(
        session,
        actor=actor,
        area=area,
        spec=QUESTION,
        record_id=question_id,
        record_in=question_in,
        expected_version=expected_version,
        partial=True,
    )


def retire_question(
    session: Session, *, actor: audit.Actor, area: Area, question_id: int
) -> LearningQuestion:
    row = records.get(session, QUESTION, area, question_id)
    if row.state == QuestionState.retired:
        return row
    return update_question(
        session,
        actor=actor,
        area=area,
        question_id=question_id,
        question_in={"state": QuestionState.retired.value},
    )


def _check_answer_reflection(session: Session, area: Area, question_in: dict[str, Any]) -> None:
    value = question_in.get("answer_reflection_id")
    if value in (None, ""):
        return
    query = select(Reflection.id).where(Reflection.area_id == area.id)
    if str(value).strip() not in {str(i) for i in session.exec(query)}:
        raise ValidationFailed({"answer_reflection_id": Msg("Pick from the list.")})


@dataclass
class QuestionsView:
    groups: dict[str, list[LearningQuestion]]  # state -> questions, in the order asked
    origins: dict[int, Origin]
    reflections: list[Reflection]  # the area's, newest first: what may have answered one

    @property
    def by_id(self) -> dict[int, Reflection]:
        return {r.id: r for r in self.reflections}


def questions_view(session: Session, area: Area) -> QuestionsView:
    """Three queries."""
    query = select(LearningQuestion).where(LearningQuestion.area_id == area.id)
    rows = list(
        session.exec(query.order_by(col(LearningQuestion.position), col(LearningQuestion.id)))
    )
    groups: dict[str, list[LearningQuestion]] = {s.value: [] for s in QuestionState}
    for row in rows:
        groups.setdefault(row.state, []).append(row)
    found = origins(session, area.id, "learning_question", [r.id for r in rows])
    return QuestionsView(groups, found, area_reflections(session, area))


# ---- the brief ------------------------------------------------------------------------------


def reflections_between(
    session: Session, area_ids: list[int], starts_on: date, ends_on: date
) -> dict[int, list[Reflection]]:
    """Each area's reflections held in the span, newest first: one query."""
    found: dict[int, list[Reflection]] = {i: [] for i in area_ids}
    if not area_ids:
        return found
    query = (
        select(Reflection)
        .where(col(Reflection.area_id).in_(area_ids))
        .where(col(Reflection.held_on) >= starts_on, col(Reflection.held_on) <= ends_on)
        .order_by(col(Reflection.held_on).desc(), col(Reflection.id).desc())
    )
    for row in session.exec(query):
        found[row.area_id].append(row)
    return found


def first_line(text: str) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
