"""Workshop sessions: a facilitator opens one for an area, guests join it from their phones with
a short code and post contributions that the facilitator groups, accepts into the plan or
archives."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field


class ContributionKind(StrEnum):
    """What a guest sends, in the workshop's six steps' order, then resources and questions."""

    doe_statement = "doe_statement"  # a desired outcome of education
    problem = "problem"  # with its cause, when the guest gives one (`detail`)
    vision_phrase = "vision_phrase"  # offered to the editor, never written into the vision
    kra_idea = "kra_idea"  # an idea for a key result area
    kpi_idea = "kpi_idea"  # an idea for a KPI
    action_idea = "action_idea"  # an idea for an action
    resource = "resource"  # with one of the four resource dimensions
    question = "question"
    table_summary = "table_summary"  # a World Café table host's summary of a round


class ResourceDimension(StrEnum):
    """The four dimensions of an area's capital and resources (DOMAIN.md §6)."""

    data = "data"  # data and information
    operations = "operations"  # budget, people, agencies, organisations
    knowledge = "knowledge"  # knowledge, know-how and innovations
    policy_social = "policy_social"  # policy and social capital


class ContributionState(StrEnum):
    new = "new"
    accepted = "accepted"
    archived = "archived"


class WorkshopSession(Versioned, SQLModel, table=True):
    """One World Café round or meeting. Its join code is never reused, so an old QR code can
    never lead into a later session."""

    __tablename__ = "workshop_session"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True, ondelete="CASCADE")
    event_id: int | None = Field(
        default=None, foreign_key="workshop_event.id", index=True, ondelete="SET NULL"
    )  # a station of a national event (WorkshopEvent)
    title: str = Field(sa_type=sa.String(200))
    join_code: str = Field(sa_type=sa.String(8), unique=True)
    opened_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    opened_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    version: int = 1


class WorkshopParticipant(SQLModel, table=True):
    """A guest without an account, known afterwards by a random token in a signed cookie; only
    the token's SHA-256 is stored."""

    __tablename__ = "workshop_participant"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="workshop_session.id", index=True, ondelete="CASCADE")
    display_name: str = Field(sa_type=sa.String(60))
    token_hash: str = Field(sa_type=sa.String(64), unique=True)
    attends: str = Field(default="onsite", sa_type=sa.String(10))  # Attendance
    joined_at: datetime = created_at_field()


class Contribution(Versioned, SQLModel, table=True):
    """A guest's idea, problem, resource or question. Accepted problems and ideas link to the
    plan element they became (`accepted_entity` is its audit entity type)."""

    __tablename__ = "workshop_contribution"
    __table_args__ = (
        # the rate limits count the last minute's rows per session and per participant
        sa.Index("ix_workshop_contribution_session_created", "session_id", "created_at"),
        sa.Index("ix_workshop_contribution_participant_created", "participant_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="workshop_session.id", ondelete="CASCADE")
    participant_id: int = Field(foreign_key="workshop_participant.id", ondelete="CASCADE")
    kind: str = Field(sa_type=sa.String(20))
    dimension: str | None = Field(default=None, sa_type=sa.String(20))  # resources only
    text: str = Field(sa_type=sa.String(500))
    detail: str = Field(default="", sa_type=sa.String(500))  # a problem's cause
    group_label: str = Field(default="", sa_type=sa.String(60))
    state: str = Field(default=ContributionState.new.value, sa_type=sa.String(20))
    accepted_entity: str | None = Field(default=None, sa_type=sa.String(40))
    accepted_id: int | None = None
    created_at: datetime = created_at_field()
    version: int = 1
    # World Café: the table and round a guest posted at (none between rounds)
    table_id: int | None = Field(
        default=None, foreign_key="workshop_table.id", index=True, ondelete="SET NULL"
    )
    round_id: int | None = Field(
        default=None, foreign_key="workshop_round.id", index=True, ondelete="SET NULL"
    )


class VoteMode(StrEnum):
    dots = "dots"  # N dots a guest spreads over the items, several on one if they like
    single = "single"  # one choice a guest may move


class WorkshopVote(Versioned, SQLModel, table=True):
    """A vote the facilitator opens on one column (a kind) or one group of the board: guests
    vote from their phones; the vote, its ballots and its results stay with the session."""

    __tablename__ = "workshop_vote"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="workshop_session.id", index=True, ondelete="CASCADE")
    kind: str | None = Field(default=None, sa_type=sa.String(20))  # a column, or
    group_label: str | None = Field(default=None, sa_type=sa.String(60))  # a group
    mode: str = Field(default=VoteMode.dots.value, sa_type=sa.String(10))
    dots: int = 3  # per guest (1 for a single choice)
    opened_at: datetime = created_at_field()
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    version: int = 1


class WorkshopBallot(SQLModel, table=True):
    """One dot a guest put on a contribution (a single choice: their one dot)."""

    __tablename__ = "workshop_ballot"
    __table_args__ = (sa.Index("ix_workshop_ballot_vote_participant", "vote_id", "participant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="workshop_vote.id", ondelete="CASCADE")
    participant_id: int = Field(foreign_key="workshop_participant.id", ondelete="CASCADE")
    contribution_id: int = Field(
        foreign_key="workshop_contribution.id", index=True, ondelete="CASCADE"
    )
    created_at: datetime = created_at_field()


class Attendance(StrEnum):
    """How a guest takes part, as they say on the join page."""

    onsite = "onsite"  # in the hall
    online = "online"


class WorkshopEvent(Versioned, SQLModel, table=True):
    """A national workshop: one station (a workshop session) per area taking part, all shown on
    one projector. Organised by national staff (administrators and reviewers)."""

    __tablename__ = "workshop_event"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=sa.String(200))
    starts_on: date
    ends_on: date
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    closed_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    version: int = 1


class WorkshopTable(SQLModel, table=True):
    """A World Café table: its number (1..N), its question, and its host, who stays at it every
    round (a name the facilitator types, and the host's participant when they joined)."""

    __tablename__ = "workshop_table"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "number", name="uq_workshop_table_session_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="workshop_session.id", index=True, ondelete="CASCADE")
    number: int
    question: str = Field(default="", sa_type=sa.String(300))
    host_name: str = Field(default="", sa_type=sa.String(60))
    host_participant_id: int | None = Field(
        default=None, foreign_key="workshop_participant.id", ondelete="SET NULL"
    )


class WorkshopRound(SQLModel, table=True):
    """A timed World Café round: it runs until `ends_at`, or until the facilitator ends it
    early (`ended_at`)."""

    __tablename__ = "workshop_round"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "number", name="uq_workshop_round_session_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="workshop_session.id", index=True, ondelete="CASCADE")
    number: int
    question: str = Field(default="", sa_type=sa.String(300))  # for every table, if given
    minutes: int
    started_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    ends_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    ended_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class WorkshopSeat(SQLModel, table=True):
    """Where a guest sits in a round (stored when the round starts, or when a guest joins
    during it), so the rotation can be read back and the next round computed from it."""

    __tablename__ = "workshop_seat"
    __table_args__ = (
        sa.UniqueConstraint(
            "round_id", "participant_id", name="uq_workshop_seat_round_participant"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="workshop_round.id", ondelete="CASCADE")
    participant_id: int = Field(
        foreign_key="workshop_participant.id", index=True, ondelete="CASCADE"
    )
    table_id: int = Field(foreign_key="workshop_table.id", index=True, ondelete="CASCADE")
