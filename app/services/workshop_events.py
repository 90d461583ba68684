"""National workshops (events): one workshop session ("station") per area taking part, shown
together on one projector.

An organiser (an administrator or a reviewer: national staff) creates the event with the areas
taking part; that opens one session per area in the same transaction, each with its own join
code, all linked to the event. A facilitator may attach an open session of their own area to an
open event, or detach it. Closing the event closes its open stations.

Every write validates, writes, records its audit events in the same transaction, commits, then
publishes on the channels of the areas concerned (`workshop.changed`, as a session's own writes
do) and on the event's channel (`workshop_event.changed`), so the projector hears both.
The reading functions use a fixed number of queries, whatever the number of stations.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from app import live
from app.i18n import N_, THAI_TZ, thai_sort_key, thai_today
from app.models import (
    Area,
    Contribution,
    WorkshopBallot,
    WorkshopEvent,
    WorkshopParticipant,
    WorkshopSession,
)
from app.models.base import utcnow
from app.models.enums import AuditOp
from app.models.workshops import Attendance, ContributionKind, ContributionState, WorkshopVote
from app.schemas import Day, InputModel, MultiFieldError, OptionalDate, fail
from app.services import audit, workshops
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate

ENTITY = "workshop_event"
TITLE_MAX = 200
MAX_DAYS = 7  # a session stays open at most 7 days (workshops.MAX_DURATION)
HIGHLIGHTS = 8  # the newest contributions the projector shows
LEADERS = 3  # the leading items of each open vote
BOARD_MAX = 120  # the combined board's newest cards of one step
STALE = N_("Someone else changed this since you opened it.")
EVENT_CLOSED = N_("This event has closed: no station can be attached to it.")
SESSION_ENDED = N_("This session has ended: only an open session can join an event.")


def _one_line(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class EventIn(InputModel):
    title: Annotated[str, BeforeValidator(_one_line)] = Field(min_length=1, max_length=TITLE_MAX)
    station_title: Annotated[str, BeforeValidator(_one_line)] = Field(
        min_length=1, max_length=workshops.TITLE_MAX
    )
    starts_on: Day  # '3/12/2569' as typed in Thai, or ISO
    ends_on: OptionalDate = None
    area_ids: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_and_areas(self) -> "EventIn":
        errors = {}
        if self.ends_on is None:
            self.ends_on = self.starts_on
        elif self.ends_on < self.starts_on:
            errors["ends_on"] = fail("The last day cannot come before the first.")
        if not self.area_ids:
            errors["area_ids"] = fail("Choose at least one area taking part.")
        if errors:
            raise MultiFieldError(errors)
        return self


# ---- reading --------------------------------------------------------------------------------


def get_event(session: Session, event_id: int) -> WorkshopEvent:
    row = session.get(WorkshopEvent, event_id)
    if row is None:
        raise NotFound(f"{ENTITY}/{event_id}")
    return row


def is_open(event: WorkshopEvent) -> bool:
    return event.closed_at is None


@dataclass
class EventRow:
    event: WorkshopEvent
    stations: int = 0
    open_stations: int = 0


def events_list(session: Session) -> list[EventRow]:
    """Every event, newest first, with its stations counted (two queries)."""
    events = session.exec(
        select(WorkshopEvent).order_by(
            col(WorkshopEvent.starts_on).desc(), col(WorkshopEvent.id).desc()
        )
    ).all()
    rows = {e.id: EventRow(e) for e in events}
    sessions = session.exec(
        select(WorkshopSession).where(col(WorkshopSession.event_id).in_(list(rows)))
    ).all()
    for s in sessions:
        row = rows[s.event_id]
        row.stations += 1
        row.open_stations += workshops.is_open(s)
    return list(rows.values())


def open_events(session: Session) -> list[WorkshopEvent]:
    """The events a station can still be attached to."""
    return list(
        session.exec(
            select(WorkshopEvent)
            .where(col(WorkshopEvent.closed_at).is_(None))
            .order_by(col(WorkshopEvent.starts_on).desc(), col(WorkshopEvent.id).desc())
        ).all()
    )


@dataclass
class Station:
    """One area's session in the event, with its counts."""

    workshop: WorkshopSession
    area: Area
    onsite: int = 0
    online: int = 0
    by_kind: Counter = field(default_factory=Counter)  # kind -> contributions (not archived)
    is_open: bool = True

    @property
    def participants(self) -> int:
        return self.onsite + self.online

    @property
    def contributions(self) -> int:
        return sum(self.by_kind.values())


