"""Progress: KPI values and targets per period, and the progress page's read model.

Every write validates, writes, records its audit event in the same transaction, commits, then
publishes `progress.changed` on the area's channel.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from app.i18n import N_, thai_today
from app.models import (
    KPI,
    Action,
    ActionUpdate,
    Area,
    EvidenceFile,
    KPITarget,
    Measurement,
    OrgUnit,
    Plan,
    ReviewRound,
    UnitMeasurement,
    User,
)
from app.models.base import utcnow
from app.models.enums import (
    Aggregation,
    AuditOp,
    Direction,
    KPIKind,
    KPIStatus,
    PeriodType,
    ReviewState,
    Rollup,
)
from app.numbers import COUNT_MAX, NotANumber, parse_integer, parse_number
from app.periods import EXAMPLES, contains, parse_period, period_label, period_span, periods_of
from app.schemas import KPI_RANGES, ActionUpdateIn, MeasurementIn
from app.services import audit, evidence
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.plan_tree import PlanTree, current_plans, load_tree
from app.services.validation import validate
from app.status import (
    Judgement,
    Rule,
    Trend,
    distribution,
    judge_periods,
    overdue,
    roll_up,
    trend,
)

LOCKING_STATES = (ReviewState.submitted.value, ReviewState.approved.value)
CELLS = ("actual", "target")
NEEDS_VALUE = N_("A note, a number measured or evidence needs a value.")
ROLLED_UP = N_("This value is rolled up from its units: change their values on the KPI's page.")
COMPUTED = N_("This KPI is computed from data items: change their values in the data catalogue.")


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
    before_commit: Callable[[], None] | None = None,
) -> Measurement | KPITarget | None:
    """Store, change or (when blank) clear a KPI's actual value or target for one period.
    `before_commit` runs after the write, in its transaction (see `finish`)."""
    kpi = _kpi(session, plan, kpi_id)
    period = _check_period(plan, kpi, period)
    value = parse_value(kpi, text)
    if cell == "target":
        row, changed = write_target(session, actor, plan, kpi, period, value)
        entity = "kpi_target"
    elif cell == "actual":
        check_open(session, plan.area_id, period)
        if kpi.compute_method:
            raise ValidationFailed({"value": Msg(COMPUTED)})
        if period in rolled_up(session, [kpi.id]).get(kpi.id, set()):
            raise ValidationFailed({"value": Msg(ROLLED_UP)})
        fields = None if value is None else {"value": value}
        row, changed = write_measurement(
            session, actor, plan, kpi, period, fields, expected_version=expected_version
        )
        entity = "measurement"
    else:
        raise NotFound(cell)
    finish(session, plan, entity, kpi.id, changed=changed, before_commit=before_commit)
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
        raise _measurement_conflict(row)
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
    try:
        with audit.lost_race_is_conflict(session, inserts=True):
            session.flush()
    except Conflict:
        # another writer saved this period's value between our read and our write
        raise _measurement_conflict(measurement_of(session, kpi.id, period)) from None
    op = AuditOp.update if before else AuditOp.create
    _record(session, actor, plan, "measurement", row.id, op, before, audit.snapshot(row), reason)
    return row, True


def _measurement_conflict(row: Measurement | None) -> Conflict:
    if row is None:  # they cleared it
        return Conflict(Msg(N_("Someone else cleared this value meanwhile.")), current={})
    return Conflict(
        Msg(N_("Someone else saved this value meanwhile: %(value)s."), {"value": row.value}),
        current=audit.snapshot(row),
    )


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


@dataclass(frozen=True)
class PeriodWrite:
    """One KPI and period for `write_many`: a new target (`set_target`) and/or new measurement
    columns (`fields`, None to delete it; `set_measurement`), against `stored`, the measurement
    as it was read, whose version guards the write."""

    kpi: KPI
    period: str
    stored: Measurement | None
    set_target: bool = False
    target: float | None = None
    set_measurement: bool = False
    fields: dict[str, Any] | None = None


STALE_IMPORT = N_(
    "Someone else changed some of these values after the file was checked, so nothing was "
    "saved. Upload the file again to see the values as they are now."
)
BATCH = 1000  # rows per statement
MEASURED = ("value", "n_measured", "note")


def write_many(
    session: Session,
    actor: audit.Actor,
    plan: Plan,
    writes: list[PeriodWrite],
    *,
    reason: str | None = None,
) -> int:
    """What `write_target` and `write_measurement` do one by one, for many periods at once:
    one read of the stored targets, then a few statements per `BATCH` rows, and one audit event
    per changed value, in the order of `writes` (the target before the measurement), with the
    same content. A measurement changed or deleted since it was read (its version moved) fails
    the whole write with `Conflict`; the caller rolls back. Returns the number of events.

    New measurements are inserted without going through the session (it would insert them one
    by one to learn their ids), so they are not in its identity map until read."""
    events: dict[tuple[int, int], dict[str, Any]] = {}
    _write_targets(session, writes, events)
    try:
        session.flush()  # the targets, in batches
        _write_measurements(session, actor, writes, events)
    except (IntegrityError, StaleDataError):  # a row added or removed meanwhile
        raise Conflict(Msg(STALE_IMPORT)) from None
    changes = [events[key] for key in sorted(events)]
    audit.record_many(session, actor=actor, area_id=plan.area_id, changes=changes, reason=reason)
    return len(changes)


def _event(
    entity_type: str, entity_id: int | None, op: AuditOp, before: Any, after: Any
) -> dict[str, Any]:
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "op": op,
        "before": before,
        "after": after,
    }


def _write_targets(
    session: Session, writes: list[PeriodWrite], events: dict[tuple[int, int], Any]
) -> None:
    """Set, change or clear targets through the session (flushed in batches by the caller)."""
    wanted = [(i, w) for i, w in enumerate(writes) if w.set_target]
    if not wanted:
        return
    kpi_ids = list({w.kpi.id for _, w in wanted})
    query = select(KPITarget).where(col(KPITarget.kpi_id).in_(kpi_ids))
    stored = {(t.kpi_id, t.period): t for t in session.exec(query)}
    for i, w in wanted:
        row = stored.get((w.kpi.id, w.period))
        if row is None and w.target is None or row is not None and row.value == w.target:
            continue
        before = audit.snapshot(row) if row else None
        if w.target is None:
            session.delete(row)
            events[(i, 0)] = _event("kpi_target", w.kpi.id, AuditOp.delete, before, None)
            continue
        if row is None:
            row = KPITarget(kpi_id=w.kpi.id, period=w.period, value=w.target)
        else:
            row.value = w.target
        session.add(row)
        op = AuditOp.update if before else AuditOp.create
        events[(i, 0)] = _event("kpi_target", w.kpi.id, op, before, audit.snapshot(row))


def _write_measurements(
    session: Session,
    actor: audit.Actor,
    writes: list[PeriodWrite],
    events: dict[tuple[int, int], dict[str, Any]],
) -> None:
    """Update and delete measurements with statements guarded by their versions; insert the
    new ones in multi-row statements."""
    now = utcnow()
    updates: list[tuple[Measurement, dict[str, Any]]] = []
    deletes: list[Measurement] = []
    inserts: list[tuple[int, dict[str, Any]]] = []
    for i, w in enumerate(writes):
        row, fields = w.stored, w.fields
        if not w.set_measurement or row is None and fields is None:
            continue
        assert fields is None or set(fields) <= set(MEASURED), fields
        if fields is None:
            assert row is not None
            deletes.append(row)
            events[(i, 1)] = _event(
                "measurement", row.id, AuditOp.delete, audit.snapshot(row), None
            )
        elif row is None:
            inserts.append((i, {"kpi_id": w.kpi.id, "period": w.period, **fields}))
        elif any(getattr(row, k) != v for k, v in fields.items()):
            changes = {**fields, "version": row.version + 1, "entered_by": actor.id}
            changes["entered_at"] = now
            updates.append((row, changes))
            before, after = audit.snapshot(row), audit.snapshot(row, **changes)
            events[(i, 1)] = _event("measurement", row.id, AuditOp.update, before, after)
    _guarded_updates(session, updates)
    _guarded_deletes(session, deletes)
    _insert_measurements(session, actor, inserts, events)


def _insert_measurements(
    session: Session,
    actor: audit.Actor,
    inserts: list[tuple[int, dict[str, Any]]],
    events: dict[tuple[int, int], dict[str, Any]],
) -> None:
    """Insert new measurements in multi-row statements, read their ids back (one query), and
    record each as `write_measurement` would (the row's columns, defaults included)."""
    if not inserts:
        return
    blank = Measurement(kpi_id=0, period="", value=0, entered_by=actor.id)  # the defaults
    defaults = blank.model_dump(exclude={"id"})
    params = [{**defaults, **values} for _, values in inserts]
    for start in range(0, len(params), BATCH):
        session.connection().execute(insert(_M), params[start : start + BATCH])
    query = select(Measurement.id, Measurement.kpi_id, Measurement.period).where(
        col(Measurement.kpi_id).in_(sorted({values["kpi_id"] for _, values in inserts}))
    )
    ids = {(kpi_id, period): id_ for id_, kpi_id, period in session.exec(query)}
    for (i, _), row in zip(inserts, params, strict=True):
        after = audit.snapshot(blank, id=ids[(row["kpi_id"], row["period"])], **row)
        events[(i, 1)] = _event("measurement", after["id"], AuditOp.create, None, after)


_M = Measurement.__table__  # type: ignore[attr-defined]
_GUARD = (_M.c.id == bindparam("m_id"), _M.c.version == bindparam("m_version"))
_UPDATE = (
    update(_M)
    .where(*_GUARD)
    .values(
        value=bindparam("m_value"),
        n_measured=bindparam("m_n_measured"),
        note=bindparam("m_note"),
        version=bindparam("m_new_version"),
        entered_by=bindparam("m_entered_by"),
        entered_at=bindparam("m_entered_at"),
    )
)
_DELETE = delete(_M).where(*_GUARD)


def _guarded_updates(session: Session, updates: list[tuple[Measurement, dict[str, Any]]]) -> None:
    params = [
        {
            "m_id": row.id,
            "m_version": row.version,
            **{f"m_{k}": changes.get(k, getattr(row, k)) for k in MEASURED},
            "m_new_version": changes["version"],
            "m_entered_by": changes["entered_by"],
            "m_entered_at": changes["entered_at"],
        }
        for row, changes in updates
    ]
    _execute_guarded(session, _UPDATE, params)
    for row, changes in updates:  # the session's copy as stored, without writing it again
        for name, value in changes.items():
            set_committed_value(row, name, value)


def _guarded_deletes(session: Session, deletes: list[Measurement]) -> None:
    params = [{"m_id": row.id, "m_version": row.version} for row in deletes]
    _execute_guarded(session, _DELETE, params)
    for row in deletes:
        session.expunge(row)


def _execute_guarded(session: Session, statement: Any, params: list[dict[str, Any]]) -> None:
    """Run a statement guarded by each row's version, in batches; every row must match."""
    for start in range(0, len(params), BATCH):
        batch = params[start : start + BATCH]
        if session.connection().execute(statement, batch).rowcount != len(batch):
            raise Conflict(Msg(STALE_IMPORT))


def measurement_of(session: Session, kpi_id: int, period: str) -> Measurement | None:
    query = select(Measurement).where(Measurement.kpi_id == kpi_id, Measurement.period == period)
    return session.exec(query).first()


def save_measurement(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    kpi_id: int,
    period: str,
    details_in: dict[str, Any],
    units_in: dict[int, tuple[str, str]] | None = None,
    upload: evidence.Upload | None = None,
    expected_version: int | None = None,
    before_commit: Callable[[], None] | None = None,
) -> Measurement | None:
    """A period's value with what goes with it: the number measured, a note, evidence (a link
    or a file), and the units' own values, from which the area's value is then rolled up.
    `before_commit` runs after the write, in its transaction (see `finish`)."""
    kpi = _kpi(session, plan, kpi_id)
    period = _check_period(plan, kpi, period)
    check_open(session, plan.area_id, period)
    if kpi.compute_method:
        raise ValidationFailed({"value": Msg(COMPUTED)})
    errors: dict[str, Msg] = {}
    pairs = _unit_values(session, plan.area_id, kpi, units_in or {}, errors)
    value = _details_value(kpi, details_in.get("value"), pairs, errors)
    try:
        details = validate(MeasurementIn, details_in)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        details = None
    has_more = (
        upload is not None
        or details is not None
        and bool(details.note or details.n_measured is not None or details.evidence_url)
    )
    if value is None and has_more and "value" not in errors:
        errors["value"] = Msg(NEEDS_VALUE)
    if errors or details is None:
        raise ValidationFailed(errors)
    fields: dict[str, Any] | None = None
    if value is not None:
        n = details.n_measured
        if n is None and pairs and all(n_ is not None for _, n_ in pairs.values()):
            n = sum(n_ or 0 for _, n_ in pairs.values())
        fields = {"value": value, "n_measured": n, "note": details.note}
        fields["evidence_url"] = details.evidence_url
        if upload is not None:
            stored = evidence.store(session, actor=actor, area_id=plan.area_id, upload=upload)
            fields["evidence_id"] = stored.id
    row, changed = write_measurement(
        session, actor, plan, kpi, period, fields, expected_version=expected_version
    )
    changed = _write_units(session, actor, plan, row, pairs) or changed
    finish(session, plan, "measurement", kpi.id, changed=changed, before_commit=before_commit)
    return row


def _unit_values(
    session: Session,
    area_id: int,
    kpi: KPI,
    units_in: dict[int, tuple[str, str]],
    errors: dict[str, Msg],
) -> dict[int, tuple[float, int | None]]:
    """Each unit's (value, number measured), from the texts typed for the area's units."""
    known = {u.id for u in units_of(session, area_id)}
    pairs: dict[int, tuple[float, int | None]] = {}
    for unit_id, (value_text, n_text) in units_in.items():
        if unit_id not in known:
            raise NotFound(N_("No such unit in this area."))
        try:
            value = parse_value(kpi, value_text)
        except ValidationFailed as exc:
            errors[f"unit-{unit_id}"] = exc.errors["value"]
            continue
        try:
            n = parse_integer(n_text)
        except NotANumber:
            errors[f"unit-{unit_id}-n"] = Msg(N_("Enter a whole number, e.g. 120."))
            continue
        if n is not None and not 0 <= n <= COUNT_MAX:
            errors[f"unit-{unit_id}-n"] = Msg(N_("Enter a whole number, e.g. 120."))
            continue
        if value is not None:
            pairs[unit_id] = (value, n)
        elif n is not None:
            errors[f"unit-{unit_id}"] = Msg(N_("A number measured needs a value beside it."))
    return pairs


def _details_value(
    kpi: KPI,
    text: Any,
    pairs: dict[int, tuple[float, int | None]],
    errors: dict[str, Msg],
) -> float | None:
    if pairs:  # the units' values make the area's value
        return roll_up(pairs.values(), Rollup(kpi.rollup))
    try:
        return parse_value(kpi, text)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None


def _write_units(
    session: Session,
    actor: audit.Actor,
    plan: Plan,
    row: Measurement | None,
    pairs: dict[int, tuple[float, int | None]],
) -> bool:
    """Replace a measurement's unit values (recorded as one change), if they differ."""
    if row is None:
        return False
    stored = {
        u.unit_id: u
        for u in session.exec(
            select(UnitMeasurement).where(UnitMeasurement.measurement_id == row.id)
        )
    }
    before = {str(k): [u.value, u.n_measured] for k, u in sorted(stored.items())}
    after = {str(k): [v, n] for k, (v, n) in sorted(pairs.items())}
    if before == after:
        return False
    for unit in stored.values():
        session.delete(unit)
    session.flush()
    for unit_id, (value, n) in pairs.items():
        session.add(
            UnitMeasurement(measurement_id=row.id, unit_id=unit_id, value=value, n_measured=n)
        )
    _record(
        session,
        actor,
        plan,
        "unit_measurement",
        row.id,
        AuditOp.update,
        {"period": row.period, "units": before},
        {"period": row.period, "units": after},
    )
    return True


def rolled_up(session: Session, kpi_ids: list[int]) -> dict[int, set[str]]:
    """The periods, per KPI, whose value is rolled up from unit values."""
    query = (
        select(Measurement.kpi_id, Measurement.period)
        .join(UnitMeasurement, col(UnitMeasurement.measurement_id) == col(Measurement.id))
        .where(col(Measurement.kpi_id).in_(kpi_ids))
        .distinct()
    )
    found: dict[int, set[str]] = defaultdict(set)
    for kpi_id, period in session.exec(query):
        found[kpi_id].add(period)
    return found


def units_of(session: Session, area_id: int) -> list[OrgUnit]:
    query = select(OrgUnit).where(OrgUnit.area_id == area_id)
    return list(session.exec(query.order_by(col(OrgUnit.position), col(OrgUnit.id))))


def add_unit(
    session: Session, *, actor: audit.Actor, area: Area, unit_in: dict[str, Any]
) -> OrgUnit:
    """Add a reporting unit (see units.create_unit: a code and a parent are optional)."""
    from app.services import units  # units reads workbooks, whose module imports this one

    return units.create_unit(session, actor=actor, area=area, unit_in=unit_in)


def add_action_update(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    action_id: int,
    update_in: dict[str, Any],
    upload: evidence.Upload | None = None,
) -> ActionUpdate:
    """Record a check-in on an action; the action takes the check-in's status."""
    action = _action(session, plan, action_id)
    data = validate(ActionUpdateIn, update_in)
    if data.on_date > thai_today():
        raise ValidationFailed({"on_date": Msg(N_("A check-in cannot be dated in the future."))})
    row = ActionUpdate(**data.model_dump(), action_id=action.id, entered_by=actor.id)
    if upload is not None:
        kept = evidence.store(session, actor=actor, area_id=plan.area_id, upload=upload)
        row.evidence_id = kept.id
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


def _check_period(plan: Plan, kpi: KPI, period: str) -> str:
    problem = period_problem(plan, kpi, period)
    if problem:
        raise ValidationFailed({"value": problem})
    return period_code(period)


def period_problem(plan: Plan, kpi: KPI, period: str) -> Msg | None:
    """Why a KPI takes no value or target in a period: the code is not one of its period type,
    or the period lies outside the plan's years. The one check of the grid, the KPI page, the
    API and the import."""
    periods = periods_of(kpi.period_type, plan.span_start_be, plan.span_end_be)
    parsed = parse_period(period)
    if parsed is None or parsed.period_type != kpi.period_type:
        msg = N_("“%(period)s” is not a period code of this KPI (e.g. %(example)s).")
        example = periods[0] if periods else EXAMPLES[PeriodType(kpi.period_type)]
        return Msg(msg, {"period": period, "example": example})
    if parsed.code not in periods:
        msg = N_("%(period)s is outside the plan's years: from %(first)s to %(last)s.")
        first, last = period_label(periods[0]), period_label(periods[-1])
        return Msg(msg, {"period": period_label(parsed.code), "first": first, "last": last})
    return None


def period_code(period: str) -> str:
    """The period's code as stored ("ay2567 " -> "AY2567"); for a code already checked."""
    parsed = parse_period(period)
    assert parsed is not None, period
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
    if period_span(period).starts_on > (today or thai_today()):
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
    session: Session,
    plan: Plan,
    entity: str,
    entity_id: int | None,
    *,
    changed: bool = True,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """The tail of every progress write: commit what was recorded, then tell the live views.

    `before_commit` is where a caller builds its answer from what was written: it runs inside
    the transaction, so if it fails nothing is stored, and a client is never told that a save
    failed when it was in fact committed."""
    if before_commit is not None:
        session.flush()
        before_commit()
    publish = {"type": "progress.changed", "plan_id": plan.id, "entity": entity, "id": entity_id}
    # values and targets are keyed by KPI and period: a key taken meanwhile is a lost race
    audit.finish(session, area_id=plan.area_id, publish=publish if changed else None, inserts=True)


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
    rolled_up: set[str] = field(default_factory=set)  # periods whose value comes from units

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
    files: dict[int, EvidenceFile] = field(default_factory=dict)  # the check-ins' evidence

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
    today = today or thai_today()
    plan = current_plans(session, [area.id]).get(area.id)
    rounds = _rounds(session, area.id)
    ids = {i for r in rounds.values() for i in (r.submitted_by, r.decided_by) if i is not None}
    names = _names(session, ids)
    if plan is None:
        return ProgressView(area, None, None, [], rounds, {}, names)
    tree = load_tree(session, plan, area)
    kpis = kpi_rows(session, plan, tree.kpis, today)
    groups: dict[str, PeriodGroup] = {}
    for row in kpis.values():
        group = groups.setdefault(
            row.kpi.period_type, PeriodGroup(row.kpi.period_type, row.periods)
        )
        group.rows.append(row)
    updates = action_updates(session, [a.id for a in tree.actions])
    files = _update_files(session, updates)
    groups_ = list(groups.values())
    return ProgressView(area, plan, tree, groups_, rounds, kpis, names, updates, files)


def kpi_view(session: Session, area: Area, plan: Plan, kpi_id: int) -> ProgressView:
    """Just one KPI's row (what a saved cell brings back), without loading the whole plan."""
    kpi = _kpi(session, plan, kpi_id)
    row = kpi_rows(session, plan, [kpi], thai_today())[kpi.id]
    group = PeriodGroup(kpi.period_type, row.periods, [row])
    return ProgressView(area, plan, None, [group], _rounds(session, area.id), {kpi.id: row})


@dataclass
class KPIDetail:
    """One KPI's page: each period's value with its note, evidence and units' values."""

    view: ProgressView
    row: KPIProgress
    units: list[OrgUnit]
    unit_values: dict[str, dict[int, UnitMeasurement]]  # period -> unit id -> value
    files: dict[int, EvidenceFile]
    names: dict[int, str]  # who entered the values


def kpi_detail(session: Session, area: Area, plan: Plan, kpi_id: int) -> KPIDetail:
    view = kpi_view(session, area, plan, kpi_id)
    row = view.kpis[kpi_id]
    periods = {m.id: p for p, m in row.actuals.items()}
    unit_values: dict[str, dict[int, UnitMeasurement]] = defaultdict(dict)
    if periods:
        query = select(UnitMeasurement).where(
            col(UnitMeasurement.measurement_id).in_(list(periods))
        )
        for u in session.exec(query):
            unit_values[periods[u.measurement_id]][u.unit_id] = u
    measured = row.actuals.values()
    file_ids = [m.evidence_id for m in measured if m.evidence_id]
    user_ids = {m.entered_by for m in measured if m.entered_by}
    return KPIDetail(
        view=view,
        row=row,
        units=units_of(session, area.id),
        unit_values=unit_values,
        files=_by_id(session, EvidenceFile, file_ids),
        names=_names(session, user_ids),
    )


def _update_files(
    session: Session, updates: dict[int, list[ActionUpdate]]
) -> dict[int, EvidenceFile]:
    ids = [u.evidence_id for ups in updates.values() for u in ups if u.evidence_id]
    return _by_id(session, EvidenceFile, ids)


def _by_id(session: Session, model: Any, ids: Iterable[int]) -> dict[int, Any]:
    ids = list(ids)
    if not ids:
        return {}
    return {r.id: r for r in session.exec(select(model).where(col(model.id).in_(ids)))}


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(User.id, User.display_name).where(col(User.id).in_(ids))
    return {user_id: name for user_id, name in session.exec(query).all()}


def action_view(
    session: Session, area: Area, plan: Plan, action_id: int
) -> tuple[ProgressView, Action]:
    """Just one action and its check-ins."""
    action = _action(session, plan, action_id)
    updates = action_updates(session, [action.id])
    view = ProgressView(
        area, plan, None, [], {}, {}, updates=updates, files=_update_files(session, updates)
    )
    return view, action


def _rounds(session: Session, area_id: int) -> dict[str, ReviewRound]:
    query = select(ReviewRound).where(ReviewRound.area_id == area_id)
    return {r.period: r for r in session.exec(query)}


def action_updates(session: Session, action_ids: list[int]) -> dict[int, list[ActionUpdate]]:
    """Each action's check-ins, newest first (one query)."""
    updates: dict[int, list[ActionUpdate]] = defaultdict(list)
    for u in session.exec(
        select(ActionUpdate)
        .where(col(ActionUpdate.action_id).in_(action_ids))
        .order_by(col(ActionUpdate.on_date).desc(), col(ActionUpdate.id).desc())
    ):
        updates[u.action_id].append(u)
    return updates


def kpi_rows(session: Session, plan: Plan, kpis: list[KPI], today: date) -> dict[int, KPIProgress]:
    """Each KPI's values, targets and judgements: three queries, whatever the number of KPIs."""
    return plans_kpi_rows(session, [(plan, kpis)], today)


def plans_kpi_rows(
    session: Session,
    plans: Iterable[tuple[Plan, list[KPI]]],
    today: date,
    *,
    details: bool = True,
) -> dict[int, KPIProgress]:
    """The same for the KPIs of several plans at once (the cross-area review): three queries.
    Without `details` the actuals are plain rows of kpi_id, period, value and n_measured (no
    note, evidence or author): several times faster for thousands of values."""
    plans = list(plans)
    kpi_ids = [k.id for _, kpis in plans for k in kpis]
    actuals: dict[int, dict[str, Measurement]] = defaultdict(dict)
    columns = (
        (Measurement,)
        if details
        else (Measurement.kpi_id, Measurement.period, Measurement.value, Measurement.n_measured)
    )
    query = select(*columns).where(col(Measurement.kpi_id).in_(kpi_ids))
    for m in session.exec(query):
        actuals[m.kpi_id][m.period] = m
    targets: dict[int, dict[str, float]] = defaultdict(dict)
    for t in session.exec(select(KPITarget).where(col(KPITarget.kpi_id).in_(kpi_ids))):
        targets[t.kpi_id][t.period] = t.value
    from_units = rolled_up(session, kpi_ids)
    rows = {
        k.id: kpi_row(plan, k, actuals[k.id], targets[k.id], today)
        for plan, kpis in plans
        for k in kpis
    }
    for kpi_id, periods in from_units.items():
        rows[kpi_id].rolled_up = periods
    return rows


def kpi_row(
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
