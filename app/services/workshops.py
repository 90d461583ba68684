"""Workshop sessions: open and close them, let guests join with a code and post contributions,
and let the facilitator group, accept or archive what they posted.

Every write validates, writes, records its audit event in the same transaction, commits, then
publishes `workshop.changed` on the area's channel. Guests write as the process
`guest: <display name>`: they hold no account and no principal, so no plan route lets them in.
Rate limits are counted in the database, so they hold across several workers.
"""

import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import segno
from pydantic import BeforeValidator, Field, model_validator
from sqlalchemy import and_, bindparam, func
from sqlmodel import Session, SQLModel, col, select

from app.i18n import N_, THAI_TZ, as_utc, gettext
from app.models import (
    Area,
    Contribution,
    LearningQuestion,
    ProblemNode,
    Resource,
    WorkshopParticipant,
    WorkshopSession,
)
from app.models.base import utcnow
from app.models.enums import AuditOp
from app.models.workshops import (
    Attendance,
    ContributionKind,
    ContributionState,
    ResourceDimension,
)
from app.schemas import InputModel, MultiFieldError, Text, fail
from app.services import audit, plans, problems, records, reflections, resources
from app.services.errors import Conflict, Msg, NotFound, ServiceError, ValidationFailed
from app.services.plan_tree import current_plans
from app.services.validation import validate

# Join codes: no 0/O, 1/I/L, so a code read off a projector is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DEFAULT_DURATION = timedelta(hours=12)
MAX_DURATION = timedelta(days=7)
TITLE_MAX = 200
NAME_MAX = 60
TEXT_MAX = 500
GROUP_MAX = 60
PER_PARTICIPANT_PER_MINUTE = 5
PER_SESSION_PER_MINUTE = 120
RATE_WINDOW = timedelta(minutes=1)
QR_SCALE = 10  # pixels per module: about 370 px square, sharp when projected larger

# What an accepted contribution becomes in the plan (a resource goes into the area's resource
# inventory, see `accept`; a question: nothing yet).
ACCEPT_INTO = {  # into the plan's elements; a problem goes into the problem tree
    ContributionKind.doe_statement: "doe",
    ContributionKind.kra_idea: "kras",
    ContributionKind.kpi_idea: "kpis",
    ContributionKind.action_idea: "actions",
}
KPI_DEFAULTS = {"kind": "percentage", "period_type": "academic_year", "direction": "higher"}
ACCEPT_REASON = "From workshop contribution: {title}"
VISION_PHRASES = 50  # the newest accepted vision phrases the plan editor offers

ENDED = N_("This workshop session has ended: its code no longer works.")
UNKNOWN_CODE = N_("No workshop session has this code. Check the code on the screen and try again.")


class SessionEnded(ServiceError):
    """Closed by the facilitator or past its expiry: nothing more can be posted."""

    status_code = 410

    def __init__(self) -> None:
        self.message = Msg(ENDED)
        super().__init__(ENDED)


class RateLimited(ServiceError):
    status_code = 429

    def __init__(self, message: Msg) -> None:
        self.message = message
        super().__init__(message.msgid)