@dataclass
class Attendee:
    station: Station
    display_name: str
    attends: str


@dataclass
class Leader:
    """One of the leading items of an open vote."""

    station: Station
    vote: WorkshopVote
    contribution: Contribution
    dots: int


@dataclass
class EventView:
    event: WorkshopEvent
    stations: list[Station]

    @property
    def by_session(self) -> dict[int, Station]:
        return {s.workshop.id: s for s in self.stations}

    @property
    def session_ids(self) -> list[int]:
        return [s.workshop.id for s in self.stations]

    @property
    def onsite(self) -> int:
        return sum(s.onsite for s in self.stations)

    @property
    def online(self) -> int:
        return sum(s.online for s in self.stations)

    @property
    def contributions(self) -> int:
        return sum(s.contributions for s in self.stations)


def event_view(session: Session, event: WorkshopEvent) -> EventView:
    """The event's stations (in Thai order of their areas) with participants onsite and online
    and contributions per step: three queries."""
    rows = session.exec(
        select(WorkshopSession, Area)
        .join(Area, col(Area.id) == WorkshopSession.area_id)
        .where(WorkshopSession.event_id == event.id)
        .order_by(col(WorkshopSession.id))
    ).all()
    rows = sorted(rows, key=lambda row: thai_sort_key(row[1].name_th))  # as the home page
    stations = [Station(w, a, is_open=workshops.is_open(w)) for w, a in rows]
    view = EventView(event, stations)
    ids = view.session_ids
    if not ids:
        return view
    found = view.by_session
    people = session.exec(
        select(WorkshopParticipant.session_id, WorkshopParticipant.attends, func.count())
        .where(col(WorkshopParticipant.session_id).in_(ids))
        .group_by(WorkshopParticipant.session_id, WorkshopParticipant.attends)
    ).all()
    for session_id, attends, n in people:
        station = found[session_id]
        if attends == Attendance.online:
            station.online += n
        else:
            station.onsite += n
    kinds = session.exec(
        select(Contribution.session_id, Contribution.kind, func.count())
        .where(
            col(Contribution.session_id).in_(ids),
            Contribution.state != ContributionState.archived.value,
        )
        .group_by(Contribution.session_id, Contribution.kind)
    ).all()
    for session_id, kind, n in kinds:
        found[session_id].by_kind[kind] += n
    return view


def attendance(session: Session, view: EventView) -> list[Attendee]:
    """Who joined each station: display names and how they attend, nothing else (one query)."""
    if not view.stations:
        return []
    found = view.by_session
    rows = session.exec(
        select(
            WorkshopParticipant.session_id,
            WorkshopParticipant.display_name,
            WorkshopParticipant.attends,
        )
        .where(col(WorkshopParticipant.session_id).in_(view.session_ids))
        .order_by(col(WorkshopParticipant.joined_at), col(WorkshopParticipant.id))
    ).all()
    return [Attendee(found[sid], name, attends) for sid, name, attends in rows]


def highlights(session: Session, view: EventView) -> list[tuple[Station, Contribution]]:
    """The newest contributions across the stations, each with its station (one query)."""
    if not view.stations:
        return []
    found = view.by_session
    rows = session.exec(
        select(Contribution)
        .where(
            col(Contribution.session_id).in_(view.session_ids),
            Contribution.state != ContributionState.archived.value,
        )
        .order_by(col(Contribution.created_at).desc(), col(Contribution.id).desc())
        .limit(HIGHLIGHTS)
    ).all()
    return [(found[c.session_id], c) for c in rows]


