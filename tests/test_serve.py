"""The `phonlap` command as an operator runs it: `check`, and `serve` with several workers and
behind a proxy (real uvicorn processes on a free loopback port, on the migrated test database:
the `engine` fixture)."""

import gc
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import ROOT, main
from app.services import accounts
from app.web import auth
from tests import factories as f

SECRET = "test-secret-key-for-the-phonlap-suite-only-0123"


def _env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "PHONLAP_DATABASE_URL": database_url,
        "PHONLAP_VAR_DIR": str(tmp_path / "var"),
        "PHONLAP_SECRET_KEY": SECRET,
        **extra,
    }


def _phonlap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        cwd=env["PHONLAP_VAR_DIR"].rsplit("/", 1)[0],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_reports_a_ready_installation(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path, PHONLAP_PUBLIC_URL="https://phonlap.example.go.th")
    done = _phonlap(env, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("ok    schema: at ", "ok    var directory:", "ok    PDF: WeasyPrint renders"):
        assert line in done.stdout
    assert done.stdout.rstrip().endswith("ready")


def test_check_fails_on_an_unmigrated_database_and_warns_on_a_loopback_url(
    tmp_path: Path,
) -> None:
    env = _env(
        f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, PHONLAP_PUBLIC_URL="http://127.0.0.1:8000"
    )
    done = _phonlap(env, "check", "--workers", "2")
    assert done.returncode == 1
    assert "FAIL  schema: at nothing, head is" in done.stdout and "phonlap migrate" in done.stdout
    assert "warn  public URL: http://127.0.0.1:8000 is this machine only" in done.stdout
    assert "FAIL  workers: 2 workers need PostgreSQL" in done.stdout


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    env = _env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    done = _phonlap(env, "serve", "--workers", "2", "--port", "1")
    assert done.returncode == 2
    assert "SQLite" in done.stderr and "PostgreSQL" in done.stderr


@contextmanager
def _server(env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = Path(env["PHONLAP_VAR_DIR"]).parent / f"serve-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(port, proc, log)
            yield f"http://127.0.0.1:{port}", proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _wait(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


def _get(url: str, **headers: str) -> tuple[str, list[str]]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode(), response.headers.get_all("Set-Cookie") or []


def test_behind_a_trusted_https_proxy_cookies_are_secure(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    with _server(env, "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1") as (base, _):
        _, cookies = _get(base + "/login", **{"X-Forwarded-Proto": "https"})
        assert cookies and all("; Secure" in c for c in cookies)
        _, plain = _get(base + "/login")  # the proxy's plain-http side: not marked
        assert plain and not any("Secure" in c for c in plain)


def test_an_untrusted_proxy_cannot_claim_https(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    with _server(env, "--proxy-headers", "--forwarded-allow-ips", "192.0.2.1") as (base, _):
        _, cookies = _get(base + "/login", **{"X-Forwarded-Proto": "https"})
        assert cookies and not any("Secure" in c for c in cookies)


@pytest.mark.skipif(
    not os.environ.get("PHONLAP_TEST_DATABASE_URL"), reason="several workers need PostgreSQL"
)
def test_several_workers_on_postgresql_each_freeze_their_start_up_objects(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    with _server(env, "--workers", "2", "--proxy-headers") as (base, _):
        workers = {}
        for _ in range(12):  # new connections: the kernel spreads them over the workers
            text, _ = _get(base + "/metrics")
            lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line[:1] != "#")
            info = next(k for k in lines if k.startswith("phonlap_gc_frozen_objects{"))
            workers[info] = int(lines[info])
        assert all(frozen > 0 for frozen in workers.values()), workers


def test_a_server_holding_event_streams_stops_at_once_when_told_to(
    database_url: str, engine: Engine, session: Session, tmp_path: Path
) -> None:
    """The server waits for every open answer before it stops, and an event stream stays open
    for half an hour: told to stop (systemd's SIGTERM), it must end its streams itself."""
    f.make_plan(session, "krabi")
    viewer = f.make_user(session, "viewer", area_slug="krabi")
    cookie = auth.sign(accounts.start_session(session, user=viewer))
    env = _env(database_url, tmp_path)
    with _server(env) as (base, proc):
        port = int(base.rsplit(":", 1)[1])
        streams = []
        for _ in range(3):
            stream = socket.create_connection(("127.0.0.1", port), timeout=10)
            stream.sendall(
                f"GET /areas/krabi/events HTTP/1.1\r\nHost: x\r\n"
                f"Cookie: {auth.SESSION_COOKIE}={cookie}\r\n\r\n".encode()
            )
            streams.append((stream, _read_until(stream, b"event: ready")))
        asked = time.monotonic()
        proc.terminate()
        proc.wait(timeout=15)
        assert time.monotonic() - asked < 5  # the streams' watcher looks twice a second
        for stream, head in streams:
            rest = _read_until(stream, b"0\r\n\r\n")  # each answer ended properly
            stream.close()
            assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head
            assert rest.endswith(b"0\r\n\r\n")


def _read_until(stream: socket.socket, end: bytes) -> bytes:
    data = b""
    while end not in data:
        chunk = stream.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_served_process_collects_young_objects_less_often_than_python_s_defaults() -> None:
    with TestClient(main.create_app()):  # its start-up (the lifespan) has run
        assert gc.get_threshold() == main.GC_THRESHOLDS != (700, 10, 10)
        assert gc.get_freeze_count() > 0  # and its start-up objects frozen


def test_a_worker_does_its_routes_work_on_as_many_threads_as_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A few threads, not anyio's 40: dozens of threads fighting for the interpreter's lock
    stretched each SQLite write (and every writer waiting for it) while a hall voted."""
    from anyio import to_thread  # noqa: PLC0415
    from pydantic import ValidationError  # noqa: PLC0415

    from app.config import Settings, get_settings, route_threads  # noqa: PLC0415

    monkeypatch.setenv("PHONLAP_THREADS", "3")
    get_settings.cache_clear()
    try:
        with TestClient(main.create_app()) as client:
            limiter = client.portal.call(to_thread.current_default_thread_limiter)
            assert limiter.total_tokens == 3
    finally:
        get_settings.cache_clear()  # the environment is put back after this
    monkeypatch.delenv("PHONLAP_THREADS")
    # unset: 2 on SQLite (its queries never wait on a server: more threads only fight for the
    # interpreter's lock), 8 on PostgreSQL
    for url, threads in (("sqlite:///var/phonlap.db", 2), ("postgresql+psycopg://h/db", 8)):
        monkeypatch.setenv("PHONLAP_DATABASE_URL", url)
        assert route_threads(Settings()) == threads
    monkeypatch.setenv("PHONLAP_THREADS", "5")
    assert route_threads(Settings()) == 5
    for wrong in ("0", "-1", "many"):
        monkeypatch.setenv("PHONLAP_THREADS", wrong)
        with pytest.raises(ValidationError, match="threads"):
            Settings()


def test_an_sqlite_file_is_written_ahead_syncing_at_checkpoints(tmp_path: Path) -> None:
    """The embedded database: WAL (readers never wait for the writer), foreign keys enforced,
    and commits synced at checkpoints only (`synchronous=NORMAL`, safe from corruption in WAL
    mode): a hall of phones commits dozens of times a second."""
    from sqlalchemy import text  # noqa: PLC0415

    from app.db import make_engine  # noqa: PLC0415

    engine = make_engine(f"sqlite:///{tmp_path}/settings.db")
    try:
        with engine.connect() as connection:
            pragma = lambda name: connection.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
            assert (pragma("journal_mode"), pragma("synchronous"), pragma("foreign_keys")) == (
                "wal",
                1,  # NORMAL (FULL is 2)
                1,
            )
    finally:
        engine.dispose()


def test_the_threads_of_a_worker_take_turns_to_write_to_an_sqlite_file(tmp_path: Path) -> None:
    """Writers of one process wait for each other's commit, not for SQLite's busy wait: with
    SQLite's waiting turned off (busy_timeout 0), threads that each write, read and commit at
    once would fail with "database is locked"; here every write lands, and a transaction given
    back to the pool unfinished (rolled back) lets the next writer in."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from sqlalchemy import event, text  # noqa: PLC0415

    from app.db import make_engine  # noqa: PLC0415

    engine = make_engine(f"sqlite:///{tmp_path}/writers.db")
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=0"))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE dot (id INTEGER PRIMARY KEY, guest INTEGER)"))
        with engine.connect() as connection:  # left without a commit: rolled back at check-in
            connection.execute(text("INSERT INTO dot (guest) VALUES (-1)"))

        def guest(n: int) -> None:
            for _ in range(25):
                with engine.connect() as connection:
                    connection.execute(text("INSERT INTO dot (guest) VALUES (:n)"), {"n": n})
                    connection.execute(text("SELECT count(*) FROM dot WHERE guest = :n"), {"n": n})
                    connection.commit()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(guest, range(8)))  # raises what a thread raised
        with engine.connect() as connection:
            counts = connection.execute(text("SELECT guest, count(*) FROM dot GROUP BY guest"))
            assert dict(counts.all()) == {n: 25 for n in range(8)}
    finally:
        engine.dispose()


def test_a_select_for_update_on_sqlite_waits_for_the_writer_before_it(tmp_path: Path) -> None:
    """SQLite drops `FOR UPDATE`: a read-then-write that locks its row on PostgreSQL (only one
    vote open at a time) takes the process's writer lock from that read on, so two requests at
    once no longer both read "none open" and both open one."""
    import threading  # noqa: PLC0415

    from sqlalchemy import Column, Integer, MetaData, Table, insert, select  # noqa: PLC0415

    from app.db import make_engine  # noqa: PLC0415

    engine = make_engine(f"sqlite:///{tmp_path}/locks.db")
    votes = Table("vote", MetaData(), Column("id", Integer, primary_key=True))
    votes.metadata.create_all(engine)
    said: list[str] = []
    second_asks = threading.Event()

    def open_vote(name: str) -> None:
        with engine.connect() as connection:
            already = connection.execute(select(votes.c.id).with_for_update()).first()
            said.append(f"{name} read {'one open' if already else 'none open'}")
            if name == "first":
                second_asks.set()
                threading.Event().wait(0.05)  # the second would read now, were it let in
            if already is None:
                connection.execute(insert(votes))
                connection.commit()

    try:
        first = threading.Thread(target=open_vote, args=("first",))
        first.start()
        second_asks.wait(5)
        second = threading.Thread(target=open_vote, args=("second",))
        second.start()
        first.join(5)
        second.join(5)
        assert said == ["first read none open", "second read one open"]
        with engine.connect() as connection:
            assert len(connection.execute(select(votes.c.id)).all()) == 1
    finally:
        engine.dispose()
