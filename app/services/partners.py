"""Outcome mapping (DOMAIN.md §5): the area's boundary partners, each with one outcome challenge
and graduated progress markers (expect / like / love to see), rated per monitoring period.

Partners are area records, written through records.py (`PARTNER`). Markers and ratings belong to
a partner and are written here the same way: validate, write, one audit event per row changed
(entity types `progress_marker` and `progress_marker_rating`, with the partner's area), commit,
publish `learning.changed`.

The monitoring periods are the semesters of the area's current plan span. A marker is active in
a period from its `added_period` (always, when empty) until before its `retired_period`; only
active markers are rated, and only for semesters that have begun.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.i18n import N_, thai_today
from app.models import Area, BoundaryPartner, Plan, ProgressMarker, ProgressMarkerRating
from app.models.base import utcnow
from app.models.de import MarkerLevel, MarkerRating
from app.models.enums import AuditOp, PeriodType
from app.periods import parse_period, period_label, period_span, periods_of, sort_key
from app.schemas import InputModel, OptionalPeriod, Text
from app.services import audit, records
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate

LEVELS = tuple(MarkerLevel)  # the ladder, bottom rung first
REACHED = frozenset({MarkerRating.medium.value, MarkerRating.high.value})
NO_RUNG = "none"  # a partner that has reached no rung yet (see `highest_rung`)

NOT_A_PERIOD = N_("Choose one of the plan's semesters, e.g. %(example)s.")
NOT_BEGUN = N_("Choose a semester of the plan that has begun, e.g. %(example)s.")
NO_PLAN = N_("The area has no plan yet: markers are rated for the semesters of its plan.")
RETIRED = N_("Retired from %(period)s: it cannot be rated for that semester or later.")
NOT_ADDED = N_("Added in %(period)s: it cannot be rated for an earlier semester.")
RETIRED_BEFORE_ADDED = N_("A marker cannot be retired before the semester it was added in.")
RATED_LATER = N_("It has a rating for %(period)s: retire it from a later semester.")
NOTE_WITHOUT_RATING = N_("Choose a rating for this note, or clear the note.")
STALE = N_("Someone else changed this since you opened it.")


class PartnerIn(InputModel):
    name: Text = Field(min_length=1, max_length=300)
    description: Text = Field(default="", max_length=4000)
    outcome_challenge: Text = Field(default="", max_length=4000)


class MarkerIn(InputModel):
    level: MarkerLevel
    text: Text = Field(min_length=1, max_length=2000)
    added_period: OptionalPeriod = None


class MarkerTextIn(InputModel):
    text: Text = Field(min_length=1, max_length=2000)


class RetireIn(InputModel):
    retired_period: Text = Field(min_length=1, max_length=20)


class RatingIn(InputModel):
    rating: MarkerRating | None = None  # empty: not rated
    note: Text = Field(default="", max_length=2000)

    @field_validator("rating", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


PARTNER = records.RecordSpec("boundary_partner", BoundaryPartner, PartnerIn, positioned=True)
MARKER = records.RecordSpec("progress_marker", ProgressMarker, MarkerIn)
RATING = records.RecordSpec("progress_marker_rating", ProgressMarkerRating, RatingIn)


# ---- periods --------------------------------------------------------------------------------


def plan_periods(plan: Plan | None) -> list[str]:
    """The monitoring periods: every semester of the plan's span, in time order."""
    if plan is None:
        return []
    return periods_of(PeriodType.semester, plan.span_start_be, plan.span_end_be)


def begun(periods: Iterable[str], today: date | None = None) -> list[str]:
    today = today or thai_today()
    return [p for p in periods if period_span(p).starts_on <= today]


def default_period(periods: Sequence[str]) -> str | None:
    """Where a rating sheet opens: the newest semester that has begun."""
    return periods[-1] if periods else None


def _example(periods: Sequence[str]) -> str:
    return period_label(periods[-1]) if periods else "AY2567-S1"


def check_period(value: str | None, periods: Sequence[str], name: str, *, rating: bool) -> None:
    """A period the form names must be one of `periods` (the plan's semesters, or those begun)."""
    if value is None:
        return
    if not periods:
        raise ValidationFailed({name: Msg(NO_PLAN)})
    parsed = parse_period(value)
    if parsed is None or parsed.code not in periods:
        message = NOT_BEGUN if rating else NOT_A_PERIOD
        raise ValidationFailed({name: Msg(message, {"example": _example(periods)})})