def vote_leaders(session: Session, view: EventView) -> list[Leader]:
    """The leading items of the stations' open votes (three queries)."""
    if not view.stations:
        return []
    found = view.by_session
    votes = {
        v.id: v
        for v in session.exec(
            select(WorkshopVote).where(
                col(WorkshopVote.session_id).in_(view.session_ids),
                col(WorkshopVote.closed_at).is_(None),
            )
        ).all()
    }
    if not votes:
        return []
    counts = session.exec(
        select(WorkshopBallot.vote_id, WorkshopBallot.contribution_id, func.count())
        .where(col(WorkshopBallot.vote_id).in_(list(votes)))
        .group_by(WorkshopBallot.vote_id, WorkshopBallot.contribution_id)
    ).all()
    per_vote: dict[int, list[tuple[int, int]]] = {}
    for vote_id, contribution_id, n in counts:
        per_vote.setdefault(vote_id, []).append((n, contribution_id))
    top = {
        vote_id: sorted(items, key=lambda item: (-item[0], item[1]))[:LEADERS]
        for vote_id, items in per_vote.items()
    }
    wanted = {cid for items in top.values() for _, cid in items}
    contributions = {
        c.id: c
        for c in session.exec(select(Contribution).where(col(Contribution.id).in_(wanted))).all()
    }
    leaders = []
    for vote_id, items in sorted(top.items()):
        vote = votes[vote_id]
        for n, cid in items:
            leaders.append(Leader(found[vote.session_id], vote, contributions[cid], n))
    return leaders


def combined_board(
    session: Session, view: EventView, step: ContributionKind
) -> list[tuple[Station, Contribution]]:
    """One step's contributions from every station, newest first (one query)."""
    if not view.stations:
        return []
    found = view.by_session
    rows = session.exec(
        select(Contribution)
        .where(
            col(Contribution.session_id).in_(view.session_ids),
            Contribution.kind == step.value,
            Contribution.state != ContributionState.archived.value,
        )
        .order_by(col(Contribution.created_at).desc(), col(Contribution.id).desc())
        .limit(BOARD_MAX)
    ).all()
    return [(found[c.session_id], c) for c in rows]


def board_context(session: Session, workshop: WorkshopSession) -> dict[str, Any]:
    """What a session's board shows about events: its event, and the open ones it may join."""
    current = session.get(WorkshopEvent, workshop.event_id) if workshop.event_id else None
    choices = open_events(session) if workshops.is_open(workshop) else []
    return {"station_event": current, "open_events": choices}


# ---- writes ---------------------------------------------------------------------------------


def _closing_time(ends_on: date, now: datetime) -> datetime:
    """The stations close at the end of the event's last day in Thailand, or at most as long as
    a session may stay open."""
    end = datetime.combine(ends_on + timedelta(days=1), time(0), tzinfo=THAI_TZ).astimezone(UTC)
    return min(end, now + workshops.MAX_DURATION - timedelta(minutes=1))


def create_event(
    session: Session, *, actor: audit.Actor, event_in: dict[str, Any]
) -> WorkshopEvent:
    """Create the event and open one station per area taking part, in one transaction."""
    data = validate(EventIn, event_in)
    assert data.ends_on is not None
    today = thai_today()
    if data.starts_on < today:
        raise ValidationFailed({"starts_on": Msg(N_("Choose today or a later day."))})
    if data.ends_on >= today + timedelta(days=MAX_DAYS):
        raise ValidationFailed(
            {"ends_on": Msg(N_("Stations stay open at most %(days)s days."), {"days": MAX_DAYS})}
        )
    wanted = sorted(set(data.area_ids))
    areas = session.exec(select(Area).where(col(Area.id).in_(wanted))).all()
    if len(areas) != len(wanted):
        raise ValidationFailed({"area_ids": Msg(N_("Choose areas from the list."))})
    now = utcnow()
    event = WorkshopEvent(
        title=data.title,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_by=actor.id,
        created_at=now,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=actor,
        area_id=None,
        entity_type=ENTITY,
        entity_id=event.id,
        op=AuditOp.create,
        before=None,
        after=audit.snapshot(event, area_ids=wanted),
    )
    closes_at = _closing_time(data.ends_on, now)
    stations = [
        workshops.create_session(
            session,
            actor=actor,
            area_id=area.id,
            workshop_in={"title": data.station_title, "closes_at": closes_at},
            event_id=event.id,
            commit=False,
        )
        for area in areas
    ]
    _finish(session, event, [(s, AuditOp.create) for s in stations])
    return event


