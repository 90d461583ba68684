"""Threaded comments on an area, an element of its plan, or one year's submission; and each
person's "what's new since my last visit".

A thread is a first comment and its replies (one level deep: a reply to a reply joins the
thread). Replies take the thread's target and visibility. Resolving closes the whole thread;
it can be reopened. `reviewers` comments are OBEC's internal notes: only reviewers and
administrators write or read them.

Reads load in a fixed number of queries whatever the number of comments.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, and_, col, or_, select

from app.i18n import N_, as_utc, local_time, thai_today
from app.inputs import parse_id
from app.models import (
    KPI,
    Action,
    Area,
    AuditEvent,
    Comment,
    CommentTarget,
    CommentVisibility,
    DOEStatement,
    KeyResultArea,
    Plan,
    ProblemNode,
    SeenMark,
    User,
)
from app.models.base import utcnow
from app.models.enums import AuditOp
from app.periods import parse_period, sort_key
from app.services import audit, plans, reviews
from app.services.access import Forbidden, Permission, Principal
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.plan_tree import current_plans

MAX_BODY = 4000
NEWS_LIMIT = 200
FIRST_VISIT = timedelta(days=30)  # what a person sees on their first visit to "what's new"
ELEMENT_KINDS = ("doe", "problems", "kras", "kpis", "actions")  # CommentTarget: problems = nodes
TARGET_ORDER = {t.value: n for n, t in enumerate(CommentTarget)}
STALE = Msg(N_("This thread changed meanwhile; here it is as it is now."))


# ---- who writes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Commenter:
    """Who writes a comment or resolves a thread: a signed-in person (see `commenter`), or a
    named process such as the demo seed."""

    actor: audit.Actor
    name: str  # shown beside the comment, as it was when written
    internal: bool  # a reviewer or administrator: reads and writes notes for reviewers only


def sees_internal(principal: Principal) -> bool:
    """Reviewers and administrators (their roles hold for every area) read internal notes."""
    return principal.can(Permission.review)


def commenter(principal: Principal, area: Area) -> Commenter:
    """The principal as a commenter on the area: committee editors, reviewers, administrators."""
    principal.require(Permission.comment, area.id)
    assert principal.user is not None
    return Commenter(principal.actor, principal.user.display_name, sees_internal(principal))


def visibilities(internal: bool) -> list[str]:
    if internal:
        return [v.value for v in CommentVisibility]
    return [CommentVisibility.area.value]


# ---- targets --------------------------------------------------------------------------------


def target_key(target_type: str, target_id: int | None = None, period: str | None = None) -> str:
    """How a form and a page name a target: `area`, `kpis:12`, `period:AY2567`."""
    if target_type == CommentTarget.period:
        return f"period:{period}"
    if target_id is not None:
        return f"{target_type}:{target_id}"
    return target_type


def key_of(comment: Comment) -> str:
    return target_key(comment.target_type, comment.target_id, comment.period)


def parse_target(key: str) -> dict[str, Any]:
    """`kpis:12` -> {"target_type": "kpis", "target_id": "12"}; the service validates it."""
    kind, _, rest = (key or "").partition(":")
    if kind == CommentTarget.period:
        return {"target_type": kind, "period": rest}
    return {"target_type": kind, "target_id": rest or None}


@dataclass
class Target:
    """Something a comment can be about, named as the page shows it."""

    target_type: str
    target_id: int | None = None
    period: str | None = None
    code: str = ""
    text: str = ""
    exists: bool = True  # False: an element deleted since it was commented on

    @property
    def key(self) -> str:
        return target_key(self.target_type, self.target_id, self.period)

    @property
    def anchor(self) -> str:
        """The DOM id of its group on the comments page."""
        return "comments-" + self.key.replace(":", "-")


LABEL_COLUMNS: dict[str, tuple[Any, Any, Any]] = {  # kind -> model, code column, text column
    "doe": (DOEStatement, None, DOEStatement.text),
    "problems": (ProblemNode, None, ProblemNode.text),  # any node of the tree
    "kras": (KeyResultArea, KeyResultArea.code, KeyResultArea.title),
    "kpis": (KPI, KPI.code, KPI.name),
    "actions": (Action, Action.code, Action.title),
}


def _element_rows(
    session: Session, *, plan_id: int | None = None, ids: dict[str, set[int]] | None = None
) -> list[Any]:
    """Kind, id, code, text, position and (KPIs) period type of a plan's elements, or of the
    elements named in `ids`, in one query."""
    parts = []
    for kind, (model, code, text) in LABEL_COLUMNS.items():
        where = (
            model.plan_id == plan_id
            if ids is None
            else col(model.id).in_(sorted(ids.get(kind, ())))
        )
        parts.append(
            select(
                sa.literal_column(f"'{kind}'").label("kind"),
                model.id.label("id"),
                (code if code is not None else sa.literal_column("''")).label("code"),
                text.label("text"),
                model.position.label("position"),
                (KPI.period_type if model is KPI else sa.literal_column("''")).label("period_type"),
            ).where(where)
        )
    return list(session.exec(sa.union_all(*parts)).all())


def _periods(plan: Plan | None, period_types: set[str]) -> list[str]:
    """The years one may comment on: those the progress page's review rounds list."""
    if plan is None:
        return []
    return reviews.round_periods(period_types, plan.span_start_be, plan.span_end_be, thai_today())


