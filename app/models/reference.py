"""Reference data: areas and groups, the national DOE framework, themes, agencies."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned  # also sets the naming convention first


class Area(SQLModel, table=True):
    __tablename__ = "area"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=sa.String(60), unique=True, index=True)
    iso_code: str = Field(sa_type=sa.String(10), unique=True)
    name_th: str = Field(sa_type=sa.String(120))
    name_en: str = Field(sa_type=sa.String(120))
    cohort: str = Field(sa_type=sa.String(40))
    designated_on: date | None = None
    # the latest AreaStatusChange's status (kept here so lists need no join)
    status: str = Field(default="active", sa_type=sa.String(20))
    # the programme the area belongs to (labels "programme"): education innovation areas, or
    # another, e.g. area-based education (Khon Kaen)
    programme: str = Field(default="innovation_area", sa_type=sa.String(40))
    pilot_schools: int | None = None
    # the public portal (/public/areas/{slug}): when it was opened; NULL = closed (the default)
    public_since: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class AreaStatusChange(SQLModel, table=True):
    """One change of an area's status (prospective → designated → active, or withdrawn), with
    its date and the instrument that made it (a Cabinet resolution, a Royal Gazette notice)."""

    __tablename__ = "area_status_change"

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True, ondelete="CASCADE")
    status: str = Field(sa_type=sa.String(20))
    changed_on: date
    instrument: str = Field(default="", sa_type=sa.String(300))


class AreaGroup(SQLModel, table=True):
    __tablename__ = "area_group"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=sa.String(60), unique=True)
    name_th: str = Field(sa_type=sa.String(200))
    name_en: str = Field(sa_type=sa.String(200))
    is_default: bool = False


class AreaGroupMember(SQLModel, table=True):
    __tablename__ = "area_group_member"

    group_id: int = Field(foreign_key="area_group.id", primary_key=True, ondelete="CASCADE")
    area_id: int = Field(foreign_key="area.id", primary_key=True, ondelete="CASCADE")


class DOEFramework(Versioned, SQLModel, table=True):
    """A version of the national desired-outcomes framework; items are edited per version."""

    __tablename__ = "doe_framework"
    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=sa.String(40))
    version: int = 1
    name_th: str = Field(sa_type=sa.String(300))
    name_en: str = Field(sa_type=sa.String(300))
    is_current: bool = True


class DOEAspect(SQLModel, table=True):
    __tablename__ = "doe_aspect"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(foreign_key="doe_framework.id", index=True, ondelete="CASCADE")
    code: str = Field(sa_type=sa.String(10))
    name_th: str = Field(sa_type=sa.String(200))
    name_en: str = Field(sa_type=sa.String(200))
    position: int = 0


class DOEItem(SQLModel, table=True):
    __tablename__ = "doe_item"
    __table_args__ = (sa.UniqueConstraint("aspect_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    aspect_id: int = Field(foreign_key="doe_aspect.id", index=True, ondelete="CASCADE")
    code: str = Field(sa_type=sa.String(10))
    name_th: str = Field(sa_type=sa.String(400))
    name_en: str = Field(sa_type=sa.String(400))
    position: int = 0
    # None until an administrator confirms the wording against the official text
    confirmed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    confirmed_by: str | None = Field(default=None, sa_type=sa.String(300))


class StrategyTheme(SQLModel, table=True):
    __tablename__ = "strategy_theme"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=sa.String(40), unique=True)
    name_th: str = Field(sa_type=sa.String(200))
    name_en: str = Field(sa_type=sa.String(200))
    position: int = 0


class AgencyType(SQLModel, table=True):
    __tablename__ = "agency_type"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=sa.String(40), unique=True)
    name_th: str = Field(sa_type=sa.String(200))
    name_en: str = Field(sa_type=sa.String(200))
    position: int = 0


class Agency(Versioned, SQLModel, table=True):
    """An organisation that leads or partners in KPIs and actions.

    area_id is None for national agencies (OBEC, OPS-MOE) that every area may pick.
    """

    __tablename__ = "agency"
    __table_args__ = (sa.UniqueConstraint("area_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    code: str = Field(sa_type=sa.String(60))
    name_th: str = Field(sa_type=sa.String(300))
    name_en: str = Field(default="", sa_type=sa.String(300))
    type_id: int = Field(foreign_key="agency_type.id")
    position: int = 0
    version: int = 1