def active_in(marker: ProgressMarker, period: str) -> bool:
    """Whether the marker is rated for `period`: added by then and not yet retired."""
    key = sort_key(period)
    if marker.added_period and key < sort_key(marker.added_period):
        return False
    return not (marker.retired_period and key >= sort_key(marker.retired_period))


def _inactive_reason(marker: ProgressMarker, period: str) -> Msg:
    if marker.retired_period and sort_key(period) >= sort_key(marker.retired_period):
        return Msg(RETIRED, {"period": period_label(marker.retired_period)})
    return Msg(NOT_ADDED, {"period": period_label(marker.added_period)})


# ---- partners -------------------------------------------------------------------------------


def get_partner(session: Session, area: Area, partner_id: int) -> BoundaryPartner:
    return records.get(session, PARTNER, area, partner_id)


def create_partner(
    session: Session, *, actor: audit.Actor, area: Area, partner_in: dict[str, Any]
) -> BoundaryPartner:
    return records.create(session, actor=actor, area=area, spec=PARTNER, record_in=partner_in)


def update_partner(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    partner_id: int,
    partner_in: dict[str, Any],
    expected_version: int | None = None,
) -> BoundaryPartner:
    return records.update(
        session,
        actor=actor,
        area=area,
        spec=PARTNER,
        record_id=partner_id,
        record_in=partner_in,
        expected_version=expected_version,
    )


