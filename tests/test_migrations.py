"""Migrations: an empty database upgrades to head, matches the models, and downgrades."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app import ROOT, migrate
from app.db import make_engine


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:  # noqa: ANN001
    url = os.environ.get("PHONLAP_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    name = "phonlap_migration_test"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_upgrade_check_and_downgrade(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    tables = set(inspect(engine).get_table_names())
    assert {"area", "plan", "kpi", "action", "audit_event", "alembic_version"} <= tables
    migrate.check(empty_database_url)  # raises when models and migrations drift
    migrate.downgrade(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_migrate_works_from_any_directory(tmp_path) -> None:  # noqa: ANN001
    """The Alembic configuration comes from the package, not from the checkout's pyproject."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "PHONLAP_DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    engine = make_engine(env["PHONLAP_DATABASE_URL"])
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    engine.dispose()
