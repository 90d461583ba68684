"""Progress: KPI values and targets per period, and the progress page's read model.

Every write validates, writes, records its audit event in the same transaction, commits, then
publishes `progress.changed` on the area's channel.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.i18n import N_
from app.models import (
    KPI,
    Action,
    ActionUpdate,
    Area,
    KPITarget,
    Measurement,
    Plan,
    ReviewRound,
    User,
)
from app.models.base import utcnow
from app.models.enums import Aggregation, AuditOp, Direction, KPIKind, KPIStatus, ReviewState
from app.numbers import NotANumber, parse_number
from app.periods import contains, parse_period, period_span, periods_of
from app.schemas import KPI_RANGES, ActionUpdateIn
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.plan_tree import PlanTree, current_plans, load_tree
from app.services.validation import validate
from app.status import Judgement, Rule, Trend, distribution, judge_periods, overdue, trend

LOCKING_STATES = (ReviewState.submitted.value, ReviewState.approved.value)
CELLS = ("actual", "target")


# ---- writes ---------------------------------------------------------------------------------


def save_cell(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    kpi_id: int,
    period: str,
    cell: str,
    text: str | float | None,
    expected_version: int | None = None,
) -> Measurement | KPITarget | None:
    """Store, change or (when blank) clear a KPI's actual value or target for one period."""
    kpi = _kpi(session, plan, kpi_id)
    period = _check_period(kpi, period)
    value = parse_value(kpi, text)
    if cell == "target":
        row, changed = write_target(session, actor, plan, kpi, period, value)
        entity = "kpi_target"
    elif cell == "actual":
        check_open(session, plan.area_id, period)
        fields = None if value is None else {"value": value}
        row, changed = write_measurement(
            session, actor, plan, kpi, period, fields, expected_version=expected_version
        )
        entity = "measurement"
    else:
        raise NotFound(cell)
    finish(session, plan, entity, kpi.id, changed=changed)
    return row


def write_measurement(
    session: Session,
    actor: audit.Actor,
    plan: Plan,
    kpi: KPI,
    period: str,
    fields: dict[str, Any] | None,
    *,
    expected_version: int | None = None,
    reason: str | None = None,
) -> tuple[Measurement | None, bool]:
    """Set a measurement's columns (`fields`), or delete it (`None`), recording the audit event
    in the caller's transaction. Returns the row and whether anything changed."""
    row = measurement_of(session, kpi.id, period)
    if row and expected_version is not None and row.version != expected_version:
        raise Conflict(
            Msg(N_("Someone else saved this value meanwhile: %(value)s."), {"value": row.value}),
            current=audit.snapshot(row),
        )
    if row is None and fields is None:
        return None, False
    before = audit.snapshot(row) if row else None
    if fields is None:
        assert row is not None
        session.delete(row)
        _record(session, actor, plan, "measurement", row.id, AuditOp.delete, before, None, reason)
        return None, True
    if row is None:
        row = Measurement(kpi_id=kpi.id, period=period, entered_by=actor.id, **fields)
    elif all(getattr(row, k) == v for k, v in fields.items()):
        return row, False
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        row.version += 1
        row.entered_by = actor.id
        row.entered_at = utcnow()
    session.add(row)
    session.flush()
    op = AuditOp.update if before else AuditOp.create
    _record(session, actor, plan, "measurement", row.id, op, before, audit.snapshot(row), reason)
    return row, True


def write_target(
    session: Session,
    actor: audit.Actor,
    plan: Plan,
    kpi: KPI,
    period: str,
    value: float | None,
    *,
    reason: str | None = None,
) -> tuple[KPITarget | None, bool]:
    """Set or (with `None`) clear a period's target, recording the audit event."""
    row = session.get(KPITarget, (kpi.id, period))
    if row is None and value is None or row is not None and row.value == value:
        return row, False
    before = audit.snapshot(row) if row else None
    if value is None:
        session.delete(row)
        row = None
    elif row is None:
        row = KPITarget(kpi_id=kpi.id, period=period, value=value)
    else:
        row.value = value
    if row is not None:
        session.add(row)
    op = AuditOp.delete if row is None else AuditOp.update if before else AuditOp.create
    after = audit.snapshot(row) if row else None
    _record(session, actor, plan, "kpi_target", kpi.id, op, before, after, reason)
    return row, True


def measurement_of(session: Session, kpi_id: int, period: str) -> Measurement | None:
    query = select(Measurement).where(Measurement.kpi_id == kpi_id, Measurement.period == period)
    return session.exec(query).first()