# ---- input ----------------------------------------------------------------------------------


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _one_line(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


def _text(value: Any) -> Any:
    """Trimmed, with Windows line ends made plain (a phone keyboard may send either)."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class WorkshopIn(InputModel):
    title: Annotated[str, BeforeValidator(_one_line)] = Field(min_length=1, max_length=TITLE_MAX)
    # a browser's datetime-local value: a time in Thailand, without a zone
    closes_at: Annotated[datetime | None, BeforeValidator(_blank_to_none)] = None


class ParticipantIn(InputModel):
    display_name: Annotated[str, BeforeValidator(_one_line)] = Field(
        min_length=1, max_length=NAME_MAX
    )
    # in the hall unless they say online (an older join form sends nothing)
    attends: Attendance = Attendance.onsite

    @model_validator(mode="before")
    @classmethod
    def _attends_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("attends") in (None, ""):
            data = {**data, "attends": Attendance.onsite.value}
        return data


class ContributionIn(InputModel):
    kind: ContributionKind
    dimension: Annotated[ResourceDimension | None, BeforeValidator(_blank_to_none)] = None
    text: Annotated[str, BeforeValidator(_text)] = Field(min_length=1, max_length=TEXT_MAX)
    detail: Annotated[str, BeforeValidator(_text)] = Field(default="", max_length=TEXT_MAX)
    # the World Café round the phone showed (app/services/rounds.py), if any
    round_id: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, ge=1, le=2**31 - 1
    )

    @model_validator(mode="after")
    def _dimension_for_resources(self) -> "ContributionIn":
        """A resource's dimension and a problem's cause belong to those kinds only: sent with
        another kind (a form switched between kinds), they are dropped."""
        if self.kind != ContributionKind.problem:
            self.detail = ""
        if self.kind != ContributionKind.resource:
            self.dimension = None
        elif self.dimension is None:
            raise MultiFieldError({"dimension": fail("Choose which kind of resource this is.")})
        return self


class GroupIn(InputModel):
    group_label: Text = Field(default="", max_length=GROUP_MAX)


# ---- join codes and tokens ------------------------------------------------------------------


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What someone typed, as a stored code: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-_.]+", "", text or "").upper()


def is_code(text: str) -> bool:
    return len(text) == CODE_LENGTH and all(c in CODE_ALPHABET for c in text)


def format_code(code: str) -> str:
    """Two groups of four, easier to read off a screen: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- reading --------------------------------------------------------------------------------


def is_open(workshop: WorkshopSession, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return workshop.closed_at is None and as_utc(workshop.expires_at) > now


def get_workshop(session: Session, *, area_id: int, workshop_id: int) -> WorkshopSession:
    """The session, only when it belongs to this area."""
    row = session.get(WorkshopSession, workshop_id)
    if row is None or row.area_id != area_id:
        raise NotFound(f"workshop/{workshop_id}")
    return row


def find_code(session: Session, code: str) -> WorkshopSession | None:
    """The session a join code names, open or not."""
    code = normalize_code(code)
    if not is_code(code):
        return None
    return session.exec(select(WorkshopSession).where(WorkshopSession.join_code == code)).first()


def by_code(session: Session, code: str) -> WorkshopSession:
    """The session a join code names (NotFound), if still open (SessionEnded)."""
    return guest_by_code(session, code, None)[0]


# Built once: the statements a hall of phones runs dozens of times a second cost their building
# and keying each time otherwise (about 0.2 ms each, more than running them on SQLite).
_GUEST_BY_CODE = (
    select(WorkshopSession, WorkshopParticipant)
    .outerjoin(
        WorkshopParticipant,
        and_(
            WorkshopParticipant.session_id == WorkshopSession.id,
            WorkshopParticipant.token_hash == bindparam("token_hash"),
        ),
    )
    .where(WorkshopSession.join_code == bindparam("code"))
)


def guest_by_code(
    session: Session, code: str, token: str | None
) -> tuple[WorkshopSession, WorkshopParticipant | None]:
    """`by_code`, and with a guest's token the guest it names (`participant_by_token`) in the
    same query: a hall of phones sends dozens of these a second."""
    workshop, participant = None, None
    if not token:
        workshop = find_code(session, code)
    elif is_code(code := normalize_code(code)):
        params = {"code": code, "token_hash": _token_hash(token)}
        row = session.exec(_GUEST_BY_CODE, params=params).first()
        workshop, participant = row if row is not None else (None, None)
    if workshop is None:
        raise NotFound(UNKNOWN_CODE)
    if not is_open(workshop):
        raise SessionEnded()
    return workshop, participant


def open_session(session: Session, area_id: int) -> WorkshopSession | None:
    """The newest open, unexpired session of an area (for the presentation page)."""
    query = (
        select(WorkshopSession)
        .where(
            WorkshopSession.area_id == area_id,
            col(WorkshopSession.closed_at).is_(None),
            WorkshopSession.expires_at > utcnow(),
        )
        .order_by(col(WorkshopSession.opened_at).desc(), col(WorkshopSession.id).desc())
    )
    return session.exec(query).first()


def sessions_of(session: Session, area_id: int) -> list[WorkshopSession]:
    query = (
        select(WorkshopSession)
        .where(WorkshopSession.area_id == area_id)
        .order_by(col(WorkshopSession.opened_at).desc(), col(WorkshopSession.id).desc())
    )
    return list(session.exec(query).all())


# Built once, as _GUEST_BY_CODE: a board on a screen asks for them a few times a second.
_COUNTS = (
    select(Contribution.session_id, func.count())
    .where(col(Contribution.session_id).in_(bindparam("ids", expanding=True)))
    .group_by(Contribution.session_id)
)
_COLUMN_COUNTS = (
    select(Contribution.kind, func.count())
    .where(
        Contribution.session_id == bindparam("session_id"),
        Contribution.state != ContributionState.archived.value,
    )
    .group_by(Contribution.kind)
)
_CARDS = (
    select(Contribution, WorkshopParticipant.display_name)
    .join(WorkshopParticipant, col(WorkshopParticipant.id) == Contribution.participant_id)
    .where(Contribution.session_id == bindparam("session_id"))
    .order_by(col(Contribution.created_at).desc(), col(Contribution.id).desc())
)
_CARDS_AFTER = _CARDS.where(col(Contribution.id) > bindparam("after"))


def contribution_counts(session: Session, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    return dict(session.exec(_COUNTS, params={"ids": list(session_ids)}).all())


def column_counts(session: Session, workshop: WorkshopSession) -> dict[str, int]:
    """Cards per column (archived ones apart), for a board that appended the newest only."""
    return dict(session.exec(_COLUMN_COUNTS, params={"session_id": workshop.id}).all())


def participant_by_token(
    session: Session, workshop: WorkshopSession, token: str | None
) -> WorkshopParticipant | None:
    if not token:
        return None
    query = select(WorkshopParticipant).where(
        WorkshopParticipant.token_hash == _token_hash(token),
        WorkshopParticipant.session_id == workshop.id,
    )
    return session.exec(query).first()


def contributions_of(session: Session, participant: WorkshopParticipant) -> list[Contribution]:
    """A guest's own contributions, newest first."""
    query = (
        select(Contribution)
        .where(Contribution.participant_id == participant.id)
        .order_by(col(Contribution.created_at).desc(), col(Contribution.id).desc())
    )
    return list(session.exec(query).all())


@dataclass
class Card:
    contribution: Contribution
    author: str
    element: SQLModel | None = None  # the plan element it became, while it exists

    @property
    def element_kind(self) -> str | None:
        return element_kind(self.contribution.accepted_entity)

    @property
    def draft(self) -> bool:
        """Accepted into the plan (or its problem tree) and not edited by anyone since."""
        in_plan = (
            self.element_kind is not None or self.contribution.accepted_entity == problems.ENTITY
        )
        if self.element is None or not in_plan:  # a resource is no plan draft
            return False
        return getattr(self.element, "version", 0) == 1


@dataclass
class Board:
    """A session's contributions by kind, newest first; archived ones apart."""

    workshop: WorkshopSession
    columns: dict[str, list[Card]] = field(default_factory=dict)
    archived: dict[str, list[Card]] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)  # group label -> cards in it
    participants: int = 0
    is_open: bool = True
    last_id: int = 0  # the newest contribution's id: a board asks for what came after it

    @property
    def cards(self) -> list[Card]:
        return [c for cards in (*self.columns.values(), *self.archived.values()) for c in cards]

    @property
    def drafts(self) -> int:
        return sum(1 for c in self.cards if c.draft)

    @property
    def total(self) -> int:
        return len(self.cards)


def board_view(session: Session, workshop: WorkshopSession, *, after: int | None = None) -> Board:
    """The whole board, or (`after`) only the contributions newer than that id: what a board on
    a screen appends when guests post, instead of reloading hundreds of cards."""
    if after is None:
        rows = session.exec(_CARDS, params={"session_id": workshop.id}).all()
    else:
        rows = session.exec(_CARDS_AFTER, params={"session_id": workshop.id, "after": after}).all()
    elements = _accepted_elements(session, [c for c, _ in rows])
    board = Board(workshop, is_open=is_open(workshop), last_id=after or 0)
    board.columns = {kind.value: [] for kind in ContributionKind}
    board.archived = {kind.value: [] for kind in ContributionKind}
    for contribution, name in rows:
        key = (contribution.accepted_entity, contribution.accepted_id)
        card = Card(contribution, name, elements.get(key))
        archived = contribution.state == ContributionState.archived
        (board.archived if archived else board.columns)[contribution.kind].append(card)
        board.last_id = max(board.last_id, contribution.id or 0)
        if contribution.group_label:
            board.groups[contribution.group_label] = (
                board.groups.get(contribution.group_label, 0) + 1
            )
    board.participants = session.exec(
        select(func.count())
        .select_from(WorkshopParticipant)
        .where(WorkshopParticipant.session_id == workshop.id)
    ).one()
    return board


def _accepted_elements(
    session: Session, contributions: list[Contribution]
) -> dict[tuple[str, int], SQLModel]:
    """The plan elements accepted contributions became: one query per element kind."""
    wanted: dict[str, set[int]] = {}
    for c in contributions:
        if c.accepted_entity and c.accepted_id is not None:
            wanted.setdefault(c.accepted_entity, set()).add(c.accepted_id)
    found: dict[tuple[str, int], SQLModel] = {}
    for entity_type, ids in wanted.items():
        spec = next((s for s in plans.SPECS.values() if s.entity_type == entity_type), None)
        model = {
            resources.RESOURCES.entity_type: Resource,
            reflections.QUESTION.entity_type: LearningQuestion,
            problems.ENTITY: ProblemNode,
        }.get(entity_type)
        model = spec.model if spec is not None else model
        if model is None:
            continue
        rows = session.exec(select(model).where(col(model.id).in_(ids))).all()
        found.update({(entity_type, row.id): row for row in rows})
    return found


def element_kind(entity_type: str | None) -> str | None:
    """The plan editor's kind (URL segment) of an audit entity type."""
    return plans.ENTITY_KINDS.get(entity_type or "")


# ---- the facilitator's writes ---------------------------------------------------------------


def create_session(
    session: Session,
    *,
    actor: audit.Actor,
    area_id: int,
    workshop_in: dict[str, Any],
    event_id: int | None = None,
    commit: bool = True,
) -> WorkshopSession:
    """Open a session; `commit=False` records it in the caller's transaction (an event opens
    all its stations in one)."""
    data = validate(WorkshopIn, workshop_in)
    now = utcnow()
    expires_at = _closing_time(data.closes_at, now)
    row = WorkshopSession(
        area_id=area_id,
        event_id=event_id,
        title=data.title,
        join_code=_unused_code(session),
        opened_by=actor.id,
        opened_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    if commit:
        _commit(session, actor, row, "workshop_session", row.id, AuditOp.create, None, row)
    else:
        _record(session, actor, row, "workshop_session", row.id, AuditOp.create, None, row)
    return row


def _closing_time(closes_at: datetime | None, now: datetime) -> datetime:
    if closes_at is None:
        return now + DEFAULT_DURATION
    moment = closes_at if closes_at.tzinfo else closes_at.replace(tzinfo=THAI_TZ)
    moment = moment.astimezone(UTC)
    if moment <= now:
        raise ValidationFailed({"closes_at": Msg(N_("Choose a time in the future."))})
    if moment > now + MAX_DURATION:
        raise ValidationFailed(
            {"closes_at": Msg(N_("A session stays open at most %(days)s days."), {"days": 7})}
        )
    return moment


def _unused_code(session: Session) -> str:
    """A fresh code no session ever had (the unique index also guards a race)."""
    while True:
        code = new_join_code()
        taken = session.exec(
            select(WorkshopSession.id).where(WorkshopSession.join_code == code)
        ).first()
        if taken is None:
            return code


def close_session(
    session: Session, *, actor: audit.Actor, workshop: WorkshopSession, commit: bool = True
) -> WorkshopSession:
    """Close now; closing a session that has ended already changes nothing. `commit=False`
    records it in the caller's transaction (closing an event closes its stations in one)."""
    if workshop.closed_at is not None:
        return workshop
    before = audit.snapshot(workshop)
    workshop.closed_at = utcnow()
    workshop.closed_by = actor.id
    workshop.version += 1
    session.add(workshop)
    tail = _commit if commit else _record
    tail(
        session, actor, workshop, "workshop_session", workshop.id, AuditOp.update, before, workshop
    )
    return workshop


def _contribution(
    session: Session, workshop: WorkshopSession, contribution_id: int
) -> Contribution:
    """Load and lock the contribution (PostgreSQL: a second facilitator's click waits)."""
    row = session.exec(
        select(Contribution)
        .where(Contribution.id == contribution_id, Contribution.session_id == workshop.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound(f"contribution/{contribution_id}")
    return row


def set_group(
    session: Session,
    *,
    actor: audit.Actor,
    workshop: WorkshopSession,
    contribution_id: int,
    group_in: dict[str, Any],
) -> Contribution:
    """Put the contribution in a named group (a blank name takes it out of its group)."""
    data = validate(GroupIn, group_in)
    row = _contribution(session, workshop, contribution_id)
    return _change(session, actor, workshop, row, group_label=data.group_label)


def archive(
    session: Session,
    *,
    actor: audit.Actor,
    workshop: WorkshopSession,
    contribution_id: int,
    archived: bool = True,
) -> Contribution:
    row = _contribution(session, workshop, contribution_id)
    if row.state == ContributionState.accepted:
        session.rollback()
        raise Conflict(Msg(N_("This contribution is in the plan already: it cannot be archived.")))
    state = ContributionState.archived if archived else ContributionState.new
    return _change(session, actor, workshop, row, state=state.value)


def _change(
    session: Session,
    actor: audit.Actor,
    workshop: WorkshopSession,
    row: Contribution,
    **values: Any,
) -> Contribution:
    if all(getattr(row, k) == v for k, v in values.items()):
        session.rollback()  # nothing to change: release the lock
        return row
    before = audit.snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.version += 1
    session.add(row)
    _commit(session, actor, workshop, "contribution", row.id, AuditOp.update, before, row)
    return row


def accept(
    session: Session, *, actor: audit.Actor, workshop: WorkshopSession, contribution_id: int
) -> Contribution:
    """Accept a contribution. A problem, KPI idea or action idea becomes a draft element of the
    area's current plan, created like any other (its history gives the session as the reason);
    a resource becomes an entry of the area's resource inventory and a question an open
    learning question, in the same transaction as the contribution's change."""
    row = _contribution(session, workshop, contribution_id)
    if row.state == ContributionState.accepted:
        session.rollback()
        raise Conflict(Msg(N_("This contribution was accepted already.")))
    before = audit.snapshot(row)
    row.state = ContributionState.accepted.value
    row.version += 1
    kind = ACCEPT_INTO.get(ContributionKind(row.kind))
    reason = ACCEPT_REASON.format(title=workshop.title)
    if kind is not None:
        plan = _plan_to_accept_into(session, workshop)
        row.accepted_entity = plans.get_spec(kind).entity_type
        session.add(row)
        # create_element commits the element with this contribution's new state, atomically;
        # the link to the element's id follows in the contribution's own audited commit
        try:
            element = plans.create_element(
                session,
                actor=actor,
                plan=plan,
                kind=kind,
                element_in=_element_in(session, plan, kind, row.text),
                reason=reason,
            )
        except ServiceError:
            session.rollback()
            raise
        row.accepted_id = element.id
    elif row.kind == ContributionKind.problem:  # a problem at the top of the tree
        plan = _plan_to_accept_into(session, workshop)
        row.accepted_entity = problems.ENTITY
        session.add(row)
        try:  # like create_element above: commits the node with the contribution's new state
            node = problems.create_node(
                session, actor=actor, plan=plan, node_in={"text": row.text}, reason=reason
            )
            if row.detail:  # its cause, under it (validated with the contribution already)
                problems.create_node(
                    session,
                    actor=actor,
                    plan=plan,
                    node_in={"text": row.detail},
                    parent_id=node.id,
                    reason=reason,
                )
        except ServiceError:
            session.rollback()
            raise
        row.accepted_id = node.id
    elif row.kind == ContributionKind.vision_phrase:  # offered beside the vision, not written in
        plan = _plan_to_accept_into(session, workshop)
        row.accepted_entity, row.accepted_id = "plan", plan.id
    elif row.kind == ContributionKind.resource:
        try:
            made = resources.from_contribution(
                session, actor=actor, area=session.get(Area, workshop.area_id), contribution=row
            )
        except ServiceError:
            session.rollback()
            raise
        row.accepted_entity, row.accepted_id = resources.RESOURCES.entity_type, made.id
    elif row.kind == ContributionKind.question:  # a learning question of the area, open
        made = records.create(
            session,
            actor=actor,
            area=session.get(Area, workshop.area_id),
            spec=reflections.QUESTION,
            record_in={"question": row.text},
            commit=False,
        )
        row.accepted_entity, row.accepted_id = reflections.QUESTION.entity_type, made.id
    session.add(row)
    _commit(session, actor, workshop, "contribution", row.id, AuditOp.update, before, row, reason)
    return row


def vision_phrases(session: Session, area_id: int) -> list[tuple[Contribution, str]]:
    """The vision phrases accepted from the area's workshop sessions, newest first, each with its
    session's title: what the plan editor offers beside the vision (one query)."""
    rows = session.exec(
        select(Contribution, WorkshopSession.title)
        .join(WorkshopSession, col(WorkshopSession.id) == Contribution.session_id)
        .where(
            WorkshopSession.area_id == area_id,
            Contribution.kind == ContributionKind.vision_phrase.value,
            Contribution.state == ContributionState.accepted.value,
        )
        .order_by(col(Contribution.created_at).desc(), col(Contribution.id).desc())
        .limit(VISION_PHRASES)
    ).all()
    return [(c, title) for c, title in rows]


def _plan_to_accept_into(session: Session, workshop: WorkshopSession) -> Any:
    plan = current_plans(session, [workshop.area_id]).get(workshop.area_id)
    if plan is None:
        session.rollback()
        raise Conflict(Msg(N_("This area has no plan yet: start the plan, then accept.")))
    return plan


def _element_in(session: Session, plan: Any, kind: str, text: str) -> dict[str, Any]:
    if kind == "doe":
        return {"text": text}
    code = plans.suggest_code(session, plan=plan, kind=kind)
    if kind == "kpis":
        return {"code": code, "name": text, **KPI_DEFAULTS}
    return {"code": code, "title": text}


# ---- the guests' writes ---------------------------------------------------------------------


def join(
    session: Session, *, workshop: WorkshopSession, participant_in: dict[str, Any]
) -> tuple[WorkshopParticipant, str]:
    """A guest joins under a display name; returns the participant and its plain token (for the
    cookie: only its hash is stored)."""
    if not is_open(workshop):
        raise SessionEnded()
    data = validate(ParticipantIn, participant_in)
    token = secrets.token_urlsafe(32)
    row = WorkshopParticipant(
        session_id=workshop.id,
        display_name=data.display_name,
        token_hash=_token_hash(token),
        attends=data.attends.value,
    )
    session.add(row)
    session.flush()
    from app.services import rounds  # noqa: PLC0415 (rounds builds on this module)

    rounds.seat_newcomer(session, workshop, row.id)  # joining during a World Café round
    after = {"session_id": workshop.id, "display_name": row.display_name, "attends": row.attends}
    _commit(
        session,
        guest(row),
        workshop,
        "workshop_participant",
        row.id,
        AuditOp.create,
        None,
        after,
        change="participant.joined",
    )
    return row, token


def guest(participant: WorkshopParticipant) -> audit.Actor:
    return audit.Actor.process(f"guest: {participant.display_name}")


def contribute(
    session: Session,
    *,
    workshop: WorkshopSession,
    participant: WorkshopParticipant,
    contribution_in: dict[str, Any],
) -> Contribution:
    if participant.session_id != workshop.id:
        raise NotFound(f"participant/{participant.id}")
    # lock the session row while counting: two workers cannot both take the last free slot
    locked = session.exec(
        select(WorkshopSession)
        .where(WorkshopSession.id == workshop.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if not is_open(locked):
        session.rollback()
        raise SessionEnded()
    try:
        data = validate(ContributionIn, contribution_in)
    except ValidationFailed:
        session.rollback()
        raise
    from app.services import rounds  # noqa: PLC0415 (rounds builds on this module)

    try:
        round_id, table_id, replaced = rounds.place(
            session,
            workshop=workshop,
            participant=participant,
            kind=data.kind.value,
            round_id=data.round_id,
        )
    except ServiceError:
        session.rollback()
        raise
    if replaced is not None:  # a host's second summary of a round: it replaces the first
        before = audit.snapshot(replaced)
        replaced.text, replaced.version = data.text, replaced.version + 1
        session.add(replaced)
        _commit(
            session,
            guest(participant),
            workshop,
            "contribution",
            replaced.id,
            AuditOp.update,
            before,
            replaced,
        )
        return replaced
    _check_rate(session, workshop, participant)
    row = Contribution(
        session_id=workshop.id,
        participant_id=participant.id,
        kind=data.kind.value,
        dimension=data.dimension.value if data.dimension else None,
        text=data.text,
        detail=data.detail,
        table_id=table_id,
        round_id=round_id,
    )
    session.add(row)
    session.flush()
    # counted again after the write: SQLite has no row lock, but a writer holds the database
    # until it commits, so a contribution another request added meanwhile shows here
    _check_rate(session, workshop, participant, written=1)
    _commit(
        session,
        guest(participant),
        workshop,
        "contribution",
        row.id,
        AuditOp.create,
        None,
        row,
        # a host's summary shows in the café panel: the boards reload whole for it
        change="workshop.changed"
        if row.kind == ContributionKind.table_summary
        else "contribution.created",
    )
    return row


def _check_rate(
    session: Session, workshop: WorkshopSession, participant: WorkshopParticipant, written: int = 0
) -> None:
    """Refuse when the last minute holds the limit already (`written`: rows of this request
    among them, when counting again after the write)."""
    since = utcnow() - RATE_WINDOW
    mine = _count_since(session, Contribution.participant_id == participant.id, since) - written
    if mine >= PER_PARTICIPANT_PER_MINUTE:
        session.rollback()
        raise RateLimited(
            Msg(
                N_(
                    "You can send at most %(n)s contributions a minute. Wait a moment, then send again."
                ),
                {"n": PER_PARTICIPANT_PER_MINUTE},
            )
        )
    everyone = _count_since(session, Contribution.session_id == workshop.id, since) - written
    if everyone >= PER_SESSION_PER_MINUTE:
        session.rollback()
        raise RateLimited(
            Msg(N_("Many people are sending right now. Wait a moment, then send again."))
        )


def _count_since(session: Session, condition: Any, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(Contribution)
        .where(condition, Contribution.created_at > since)
    )
    return session.exec(query).one()


# ---- helpers --------------------------------------------------------------------------------


# the live events of a session's writes (their `type`; see `_commit`)
CHANGES = frozenset({"workshop.changed", "participant.joined", "contribution.created", "vote.cast"})


def _commit(
    session: Session,
    actor: audit.Actor,
    workshop: WorkshopSession,
    entity_type: str,
    entity_id: int | None,
    op: AuditOp,
    before: dict[str, Any] | None,
    after: SQLModel | dict[str, Any] | None,
    reason: str | None = None,
    change: str = "workshop.changed",
) -> None:
    """The tail of every workshop write (see `audit.commit`). `change` names the live event:
    `workshop.changed` makes boards reload whole; the frequent guest writes have their own
    (`participant.joined`, `contribution.created`, `vote.cast`) so that boards fetch only what
    is new (see `board_view`'s `after`)."""
    audit.commit(
        session,
        actor=actor,
        area_id=workshop.area_id,
        entity_type=entity_type,
        entity_id=entity_id,
        op=op,
        before=before,
        after=audit.snapshot(after) if isinstance(after, SQLModel) else after,
        reason=reason,
        publish={
            "type": change,
            "session_id": workshop.id,
            "entity": entity_type,
            "id": entity_id,
            "op": op.value,
        },
    )


def _record(
    session: Session,
    actor: audit.Actor,
    workshop: WorkshopSession,
    entity_type: str,
    entity_id: int | None,
    op: AuditOp,
    before: dict[str, Any] | None,
    after: SQLModel | dict[str, Any] | None,
) -> None:
    """Like `_commit`, in the caller's transaction: the caller commits and publishes."""
    audit.record(
        session,
        actor=actor,
        area_id=workshop.area_id,
        entity_type=entity_type,
        entity_id=entity_id,
        op=op,
        before=before,
        after=audit.snapshot(after) if isinstance(after, SQLModel) else after,
    )


# ---- the QR code ----------------------------------------------------------------------------


def join_qr_svg(url: str, *, title: str | None = None) -> str:
    """The join address as an inline SVG QR code: dark modules on white, a quiet zone, a title
    for screen readers; no XML declaration. Sized by its viewBox, so CSS can scale it up."""
    qr = segno.make(url, error="m")
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        scale=QR_SCALE,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgclass="qr",
        lineclass=None,
        omitsize=True,
        title=title or gettext(N_("QR code: scan it to join the workshop")),
    )
    size = (qr.symbol_size(scale=QR_SCALE, border=4))[0]
    svg = out.getvalue().decode()
    return svg.replace("<svg ", f'<svg role="img" width="{size}" height="{size}" ', 1)
