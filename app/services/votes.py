"""Voting in a workshop session: the facilitator opens a vote on one column (a kind) or one group
of the board, with N dots per guest or one choice; guests vote from their phones; the counts show
live on the board (the projector is the board on the wall), and the vote, its ballots and its
results stay with the session.

One vote is open at a time in a session. A guest's dots are counted with the vote's row locked,
so two phones of one guest (or two workers) cannot both take the last dot. Every write records
its audit event and publishes `vote.cast` (`workshop.changed` when a vote opens or closes).
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator
from sqlalchemy import Integer, and_, bindparam, func, null, or_, union_all
from sqlalchemy import cast as sql_cast
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert as sql_insert
from sqlmodel import Session, col, select

from app.i18n import N_
from app.models import Contribution, WorkshopBallot, WorkshopParticipant, WorkshopSession
from app.models.base import utcnow
from app.models.enums import AuditOp
from app.models.workshops import ContributionKind, ContributionState, VoteMode, WorkshopVote
from app.schemas import InputModel, MultiFieldError, fail
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate
from app.services.workshops import (
    GROUP_MAX,
    SessionEnded,
    _blank_to_none,
    _commit,
    guest,
    is_open,
)

MAX_DOTS = 10
ONE_OPEN = N_("A vote is open already: close it before opening another.")
VOTE_CLOSED = N_("This vote has closed: your dots were not changed.")
NOT_IN_VOTE = N_("This item is not part of the vote.")
NO_DOTS_LEFT = N_("You have used all your dots. Take one back to move it.")
NO_DOT_HERE = N_("You have no dot on this item.")
# Built once, run with parameters: a hall puts in dozens of dots a second and screens and phones
# ask for the counts several times a second, and building and keying a statement costs more
# than running it on SQLite (see `audit.record`).
_BALLOT = sql_insert(WorkshopBallot.__table__)  # type: ignore[attr-defined]
# a dot's vote, locked, as a row of its columns (what a phone's answer and `in_scope` read of
# it): not a loaded vote, a hall puts in dozens of dots a second
_LOCKED = (
    select(*WorkshopVote.__table__.c)  # type: ignore[attr-defined]
    .where(WorkshopVote.id == bindparam("id"), WorkshopVote.session_id == bindparam("session_id"))
    .with_for_update()
)
# the newest vote, as a row of its columns (what screens and phones read of it), not a loaded
# vote: the board's panel and the phones ask for it dozens of times a second while a hall votes
_NEWEST = (
    select(*WorkshopVote.__table__.c)  # type: ignore[attr-defined]
    .where(WorkshopVote.session_id == bindparam("session_id"))
    .order_by(col(WorkshopVote.id).desc())
)
# what a dot reads of its item: whether it is in the vote (`in_scope`), and its line's text
_ITEM = select(
    Contribution.id, Contribution.session_id, Contribution.text, Contribution.kind,
    Contribution.group_label, Contribution.state,
).where(Contribution.id == bindparam("id"))  # fmt: skip
# a vote's items (`in_scope`), oldest first, as rows (`item_rows`)
_ROWS = (
    select(
        Contribution.id,
        Contribution.text,
        Contribution.kind,
        Contribution.group_label,
        Contribution.state,
    )
    .where(
        Contribution.session_id == bindparam("session_id"),
        Contribution.state != ContributionState.archived.value,
    )
    .order_by(col(Contribution.id))
)
_ROWS_OF_KIND = _ROWS.where(Contribution.kind == bindparam("kind"))
_ROWS_OF_GROUP = _ROWS.where(Contribution.group_label == bindparam("group"))
# a phone's poll: the newest vote, whether it is open, and its items counted (`in_scope`), in one
_KEY = (
    select(
        WorkshopVote.id,
        WorkshopVote.closed_at,
        select(func.count())
        .select_from(Contribution)
        .where(
            Contribution.session_id == WorkshopVote.session_id,
            Contribution.state != ContributionState.archived.value,
            or_(
                Contribution.kind == WorkshopVote.kind,
                and_(
                    col(WorkshopVote.kind).is_(None),
                    Contribution.group_label == WorkshopVote.group_label,
                ),
            ),
        )
        .correlate(WorkshopVote)
        .scalar_subquery(),
    )
    .where(WorkshopVote.session_id == bindparam("session_id"))
    .order_by(col(WorkshopVote.id).desc())
    .limit(1)
)
# a vote's counts (`_tally`): a row of dots per item, and one without an item (NULL: a ballot
# always has one) of the guests who voted
_TALLY = union_all(
    select(WorkshopBallot.contribution_id, func.count())
    .where(WorkshopBallot.vote_id == bindparam("vote_id"))
    .group_by(WorkshopBallot.contribution_id),
    select(
        sql_cast(null(), Integer), func.count(func.distinct(WorkshopBallot.participant_id))
    ).where(WorkshopBallot.vote_id == bindparam("vote_id")),
)
_MINE = (
    select(WorkshopBallot.contribution_id, func.count())
    .where(
        WorkshopBallot.vote_id == bindparam("vote_id"),
        WorkshopBallot.participant_id == bindparam("participant_id"),
    )
    .group_by(WorkshopBallot.contribution_id)
)


class VoteIn(InputModel):
    """What the facilitator opens: a column (`kind`) or a group (`group_label`), not both."""

    kind: Annotated[ContributionKind | None, BeforeValidator(_blank_to_none)] = None
    group_label: Annotated[str | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, max_length=GROUP_MAX
    )
    mode: VoteMode = VoteMode.dots
    dots: Annotated[int, BeforeValidator(_blank_to_none)] = Field(default=3, ge=1, le=MAX_DOTS)

    @model_validator(mode="after")
    def _one_scope(self) -> "VoteIn":
        if (self.kind is None) == (self.group_label is None):
            raise MultiFieldError({"scope": fail("Choose one column or one group to vote on.")})
        if self.mode == VoteMode.single:
            self.dots = 1
        return self


@dataclass
class Tally:
    """A vote with its counts: dots per contribution, and how many guests voted."""

    vote: Any  # a row of the vote's columns (`newest`)
    counts: Counter = field(default_factory=Counter)  # contribution id -> dots
    voters: int = 0

    @property
    def is_open(self) -> bool:
        return self.vote.closed_at is None


@dataclass
class GuestDots:
    """A guest's dots in a vote by contribution: what their phone shows (never the others')."""

    vote: Any  # the vote: loaded, or a row of its columns (`cast`)
    mine: Counter = field(default_factory=Counter)
    item: Any = None  # the item a dot was put on or taken from (`cast`): a row of `_ITEM`

    @property
    def left(self) -> int:
        return max(self.vote.dots - sum(self.mine.values()), 0)


_ARCHIVED = ContributionState.archived.value  # (read once: a panel asks for each of its cards)


def in_scope(vote: Any, contribution: Any) -> bool:
    """Whether the contribution is one of the vote's items (archived ones never are)."""
    if contribution.state == _ARCHIVED:
        return False
    if vote.kind is not None:
        return contribution.kind == vote.kind
    return contribution.group_label == vote.group_label


