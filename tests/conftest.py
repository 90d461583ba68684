"""Test fixtures: a real database (a SQLite file, or PostgreSQL when PHONLAP_TEST_DATABASE_URL
names one), migrated with Alembic once per run and seeded with the reference data. Each test
starts from reference data only: plan data, audit rows and added agencies are deleted after it.
"""

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator

# Before any settings are read: a test secret, cheap password hashing (argon2id still), and a
# var directory of its own for uploads.
os.environ.setdefault("PHONLAP_SECRET_KEY", "test-secret-key-for-the-phonlap-suite-only-0123")
os.environ["PHONLAP_ARGON2_TIME_COST"] = "1"
os.environ["PHONLAP_ARGON2_MEMORY_KIB"] = "1024"
os.environ["PHONLAP_VAR_DIR"] = tempfile.mkdtemp(prefix="phonlap-test-var-")

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, text, update
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, col, select

import app.models  # noqa: F401
from app import migrate
from app.config import get_settings
from app.db import get_session, make_engine, sessions_on
from app.i18n import set_locale
from app.main import create_app
from app.models import (
    Agency,
    Area,
    AuditEvent,
    BoundaryPartner,
    CategorySet,
    ChangeProposal,
    Comment,
    CommitteeMember,
    CommonIndicator,
    DataItem,
    EmergentOutcome,
    EvidenceFile,
    GuidingPrinciple,
    KeyDevelopment,
    LearningQuestion,
    LoginThrottle,
    Meeting,
    OrgUnit,
    PendingImport,
    Plan,
    PlanVersion,
    Reflection,
    Resource,
    ReviewRound,
    StrategyTheme,
    User,
    WorkingGroup,
    WorkshopEvent,
    WorkshopSession,
)
from app.services import accounts, review, seeding
from app.web import auth
from tests import factories

atexit.register(shutil.rmtree, os.environ["PHONLAP_VAR_DIR"], ignore_errors=True)

PLAN_TABLES = [Plan, AuditEvent]
DE_TABLES = (
    PlanVersion,
    LearningQuestion,
    Reflection,
    ChangeProposal,
    KeyDevelopment,
    EmergentOutcome,
    BoundaryPartner,
    Resource,
    DataItem,
    GuidingPrinciple,
)


def pytest_report_header() -> str:
    return f"database: {_describe(test_database_url()) or 'SQLite (temporary file)'}"


