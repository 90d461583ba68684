"""Review rounds: an editor submits an area's period, a reviewer approves it or returns it with a
comment; an approved period is locked until an administrator or reviewer reopens it (with a
reason, audited like every change).

    open/returned --submit--> submitted --approve--> approved --reopen--> open
                              submitted --return---> returned
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from app.i18n import N_, thai_today
from app.models import Area, ReviewRound
from app.models.base import utcnow
from app.models.enums import AuditOp, PeriodType, ReviewState
from app.periods import parse_period, period_span
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed


@dataclass(frozen=True)
class Step:
    source: frozenset[ReviewState]
    target: ReviewState
    needs_comment: bool
    by_reviewer: bool  # approve, return and reopen are the reviewer's; submit is the editor's


STEPS = {
    "submit": Step(
        frozenset({ReviewState.open, ReviewState.returned}), ReviewState.submitted, False, False
    ),
    "approve": Step(frozenset({ReviewState.submitted}), ReviewState.approved, False, True),
    "return": Step(frozenset({ReviewState.submitted}), ReviewState.returned, True, True),
    "reopen": Step(frozenset({ReviewState.approved}), ReviewState.open, True, True),
}
ROUND_TYPES = {  # a round covers a whole year: its semesters or quarters go with it
    PeriodType.academic_year,
    PeriodType.fiscal_year,
    PeriodType.calendar_year,
}


YEAR_PREFIX = {
    "academic_year": "AY",
    "semester": "AY",
    "fiscal_year": "FY",
    "fiscal_quarter": "FY",
    "calendar_year": "CY",
}


def round_periods(
    kpi_period_types: Iterable[str], first_be: int, last_be: int, today: date
) -> list[str]:
    """The years that can be submitted (begun by today), for the plan's kinds of period."""
    prefixes = sorted({YEAR_PREFIX[t] for t in kpi_period_types})
    codes = [f"{prefix}{year}" for prefix in prefixes for year in range(first_be, last_be + 1)]
    return [code for code in codes if period_span(code).starts_on <= today]


def step_round(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    period: str,
    action: str,
    comment: str = "",
    expected_version: int | None = None,
) -> ReviewRound:
    step = STEPS.get(action)
    if step is None:
        raise NotFound(action)
    parsed = parse_period(period)
    if parsed is None or parsed.period_type not in ROUND_TYPES:
        raise ValidationFailed({"period": Msg(N_("Choose a year to submit."))})
    if period_span(parsed.code).starts_on > thai_today():
        raise ValidationFailed({"period": Msg(N_("This year has not begun yet."))})
    comment = comment.strip()[:4000]
    if step.needs_comment and not comment:
        raise ValidationFailed({"comment": Msg(N_("Say why, so the committee knows what to do."))})
    row = session.exec(
        select(ReviewRound).where(ReviewRound.area_id == area.id, ReviewRound.period == parsed.code)
    ).first()
    state = ReviewState(row.state) if row else ReviewState.open
    if state not in step.source:
        raise Conflict(Msg(N_("This round changed meanwhile; the page was out of date.")))
    if row and expected_version is not None and row.version != expected_version:
        raise Conflict(Msg(N_("This round changed meanwhile; the page was out of date.")))
    before = audit.snapshot(row) if row else None
    if row is None:
        row = ReviewRound(area_id=area.id, period=parsed.code)
    else:
        row.version += 1
    row.state = step.target.value
    row.comment = comment
    if step.by_reviewer:
        row.decided_by, row.decided_at = actor.id, utcnow()
    else:
        row.submitted_by, row.submitted_at = actor.id, utcnow()
        row.decided_by, row.decided_at = None, None
    session.add(row)
    session.flush()
    audit.commit(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="review_round",
        entity_id=row.id,
        op=AuditOp.update if before else AuditOp.create,
        before=before,
        after=audit.snapshot(row),
        reason=comment or None,
        publish={"type": "review.changed", "period": row.period, "state": row.state},
    )
    return row
