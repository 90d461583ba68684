"""Workshop sessions: a facilitator opens one for an area, guests join it from their phones with
a short code and post contributions that the facilitator groups, accepts into the plan or
archives."""

from datetime import datetime
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
