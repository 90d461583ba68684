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