def plan_targets(session: Session, area: Area) -> tuple[Plan | None, list[Target]]:
    """Everything in the area one may comment on, in the plan's order (two queries)."""
    plan = current_plans(session, [area.id]).get(area.id)
    targets = [Target(CommentTarget.area.value)]
    if plan is None:
        return None, targets
    rows = sorted(_element_rows(session, plan_id=plan.id), key=_plan_order)
    targets += [Target(r.kind, r.id, None, r.code or "", r.text or "") for r in rows]
    types = {r.period_type for r in rows if r.kind == "kpis"}
    targets += [Target(CommentTarget.period.value, None, p) for p in _periods(plan, types)]
    return plan, targets


def _plan_order(row: Any) -> tuple[int, int, int]:
    return (ELEMENT_KINDS.index(row.kind), row.position, row.id)


# ---- writing --------------------------------------------------------------------------------


def add_comment(
    session: Session, *, by: Commenter, area: Area, comment_in: dict[str, Any]
) -> Comment:
    """A new thread (`target_type`, `target_id` or `period`, `visibility`, `body`), or a reply
    (`parent_id`, `body`)."""
    body = str(comment_in.get("body") or "").strip()
    errors: dict[str, Msg] = {}
    if not body:
        errors["body"] = Msg(N_("Write your comment first."))
    elif len(body) > MAX_BODY:
        errors["body"] = Msg(
            N_("At most %(max)s characters; this has %(count)s."),
            {"max": f"{MAX_BODY:,}", "count": f"{len(body):,}"},
        )
    parent_id = _as_int(comment_in.get("parent_id"))
    if parent_id is not None:
        root = thread_root(session, area=area, comment_id=parent_id, internal=by.internal)
        values = {
            "target_type": root.target_type,
            "target_id": root.target_id,
            "period": root.period,
            "visibility": root.visibility,
            "parent_id": root.id,
        }
    else:
        values = _new_thread(session, by, area, comment_in, errors)
    if errors:
        raise ValidationFailed(errors)
    row = Comment(area_id=area.id, body=body, author_id=by.actor.id, author_name=by.name, **values)
    session.add(row)
    session.flush()
    _record(session, by, area, row, AuditOp.create, None)
    return row


