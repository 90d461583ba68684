"""Sign-in throttling holds under parallel guesses: a password is checked only after the attempt
was counted, so 40 guesses at once, sent to two servers (as two workers would), get at most the
configured number of password checks. Wrong current passwords on the account page count too."""

import http.client
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import get_settings
from app.db import get_session, make_engine, sessions_on
from app.main import create_app
from app.services import accounts
from app.web import auth
from tests import factories as f
from tests.conftest import sign_in

TARGET = "target@example.go.th"
PARALLEL = 40


class Server:
    """The app under uvicorn on a loopback port, in a thread, with a connection pool of its own
    on the test database (like one worker process of several)."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        application = create_app()

        application.dependency_overrides[get_session] = sessions_on(self.engine)
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(PARALLEL)  # connections wait here until uvicorn accepts them
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(application, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]})
        self.thread.start()
        # one request first: FastAPI builds its route table lazily, and several threads doing
        # that at once trip a pydantic warning (an error under this suite's warning filter)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request("GET", "/login")
        assert connection.getresponse().status == 200
        connection.close()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()
        self.engine.dispose()


@pytest.fixture
def servers(database_url: str, engine: Engine, session: Session) -> Iterator[list[Server]]:
    running = [Server(database_url), Server(database_url)]
    yield running
    for server in running:
        server.stop()


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the real hasher checks, in order."""
    hasher = accounts._hasher()
    checked: list[str] = []
    verify = hasher.verify

    def counted(password: str, hash: str) -> bool:
        checked.append(password)
        return verify(password, hash)

    monkeypatch.setattr(hasher, "verify", counted)
    return checked


def _sign_in(server: Server, password: str) -> int:
    """POST /login as a browser would (its CSRF cookie and token); the status of the answer."""
    seed = f"seed-{server.port}"
    body = urlencode({"email": TARGET, "password": password, "csrf_token": auth._mac("csrf", seed)})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"{auth.CSRF_COOKIE}={seed}",
    }
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("POST", "/login", body, headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_forty_parallel_wrong_passwords_get_at_most_the_limit_of_checks(
    session: Session, servers: list[Server], password_checks: list[str]
) -> None:
    f.make_user(session, "viewer", "phuket", email=TARGET)
    password_checks.clear()
    start = threading.Barrier(PARALLEL)

    def guess(n: int) -> int:
        start.wait()
        return _sign_in(servers[n % 2], f"guess-{n}")

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(guess, range(PARALLEL)))
    limit = get_settings().login_attempts
    assert len(password_checks) <= limit
    assert statuses.count(401) == len(password_checks)  # each checked guess was refused
    assert statuses.count(429) == PARALLEL - len(password_checks)  # the rest: paused, unchecked
    # the right password is refused too while the pause lasts, and not checked
    assert _sign_in(servers[0], f.PASSWORD) == 429
    assert f.PASSWORD not in password_checks


def test_wrong_current_passwords_on_the_account_page_are_throttled(
    session: Session, app_client: Callable[[], TestClient], password_checks: list[str]
) -> None:
    user = f.make_user(session, "viewer", "phuket", email=TARGET)
    client = sign_in(app_client(), session, user)
    password_checks.clear()
    limit = get_settings().login_attempts
    for n in range(limit):
        wrong = client.post(
            "/account/password", data={"current_password": f"guess-{n}", "password": "x" * 12}
        )
        assert wrong.status_code == 422
    paused = client.post(
        "/account/password", data={"current_password": f.PASSWORD, "password": "x" * 12}
    )
    assert paused.status_code == 429
    assert "15" in paused.text and 'value="guess' not in paused.text
    assert len(password_checks) == limit  # the right one was not even checked
    # the account's sign-in is paused with it
    assert _login_status(app_client(), TARGET, f.PASSWORD) == 429


def test_a_right_password_clears_the_account_count(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    f.make_user(session, "viewer", "phuket", email=TARGET)
    limit = get_settings().login_attempts
    for _ in range(limit - 1):
        assert _login_status(app_client(), TARGET, "guess-guess") == 401
    assert _login_status(app_client(), TARGET, f.PASSWORD) == 303
    # the account starts afresh; the address was charged only for the wrong ones
    assert _login_status(app_client(), TARGET, "guess-guess") == 401
    assert _login_status(app_client(), TARGET, f.PASSWORD) == 429  # address: 5 failures


def _login_status(client: TestClient, email: str, password: str) -> int:
    client.get("/login")
    token = auth._mac("csrf", client.cookies[auth.CSRF_COOKIE])
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False).status_code