def latest(session: Session, workshop: WorkshopSession) -> Tally | None:
    """The session's newest vote (open or closed) with its counts: three small queries."""
    vote = newest(session, workshop)
    return None if vote is None else _tally(session, vote)


def newest(session: Session, workshop: WorkshopSession) -> Any:
    """The session's newest vote (open or closed) as a row of its columns, or None."""
    return session.connection().execute(_NEWEST, {"session_id": workshop.id}).first()


def _tally(session: Session, vote: Any) -> Tally:
    """Two small aggregates in one query (screens ask for them three times a second while a
    hall votes): dots per item, and the guests who voted (not a row per guest and item)."""
    counts, voters = Counter(), 0
    for item_id, n in session.connection().execute(_TALLY, {"vote_id": vote.id}):
        if item_id is None:
            voters = n
        else:
            counts[item_id] = n
    return Tally(vote, counts, voters)


def get_vote(session: Session, workshop: WorkshopSession, vote_id: int) -> WorkshopVote:
    vote = session.get(WorkshopVote, vote_id)
    if vote is None or vote.session_id != workshop.id:
        raise NotFound(f"vote/{vote_id}")
    return vote


# ---- the facilitator ------------------------------------------------------------------------


def open_vote(
    session: Session, *, actor: audit.Actor, workshop: WorkshopSession, vote_in: dict[str, Any]
) -> WorkshopVote:
    data = validate(VoteIn, vote_in)
    if not is_open(workshop):
        raise SessionEnded()
    locked = session.exec(  # one vote open at a time, whoever clicks first
        select(WorkshopSession).where(WorkshopSession.id == workshop.id).with_for_update()
    ).one()
    already = session.exec(
        select(WorkshopVote.id).where(
            WorkshopVote.session_id == locked.id, col(WorkshopVote.closed_at).is_(None)
        )
    ).first()
    if already is not None:
        session.rollback()
        raise Conflict(Msg(ONE_OPEN))
    vote = WorkshopVote(
        session_id=workshop.id,
        kind=data.kind.value if data.kind else None,
        group_label=data.group_label,
        mode=data.mode.value,
        dots=data.dots,
    )
    session.add(vote)
    session.flush()
    _commit(session, actor, workshop, "workshop_vote", vote.id, AuditOp.create, None, vote)
    return vote


