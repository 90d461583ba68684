"""World Café rounds in a workshop session: tables with a question and a host each, timed
rounds, and where each guest sits in each round.

Seating is stored (`WorkshopSeat`), computed when a round starts:
- a table's host (its participant, when the facilitator chose one) stays at their table;
- the first round spreads the other guests evenly, in the order they joined (1, 2, 3, 1, 2 …);
- every later round moves each guest from the table they sat at: the k-th guest of a table
  (in the order they joined) moves on by 1 + k mod (N - 1) tables, so nobody stays at the same
  table two rounds in a row (with two tables or more), and the guests of one table spread over
  different tables instead of moving on together;
- a guest who joins during a round sits at the table with the fewest guests.

A contribution sent during a round carries the guest's table and the round; a guest posting
with a round that has ended (the facilitator ended it, or its time ran out) is refused with
nothing written. Between rounds guests post without a table or round. A table's host posts
its summary (`table_summary`) for the newest round, while it runs or after it ended until the
next one starts; a second summary of the same table and round replaces the first.

Every write validates, writes, records its audit event and commits in one transaction, and
publishes `workshop.changed` like the other workshop writes.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from sqlalchemy import bindparam, func
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlmodel import Session, col, select

from app.i18n import N_, as_utc
from app.models import (
    Contribution,
    WorkshopParticipant,
    WorkshopRound,
    WorkshopSeat,
    WorkshopSession,
    WorkshopTable,
)
from app.models.base import utcnow
from app.models.enums import AuditOp
from app.models.workshops import ContributionKind
from app.schemas import InputModel
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate
from app.services.workshops import (
    NAME_MAX,
    SessionEnded,
    _blank_to_none,
    _commit,
    _one_line,
    is_open,
)

MAX_TABLES = 20
QUESTION_MAX = 300
MAX_MINUTES = 120
DEFAULT_MINUTES = 20

ROUND_RUNNING = N_("A round is running: end it before starting another.")
ROUND_ENDED = N_("This round has ended: your text was not sent. It is still in the form below.")
NO_TABLES = N_("Set up the tables first.")
ONLY_HOST = N_("Only a table's host sends its summary.")
SUMMARY_NEEDS_ROUND = N_("A table's summary goes with a round: none has started yet.")
TABLES_IN_USE = N_("Tables cannot change while a round is running.")


class RoundEnded(Conflict):
    def __init__(self) -> None:
        super().__init__(Msg(ROUND_ENDED))


# ---- input ----------------------------------------------------------------------------------


def _line(value: Any) -> Any:
    return _one_line(value)


class TableIn(InputModel):
    question: Annotated[str, BeforeValidator(_line)] = Field(default="", max_length=QUESTION_MAX)
    host_name: Annotated[str, BeforeValidator(_line)] = Field(default="", max_length=NAME_MAX)
    host_participant_id: Annotated[int | None, BeforeValidator(_blank_to_none)] = None


class TablesIn(InputModel):
    count: Annotated[int, BeforeValidator(_blank_to_none)] = Field(ge=1, le=MAX_TABLES)


class RoundIn(InputModel):
    minutes: Annotated[int, BeforeValidator(_blank_to_none)] = Field(ge=1, le=MAX_MINUTES)
    question: Annotated[str, BeforeValidator(_line)] = Field(default="", max_length=QUESTION_MAX)


# ---- reading --------------------------------------------------------------------------------


def is_running(row: WorkshopRound | None, now: datetime | None = None) -> bool:
    if row is None or row.ended_at is not None:
        return False
    return as_utc(row.ends_at) > (now or utcnow())


def ended_at(row: WorkshopRound) -> datetime:
    """When the round ended (early, or when its time ran out)."""
    return row.ended_at or row.ends_at


def tables_of(session: Session, workshop: WorkshopSession) -> list[WorkshopTable]:
    return list(
        session.exec(
            select(WorkshopTable)
            .where(WorkshopTable.session_id == workshop.id)
            .order_by(col(WorkshopTable.number))
        ).all()
    )


# Built once, run with parameters (as votes._NEWEST): hundreds of phones poll for the key.
_LATEST = (
    select(WorkshopRound)
    .where(WorkshopRound.session_id == bindparam("session_id"))
    .order_by(col(WorkshopRound.number).desc())
    .limit(1)
)
_LATEST_KEY = _LATEST.with_only_columns(
    WorkshopRound.id,
    WorkshopRound.ends_at,
    WorkshopRound.ended_at,  # what `is_running` reads
)


def latest(session: Session, workshop: WorkshopSession) -> WorkshopRound | None:
    return session.exec(_LATEST, params={"session_id": workshop.id}).first()


def guest_key(session: Session, workshop: WorkshopSession) -> str:
    """What a phone's café section depends on, in one query: the newest round and whether it
    runs. A phone that polls with the key it was given gets 204 (nothing to redraw) while it
    holds: hundreds of phones poll every 15 s (three columns, not a loaded round)."""
    row = session.connection().execute(_LATEST_KEY, {"session_id": workshop.id}).first()
    if row is None:
        return "none"
    return f"r{row.id}-{'running' if is_running(row) else 'ended'}"  # type: ignore[arg-type]


def rounds_of(session: Session, workshop: WorkshopSession) -> list[WorkshopRound]:
    return list(
        session.exec(
            select(WorkshopRound)
            .where(WorkshopRound.session_id == workshop.id)
            .order_by(col(WorkshopRound.number))
        ).all()
    )


def seat_of(session: Session, round_id: int, participant_id: int) -> WorkshopSeat | None:
    return session.exec(
        select(WorkshopSeat).where(
            WorkshopSeat.round_id == round_id, WorkshopSeat.participant_id == participant_id
        )
    ).first()


def hosted_table(
    tables: list[WorkshopTable], participant: WorkshopParticipant | None
) -> WorkshopTable | None:
    if participant is None:
        return None
    return next((t for t in tables if t.host_participant_id == participant.id), None)


def question_of(table: WorkshopTable, row: WorkshopRound | None) -> str:
    """The question at a table: the round's own, if the facilitator gave one, else the table's."""
    return (row.question if row is not None and row.question else "") or table.question


@dataclass
class Cafe:
    """The board's World Café panel: the tables, the newest round, guests per table in it, and
    the hosts' summaries of it."""

    tables: list[WorkshopTable] = field(default_factory=list)
    round: WorkshopRound | None = None
    running: bool = False
    seated: Counter = field(default_factory=Counter)  # table id -> guests in the newest round
    summaries: dict[int, Contribution] = field(default_factory=dict)  # table id -> summary
    participants: list[WorkshopParticipant] = field(default_factory=list)

    def question(self, table: WorkshopTable) -> str:
        return question_of(table, self.round)