def _new_thread(
    session: Session, by: Commenter, area: Area, comment_in: dict[str, Any], errors: dict
) -> dict[str, Any]:
    visibility = str(comment_in.get("visibility") or CommentVisibility.area.value)
    if visibility not in CommentVisibility.__members__:
        errors["visibility"] = Msg(N_("Choose one of the options."))
    elif visibility == CommentVisibility.reviewers and not by.internal:
        raise Forbidden(Msg(N_("Only reviewers and administrators write notes for reviewers.")))
    target_type = str(comment_in.get("target_type") or "")
    target_id = _as_int(comment_in.get("target_id"))
    period = parse_period(str(comment_in.get("period") or ""))
    if not _target_exists(session, area, target_type, target_id, period and period.code):
        errors["target"] = Msg(N_("Choose what the comment is about."))
    return {
        "target_type": target_type,
        "target_id": target_id if target_type in ELEMENT_KINDS else None,
        "period": period.code if period and target_type == CommentTarget.period else None,
        "visibility": visibility,
        "parent_id": None,
    }


def _target_exists(
    session: Session, area: Area, target_type: str, target_id: int | None, period: str | None
) -> bool:
    if target_type == CommentTarget.area:
        return True
    if target_type not in ELEMENT_KINDS and target_type != CommentTarget.period:
        return False
    plan = current_plans(session, [area.id]).get(area.id)
    if plan is None:
        return False
    if target_type == CommentTarget.period:
        types = session.exec(select(KPI.period_type).where(KPI.plan_id == plan.id)).all()
        return period is not None and period in _periods(plan, set(types))
    if target_id is None:
        return False
    if target_type == CommentTarget.problems:  # a node of the problem tree
        node = session.get(ProblemNode, target_id)
        return node is not None and node.plan_id == plan.id
    try:
        plans.get_element(session, plan=plan, kind=target_type, element_id=target_id)
    except NotFound:
        return False
    return True


def set_resolved(
    session: Session,
    *,
    by: Commenter,
    area: Area,
    comment_id: int,
    resolved: bool,
    expected_version: int | None = None,
) -> Comment:
    """Resolve (close) a thread, or reopen it. A page that showed it in the other state, or at
    another version, gets a Conflict."""
    root = thread_root(session, area=area, comment_id=comment_id, internal=by.internal)
    stale = expected_version is not None and expected_version != root.version
    if stale or (root.resolved_at is not None) == resolved:
        raise Conflict(STALE)
    before = audit.snapshot(root)
    root.resolved_at = utcnow() if resolved else None
    root.resolved_by = by.actor.id if resolved else None
    root.version += 1
    session.add(root)
    _record(session, by, area, root, AuditOp.update, before)
    return root


def _record(
    session: Session,
    by: Commenter,
    area: Area,
    row: Comment,
    op: AuditOp,
    before: dict[str, Any] | None,
) -> None:
    """The audit event, then commit and the live `review` event. The area's history leaves
    comment events out (`history.UNLISTED`): a note for reviewers must not show there."""
    audit.commit(
        session,
        actor=by.actor,
        area_id=area.id,
        entity_type="comment",
        entity_id=row.id,
        op=op,
        before=before,
        after=audit.snapshot(row),
        publish={
            "type": "review.comment",
            "thread": row.parent_id or row.id,
            "target": key_of(row),
            "op": op.value,
        },
    )


def _as_int(value: Any) -> int | None:
    return parse_id(value)


# ---- reading threads ------------------------------------------------------------------------


@dataclass
class Thread:
    root: Comment
    replies: list[Comment] = field(default_factory=list)
    resolver: str = ""  # who resolved it, by their name now

    @property
    def resolved(self) -> bool:
        return self.root.resolved_at is not None

    @property
    def internal(self) -> bool:
        return self.root.visibility == CommentVisibility.reviewers

    @property
    def dom_id(self) -> str:
        return f"thread-{self.root.id}"


def _visible(internal: bool) -> Any:
    return col(Comment.visibility).in_(visibilities(internal))


