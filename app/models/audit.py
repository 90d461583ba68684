from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field


class AuditEvent(SQLModel, table=True):
    """One row per change, written in the same transaction as the change."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),
        # an area's newest event in one look-up (the review's change watermark)
        sa.Index("ix_audit_event_area_id_id", "area_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    actor: str = Field(default="system", sa_type=sa.String(200))  # who, as shown then
    actor_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL", index=True
    )
    area_id: int | None = Field(default=None, foreign_key="area.id")
    entity_type: str = Field(sa_type=sa.String(40))
    entity_id: int | None = None
    op: str = Field(sa_type=sa.String(10))
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON())
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON())
    reason: str | None = Field(default=None, sa_type=sa.Text())
    # an adaptation: why the plan changed (de.ReasonCategory) and the record behind it, by its
    # entity type ("reflection", "emergent_outcome", "evidence_file", ...) and id
    reason_category: str | None = Field(default=None, sa_type=sa.String(30))
    cites_type: str | None = Field(default=None, sa_type=sa.String(40))
    cites_id: int | None = None


class DataVersion(SQLModel, table=True):
    """One row whose number moves with every committed write to the data (app.changes): what a
    page showed at version n is still true while the number is n, in every worker and host."""

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    n: int = Field(default=0, sa_type=sa.BigInteger(), nullable=False)