def _describe(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def test_database_url() -> str:
    return os.environ.get("PHONLAP_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return test_database_url() or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    _reset_schema(engine)
    migrate.upgrade(database_url)
    with Session(engine) as session:
        seeding.seed_reference(session)
    yield engine
    engine.dispose()


def _reset_schema(engine: Engine) -> None:
    """Start a PostgreSQL test database from nothing, whatever an earlier run left."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def new_database(tmp_path) -> Iterator[Callable[[str], str]]:  # noqa: ANN001
    """Make empty databases beside the test one: a SQLite file, or a database on the same
    PostgreSQL server (dropped after the test)."""
    url = test_database_url()
    made: list[str] = []
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT") if url else None

    def make(name: str) -> str:
        if admin is None:
            return f"sqlite:///{tmp_path / (name + '.db')}"
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        made.append(name)
        return make_url(url).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    set_locale("th")
    review.clear_cache()  # rows kept by the review belong to an earlier test's data
    with Session(engine, expire_on_commit=False) as session:
        yield session
    _clean(engine)


def _clean(engine: Engine) -> None:
    with Session(engine) as s:
        for table in DE_TABLES:  # the area's DE records; their link tables cascade
            s.exec(delete(table))
        for table in (Meeting, WorkingGroup, CommitteeMember):  # attendance, resolutions cascade
            s.exec(delete(table))
        s.exec(delete(Plan))  # children go with it (ON DELETE CASCADE), measurements too
        for table in (Comment, ReviewRound, EvidenceFile, OrgUnit, WorkshopSession, PendingImport):
            s.exec(delete(table))
        s.exec(delete(WorkshopEvent))  # its stations went above
        s.exec(delete(CategorySet).where(col(CategorySet.area_id).is_not(None)))
        s.exec(delete(AuditEvent))
        s.exec(delete(User))  # roles, sessions and tokens go with them
        s.exec(delete(LoginThrottle))
        s.exec(update(Area).values(public_since=None))  # public portals closed again
        standard = _standard_agency_codes()
        s.exec(delete(Agency).where(col(Agency.code).not_in(standard)))
        # themes a form test may have added (tests/reference_reset.py puts the rest back)
        used = select(CommonIndicator.theme_id).where(col(CommonIndicator.theme_id).is_not(None))
        s.exec(
            delete(StrategyTheme).where(
                col(StrategyTheme.code).not_in(_seeded_theme_codes()),
                col(StrategyTheme.id).not_in(used),
            )
        )
        s.commit()


def _seeded_theme_codes() -> list[str]:
    vocab = seeding.load_yaml(seeding.SEEDS / "vocabularies.yaml")
    return [t["code"] for t in vocab["strategy_themes"]]


def _standard_agency_codes() -> list[str]:
    vocab = seeding.load_yaml(seeding.SEEDS / "vocabularies.yaml")
    areas = seeding.load_yaml(seeding.SEEDS / "areas.yaml")["areas"]
    names = [(a["slug"], a["name_th"], a["name_en"]) for a in areas]
    return sorted(seeding.standard_agency_codes(vocab, names))


@pytest.fixture
def app_client(engine: Engine, session: Session) -> Callable[[], TestClient]:
    """Make a client of a fresh app on the test database; signed out, nothing sent yet."""
    application = create_app()

    application.dependency_overrides[get_session] = sessions_on(engine)
    made: list[TestClient] = []

    def make() -> TestClient:
        c = TestClient(application, raise_server_exceptions=False)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def sign_in(client: TestClient, session: Session, user: User) -> TestClient:
    """Give the client a browser session for the user, and its CSRF token on every request."""
    token = accounts.start_session(session, user=user)
    client.cookies.set(auth.SESSION_COOKIE, auth.sign(token))
    seed = f"seed-{token[:12]}"  # what the browser got on its first visit
    client.cookies.set(auth.CSRF_COOKIE, seed)
    client.headers[auth.CSRF_HEADER] = auth._mac("csrf", seed)
    return client


@pytest.fixture
def admin(session: Session) -> User:
    return factories.make_user(session, "admin")


@pytest.fixture
def client(app_client: Callable[[], TestClient], session: Session, admin: User) -> TestClient:
    """A browser signed in as an administrator (most page tests are not about permissions)."""
    return sign_in(app_client(), session, admin)


@pytest.fixture
def anonymous(app_client: Callable[[], TestClient]) -> TestClient:
    return app_client()


@pytest.fixture
def no_page_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps made in the test render every page (app.page_cache is off)."""
    monkeypatch.setattr(get_settings(), "page_cache_mb", 0)


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: object) -> None:
        self.count += 1


@pytest.fixture
def count_queries(engine: Engine, no_page_cache: None) -> Iterator[QueryCounter]:
    """SQL statements a page issues to render (the page cache is off: a kept page costs one)."""
    yield from _counting(engine)


@pytest.fixture
def count_all_queries(engine: Engine) -> Iterator[QueryCounter]:
    """SQL statements, with the page cache on."""
    yield from _counting(engine)


def _counting(engine: Engine) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def fresh_engine(engine: Engine) -> Iterator[Engine]:
    """The test database emptied of everything, reference data included; re-seeded after."""
    with Session(engine) as s:
        for table in reversed(SQLModel.metadata.sorted_tables):
            s.exec(delete(table))
        s.commit()
    yield engine
    with Session(engine) as s:
        seeding.seed_reference(s)
