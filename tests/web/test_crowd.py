"""A crowd at once on a live server with few threads and a small connection pool: every
request is answered, none waits for the pool's timeout.

A page that only read ends with its session still in a transaction, holding a connection until
the session is closed, which talks to the database on a thread; and a dependency that read
(the workshop a board shows) runs on a thread before the route's. If either held its connection
while waiting for a free thread of the shared pool, with every thread waiting for a connection,
the server would stall until the pool gave up (a hall of phones, a wall of screens). The server
here has 2 threads and 1 connection, and is sent 12 requests at the same moment.
"""

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import anyio
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import get_session, sessions_on
from app.main import create_app
from app.middleware import SESSION_COOKIE
from app.services import accounts
from app.web import auth
from tests import factories
from tests.serving import serving

CROWD = 12
POOL_TIMEOUT = 5  # seconds: a stalled server answers the crowd with errors after this


@pytest.fixture(scope="module")
def tight(engine: Engine) -> Iterator[str]:
    """A live server on the test database with 2 threads and 1 pooled connection."""
    url = engine.url.render_as_string(hide_password=False)
    args = {"check_same_thread": False} if engine.dialect.name == "sqlite" else {}
    small = create_engine(
        url, pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT, connect_args=args
    )
    application = create_app()
    application.dependency_overrides[get_session] = sessions_on(small)

    async def few_threads(scope, receive, send) -> None:  # noqa: ANN001
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        await application(scope, receive, send)

    with serving(few_threads) as url:
        yield url
    small.dispose()


def _get(url: str, cookie: str = "") -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie, "HX-Request": "true"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _crowd(url: str, cookie: str = "") -> None:
    """CROWD requests at the same moment, each answered 200 before the pool's timeout."""
    assert _get(url, cookie) == 200
    barrier = threading.Barrier(CROWD)
    statuses: list[int] = []

    def phone() -> None:
        barrier.wait()
        statuses.append(_get(url, cookie))

    started = time.monotonic()
    phones = [threading.Thread(target=phone) for _ in range(CROWD)]
    for t in phones:
        t.start()
    for t in phones:
        t.join(timeout=60)
    took = time.monotonic() - started
    assert statuses == [200] * CROWD
    assert took < POOL_TIMEOUT, f"the crowd waited {took:.1f} s: the server stalled"


def test_a_crowd_of_phones_is_answered_without_waiting_for_the_pool(
    tight: str, session: Session
) -> None:
    workshop = factories.make_workshop(session, "krabi", "เวทีระดมความคิด ห้องใหญ่")
    session.commit()
    _crowd(f"{tight}/join/{workshop.join_code}")


def test_a_crowd_of_screens_is_answered_without_waiting_for_the_pool(
    tight: str, session: Session
) -> None:
    """Boards and projectors: the workshop is loaded by a dependency of its own, on a thread
    of its own, before the route's: it must not keep its connection in between."""
    workshop = factories.make_workshop(session, "satun", "เวทีระดมความคิด สถานีสตูล")
    admin = factories.make_user(session, "admin")
    cookie = f"{SESSION_COOKIE}={auth.sign(accounts.start_session(session, user=admin))}"
    session.commit()
    board = f"{tight}/areas/satun/workshops/{workshop.id}/board"
    for part in ("vote", "new"):
        _crowd(f"{board}?part={part}", cookie)
