"""What needs a signed-in person now: the home page's read model. A fixed number of queries
whatever the number of areas, KPIs, comments or sessions (tests/web/test_query_counts.py).

- Those who edit an area (its editors; not administrators, who edit every area) see its overdue
  KPI values, its review rounds returned to it and its plan checks.
- Everyone sees the comment threads waiting for their answer: open threads of the areas they
  comment on, and any thread they wrote in, whose last word is someone else's.
- Everyone sees the open workshop sessions of their own areas.
- Reviewers and administrators see the areas of their group waiting for a review decision and
  those with no update for a long time.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.i18n import as_utc, thai_today
from app.models import Area, Comment, Measurement, ReviewRound, WorkshopSession
from app.models.base import utcnow
from app.models.enums import ReviewState
from app.periods import period_span, periods_of
from app.services import comments
from app.services.access import Permission, Principal
from app.services.plan_views import PlanView
from app.services.quality import Finding
from app.services.review import last_updates
from app.status import overdue

STALE_AFTER = timedelta(days=90)  # an area with no change for this long is "stale"
SHOWN = 8  # items of one kind listed; the rest are counted


@dataclass(frozen=True)
class OverdueKPI:
    area: Area
    kpi_id: int
    code: str
    name: str
    periods: list[str]


@dataclass(frozen=True)
class WaitingThread:
    area_slug: str
    area_name: str  # in Thai
    area_name_en: str
    thread_id: int
    opening: str  # the thread's first comment
    last_author: str
    last_at: datetime


@dataclass(frozen=True)
class OpenWorkshop:
    area: Area
    workshop: WorkshopSession
    facilitates: bool  # opens the board; others join with the code


@dataclass(frozen=True)
class StaleArea:
    area: Area
    last_update: datetime | None


@dataclass
class Agenda:
    overdue: list[OverdueKPI] = field(default_factory=list)
    returned: list[tuple[Area, ReviewRound]] = field(default_factory=list)
    checks: list[tuple[Area, list[Finding]]] = field(default_factory=list)
    waiting: list[WaitingThread] = field(default_factory=list)
    workshops: list[OpenWorkshop] = field(default_factory=list)
    to_review: list[tuple[Area, list[ReviewRound]]] = field(default_factory=list)
    stale: list[StaleArea] = field(default_factory=list)
    reviews: bool = False  # shows the reviewer's part

    @property
    def empty(self) -> bool:
        return not any(
            (self.overdue, self.returned, self.checks, self.waiting, self.workshops)
        ) and not (self.to_review or self.stale)


def agenda(
    session: Session, principal: Principal, views: list[PlanView], today: date | None = None
) -> Agenda:
    """`views`: the areas on the person's home, their plans loaded (plan_views)."""
    today = today or thai_today()
    areas = {v.area.id: v.area for v in views}
    editing = principal.area_ids(Permission.edit)
    edited = [v for v in views if editing is not None and v.area.id in editing]
    found = Agenda(reviews=principal.area_ids(Permission.review) is None)
    found.overdue = _overdue(session, edited, today)
    found.checks = [(v.area, v.findings) for v in edited if v.plan and v.findings]
    found.returned = _rounds(session, [v.area.id for v in edited], {ReviewState.returned})
    found.waiting = _waiting(session, principal)
    mine = principal.area_ids(Permission.read)
    own = [a for a in areas.values() if mine is not None and a.id in mine]
    found.workshops = _workshops(session, principal, own)
    if found.reviews:
        submitted = _rounds(session, list(areas), {ReviewState.submitted})
        by_area: dict[int, list[ReviewRound]] = defaultdict(list)
        for area, round_ in submitted:
            by_area[area.id].append(round_)
        found.to_review = [(areas[a], rounds) for a, rounds in by_area.items()]
        found.stale = _stale(session, list(areas.values()))
    return found