def board_view(session: Session, workshop: WorkshopSession) -> Cafe:
    """Five queries, whatever the number of tables, guests or contributions."""
    cafe = Cafe(tables=tables_of(session, workshop), round=latest(session, workshop))
    cafe.running = is_running(cafe.round)
    cafe.participants = list(
        session.exec(
            select(WorkshopParticipant)
            .where(WorkshopParticipant.session_id == workshop.id)
            .order_by(col(WorkshopParticipant.id))
        ).all()
    )
    if cafe.round is not None:
        rows = session.exec(
            select(WorkshopSeat.table_id, func.count())
            .where(WorkshopSeat.round_id == cafe.round.id)
            .group_by(WorkshopSeat.table_id)
        ).all()
        cafe.seated = Counter(dict(rows))
        summaries = session.exec(
            select(Contribution).where(
                Contribution.round_id == cafe.round.id,
                Contribution.kind == ContributionKind.table_summary.value,
            )
        ).all()
        cafe.summaries = {c.table_id: c for c in summaries if c.table_id is not None}
    return cafe


def guest_view(
    session: Session, workshop: WorkshopSession, participant: WorkshopParticipant | None
) -> dict[str, Any]:
    """What a guest's phone shows of the café: the round, the table to go to and its question,
    and for a host, the summary form (with the summary sent already, if any)."""
    if participant is None:
        return {"cafe_round": None}
    row = latest(session, workshop)
    if row is None:
        return {"cafe_round": None, "round_key": "none"}
    tables = tables_of(session, workshop)
    seat = seat_of(session, row.id, participant.id)
    table = next((t for t in tables if seat is not None and t.id == seat.table_id), None)
    hosted = hosted_table(tables, participant)
    summary = None
    if hosted is not None:
        summary = session.exec(
            select(Contribution).where(
                Contribution.round_id == row.id,
                Contribution.table_id == hosted.id,
                Contribution.kind == ContributionKind.table_summary.value,
            )
        ).first()
    running = is_running(row)
    return {
        "round_key": f"r{row.id}-{'running' if running else 'ended'}",  # as guest_key says
        "cafe_round": row,
        "cafe_running": running,
        "cafe_table": table,
        "cafe_table_question": question_of(hosted or table, row)
        if (hosted or table)
        else row.question,
        "cafe_hosted": hosted,
        "cafe_summary": summary,
    }


def get_round(session: Session, workshop: WorkshopSession, round_id: int) -> WorkshopRound:
    row = session.get(WorkshopRound, round_id)
    if row is None or row.session_id != workshop.id:
        raise NotFound(f"round/{round_id}")
    return row


# ---- seating --------------------------------------------------------------------------------