def _threads(rows: list[tuple[Comment, str | None]]) -> list[Thread]:
    """Rows of (comment, resolver's name) -> threads, replies oldest first; a reply whose first
    comment is not among the rows is dropped."""
    threads = {c.id: Thread(c, resolver=name or "") for c, name in rows if c.parent_id is None}
    for c, _name in sorted(rows, key=lambda r: r[0].id):
        if c.parent_id is not None and c.parent_id in threads:
            threads[c.parent_id].replies.append(c)
    return list(threads.values())


def _with_resolver() -> Any:
    return select(Comment, User.display_name).outerjoin(User, User.id == Comment.resolved_by)


def thread_root(session: Session, *, area: Area, comment_id: int, internal: bool) -> Comment:
    """The first comment of the thread `comment_id` belongs to, if the reader may see it."""
    row = session.get(Comment, comment_id)
    if row is not None and row.parent_id is not None:
        row = session.get(Comment, row.parent_id)
    if row is None or row.area_id != area.id or row.visibility not in visibilities(internal):
        raise NotFound(f"comment/{comment_id}")
    return row


def thread(session: Session, *, area: Area, principal: Principal, comment_id: int) -> Thread:
    """One thread (two queries)."""
    root = thread_root(session, area=area, comment_id=comment_id, internal=sees_internal(principal))
    rows = session.exec(
        _with_resolver().where(or_(Comment.id == root.id, Comment.parent_id == root.id))
    ).all()
    return _threads(list(rows))[0]


STATES = ("all", "open", "resolved")


@dataclass
class AreaComments:
    """The comments page: every thread the reader may see, grouped by what it is about."""

    area: Area
    plan: Plan | None
    targets: list[Target]  # what one may comment on now, in the plan's order
    groups: list[tuple[Target, list[Thread]]]
    open_count: int
    resolved_count: int


def threads_for_area(
    session: Session, area: Area, principal: Principal, state: str = "all"
) -> AreaComments:
    """Threads grouped by target in the plan's order (the area first, years last, deleted
    elements after them); open threads first, newest first. Three queries."""
    plan, targets = plan_targets(session, area)
    rows = session.exec(
        _with_resolver()
        .where(Comment.area_id == area.id, _visible(sees_internal(principal)))
        .order_by(col(Comment.id))
    ).all()
    threads = _threads(list(rows))
    open_count = sum(1 for t in threads if not t.resolved)
    shown = [t for t in threads if state == "all" or t.resolved == (state == "resolved")]
    shown.sort(key=lambda t: (t.resolved, -t.root.id))
    by_key: dict[str, list[Thread]] = defaultdict(list)
    for t in shown:
        by_key[key_of(t.root)].append(t)
    known = {t.key: t for t in targets}
    groups = [(t, by_key[t.key]) for t in targets if t.key in by_key]
    gone = [_gone(t.root) for key, ts in by_key.items() if key not in known for t in ts[:1]]
    groups += [(g, by_key[g.key]) for g in sorted(gone, key=_gone_order)]
    return AreaComments(area, plan, targets, groups, open_count, len(threads) - open_count)


def _gone(root: Comment) -> Target:
    """The target of a thread about something no longer in the plan (or a year not listed)."""
    exists = root.target_type == CommentTarget.period
    return Target(root.target_type, root.target_id, root.period, exists=exists)


def _gone_order(target: Target) -> tuple:
    period = sort_key(target.period) if target.period else (date.min, date.min)
    return (TARGET_ORDER.get(target.target_type, 99), period, target.target_id or 0)


@dataclass
class OpenComments:
    """What the overview shows inline: open threads per target, and the area's own threads."""

    counts: dict[str, int]
    area_threads: list[Thread]

    def count(self, target_type: str, target_id: int | None = None) -> int:
        return self.counts.get(target_key(target_type, target_id), 0)


