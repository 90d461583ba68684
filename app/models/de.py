"""The developmental-evaluation layer (DOMAIN.md §5–6): what the committee learns while the plan
runs. Plan versions, reflections and what came of them, learning questions, key developments,
emergent outcomes, outcome mapping (boundary partners, progress markers and their ratings), the
area's resources and data catalogue, and its guiding principles.

These records belong to the area, not to one plan: they outlive a plan that is replaced. Each is
written through its service with an audit event of its own entity type (the table name).
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field

TEXT = sa.Text()
AREA_FK = {"foreign_key": "area.id", "index": True, "ondelete": "CASCADE"}


def _user_fk() -> Any:
    return Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


def _agency_fk() -> Any:
    return Field(default=None, foreign_key="agency.id", ondelete="SET NULL")


# ---- adaptations (on the audit event) and plan versions -------------------------------------


class ReasonCategory(StrEnum):
    """Why the plan changed: stored on the change's audit event (`reason_category`)."""

    new_evidence = "new_evidence"
    context_changed = "context_changed"
    feasibility = "feasibility"
    stakeholder_feedback = "stakeholder_feedback"
    emergent_outcome = "emergent_outcome"
    policy_change = "policy_change"


class PlanVersion(SQLModel, table=True):
    """A named, immutable copy of the plan as it stood at `as_of` ("v1 workshop output
    มิ.ย. 2566"). `snapshot` holds what `maps.state_at` replays: the elements' columns and links,
    the vision and the per-period targets, so a version compares like any moment."""

    __tablename__ = "plan_version"
    __table_args__ = (sa.UniqueConstraint("area_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    name: str = Field(sa_type=sa.String(200))
    note: str = Field(default="", sa_type=TEXT)
    as_of: datetime = Field(sa_type=sa.DateTime(timezone=True))
    snapshot: dict[str, Any] = Field(sa_type=sa.JSON())
    created_by: int | None = _user_fk()
    created_at: datetime = created_at_field()


# ---- reflections, what came of them, learning questions, key developments -------------------


class Reflection(Versioned, SQLModel, table=True):
    """A What? So what? Now what? reflection. `figures` is a frozen copy of the figures the
    committee looked at (codes, names, values, targets and statuses as they were shown)."""

    __tablename__ = "reflection"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    held_on: date
    title: str = Field(sa_type=sa.String(300))
    participants: str = Field(default="", sa_type=TEXT)
    period: str | None = Field(default=None, sa_type=sa.String(20))
    what: str = Field(default="", sa_type=TEXT)
    so_what: str = Field(default="", sa_type=TEXT)
    now_what: str = Field(default="", sa_type=TEXT)
    figures: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON())
    created_by: int | None = _user_fk()
    created_at: datetime = created_at_field()
    version: int = 1


class ReflectionElement(SQLModel, table=True):
    """A plan element the reflection looked at (entity type `kra`, `kpi` or `action`)."""

    __tablename__ = "reflection_element"
    __table_args__ = (sa.Index("ix_reflection_element_entity", "entity_type", "entity_id"),)

    reflection_id: int = Field(foreign_key="reflection.id", primary_key=True, ondelete="CASCADE")
    entity_type: str = Field(sa_type=sa.String(40), primary_key=True)
    entity_id: int = Field(primary_key=True)


class FollowUpKind(StrEnum):
    action = "action"  # a new action in the plan
    proposal = "proposal"  # a change proposal for the committee
    question = "question"  # a learning question


class ReflectionFollowUp(SQLModel, table=True):
    """A "Now what" line turned into an action, a change proposal or a learning question: the
    link both ways (`target_type` is the audit entity type of what it became)."""

    __tablename__ = "reflection_follow_up"
    __table_args__ = (sa.Index("ix_reflection_follow_up_target", "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    reflection_id: int = Field(foreign_key="reflection.id", index=True, ondelete="CASCADE")
    line: str = Field(sa_type=TEXT)
    kind: str = Field(sa_type=sa.String(20))  # FollowUpKind
    target_type: str = Field(sa_type=sa.String(40))
    target_id: int
    created_at: datetime = created_at_field()


class ProposalState(StrEnum):
    open = "open"
    adopted = "adopted"
    declined = "declined"


class ChangeProposal(Versioned, SQLModel, table=True):
    """A change to the plan put to the committee, optionally about one element."""

    __tablename__ = "change_proposal"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    text: str = Field(sa_type=TEXT)
    element_type: str | None = Field(default=None, sa_type=sa.String(40))
    element_id: int | None = None
    state: str = Field(default=ProposalState.open.value, sa_type=sa.String(20))
    decision_note: str = Field(default="", sa_type=TEXT)
    decided_on: date | None = None
    created_by: int | None = _user_fk()
    created_at: datetime = created_at_field()
    version: int = 1


class QuestionState(StrEnum):
    open = "open"
    answered = "answered"
    retired = "retired"


class LearningQuestion(Versioned, SQLModel, table=True):
    """What the committee wants to learn while the plan runs, and what answered it."""

    __tablename__ = "learning_question"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    position: int = 0
    question: str = Field(sa_type=TEXT)
    state: str = Field(default=QuestionState.open.value, sa_type=sa.String(20))
    answer: str = Field(default="", sa_type=TEXT)
    evidence: str = Field(default="", sa_type=TEXT)  # what answered it: sources, figures
    answered_on: date | None = None
    answer_reflection_id: int | None = Field(
        default=None, foreign_key="reflection.id", ondelete="SET NULL"
    )
    created_at: datetime = created_at_field()
    version: int = 1


class DevelopmentKind(StrEnum):
    decision = "decision"
    context_change = "context_change"
    milestone = "milestone"
    surprise = "surprise"


class KeyDevelopment(Versioned, SQLModel, table=True):
    """A free entry on the area's timeline."""

    __tablename__ = "key_development"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    happened_on: date
    kind: str = Field(sa_type=sa.String(20))  # DevelopmentKind
    title: str = Field(sa_type=sa.String(300))
    description: str = Field(default="", sa_type=TEXT)
    created_by: int | None = _user_fk()
    created_at: datetime = created_at_field()
    version: int = 1


# ---- emergent outcomes (outcome harvesting) -------------------------------------------------


class Substantiation(StrEnum):
    draft = "draft"
    confirmed = "confirmed"  # confirmed by the source
    substantiated = "substantiated"  # by an independent person
    disputed = "disputed"


class EmergentOutcome(Versioned, SQLModel, table=True):
    """An observed change in a social actor: who changed what, when and where."""

    __tablename__ = "emergent_outcome"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    observed_on: date
    who: str = Field(sa_type=sa.String(300))
    change: str = Field(sa_type=TEXT)
    place: str = Field(default="", sa_type=sa.String(300))
    significance: str = Field(default="", sa_type=TEXT)
    contribution: str = Field(default="", sa_type=TEXT)  # how the area's actions contributed
    evidence: str = Field(default="", sa_type=TEXT)
    substantiation: str = Field(default=Substantiation.draft.value, sa_type=sa.String(20))
    positive: bool = True
    planned: bool = False
    created_by: int | None = _user_fk()
    created_at: datetime = created_at_field()
    version: int = 1


class OutcomeAction(SQLModel, table=True):
    __tablename__ = "outcome_action"

    outcome_id: int = Field(foreign_key="emergent_outcome.id", primary_key=True, ondelete="CASCADE")
    action_id: int = Field(foreign_key="action.id", primary_key=True, ondelete="CASCADE")


class OutcomeKRA(SQLModel, table=True):
    __tablename__ = "outcome_kra"

    outcome_id: int = Field(foreign_key="emergent_outcome.id", primary_key=True, ondelete="CASCADE")
    kra_id: int = Field(foreign_key="key_result_area.id", primary_key=True, ondelete="CASCADE")


class OutcomeDOEItem(SQLModel, table=True):
    __tablename__ = "outcome_doe_item"

    outcome_id: int = Field(foreign_key="emergent_outcome.id", primary_key=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="doe_item.id", primary_key=True)


# ---- outcome mapping ------------------------------------------------------------------------


class MarkerLevel(StrEnum):
    expect = "expect"  # expect to see
    like = "like"  # like to see
    love = "love"  # love to see


class MarkerRating(StrEnum):
    not_yet = "not_yet"
    low = "low"
    medium = "medium"
    high = "high"


class BoundaryPartner(Versioned, SQLModel, table=True):
    """An actor the area influences directly, with its one outcome challenge."""

    __tablename__ = "boundary_partner"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    position: int = 0
    name: str = Field(sa_type=sa.String(300))
    description: str = Field(default="", sa_type=TEXT)
    outcome_challenge: str = Field(default="", sa_type=TEXT)
    version: int = 1


class ProgressMarker(Versioned, SQLModel, table=True):
    """A graduated progress marker. A retired marker keeps its ratings; it is not rated for
    periods from `retired_period` on."""

    __tablename__ = "progress_marker"

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="boundary_partner.id", index=True, ondelete="CASCADE")
    level: str = Field(sa_type=sa.String(10))  # MarkerLevel
    position: int = 0
    text: str = Field(sa_type=TEXT)
    added_period: str | None = Field(default=None, sa_type=sa.String(20))
    retired_period: str | None = Field(default=None, sa_type=sa.String(20))
    version: int = 1


class ProgressMarkerRating(Versioned, SQLModel, table=True):
    __tablename__ = "progress_marker_rating"
    __table_args__ = (sa.UniqueConstraint("marker_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    marker_id: int = Field(foreign_key="progress_marker.id", index=True, ondelete="CASCADE")
    period: str = Field(sa_type=sa.String(20))
    rating: str = Field(sa_type=sa.String(10))  # MarkerRating
    note: str = Field(default="", sa_type=TEXT)
    rated_by: int | None = _user_fk()
    rated_at: datetime = created_at_field()
    version: int = 1


# ---- resources and the data catalogue -------------------------------------------------------


class Resource(Versioned, SQLModel, table=True):
    """Part of the area's capital, in one of the four dimensions (workshops.ResourceDimension).
    `contribution_id` names the workshop contribution it was accepted from."""

    __tablename__ = "resource"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    position: int = 0
    dimension: str = Field(sa_type=sa.String(20))
    name: str = Field(sa_type=sa.String(300))
    description: str = Field(default="", sa_type=TEXT)
    owner_agency_id: int | None = _agency_fk()
    contribution_id: int | None = Field(
        default=None, foreign_key="workshop_contribution.id", ondelete="SET NULL"
    )
    version: int = 1


class ResourceAction(SQLModel, table=True):
    """An action that uses the resource."""

    __tablename__ = "resource_action"

    resource_id: int = Field(foreign_key="resource.id", primary_key=True, ondelete="CASCADE")
    action_id: int = Field(foreign_key="action.id", primary_key=True, ondelete="CASCADE")


class DataAccess(StrEnum):
    open = "open"
    on_request = "on_request"
    restricted = "restricted"


class DataFrequency(StrEnum):
    monthly = "monthly"
    termly = "termly"  # each semester
    yearly = "yearly"
    irregular = "irregular"


class DataItem(Versioned, SQLModel, table=True):
    """One entry of the area's data catalogue, which KPIs cite as their data source."""

    __tablename__ = "data_item"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    position: int = 0
    name: str = Field(sa_type=sa.String(300))
    description: str = Field(default="", sa_type=TEXT)
    custodian_agency_id: int | None = _agency_fk()
    source_system: str = Field(default="", sa_type=sa.String(300))
    frequency: str = Field(default=DataFrequency.yearly.value, sa_type=sa.String(20))
    access: str = Field(default=DataAccess.on_request.value, sa_type=sa.String(20))
    # what its values are counted in ("คน", "%"), the periods they are given for, who reports
    # them (empty: one value for the area; a unit kind: each unit of that kind) and how many
    # days after a period ends its values are due
    measure: str = Field(default="", sa_type=sa.String(60))
    period_type: str = Field(default="fiscal_year", sa_type=sa.String(20))
    reported_by: str = Field(default="", sa_type=sa.String(20))
    due_days: int = 90
    version: int = 1


class KPIDataItem(SQLModel, table=True):
    """A data item the KPI draws its values from."""

    __tablename__ = "kpi_data_item"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    data_item_id: int = Field(foreign_key="data_item.id", primary_key=True, ondelete="CASCADE")


# ---- guiding principles ---------------------------------------------------------------------

GUIDE = ("guiding", "useful", "inspiring", "developmental", "evaluable")  # Patton's criteria


class GuidingPrinciple(Versioned, SQLModel, table=True):
    """A principle with the committee's self-rating on each GUIDE criterion (1 weak, 2 partly,
    3 strong; empty: not rated)."""

    __tablename__ = "guiding_principle"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    position: int = 0
    statement: str = Field(sa_type=TEXT)
    explanation: str = Field(default="", sa_type=TEXT)
    guiding: int | None = None
    useful: int | None = None
    inspiring: int | None = None
    developmental: int | None = None
    evaluable: int | None = None
    version: int = 1