def seating(
    tables: list[int],
    guests: list[int],
    hosts: dict[int, int],
    before: dict[int, int] | None,
) -> dict[int, int]:
    """Participant id -> table id for a new round. `tables`: table ids by number; `guests`:
    participant ids in the order they joined; `hosts`: host participant id -> their table;
    `before`: the previous round's seats (None for the first round)."""
    n = len(tables)
    seats = {p: t for p, t in hosts.items() if p in set(guests)}
    others = [p for p in guests if p not in seats]
    if before is None:  # evenly, counting the hosts
        for p in others:
            seats[p] = _emptiest(tables, seats)
        return seats
    index = {t: i for i, t in enumerate(tables)}
    position: Counter = Counter()  # guests of each previous table met so far
    newcomers = []
    for p in others:
        previous = before.get(p)
        if previous not in index:
            newcomers.append(p)
            continue
        k = position[previous]
        position[previous] += 1
        step = 1 + k % (n - 1) if n > 1 else 0
        seats[p] = tables[(index[previous] + step) % n]
    for p in newcomers:
        seats[p] = _emptiest(tables, seats)
    return seats


def _emptiest(tables: list[int], seats: dict[int, int]) -> int:
    counts = Counter(seats.values())
    return min(tables, key=lambda t: (counts[t], tables.index(t)))


# ---- the facilitator ------------------------------------------------------------------------