def open_threads(session: Session, area: Area, principal: Principal) -> OpenComments:
    """One query: the open first comments of every target, and the replies of comments about
    the area as a whole (its open threads are shown in full)."""
    rows = session.exec(
        select(Comment).where(
            Comment.area_id == area.id,
            _visible(sees_internal(principal)),
            or_(
                and_(col(Comment.parent_id).is_(None), col(Comment.resolved_at).is_(None)),
                and_(
                    Comment.target_type == CommentTarget.area.value,
                    col(Comment.parent_id).is_not(None),
                ),
            ),
        )
    ).all()
    counts: dict[str, int] = defaultdict(int)
    for c in rows:
        if c.parent_id is None:
            counts[key_of(c)] += 1
    threads = _threads([(c, None) for c in rows if c.target_type == CommentTarget.area])
    threads.sort(key=lambda t: -t.root.id)
    return OpenComments(dict(counts), threads)


def open_counts(session: Session, area: Area, principal: Principal) -> dict[str, int]:
    """Open threads per target, as one grouped count."""
    rows = session.exec(
        select(Comment.target_type, Comment.target_id, Comment.period, sa.func.count())
        .where(
            Comment.area_id == area.id,
            _visible(sees_internal(principal)),
            col(Comment.parent_id).is_(None),
            col(Comment.resolved_at).is_(None),
        )
        .group_by(Comment.target_type, Comment.target_id, Comment.period)
    ).all()
    return {target_key(t, i, p): n for t, i, p, n in rows}


# ---- what's new -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewsItem:
    """A comment, or a notable change: a plan change with a reason, a review round's step, a
    new value."""

    at: datetime
    area_id: int
    kind: str  # comment | reply | change | round | measurement
    who: str
    comment: Comment | None = None
    event: AuditEvent | None = None
    target: Target | None = None  # what a comment is about; the KPI of a value
    more: tuple["NewsItem", ...] = ()  # values the same person entered the same day, with this

    @property
    def text(self) -> str:
        if self.comment is not None:
            return self.comment.body
        return (self.event.reason if self.event else "") or ""


@dataclass
class News:
    since: datetime
    items: list[NewsItem]
    areas: dict[int, Area]
    truncated: bool  # more than NEWS_LIMIT items: the oldest were left out

    @property
    def newest(self) -> datetime | None:
        return self.items[0].at if self.items else None

    def by_area(self) -> list[tuple[Area, list[NewsItem]]]:
        """Grouped by area, the area with the newest item first."""
        groups: dict[int, list[NewsItem]] = {}
        for item in self.items:
            groups.setdefault(item.area_id, []).append(item)
        return [(self.areas[a], items) for a, items in groups.items() if a in self.areas]


def seen_at(session: Session, user_id: int) -> datetime | None:
    mark = session.get(SeenMark, user_id)
    return as_utc(mark.seen_at) if mark else None


def first_visit_since(now: datetime | None = None) -> datetime:
    """Where "what's new" starts for someone who never marked anything seen: 30 days ago."""
    return as_utc(now or utcnow()) - FIRST_VISIT


def whats_new(
    session: Session, principal: Principal, since: datetime, limit: int = NEWS_LIMIT
) -> News:
    """Comments the principal may read and notable changes in the areas they read, after
    `since`, newest first, at most `limit`; not their own. Four queries."""
    since = as_utc(since)
    area_ids = principal.area_ids()
    me = principal.user.id if principal.user else None
    comments = _news_comments(session, principal, area_ids, since, me, limit)
    events = _news_events(session, area_ids, since, me, limit)
    items = sorted(comments + events, key=lambda i: (as_utc(i.at), i.kind), reverse=True)
    truncated = len(items) > limit
    items = items[:limit]
    _name_targets(session, items)
    found = {i.area_id for i in items}
    areas = session.exec(select(Area).where(col(Area.id).in_(sorted(found)))).all()
    return News(since, _values_together(items), {a.id: a for a in areas}, truncated)


def _values_together(items: list[NewsItem]) -> list[NewsItem]:
    """A term's values typed (or imported) in one sitting make one item, not forty."""
    found: list[NewsItem] = []
    first: dict[tuple, int] = {}
    for item in items:
        if item.kind == "measurement":
            key = (item.area_id, item.who, local_time(item.at).date())
            if key in first:
                found[first[key]] = replace(
                    found[first[key]], more=found[first[key]].more + (item,)
                )
                continue
            first[key] = len(found)
        found.append(item)
    return found


