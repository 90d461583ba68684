"""A fixture for tests that change reference data: afterwards the seeded reference data is as
the seed files say again (other tests rely on it), and what the test added is gone."""

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.models import (
    Agency,
    Area,
    AreaStatusChange,
    AuditEvent,
    DOEFramework,
    DOEItem,
    Plan,
    StrategyTheme,
)
from app.services import seeding


@pytest.fixture
def reference_reset(session: Session) -> Iterator[None]:
    yield
    session.rollback()
    areas = [a["slug"] for a in seeding.load_yaml(seeding.SEEDS / "areas.yaml")["areas"]]
    vocab = seeding.load_yaml(seeding.SEEDS / "vocabularies.yaml")
    themes = [t["code"] for t in vocab["strategy_themes"]]
    framework = seeding.load_yaml(seeding.SEEDS / "doe_framework.yaml")["framework"]
    added = select(Area.id).where(col(Area.slug).not_in(areas))
    session.exec(delete(Plan))
    session.exec(delete(Agency).where(col(Agency.area_id).in_(added)))
    session.exec(delete(AuditEvent).where(col(AuditEvent.area_id).in_(added)))
    session.exec(delete(Area).where(col(Area.slug).not_in(areas)))
    session.exec(delete(AreaStatusChange))
    session.exec(delete(StrategyTheme).where(col(StrategyTheme.code).not_in(themes)))
    session.exec(delete(DOEFramework).where(DOEFramework.version != framework["version"]))
    session.exec(update(DOEItem).values(confirmed_at=None, confirmed_by=None))
    session.commit()
    seeding.seed_reference(session)
