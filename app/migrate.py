"""Run Alembic from Python (CLI, `make run`, tests) with the project's pyproject configuration."""

from alembic import command
from alembic.config import Config

from app import ROOT


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(toml_file=str(ROOT / "pyproject.toml"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str | None = None) -> None:
    """Raise if the models and the migrations disagree."""
    command.check(alembic_config(database_url))