def _lock(session: Session, workshop: WorkshopSession) -> WorkshopSession:
    return session.exec(
        select(WorkshopSession)
        .where(WorkshopSession.id == workshop.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def set_tables(
    session: Session,
    *,
    actor: audit.Actor,
    workshop: WorkshopSession,
    count: Any,
    tables_in: dict[int, dict[str, Any]],
) -> list[WorkshopTable]:
    """Set how many tables there are and each one's question and host (`tables_in`: table
    number -> its fields). Tables added get the next numbers; tables taken away are the
    highest-numbered, with their seats (their contributions stay, without a table). Not while
    a round runs."""
    errors: dict[str, Msg] = {}
    try:
        number = validate(TablesIn, {"count": count}).count
    except ValidationFailed as exc:
        errors["count"] = exc.errors["count"]
        number = 0
    data: dict[int, TableIn] = {}
    for n, values in tables_in.items():
        try:
            data[n] = validate(TableIn, values)
        except ValidationFailed as exc:
            errors.update({f"{name}_{n}": msg for name, msg in exc.errors.items()})
    participants = {
        p.id: p
        for p in session.exec(
            select(WorkshopParticipant).where(WorkshopParticipant.session_id == workshop.id)
        ).all()
    }
    for n, item in data.items():
        if item.host_participant_id is not None and item.host_participant_id not in participants:
            errors[f"host_participant_id_{n}"] = Msg(N_("Pick from the list."))
    hosts = [
        i.host_participant_id for n, i in data.items() if n <= number and i.host_participant_id
    ]
    if len(hosts) != len(set(hosts)):
        for n, item in data.items():
            if item.host_participant_id and hosts.count(item.host_participant_id) > 1:
                errors[f"host_participant_id_{n}"] = Msg(N_("One person hosts one table."))
    if errors:
        raise ValidationFailed(errors)
    _lock(session, workshop)
    if is_running(latest(session, workshop)):
        session.rollback()
        raise Conflict(Msg(TABLES_IN_USE))
    existing = {t.number: t for t in tables_of(session, workshop)}
    before = {n: audit.snapshot(t) for n, t in existing.items()}
    gone = [t for n, t in existing.items() if n > number]
    if gone:
        ids = [t.id for t in gone]
        session.exec(sql_delete(WorkshopSeat).where(col(WorkshopSeat.table_id).in_(ids)))
        session.exec(
            sql_update(Contribution)
            .where(col(Contribution.table_id).in_(ids))
            .values(table_id=None)
        )
        for table in gone:
            session.delete(table)
        session.flush()
    rows = []
    for n in range(1, number + 1):
        table = existing.get(n) or WorkshopTable(session_id=workshop.id, number=n)
        item = data.get(n)
        if item is not None:
            host = participants.get(item.host_participant_id or 0)
            table.question = item.question
            table.host_participant_id = host.id if host else None
            table.host_name = item.host_name or (host.display_name if host else "")
        session.add(table)
        rows.append(table)
    session.flush()
    after = {"tables": [audit.snapshot(t) for t in rows]}
    _commit(
        session,
        actor,
        workshop,
        "workshop_tables",
        workshop.id,
        AuditOp.update,
        {"tables": list(before.values())},
        after,
    )
    return rows


def start_round(
    session: Session, *, actor: audit.Actor, workshop: WorkshopSession, round_in: dict[str, Any]
) -> WorkshopRound:
    """Start the next round of N minutes and seat everyone who has joined."""
    data = validate(RoundIn, round_in)
    locked = _lock(session, workshop)
    if not is_open(locked):
        session.rollback()
        raise SessionEnded()
    previous = latest(session, workshop)
    if is_running(previous):
        session.rollback()
        raise Conflict(Msg(ROUND_RUNNING))
    tables = tables_of(session, workshop)
    if not tables:
        session.rollback()
        raise Conflict(Msg(NO_TABLES))
    now = utcnow()
    row = WorkshopRound(
        session_id=workshop.id,
        number=(previous.number if previous else 0) + 1,
        question=data.question,
        minutes=data.minutes,
        started_at=now,
        ends_at=now + timedelta(minutes=data.minutes),
    )
    session.add(row)
    session.flush()
    guests = [
        p
        for p in session.exec(
            select(WorkshopParticipant.id)
            .where(WorkshopParticipant.session_id == workshop.id)
            .order_by(col(WorkshopParticipant.id))
        ).all()
    ]
    hosts = {t.host_participant_id: t.id for t in tables if t.host_participant_id}
    before = None
    if previous is not None:
        before = dict(
            session.exec(
                select(WorkshopSeat.participant_id, WorkshopSeat.table_id).where(
                    WorkshopSeat.round_id == previous.id
                )
            ).all()
        )
    seats = seating([t.id for t in tables], guests, hosts, before)
    for participant_id, table_id in seats.items():
        session.add(WorkshopSeat(round_id=row.id, participant_id=participant_id, table_id=table_id))
    session.flush()
    after = {**audit.snapshot(row), "seated": len(seats)}
    _commit(session, actor, workshop, "workshop_round", row.id, AuditOp.create, None, after)
    return row


def end_round(
    session: Session, *, actor: audit.Actor, workshop: WorkshopSession, round_id: int
) -> WorkshopRound:
    """End the round now; a round that has ended already is left as it is."""
    row = get_round(session, workshop, round_id)
    if not is_running(row):
        return row
    before = audit.snapshot(row)
    row.ended_at = utcnow()
    session.add(row)
    _commit(session, actor, workshop, "workshop_round", row.id, AuditOp.update, before, row)
    return row


def seat_newcomer(session: Session, workshop: WorkshopSession, participant_id: int) -> None:
    """A guest joining during a round sits at the table with the fewest guests (part of the
    join's transaction: the caller commits)."""
    row = latest(session, workshop)
    if not is_running(row):
        return
    tables = [t.id for t in tables_of(session, workshop)]
    if not tables:
        return
    seats = dict(
        session.exec(
            select(WorkshopSeat.participant_id, WorkshopSeat.table_id).where(
                WorkshopSeat.round_id == row.id
            )
        ).all()
    )
    session.add(
        WorkshopSeat(
            round_id=row.id, participant_id=participant_id, table_id=_emptiest(tables, seats)
        )
    )


# ---- the guests' contributions --------------------------------------------------------------


def place(
    session: Session,
    *,
    workshop: WorkshopSession,
    participant: WorkshopParticipant,
    kind: str,
    round_id: int | None,
) -> tuple[int | None, int | None, Contribution | None]:
    """The round and table a contribution goes with, and for a host's summary the summary it
    replaces (None: a new one). Raises RoundEnded for a post with a round that has ended
    (a summary: with a round that is not the newest), ValidationFailed for a summary from a
    guest who hosts no table or before any round. The session row is locked by the caller."""
    row = latest(session, workshop)
    if kind == ContributionKind.table_summary.value:
        table = hosted_table(tables_of(session, workshop), participant)
        if table is None:
            raise ValidationFailed({"kind": Msg(ONLY_HOST)})
        if row is None:
            raise ValidationFailed({"kind": Msg(SUMMARY_NEEDS_ROUND)})
        if round_id is not None and round_id != row.id:
            raise RoundEnded()
        replaced = session.exec(
            select(Contribution)
            .where(
                Contribution.round_id == row.id,
                Contribution.table_id == table.id,
                Contribution.kind == ContributionKind.table_summary.value,
            )
            .with_for_update()
        ).first()
        return row.id, table.id, replaced
    if round_id is not None:
        posted = session.get(WorkshopRound, round_id)
        if posted is None or posted.session_id != workshop.id:
            raise ValidationFailed({"round_id": Msg(N_("Pick from the list."))})
        if not is_running(posted):
            raise RoundEnded()
        row = posted
    if not is_running(row):
        return None, None, None  # between rounds
    assert row is not None
    seat = seat_of(session, row.id, participant.id)
    return row.id, (seat.table_id if seat else None), None