def delete_partner(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    partner_id: int,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Delete a partner; its markers and their ratings go with it (ON DELETE CASCADE)."""
    return records.delete(
        session,
        actor=actor,
        area=area,
        spec=PARTNER,
        record_id=partner_id,
        expected_version=expected_version,
    )


# ---- markers --------------------------------------------------------------------------------


def get_marker(session: Session, partner: BoundaryPartner, marker_id: int) -> ProgressMarker:
    marker = session.get(ProgressMarker, marker_id)
    if marker is None or marker.partner_id != partner.id:
        raise NotFound(f"progress_marker/{marker_id}")
    return marker


def add_marker(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    partner: BoundaryPartner,
    marker_in: dict[str, Any],
) -> ProgressMarker:
    """A new marker at the end of its rung."""
    data = validate(MarkerIn, marker_in)
    check_period(data.added_period, _periods(session, area), "added_period", rating=False)
    last = session.exec(
        select(func.max(ProgressMarker.position)).where(
            ProgressMarker.partner_id == partner.id, ProgressMarker.level == data.level.value
        )
    ).one()
    marker = ProgressMarker(
        partner_id=partner.id,
        level=data.level.value,
        text=data.text,
        added_period=parse_period(data.added_period).code if data.added_period else None,
        position=0 if last is None else last + 1,
    )
    session.add(marker)
    session.flush()
    records.record(
        session, actor, area, MARKER, marker.id, AuditOp.create, None, audit.snapshot(marker)
    )
    records.finish(session, area, MARKER, marker.id, AuditOp.create)
    return marker


def update_marker_text(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    partner: BoundaryPartner,
    marker_id: int,
    marker_in: dict[str, Any],
    expected_version: int | None = None,
) -> ProgressMarker:
    marker = _fresh(session, partner, marker_id, expected_version)
    data = validate(MarkerTextIn, marker_in)
    return _change(session, actor, area, marker, text=data.text)


def retire_marker(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    partner: BoundaryPartner,
    marker_id: int,
    retire_in: dict[str, Any],
    expected_version: int | None = None,
) -> ProgressMarker:
    """Retire a marker from a semester on: it keeps its earlier ratings and is not rated from
    then. Refused when it already has a rating for that semester or a later one."""
    marker = _fresh(session, partner, marker_id, expected_version)
    data = validate(RetireIn, retire_in)
    check_period(data.retired_period, _periods(session, area), "retired_period", rating=False)
    period = parse_period(data.retired_period).code  # type: ignore[union-attr]
    if marker.added_period and sort_key(period) <= sort_key(marker.added_period):
        raise ValidationFailed({"retired_period": Msg(RETIRED_BEFORE_ADDED)})
    rated = session.exec(
        select(ProgressMarkerRating.period).where(ProgressMarkerRating.marker_id == marker.id)
    ).all()
    later = sorted((p for p in rated if sort_key(p) >= sort_key(period)), key=sort_key)
    if later:
        raise ValidationFailed(
            {"retired_period": Msg(RATED_LATER, {"period": period_label(later[-1])})}
        )
    return _change(session, actor, area, marker, retired_period=period)


def reinstate_marker(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    partner: BoundaryPartner,
    marker_id: int,
    expected_version: int | None = None,
) -> ProgressMarker:
    """Rate a retired marker again from the semester it was retired from."""
    marker = _fresh(session, partner, marker_id, expected_version)
    return _change(session, actor, area, marker, retired_period=None)


def _fresh(
    session: Session, partner: BoundaryPartner, marker_id: int, expected_version: int | None
) -> ProgressMarker:
    marker = get_marker(session, partner, marker_id)
    if expected_version is not None and expected_version != marker.version:
        raise Conflict(Msg(STALE))
    return marker


def _change(
    session: Session, actor: audit.Actor, area: Area, marker: ProgressMarker, **changes: Any
) -> ProgressMarker:
    before = audit.snapshot(marker)
    if all(getattr(marker, k) == v for k, v in changes.items()):
        return marker  # nothing to record
    for name, value in changes.items():
        setattr(marker, name, value)
    marker.version += 1
    session.add(marker)
    after = audit.snapshot(marker)
    records.record(session, actor, area, MARKER, marker.id, AuditOp.update, before, after)
    records.finish(session, area, MARKER, marker.id, AuditOp.update)
    return marker


def _periods(session: Session, area: Area) -> list[str]:
    return plan_periods(records.current_plan(session, area))


# ---- ratings --------------------------------------------------------------------------------


def save_ratings(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    partner: BoundaryPartner,
    period: str,
    ratings_in: dict[int, dict[str, Any]],
    today: date | None = None,
) -> int:
    """Rate the partner's markers for one semester, in one transaction: {marker id: {rating,
    note}}. A new rating is added, a changed one updated, an emptied one removed, each with its
    own audit event; unchanged ones are left alone. Any error: nothing is written. Returns how
    many ratings changed."""
    periods = begun(_periods(session, area), today)
    check_period(period, periods, "period", rating=True)
    period = parse_period(period).code  # type: ignore[union-attr]
    markers = {m.id: m for m in markers_of(session, [partner.id])}
    wanted = _check_ratings(markers, period, ratings_in)
    existing = {
        r.marker_id: r
        for r in session.exec(
            select(ProgressMarkerRating).where(
                col(ProgressMarkerRating.marker_id).in_(list(wanted)),
                ProgressMarkerRating.period == period,
            )
        ).all()
    }
    changed = 0
    try:
        for marker_id, data in wanted.items():
            marker, row = markers[marker_id], existing.get(marker_id)
            changed += _write_rating(session, actor, area, marker, row, period, data)
    except IntegrityError:  # someone rated the same marker and semester meanwhile
        session.rollback()
        raise Conflict(Msg(STALE)) from None
    if changed:
        publish = {
            "type": "learning.changed",
            "entity": RATING.entity_type,
            "id": partner.id,
            "period": period,
        }
        audit.finish(session, area_id=area.id, publish=publish)
    return changed


def _check_ratings(
    markers: dict[int, ProgressMarker], period: str, ratings_in: dict[int, dict[str, Any]]
) -> dict[int, RatingIn]:
    errors: dict[str, Msg] = {}
    wanted = {}
    for marker_id, values in ratings_in.items():
        marker = markers.get(marker_id)
        if marker is None:
            raise NotFound(f"progress_marker/{marker_id}")
        try:
            data = validate(RatingIn, values)
        except ValidationFailed as exc:
            errors.update({f"{k}-{marker_id}": m for k, m in exc.errors.items()})
            continue
        if data.rating is None and data.note:
            errors[f"rating-{marker_id}"] = Msg(NOTE_WITHOUT_RATING)
        elif data.rating is not None and not active_in(marker, period):
            errors[f"rating-{marker_id}"] = _inactive_reason(marker, period)
        wanted[marker_id] = data
    if errors:
        raise ValidationFailed(errors)
    return wanted


def _write_rating(
    session: Session,
    actor: audit.Actor,
    area: Area,
    marker: ProgressMarker,
    row: ProgressMarkerRating | None,
    period: str,
    data: RatingIn,
) -> int:
    rating = data.rating.value if data.rating else None
    label = {"text": marker.text}  # the history names the marker a rating belongs to
    if row is None and rating is None:
        return 0
    if row is not None and rating is None:
        before = audit.snapshot(row, **label)
        session.delete(row)
        records.record(session, actor, area, RATING, row.id, AuditOp.delete, before, None)
        return 1
    if row is not None and (row.rating, row.note) == (rating, data.note):
        return 0
    before = audit.snapshot(row, **label) if row is not None else None
    if row is None:
        row = ProgressMarkerRating(marker_id=marker.id, period=period, rating=rating)
    else:
        row.version += 1
    row.rating, row.note = rating, data.note
    row.rated_by, row.rated_at = actor.id, utcnow()
    session.add(row)
    session.flush()
    op = AuditOp.create if before is None else AuditOp.update
    records.record(session, actor, area, RATING, row.id, op, before, audit.snapshot(row, **label))
    return 1


# ---- reading --------------------------------------------------------------------------------


def partners_of(session: Session, area: Area) -> list[BoundaryPartner]:
    query = select(BoundaryPartner).where(BoundaryPartner.area_id == area.id)
    return list(session.exec(query.order_by(col(BoundaryPartner.position), BoundaryPartner.id)))


def markers_of(session: Session, partner_ids: list[int]) -> list[ProgressMarker]:
    if not partner_ids:
        return []
    query = select(ProgressMarker).where(col(ProgressMarker.partner_id).in_(partner_ids))
    return list(session.exec(query.order_by(col(ProgressMarker.position), ProgressMarker.id)))


def ratings_of(session: Session, marker_ids: list[int]) -> list[ProgressMarkerRating]:
    if not marker_ids:
        return []
    query = select(ProgressMarkerRating).where(col(ProgressMarkerRating.marker_id).in_(marker_ids))
    return list(session.exec(query))


@dataclass(frozen=True)
class Rung:
    """One level of the ladder in one period: how many of its active markers were rated medium
    or high (`reached`) out of how many were active."""

    level: str
    reached: int
    active: int

    @property
    def share(self) -> float | None:
        return self.reached / self.active if self.active else None


@dataclass(frozen=True)
class Step:
    """The ladder in one period, bottom rung first."""

    period: str
    rungs: tuple[Rung, ...]

    def rung(self, level: str) -> Rung:
        return next(r for r in self.rungs if r.level == level)


def step_at(
    markers: Sequence[ProgressMarker], rated: dict[tuple[int, str], str], period: str
) -> Step:
    """The ladder in `period`, from the ratings given for that very period."""
    rungs = []
    for level in LEVELS:
        active = [m for m in markers if m.level == level.value and active_in(m, period)]
        reached = sum(1 for m in active if rated.get((m.id, period)) in REACHED)
        rungs.append(Rung(level.value, reached, len(active)))
    return Step(period, tuple(rungs))


def ladder(
    markers: Sequence[ProgressMarker],
    ratings: Sequence[ProgressMarkerRating],
    periods: Sequence[str],
) -> list[Step]:
    """The partner's ladder, semester by semester, from its first rated semester to its last
    (semesters between them without a rating count as nothing reached)."""
    rated = {(r.marker_id, r.period): r.rating for r in ratings}
    found = sorted({r.period for r in ratings}, key=sort_key)
    if not found:
        return []
    first, last = sort_key(found[0]), sort_key(found[-1])
    shown = {p for p in periods if first <= sort_key(p) <= last} | set(found)
    return [step_at(markers, rated, p) for p in sorted(shown, key=sort_key)]


def highest_rung(step: Step | None) -> str:
    """The highest level at least half of whose active markers were rated medium or high."""
    if step is None:
        return NO_RUNG
    for rung in reversed(step.rungs):
        if rung.share is not None and rung.share >= 0.5:
            return rung.level
    return NO_RUNG


@dataclass
class MarkerRow:
    marker: ProgressMarker
    latest: ProgressMarkerRating | None  # its rating of the newest rated semester
    ratings: list[ProgressMarkerRating] = field(default_factory=list)  # in time order


@dataclass
class PartnerView:
    partner: BoundaryPartner
    levels: dict[str, list[MarkerRow]]  # markers not retired, by level
    retired: list[MarkerRow]
    steps: list[Step]  # the ladder

    @property
    def marker_count(self) -> int:
        return sum(len(rows) for rows in self.levels.values()) + len(self.retired)


@dataclass
class PartnersView:
    area: Area
    plan: Plan | None
    periods: list[str]  # every semester of the plan
    rating_periods: list[str]  # those begun
    partners: list[PartnerView]

    def partner(self, partner_id: int) -> PartnerView:
        found = next((p for p in self.partners if p.partner.id == partner_id), None)
        if found is None:
            raise NotFound(f"boundary_partner/{partner_id}")
        return found


@dataclass
class Loaded:
    """The area's partners, their markers and ratings, read in three queries."""

    partners: list[BoundaryPartner]
    markers: dict[int, list[ProgressMarker]]  # partner id -> its markers
    ratings: dict[int, list[ProgressMarkerRating]]  # partner id -> its markers' ratings