def _in_areas(column: Any, area_ids: set[int] | None) -> Any:
    return sa.true() if area_ids is None else col(column).in_(sorted(area_ids))


def _not_by(column: Any, user_id: int | None) -> Any:
    return sa.true() if user_id is None else or_(col(column).is_(None), column != user_id)


def _news_comments(
    session: Session,
    principal: Principal,
    area_ids: set[int] | None,
    since: datetime,
    me: int | None,
    limit: int,
) -> list[NewsItem]:
    rows = session.exec(
        select(Comment)
        .where(
            col(Comment.created_at) > since,
            _in_areas(Comment.area_id, area_ids),
            _visible(sees_internal(principal)),
            _not_by(Comment.author_id, me),
        )
        .order_by(col(Comment.created_at).desc(), col(Comment.id).desc())
        .limit(limit + 1)
    ).all()
    return [
        NewsItem(
            at=as_utc(c.created_at),
            area_id=c.area_id,
            kind="reply" if c.parent_id else "comment",
            who=c.author_name,
            comment=c,
            target=Target(c.target_type, c.target_id, c.period),
        )
        for c in rows
    ]


def _news_events(
    session: Session, area_ids: set[int] | None, since: datetime, me: int | None, limit: int
) -> list[NewsItem]:
    notable = or_(
        and_(
            col(AuditEvent.entity_type).in_(plans.PLAN_ENTITIES),
            col(AuditEvent.reason).is_not(None),
            AuditEvent.reason != "",
        ),
        AuditEvent.entity_type == "review_round",
        and_(AuditEvent.entity_type == "measurement", AuditEvent.op == AuditOp.create.value),
    )
    rows = session.exec(
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            col(AuditEvent.at) > since,
            col(AuditEvent.area_id).is_not(None),
            _in_areas(AuditEvent.area_id, area_ids),
            _not_by(AuditEvent.actor_id, me),
            notable,
        )
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit + 1)
    ).all()
    items = []
    for event, name in rows:
        kind = {"review_round": "round", "measurement": "measurement"}.get(
            event.entity_type, "change"
        )
        snapshot = event.after or event.before or {}
        kpi_id = snapshot.get("kpi_id") if kind == "measurement" else None
        target = Target("kpis", kpi_id) if kpi_id else None
        assert event.area_id is not None
        items.append(
            NewsItem(
                as_utc(event.at), event.area_id, kind, name or event.actor, None, event, target
            )
        )
    return items


def _name_targets(session: Session, items: list[NewsItem]) -> None:
    """Give the targets their codes and names (one query); a deleted element keeps none."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for item in items:
        t = item.target
        if t is not None and t.target_type in ELEMENT_KINDS and t.target_id is not None:
            wanted[t.target_type].add(t.target_id)
    rows = _element_rows(session, ids=wanted)
    names = {(r.kind, r.id): (r.code or "", r.text or "") for r in rows}
    for item in items:
        t = item.target
        if t is None or t.target_type not in ELEMENT_KINDS:
            continue
        found = names.get((t.target_type, t.target_id))
        t.exists = found is not None
        t.code, t.text = found or ("", "")


def mark_seen(session: Session, *, user_id: int, at: datetime) -> SeenMark:
    """Move the person's "seen up to" mark forward to `at` (never back: an older tab marking
    what it showed must not bring back what a newer one marked)."""
    at = as_utc(at)
    if at > as_utc(utcnow()) + timedelta(minutes=5):
        raise ValidationFailed({"until": Msg(N_("This time is in the future."))})
    mark = session.get(SeenMark, user_id)
    if mark is None:
        mark = SeenMark(user_id=user_id, seen_at=at)
    elif as_utc(mark.seen_at) < at:
        mark.seen_at = at
    session.add(mark)
    session.commit()
    return mark