def close_vote(
    session: Session, *, actor: audit.Actor, workshop: WorkshopSession, vote_id: int
) -> WorkshopVote:
    """Close the vote; its counts stay. Closing a closed vote changes nothing."""
    vote = get_vote(session, workshop, vote_id)
    if vote.closed_at is not None:
        return vote
    before = audit.snapshot(vote)
    vote.closed_at = utcnow()
    vote.version += 1
    session.add(vote)
    tally = _tally(session, vote)
    after = {**audit.snapshot(vote), "results": {str(k): n for k, n in tally.counts.items()}}
    _commit(session, actor, workshop, "workshop_vote", vote.id, AuditOp.update, before, after)
    return vote


# ---- the guests -----------------------------------------------------------------------------


def cast(
    session: Session,
    *,
    workshop: WorkshopSession,
    participant: WorkshopParticipant,
    vote_id: int,
    contribution_id: int,
    take_back: bool = False,
) -> GuestDots:
    """Put a dot on the contribution (a single choice: move the guest's one dot there), or take
    one back. Refused, changing nothing: a closed vote or session, an item outside the vote or
    another session's, no dot left, no dot to take back."""
    if participant.session_id != workshop.id:
        raise NotFound(f"participant/{participant.id}")
    if not is_open(workshop):
        raise SessionEnded()
    # locked: the guest's count and the write go together
    params = {"id": vote_id, "session_id": workshop.id}
    vote = session.connection().execute(_LOCKED, params).first()
    if vote is None:
        raise NotFound(f"vote/{vote_id}")
    if vote.closed_at is not None:
        session.rollback()
        raise Conflict(Msg(VOTE_CLOSED))
    item = session.exec(_ITEM, params={"id": contribution_id}).first()
    if item is None or item.session_id != workshop.id or not in_scope(vote, item):
        session.rollback()
        raise ValidationFailed({"contribution_id": Msg(NOT_IN_VOTE)})
    if take_back or vote.mode == VoteMode.single.value:
        mine = list(
            session.exec(
                select(WorkshopBallot)
                .where(
                    WorkshopBallot.vote_id == vote.id,
                    WorkshopBallot.participant_id == participant.id,
                )
                .order_by(col(WorkshopBallot.id))
            ).all()
        )
    if take_back:
        here = [b for b in mine if b.contribution_id == item.id]
        if not here:
            session.rollback()
            raise Conflict(Msg(NO_DOT_HERE))
        session.exec(sql_delete(WorkshopBallot).where(col(WorkshopBallot.id) == here[-1].id))
        op, snap = AuditOp.delete, {"vote_id": vote.id, "contribution_id": item.id}
        before, after = snap, None
    else:
        if vote.mode == VoteMode.single.value and mine:  # one choice: it moves
            session.exec(
                sql_delete(WorkshopBallot).where(col(WorkshopBallot.id).in_([b.id for b in mine]))
            )
        session.execute(  # one INSERT, no object to flush: a hall puts in dozens a second
            _BALLOT,
            {"vote_id": vote.id, "participant_id": participant.id, "contribution_id": item.id,
             "created_at": utcnow()},
        )  # fmt: skip
        op, before, after = AuditOp.create, None, {"vote_id": vote.id, "contribution_id": item.id}
    # counted after the write, and refused past the allowance: SQLite has no row lock, but a
    # writer holds the database until it commits, so a dot another request of this guest added
    # meanwhile shows here
    dots = guest_dots(session, vote, participant.id)
    dots.item = item  # the phone's answer draws it: the session keeps no loaded row unreferenced
    if sum(dots.mine.values()) > vote.dots:
        session.rollback()
        raise Conflict(Msg(NO_DOTS_LEFT))
    _commit(
        session,
        guest(participant),
        workshop,
        "workshop_ballot",
        vote.id,
        op,
        before,
        after,
        change="vote.cast",
    )
    return dots