def load(session: Session, area: Area) -> Loaded:
    partners = partners_of(session, area)
    markers = markers_of(session, [p.id for p in partners])
    ratings = ratings_of(session, [m.id for m in markers])
    owner = {m.id: m.partner_id for m in markers}
    by_partner: dict[int, list[ProgressMarker]] = defaultdict(list)
    for m in markers:
        by_partner[m.partner_id].append(m)
    rated: dict[int, list[ProgressMarkerRating]] = defaultdict(list)
    for r in ratings:
        rated[owner[r.marker_id]].append(r)
    return Loaded(partners, dict(by_partner), dict(rated))


def partners_view(session: Session, area: Area, today: date | None = None) -> PartnersView:
    plan = records.current_plan(session, area)
    periods = plan_periods(plan)
    loaded = load(session, area)
    views = [
        _partner_view(p, loaded.markers.get(p.id, []), loaded.ratings.get(p.id, []), periods)
        for p in loaded.partners
    ]
    return PartnersView(area, plan, periods, begun(periods, today), views)


def _partner_view(
    partner: BoundaryPartner,
    markers: list[ProgressMarker],
    ratings: list[ProgressMarkerRating],
    periods: list[str],
) -> PartnerView:
    by_marker: dict[int, list[ProgressMarkerRating]] = defaultdict(list)
    for r in sorted(ratings, key=lambda r: sort_key(r.period)):
        by_marker[r.marker_id].append(r)
    levels: dict[str, list[MarkerRow]] = {level.value: [] for level in LEVELS}
    retired = []
    for m in markers:
        history = by_marker.get(m.id, [])
        row = MarkerRow(m, history[-1] if history else None, history)
        if m.retired_period:
            retired.append(row)
        else:
            levels.setdefault(m.level, []).append(row)
    return PartnerView(partner, levels, retired, ladder(markers, ratings, periods))


