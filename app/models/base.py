from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_at_field() -> datetime:
    return Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False)


# Named constraints let later batch migrations on SQLite drop or alter them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Versioned:
    """Optimistic concurrency for a table with a `version` column: every UPDATE and DELETE of a
    loaded row is conditional (`... WHERE id = :id AND version = :version as loaded`) and fails
    with StaleDataError when another writer got there first, on SQLite and PostgreSQL alike.

    The services still set the next version themselves (`row.version += 1`, so the new number is
    known before the audit event is written); the ORM only adds the condition."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version, "version_id_generator": False}