def add_action_update(
    session: Session, *, actor: audit.Actor, plan: Plan, action_id: int, update_in: dict[str, Any]
) -> ActionUpdate:
    """Record a check-in on an action; the action takes the check-in's status."""
    action = _action(session, plan, action_id)
    data = validate(ActionUpdateIn, update_in)
    if data.on_date > date.today():
        raise ValidationFailed({"on_date": Msg(N_("A check-in cannot be dated in the future."))})
    row = ActionUpdate(**data.model_dump(), action_id=action.id, entered_by=actor.id)
    row.status = data.status.value
    session.add(row)
    if action.status != row.status:
        before = audit.snapshot(action)
        action.status = row.status
        action.version += 1
        session.add(action)
        after = audit.snapshot(action)
        reason = data.what_changed[:1000]
        _record(session, actor, plan, "action", action.id, AuditOp.update, before, after, reason)
    session.flush()
    _record(
        session, actor, plan, "action_update", row.id, AuditOp.create, None, audit.snapshot(row)
    )
    finish(session, plan, "action_update", row.id)
    return row


def _action(session: Session, plan: Plan, action_id: int) -> Action:
    action = session.get(Action, action_id)
    if action is None or action.plan_id != plan.id:
        raise NotFound(N_("No such action in this plan."))
    return action


def _kpi(session: Session, plan: Plan, kpi_id: int) -> KPI:
    kpi = session.get(KPI, kpi_id)
    if kpi is None or kpi.plan_id != plan.id:
        raise NotFound(N_("No such KPI in this plan."))
    return kpi


def _check_period(kpi: KPI, period: str) -> str:
    parsed = parse_period(period)
    if parsed is None or parsed.period_type != kpi.period_type:
        raise ValidationFailed({"value": Msg(N_("This KPI is not measured in that period."))})
    return parsed.code


def parse_value(kpi: KPI, text: str | float | None) -> float | None:
    try:
        value = parse_number(text)
    except NotANumber:
        raise ValidationFailed(
            {"value": Msg(N_("Enter a number, e.g. 72.5 (Thai digits and a trailing % are fine)."))}
        ) from None
    bounds = KPI_RANGES.get(KPIKind(kpi.kind))
    if value is not None and bounds and not bounds[0] <= value <= bounds[1]:
        msg = N_("For this kind of KPI the value must be between %(low)s and %(high)s.")
        raise ValidationFailed({"value": Msg(msg, {"low": bounds[0], "high": bounds[1]})})
    return value


def check_open(session: Session, area_id: int, period: str) -> None:
    """Refuse a value for a period that is locked by its review round or has not begun."""
    problem = open_problem(_rounds(session, area_id).values(), period)
    if problem:
        raise ValidationFailed({"value": problem})


def open_problem(
    rounds: Iterable[ReviewRound], period: str, today: date | None = None
) -> Msg | None:
    """Why a period takes no values now, if it does not."""
    state = lock_of(rounds, period)
    if state == ReviewState.approved:
        return Msg(
            N_(
                "This period was approved and is locked. An administrator or reviewer can reopen it."
            )
        )
    if state is not None:
        return Msg(
            N_(
                "This period was submitted for review. It can be changed if the reviewer returns it."
            )
        )
    if period_span(period).starts_on > (today or date.today()):
        return Msg(N_("This period has not begun: only its target can be set now."))
    return None


def _record(
    session: Session,
    actor: audit.Actor,
    plan: Plan,
    entity_type: str,
    entity_id: int | None,
    op: AuditOp,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        area_id=plan.area_id,
        entity_type=entity_type,
        entity_id=entity_id,
        op=op,
        before=before,
        after=after,
        reason=reason,
    )


def finish(
    session: Session, plan: Plan, entity: str, entity_id: int | None, *, changed: bool = True
) -> None:
    """The tail of every progress write: commit what was recorded, then tell the live views."""
    publish = {"type": "progress.changed", "plan_id": plan.id, "entity": entity, "id": entity_id}
    audit.finish(session, area_id=plan.area_id, publish=publish if changed else None)


# ---- read model -----------------------------------------------------------------------------


@dataclass
class KPIProgress:
    kpi: KPI
    periods: list[str]
    actuals: dict[str, Measurement]
    targets: dict[str, float]
    judgements: dict[str, Judgement]
    trend: Trend
    overdue: list[str]

    @property
    def latest(self) -> Judgement | None:
        """The newest period that has a figure."""
        known = [j for j in self.judgements.values() if j.figure is not None]
        return known[-1] if known else None


@dataclass
class PeriodGroup:
    period_type: str
    periods: list[str]
    rows: list[KPIProgress] = field(default_factory=list)


@dataclass
class ProgressView:
    area: Area
    plan: Plan | None
    tree: PlanTree | None
    groups: list[PeriodGroup]
    rounds: dict[str, ReviewRound]
    kpis: dict[int, KPIProgress]
    names: dict[int, str] = field(default_factory=dict)  # who submitted or decided a round
    updates: dict[int, list[ActionUpdate]] = field(default_factory=dict)  # newest first

    def latest_counts(self) -> dict[KPIStatus, int]:
        """How many KPIs are in each status at their newest period with a figure."""
        return distribution(
            row.latest.status if row.latest else KPIStatus.no_data for row in self.kpis.values()
        )


def rule_of(kpi: KPI) -> Rule:
    return Rule(
        direction=Direction(kpi.direction),
        aggregation=Aggregation(kpi.aggregation),
        baseline=kpi.baseline_value,
        baseline_period=kpi.baseline_period,
        end_target=kpi.target_value,
        end_period=kpi.target_period,
        tolerance=kpi.tolerance,
    )