@dataclass
class RatingSheet:
    """What the rating form shows for one partner and semester."""

    partner: BoundaryPartner
    period: str | None
    periods: list[str]  # the semesters one may rate (begun)
    markers: list[ProgressMarker]  # active in `period`, by level then position
    current: dict[int, ProgressMarkerRating]  # marker id -> its rating for `period`
    previous: dict[int, ProgressMarkerRating]  # marker id -> its latest earlier rating


def rating_sheet(
    session: Session,
    area: Area,
    partner: BoundaryPartner,
    period: str | None,
    today: date | None = None,
) -> RatingSheet:
    """The sheet for `period` (the newest begun semester when None). A period that is not one
    of the plan's begun semesters raises ValidationFailed."""
    periods = begun(_periods(session, area), today)
    if period is None:
        period = default_period(periods)
    check_period(period, periods, "period", rating=True)
    markers = markers_of(session, [partner.id])
    if period is None:
        return RatingSheet(partner, None, periods, [], {}, {})
    period = parse_period(period).code  # type: ignore[union-attr]
    ratings = ratings_of(session, [m.id for m in markers])
    key = sort_key(period)
    current = {r.marker_id: r for r in ratings if r.period == period}
    previous: dict[int, ProgressMarkerRating] = {}
    for r in sorted(ratings, key=lambda r: sort_key(r.period)):
        if sort_key(r.period) < key:
            previous[r.marker_id] = r
    order = {level.value: i for i, level in enumerate(LEVELS)}
    active = sorted(
        (m for m in markers if active_in(m, period)),
        key=lambda m: (order.get(m.level, 9), m.position, m.id),
    )
    return RatingSheet(partner, period, periods, active, current, previous)


# ---- the results chain map's layer ----------------------------------------------------------------


@dataclass(frozen=True)
class PartnerMark:
    """A partner on the results chain map: its ladder at the map's period."""

    partner: BoundaryPartner
    step: Step | None  # None: never rated by then
    rung: str  # highest_rung(step)


def marks_at(loaded: Loaded, period: str | None) -> list[PartnerMark]:
    """Each partner at the map's period: the ladder of its newest rated semester that had ended
    by the end of `period` (or that is `period`); with no period, its newest rated semester."""
    ends = period_span(period).ends_on if period else None
    marks = []
    for partner in loaded.partners:
        markers = loaded.markers.get(partner.id, [])
        ratings = loaded.ratings.get(partner.id, [])
        shown = [
            r.period
            for r in ratings
            if ends is None or r.period == period or period_span(r.period).ends_on <= ends
        ]
        step = None
        if shown:
            rated = {(r.marker_id, r.period): r.rating for r in ratings}
            step = step_at(markers, rated, max(shown, key=sort_key))
        marks.append(PartnerMark(partner, step, highest_rung(step)))
    return marks