def close_event(
    session: Session, *, actor: audit.Actor, event: WorkshopEvent, version: int | None = None
) -> WorkshopEvent:
    """Close the event and its open stations (their codes stop working), in one transaction.
    Closing a closed event changes nothing."""
    if version is not None and version != event.version:
        raise Conflict(Msg(STALE))
    if event.closed_at is not None:
        return event
    open_ones = session.exec(
        select(WorkshopSession).where(
            WorkshopSession.event_id == event.id, col(WorkshopSession.closed_at).is_(None)
        )
    ).all()
    closed = [
        workshops.close_session(session, actor=actor, workshop=w, commit=False) for w in open_ones
    ]
    before = audit.snapshot(event)
    event.closed_at = utcnow()
    event.closed_by = actor.id
    event.version += 1
    session.add(event)
    _audit_event(session, actor, event, AuditOp.update, before)
    _finish(session, event, [(w, AuditOp.update) for w in closed])
    return event


def attach(
    session: Session, *, actor: audit.Actor, event: WorkshopEvent, workshop: WorkshopSession
) -> WorkshopSession:
    """Make an open session a station of an open event (the caller checked that the actor
    facilitates the session's area)."""
    if not is_open(event):
        raise Conflict(Msg(EVENT_CLOSED))
    if not workshops.is_open(workshop):
        raise Conflict(Msg(SESSION_ENDED))
    if workshop.event_id == event.id:
        return workshop
    return _link(session, actor, workshop, event.id)


def detach(session: Session, *, actor: audit.Actor, workshop: WorkshopSession) -> WorkshopSession:
    if workshop.event_id is None:
        return workshop
    return _link(session, actor, workshop, None)


def _link(
    session: Session, actor: audit.Actor, workshop: WorkshopSession, event_id: int | None
) -> WorkshopSession:
    previous = workshop.event_id
    before = audit.snapshot(workshop)
    workshop.event_id = event_id
    workshop.version += 1
    session.add(workshop)
    workshops._record(
        session, actor, workshop, "workshop_session", workshop.id, AuditOp.update, before, workshop
    )
    messages = [_session_message(workshop, AuditOp.update)]
    messages += [
        (live.workshop_event_channel(i), _event_message(i))
        for i in (previous, event_id)
        if i is not None
    ]
    with audit.lost_race_is_conflict(session):
        live.commit_all(session, messages)
    return workshop


def _audit_event(
    session: Session,
    actor: audit.Actor,
    event: WorkshopEvent,
    op: AuditOp,
    before: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        actor=actor,
        area_id=None,
        entity_type=ENTITY,
        entity_id=event.id,
        op=op,
        before=before,
        after=audit.snapshot(event),
    )


def _session_message(workshop: WorkshopSession, op: AuditOp) -> tuple[str, live.Event]:
    """What a session's own write publishes on its area's channel (see workshops._commit)."""
    return live.area_channel(workshop.area_id), {
        "type": "workshop.changed",
        "session_id": workshop.id,
        "entity": "workshop_session",
        "id": workshop.id,
        "op": op.value,
    }


def _event_message(event_id: int) -> live.Event:
    return {"type": "workshop_event.changed", "event_id": event_id}


def _finish(
    session: Session, event: WorkshopEvent, changed: list[tuple[WorkshopSession, AuditOp]]
) -> None:
    messages = [_session_message(w, op) for w, op in changed]
    messages.append((live.workshop_event_channel(event.id), _event_message(event.id)))
    with audit.lost_race_is_conflict(session, inserts=True):
        live.commit_all(session, messages)
