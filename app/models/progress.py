"""Progress over time: targets and measurements per KPI and period, action updates, evidence
files, organisation units and review rounds."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field

TEXT = sa.Text()


class KPITarget(SQLModel, table=True):
    """The target of one period (the end target stays on the KPI)."""

    __tablename__ = "kpi_target"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    period: str = Field(sa_type=sa.String(20), primary_key=True)
    value: float


class OrgUnit(SQLModel, table=True):
    """An educational service area office or a pilot school reporting its own values."""

    __tablename__ = "org_unit"
    # a unique index, not a constraint: SQLite adds it without rebuilding the table
    __table_args__ = (sa.Index("ix_org_unit_area_id_code", "area_id", "code", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True, ondelete="CASCADE")
    kind: str = Field(sa_type=sa.String(20))
    name: str = Field(sa_type=sa.String(300))
    position: int = 0
    # the official code (ESA code, the ministry's 10-digit school code), unique in the area
    code: str | None = Field(default=None, sa_type=sa.String(40))
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", ondelete="SET NULL")


class EvidenceFile(SQLModel, table=True):
    """An uploaded file, stored under var/evidence/ by its digest."""

    __tablename__ = "evidence_file"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    filename: str = Field(sa_type=sa.String(255))
    content_type: str = Field(sa_type=sa.String(100))
    size: int
    sha256: str = Field(sa_type=sa.String(64))
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = created_at_field()


class PendingImport(SQLModel, table=True):
    """A workbook waiting between an import's preview and its confirmation. Kept in the
    database, not on one server's disk, so that the confirmation may reach any worker or host."""

    __tablename__ = "pending_import"
    __table_args__ = (sa.UniqueConstraint("area_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", ondelete="CASCADE")
    sha256: str = Field(sa_type=sa.String(64))
    data: bytes = Field(sa_type=sa.LargeBinary())
    created_at: datetime = created_at_field()


class Measurement(Versioned, SQLModel, table=True):
    """The area's value of a KPI for one period: typed in, or rolled up from its units."""

    __tablename__ = "measurement"
    __table_args__ = (sa.UniqueConstraint("kpi_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", index=True, ondelete="CASCADE")
    period: str = Field(sa_type=sa.String(20))
    value: float
    n_measured: int | None = None  # how many were measured or tested (O-NET is voluntary)
    note: str = Field(default="", sa_type=TEXT)
    evidence_url: str = Field(default="", sa_type=sa.String(1000))
    evidence_id: int | None = Field(default=None, foreign_key="evidence_file.id")
    entered_by: int | None = Field(default=None, foreign_key="user_account.id")
    entered_at: datetime = created_at_field()
    source: str = Field(default="entered", sa_type=sa.String(10))  # or "computed"
    version: int = 1


class UnitMeasurement(SQLModel, table=True):
    """One unit's value behind a measurement; the measurement's value is their roll-up."""

    __tablename__ = "unit_measurement"

    measurement_id: int = Field(foreign_key="measurement.id", primary_key=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="org_unit.id", primary_key=True, ondelete="CASCADE")
    value: float
    n_measured: int | None = None


class ActionUpdate(Versioned, SQLModel, table=True):
    """A dated check-in on an action."""

    __tablename__ = "action_update"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True, ondelete="CASCADE")
    on_date: date
    status: str = Field(sa_type=sa.String(20))
    percent_complete: int | None = None
    what_changed: str = Field(default="", sa_type=TEXT)
    next_steps: str = Field(default="", sa_type=TEXT)
    confidence: int | None = None  # 0-10
    spent_thb: int | None = Field(default=None, sa_type=sa.BigInteger())
    evidence_url: str = Field(default="", sa_type=sa.String(1000))
    evidence_id: int | None = Field(default=None, foreign_key="evidence_file.id")
    entered_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = created_at_field()
    version: int = 1


class ReviewRound(Versioned, SQLModel, table=True):
    """An area's period on its way to approval: submitted, returned, approved (locked)."""

    __tablename__ = "review_round"
    __table_args__ = (sa.UniqueConstraint("area_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True, ondelete="CASCADE")
    period: str = Field(sa_type=sa.String(20))
    state: str = Field(default="open", sa_type=sa.String(20))
    comment: str = Field(default="", sa_type=TEXT)
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    version: int = 1