def _overdue(session: Session, views: list[PlanView], today: date) -> list[OverdueKPI]:
    kpis = [(v, k) for v in views if v.tree for k in v.tree.kpis]
    if not kpis:
        return []
    rows = session.exec(
        select(Measurement.kpi_id, Measurement.period).where(
            col(Measurement.kpi_id).in_([k.id for _, k in kpis])
        )
    ).all()
    stored: dict[int, set[str]] = defaultdict(set)
    for kpi_id, period in rows:
        stored[kpi_id].add(period)
    found = []
    for view, kpi in kpis:
        plan = view.plan
        periods = periods_of(kpi.period_type, plan.span_start_be, plan.span_end_be)
        missing = overdue(periods, dict.fromkeys(stored[kpi.id], 0.0), today, kpi.baseline_period)
        if missing:
            found.append(OverdueKPI(view.area, kpi.id, kpi.code, kpi.name, missing))
    return found


def _rounds(
    session: Session, area_ids: list[int], states: set[ReviewState]
) -> list[tuple[Area, ReviewRound]]:
    if not area_ids:
        return []
    rows = session.exec(
        select(Area, ReviewRound)
        .join(ReviewRound, col(ReviewRound.area_id) == Area.id)
        .where(col(Area.id).in_(area_ids), col(ReviewRound.state).in_(list(states)))
        .order_by(Area.id, ReviewRound.period)
    ).all()
    return sorted(
        ((a, r) for a, r in rows), key=lambda ar: (ar[0].id, period_span(ar[1].period).starts_on)
    )


def _waiting(session: Session, principal: Principal) -> list[WaitingThread]:
    """Open threads in the areas the person comments on, or that they wrote in, whose newest
    comment is someone else's: one query."""
    user = principal.user
    if user is None:
        return []
    thread = func.coalesce(Comment.parent_id, Comment.id)
    wrote_in = select(thread).where(Comment.author_id == user.id)
    scope = thread.in_(wrote_in)
    commenting = principal.area_ids(Permission.comment)
    if commenting:  # None (every area) is narrowed to the threads they wrote in
        scope = or_(scope, col(Comment.area_id).in_(commenting))
    root = aliased(Comment)
    readable = principal.area_ids(Permission.read)
    query = (
        select(
            thread.label("thread_id"),
            Comment.author_id,
            Comment.author_name,
            Comment.created_at,
            root.body,
            Area.slug,
            Area.name_th,
            Area.name_en,
        )
        .join(root, root.id == thread)
        .join(Area, col(Area.id) == Comment.area_id)
        .where(
            scope,
            col(root.resolved_at).is_(None),
            col(root.visibility).in_(comments.visibilities(comments.sees_internal(principal))),
        )
        .order_by(Comment.created_at, Comment.id)
    )
    if readable is not None:
        query = query.where(col(Comment.area_id).in_(readable))
    last: dict[int, tuple] = {}
    for row in session.exec(query).all():
        last[row[0]] = row
    waiting = [
        WaitingThread(
            area_slug=slug,
            area_name=name_th,
            area_name_en=name_en,
            thread_id=thread_id,
            opening=body,
            last_author=author_name,
            last_at=at,
        )
        for thread_id, author_id, author_name, at, body, slug, name_th, name_en in last.values()
        if author_id != user.id
    ]
    return sorted(waiting, key=lambda w: w.last_at, reverse=True)


def _workshops(session: Session, principal: Principal, areas: list[Area]) -> list[OpenWorkshop]:
    if not areas:
        return []
    by_id = {a.id: a for a in areas}
    now = utcnow()
    rows = session.exec(
        select(WorkshopSession)
        .where(
            col(WorkshopSession.area_id).in_(list(by_id)),
            col(WorkshopSession.closed_at).is_(None),
            col(WorkshopSession.expires_at) > now,
        )
        .order_by(WorkshopSession.opened_at)
    ).all()
    return [
        OpenWorkshop(by_id[w.area_id], w, principal.can(Permission.facilitate, w.area_id))
        for w in rows
        if as_utc(w.expires_at) > now
    ]


def _stale(session: Session, areas: list[Area]) -> list[StaleArea]:
    """Areas whose data (plan, values, check-ins, rounds) has not changed for STALE_AFTER."""
    if not areas:
        return []
    last = last_updates(session, [a.id for a in areas])
    cutoff = utcnow() - STALE_AFTER
    stale = [
        StaleArea(a, last.get(a.id))
        for a in areas
        if last.get(a.id) is None or as_utc(last[a.id]) < cutoff
    ]
    return sorted(stale, key=lambda s: (s.last_update is not None, s.last_update or utcnow()))