def progress_view(session: Session, area: Area, today: date | None = None) -> ProgressView:
    """Everything the progress page shows, in a fixed number of queries."""
    today = today or date.today()
    plan = current_plans(session, [area.id]).get(area.id)
    rounds = _rounds(session, area.id)
    ids = {i for r in rounds.values() for i in (r.submitted_by, r.decided_by) if i is not None}
    names = (
        dict(session.exec(select(User.id, User.display_name).where(col(User.id).in_(ids))).all())
        if ids
        else {}
    )
    if plan is None:
        return ProgressView(area, None, None, [], rounds, {}, names)
    tree = load_tree(session, plan, area)
    kpis = _kpi_rows(session, plan, tree.kpis, today)
    groups: dict[str, PeriodGroup] = {}
    for row in kpis.values():
        group = groups.setdefault(
            row.kpi.period_type, PeriodGroup(row.kpi.period_type, row.periods)
        )
        group.rows.append(row)
    updates = _updates(session, [a.id for a in tree.actions])
    return ProgressView(area, plan, tree, list(groups.values()), rounds, kpis, names, updates)


def kpi_view(session: Session, area: Area, plan: Plan, kpi_id: int) -> ProgressView:
    """Just one KPI's row (what a saved cell brings back), without loading the whole plan."""
    kpi = _kpi(session, plan, kpi_id)
    row = _kpi_rows(session, plan, [kpi], date.today())[kpi.id]
    group = PeriodGroup(kpi.period_type, row.periods, [row])
    return ProgressView(area, plan, None, [group], _rounds(session, area.id), {kpi.id: row})


def action_view(
    session: Session, area: Area, plan: Plan, action_id: int
) -> tuple[ProgressView, Action]:
    """Just one action and its check-ins."""
    action = _action(session, plan, action_id)
    view = ProgressView(area, plan, None, [], {}, {}, updates=_updates(session, [action.id]))
    return view, action


def _rounds(session: Session, area_id: int) -> dict[str, ReviewRound]:
    query = select(ReviewRound).where(ReviewRound.area_id == area_id)
    return {r.period: r for r in session.exec(query)}


def _updates(session: Session, action_ids: list[int]) -> dict[int, list[ActionUpdate]]:
    updates: dict[int, list[ActionUpdate]] = defaultdict(list)
    for u in session.exec(
        select(ActionUpdate)
        .where(col(ActionUpdate.action_id).in_(action_ids))
        .order_by(col(ActionUpdate.on_date).desc(), col(ActionUpdate.id).desc())
    ):
        updates[u.action_id].append(u)
    return updates


def _kpi_rows(session: Session, plan: Plan, kpis: list[KPI], today: date) -> dict[int, KPIProgress]:
    """Each KPI's values, targets and judgements: two queries, whatever the number of KPIs."""
    kpi_ids = [k.id for k in kpis]
    actuals: dict[int, dict[str, Measurement]] = defaultdict(dict)
    for m in session.exec(select(Measurement).where(col(Measurement.kpi_id).in_(kpi_ids))):
        actuals[m.kpi_id][m.period] = m
    targets: dict[int, dict[str, float]] = defaultdict(dict)
    for t in session.exec(select(KPITarget).where(col(KPITarget.kpi_id).in_(kpi_ids))):
        targets[t.kpi_id][t.period] = t.value
    return {k.id: _kpi_row(plan, k, actuals[k.id], targets[k.id], today) for k in kpis}


def _kpi_row(
    plan: Plan, kpi: KPI, actuals: dict[str, Measurement], targets: dict[str, float], today: date
) -> KPIProgress:
    periods = periods_of(kpi.period_type, plan.span_start_be, plan.span_end_be)
    values = {p: m.value for p, m in actuals.items()}
    rule = rule_of(kpi)
    judgements = judge_periods(periods, values, targets, rule)
    for period in periods:  # nothing to judge in a period that has not started
        if period_span(period).starts_on > today:
            j = judgements[period]
            judgements[period] = Judgement(
                KPIStatus.no_data, "not_started", None, j.target, j.interpolated
            )
    return KPIProgress(
        kpi=kpi,
        periods=periods,
        actuals=actuals,
        targets=targets,
        judgements=judgements,
        trend=trend([j.figure for j in judgements.values()], rule),
        overdue=overdue(periods, values, today, after=kpi.baseline_period),
    )


def lock_of(rounds: Iterable[ReviewRound], period: str) -> str | None:
    """The review state that locks a period (submitted or approved), if any."""
    for round_ in rounds:
        if round_.state in LOCKING_STATES and contains(round_.period, period):
            return round_.state
    return None


def locked_periods(view: ProgressView) -> dict[str, str]:
    """Period code -> the state that locks it, for every period shown."""
    shown = {p for group in view.groups for p in group.periods}
    return {p: state for p in shown if (state := lock_of(view.rounds.values(), p))}
