"""The province's shared data (issue 21): reporting units' codes and hierarchy live on OrgUnit;
here are the breakdowns (category sets and their options, national or the area's own), the
values a data item holds per period × unit × category options, and how a KPI is computed from
data items, with the computed cells it yields.

A cell is keyed by one string, `cell` = "<period>/<unit id or empty>/<categories>", where
categories is the canonical "set=option;set=option" (set codes in order, empty for the total):
one portable unique constraint then stops two writers storing the same cell twice.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field

TEXT = sa.Text()


class CategorySet(SQLModel, table=True):
    """A breakdown: national (area_id empty, from seeds/vocabularies.yaml) or an area's own."""

    __tablename__ = "category_set"
    __table_args__ = (sa.UniqueConstraint("area_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int | None = Field(default=None, foreign_key="area.id", ondelete="CASCADE")
    code: str = Field(sa_type=sa.String(40))
    name_th: str = Field(sa_type=sa.String(200))
    name_en: str = Field(default="", sa_type=sa.String(200))
    position: int = 0


class CategoryOption(SQLModel, table=True):
    __tablename__ = "category_option"
    __table_args__ = (sa.UniqueConstraint("set_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="category_set.id", index=True, ondelete="CASCADE")
    code: str = Field(sa_type=sa.String(40))
    name_th: str = Field(sa_type=sa.String(200))
    name_en: str = Field(default="", sa_type=sa.String(200))
    position: int = 0


class DataItemCategorySet(SQLModel, table=True):
    """A breakdown a data item's values are given by."""

    __tablename__ = "data_item_category_set"

    data_item_id: int = Field(foreign_key="data_item.id", primary_key=True, ondelete="CASCADE")
    set_id: int = Field(foreign_key="category_set.id", primary_key=True, ondelete="CASCADE")


class DataValue(Versioned, SQLModel, table=True):
    """One value of a data item: a period, a unit (empty: the whole area) and category options."""

    __tablename__ = "data_value"
    __table_args__ = (sa.UniqueConstraint("data_item_id", "cell"),)

    id: int | None = Field(default=None, primary_key=True)
    data_item_id: int = Field(foreign_key="data_item.id", index=True, ondelete="CASCADE")
    cell: str = Field(sa_type=sa.String(400))
    period: str = Field(sa_type=sa.String(20))
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id", ondelete="CASCADE")
    categories: str = Field(default="", sa_type=sa.String(300))
    value: float
    source: str = Field(default="", sa_type=sa.String(300))
    entered_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    entered_at: datetime = created_at_field()
    version: int = 1


class KPIComputeTerm(SQLModel, table=True):
    """A data item a computed KPI is made of, in its role: numerator, denominator, or a term of a
    sum or mean (a single item is one term). The method and scale are on the KPI."""

    __tablename__ = "kpi_compute_term"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    data_item_id: int = Field(foreign_key="data_item.id", primary_key=True, ondelete="CASCADE")
    role: str = Field(sa_type=sa.String(12), primary_key=True)


class ComputedValue(SQLModel, table=True):
    """A computed KPI's value in one cell, or why it has none (`value` empty, `reason` a code:
    "no_numerator", "no_denominator", "zero_denominator", "no_values")."""

    __tablename__ = "computed_value"
    __table_args__ = (sa.UniqueConstraint("kpi_id", "cell"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", index=True, ondelete="CASCADE")
    cell: str = Field(sa_type=sa.String(400))
    period: str = Field(sa_type=sa.String(20))
    unit_id: int | None = Field(default=None, foreign_key="org_unit.id", ondelete="CASCADE")
    categories: str = Field(default="", sa_type=sa.String(300))
    value: float | None = None
    reason: str = Field(default="", sa_type=sa.String(20))
