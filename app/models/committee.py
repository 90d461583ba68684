"""How a province decides (issue 22 part 1): the area's committee and its members, working
groups, meetings with their agenda and attendance, and the resolutions a meeting passed, each
able to cite the plan versions, change proposals, review rounds and plan elements it decided.

Written through app/services/committee.py, one audit event per row changed (entity type = the
table name, with the area), then `committee.changed` on the area's live channel.
"""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field

TEXT = sa.Text()
AREA_FK = {"foreign_key": "area.id", "index": True, "ondelete": "CASCADE"}


class CommitteeRole(StrEnum):
    chair = "chair"
    vice_chair = "vice_chair"
    secretary = "secretary"
    member = "member"


ROLE_ORDER = {role.value: rank for rank, role in enumerate(CommitteeRole)}


class CitationKind(StrEnum):
    adopt = "adopt"  # a plan version the committee adopted
    approve = "approve"  # a proposal, review round or element it approved
    note = "note"  # something it took note of


class CommitteeMember(Versioned, SQLModel, table=True):
    """A person on the area's committee: name, position (free text), agency and role."""

    __tablename__ = "committee_member"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    name: str = Field(sa_type=sa.String(200))
    title: str = Field(default="", sa_type=sa.String(300))
    agency_id: int | None = Field(default=None, foreign_key="agency.id", ondelete="SET NULL")
    role: str = Field(default=CommitteeRole.member.value, sa_type=sa.String(20))
    position: int = 0
    version: int = 1


class WorkingGroup(Versioned, SQLModel, table=True):
    """A working group of the committee: its remit, members from the committee, a lead, and
    others (not on the committee) as free text, one per line."""

    __tablename__ = "working_group"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    name: str = Field(sa_type=sa.String(300))
    remit: str = Field(default="", sa_type=TEXT)
    lead_id: int | None = Field(
        default=None, foreign_key="committee_member.id", ondelete="SET NULL"
    )
    others: str = Field(default="", sa_type=TEXT)
    position: int = 0
    version: int = 1


class WorkingGroupMember(SQLModel, table=True):
    __tablename__ = "working_group_member"

    group_id: int = Field(foreign_key="working_group.id", primary_key=True, ondelete="CASCADE")
    member_id: int = Field(
        foreign_key="committee_member.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class Meeting(Versioned, SQLModel, table=True):
    """A committee meeting. `agenda` holds one agenda item per line, in order."""

    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(**AREA_FK)
    held_on: date
    title: str = Field(sa_type=sa.String(300))
    place: str = Field(default="", sa_type=sa.String(300))
    agenda: str = Field(default="", sa_type=TEXT)
    guests: str = Field(default="", sa_type=TEXT)
    created_at: datetime = created_at_field()
    version: int = 1


class MeetingAttendance(SQLModel, table=True):
    """A member who attended. The name is copied, so the record stands when the member leaves
    the committee (member_id becomes NULL)."""

    __tablename__ = "meeting_attendance"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    member_id: int | None = Field(
        default=None, foreign_key="committee_member.id", index=True, ondelete="SET NULL"
    )
    name: str = Field(sa_type=sa.String(200))


class Resolution(Versioned, SQLModel, table=True):
    """A resolution of a meeting, numbered by `position` (1, 2, …)."""

    __tablename__ = "resolution"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    position: int = 1
    text: str = Field(sa_type=TEXT)
    version: int = 1


class ResolutionCitation(SQLModel, table=True):
    """A record a resolution decided: `target_type` is the cited table (plan_version,
    change_proposal, review_round, kra, kpi, action), `kind` a CitationKind."""

    __tablename__ = "resolution_citation"
    __table_args__ = (
        sa.UniqueConstraint("resolution_id", "target_type", "target_id"),
        sa.Index("ix_resolution_citation_target", "target_type", "target_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resolution_id: int = Field(foreign_key="resolution.id", index=True, ondelete="CASCADE")
    target_type: str = Field(sa_type=sa.String(40))
    target_id: int
    kind: str = Field(default=CitationKind.note.value, sa_type=sa.String(20))