def guest_dots(session: Session, vote: Any, participant_id: int) -> GuestDots:
    params = {"vote_id": vote.id, "participant_id": participant_id}
    return GuestDots(vote, Counter(dict(session.exec(_MINE, params=params).all())))


def item_rows(session: Session, vote: Any) -> list[Any]:
    """The vote's items, oldest first (the order a phone lists them), as rows of what a board's
    vote panel and a phone's vote section show of them (id, text and what `in_scope` reads),
    without loading whole contributions: a hall renders them a few times a second."""
    if vote.kind is not None:
        query, params = _ROWS_OF_KIND, {"session_id": vote.session_id, "kind": vote.kind}
    else:
        query, params = _ROWS_OF_GROUP, {"session_id": vote.session_id, "group": vote.group_label}
    return list(session.connection().execute(query, params).all())


def guest_key(session: Session, workshop: WorkshopSession) -> str:
    """What a phone's vote section depends on besides the guest's own dots (which come back with
    each dot they put): the newest vote, whether it is open, and how many items it has. A phone
    that polls with the key it was given gets 204 (nothing to redraw) while it holds."""
    row = session.connection().execute(_KEY, {"session_id": workshop.id}).first()
    if row is None or row[1] is not None:
        return "none"  # a phone shows no closed vote
    return f"v{row[0]}-{row[2]}"


def guest_view(
    session: Session,
    workshop: WorkshopSession,
    participant: WorkshopParticipant | None,
    dots: GuestDots | None = None,
) -> dict[str, Any]:
    """What a guest's vote section shows: the open vote, its items, the guest's dots (nothing
    when no vote is open), with its key (`guest_key`). `dots`: what a dot just gave (saves
    counting again)."""
    vote = dots.vote if dots is not None else newest(session, workshop)
    if vote is None or vote.closed_at is not None:
        return {"guest_vote": None, "vote_key": "none"}
    vote_items = item_rows(session, vote)
    key = f"v{vote.id}-{len(vote_items)}"  # as guest_key
    if participant is None:
        return {"guest_vote": None, "vote_key": key}
    if dots is None:
        dots = guest_dots(session, vote, participant.id)
    return {
        "vote_key": key,
        "guest_vote": vote,
        "vote_items": vote_items,
        "my_dots": dots.mine,
        "dots_left": dots.left,
    }


def board_view(tally: Tally | None, cards: list[Any], items: bool = False) -> dict[str, Any]:
    """What the board shows of the newest vote: the items in its scope, the counts, and the
    results (contribution, dots) most dots first, from the board's own cards (no query).
    `items`: the cards are the vote's items already (`item_rows`, as its panel reads them)."""
    if tally is None:
        return {"tally": None, "vote_items": set(), "vote_results": []}
    by_id = {c.contribution.id: c.contribution for c in cards}
    results = sorted(
        ((by_id[i], n) for i, n in tally.counts.items() if i in by_id and n),
        key=lambda pair: (-pair[1], pair[0].id),
    )
    scope = set(by_id) if items else {i for i, c in by_id.items() if in_scope(tally.vote, c)}
    return {"tally": tally, "vote_items": scope, "vote_results": results}
