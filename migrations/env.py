"""Alembic environment: the URL comes from Phonlap's settings unless a caller set one."""

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (fills SQLModel.metadata)
from app.config import get_settings
from app.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


# SQLite cannot name a foreign key added with ALTER TABLE ADD COLUMN in a way reflection reads
# back, and adding it by rebuilding the table would cascade-delete its children. These
# (table, column) foreign keys are compared on PostgreSQL only.
UNNAMED_ON_SQLITE = {("kpi", "indicator_id"), ("org_unit", "parent_id")}


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    if type_ == "foreign_key_constraint" and context.get_bind().dialect.name == "sqlite":
        columns = tuple(c.name for c in obj.columns)
        return (obj.table.name, *columns) not in UNNAMED_ON_SQLITE
    return True


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
