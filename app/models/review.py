"""Cross-area review: the national library of common indicators that provincial KPIs map to,
threaded comments on an area's plan and periods, and each reader's "seen up to" mark."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, created_at_field

TEXT = sa.Text()


class CommonIndicator(Versioned, SQLModel, table=True):
    """A national indicator (e.g. P1 reading "good or above" %) that KPIs of several areas
    measure, so their values can be compared (a KPI names the one it measures in
    `kpi.indicator_id`). Retired indicators keep their KPIs but take no new ones."""

    __tablename__ = "common_indicator"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=sa.String(40), unique=True)
    name_th: str = Field(sa_type=sa.String(300))
    name_en: str = Field(default="", sa_type=sa.String(300))
    definition: str = Field(default="", sa_type=TEXT)
    unit: str = Field(default="", sa_type=sa.String(60))
    kind: str = Field(sa_type=sa.String(20))  # KPIKind
    direction: str = Field(default="higher", sa_type=sa.String(10))
    period_type: str = Field(sa_type=sa.String(20))
    data_source: str = Field(default="", sa_type=TEXT)
    needs_count: bool = False  # values mean little without how many were measured (O-NET)
    theme_id: int | None = Field(default=None, foreign_key="strategy_theme.id")
    aspect_id: int | None = Field(default=None, foreign_key="doe_aspect.id")
    position: int = 0
    is_active: bool = True
    version: int = 1


class CommentTarget(StrEnum):
    """What a comment is about: the area as a whole, one element of its plan, or one period's
    submission (target_id is None and `period` names it)."""

    area = "area"
    doe = "doe"
    problems = "problems"
    kras = "kras"
    kpis = "kpis"
    actions = "actions"
    period = "period"


class CommentVisibility(StrEnum):
    area = "area"  # everyone who may read the area: its committee and the reviewers
    reviewers = "reviewers"  # OBEC and ministry staff only (reviewers and administrators)


class Comment(Versioned, SQLModel, table=True):
    """A comment, or a reply (parent_id: the thread's first comment; threads are one level
    deep). Replies take the visibility of their thread. Resolving closes the whole thread."""

    __tablename__ = "comment"
    __table_args__ = (sa.Index("ix_comment_target", "area_id", "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True, ondelete="CASCADE")
    target_type: str = Field(sa_type=sa.String(20))  # CommentTarget
    target_id: int | None = None
    period: str | None = Field(default=None, sa_type=sa.String(20))
    parent_id: int | None = Field(
        default=None, foreign_key="comment.id", index=True, ondelete="CASCADE"
    )
    visibility: str = Field(default="area", sa_type=sa.String(20))  # CommentVisibility
    body: str = Field(sa_type=TEXT)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    author_name: str = Field(sa_type=sa.String(200))  # as shown when written
    created_at: datetime = created_at_field()
    resolved_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    resolved_by: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    version: int = 1


class SeenMark(SQLModel, table=True):
    """Up to when a person has seen what is new in their areas ("what's new since my last
    visit")."""

    __tablename__ = "seen_mark"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    seen_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
