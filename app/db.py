"""Engine, sessions and the session dependency."""

import re
import threading
from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Depends
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from app import changes  # noqa: F401  (the data version moves with every write)
from app.config import get_settings


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    _one_writer_at_a_time(engine)
    return engine


_WRITE = re.compile(r"\s*(?:insert|update|delete|replace)\b", re.IGNORECASE)
WRITER_WAIT = 5.0  # seconds, as SQLite's busy_timeout: then SQLite's own waiting takes over


def _one_writer_at_a_time(engine: Engine) -> None:
    """The threads of a worker take turns to write to an SQLite file, in the order they come.

    SQLite lets one connection write at a time; one that finds the file busy sleeps and tries
    again, for longer each time (1, 2, 5 ... 100 ms), and a newcomer may take the lock before
    it. With a hall of phones voting, writers slept while the lock was free and some waited
    seconds, a few past the 5 s timeout ("database is locked"). Here a transaction's first
    write (pysqlite begins the transaction there), or its first `SELECT ... FOR UPDATE`
    (`_locks_rows`), waits for a lock of this process, held until
    its connection is back in the pool (a session gives it back as it commits or rolls back;
    SQLAlchemy's commit event comes before the commit), so SQLite's lock is free whenever it
    asks. Other processes (a `phonlap` command) still meet SQLite's busy wait, and so does a
    writer that waited `WRITER_WAIT` here (never forever: two connections of one thread
    writing at once would otherwise wait for each other)."""
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn, _cursor, statement, _params, context, _many) -> None:  # noqa: ANN001
        if "writer" not in conn.info and (_WRITE.match(statement) or _locks_rows(context)):
            conn.info["writer"] = lock.acquire(timeout=WRITER_WAIT)

    def _give(info: dict) -> None:
        if info.pop("writer", False):
            lock.release()

    event.listen(engine.pool, "checkin", lambda _dbapi, record: _give(record.info))
    event.listen(engine.pool, "invalidate", lambda _dbapi, record, _exc: _give(record.info))


def _locks_rows(context: Any) -> bool:
    """Whether the statement is a `SELECT ... FOR UPDATE`: SQLite has no row locks and drops the
    clause, so a read-then-write that locks its rows on PostgreSQL (one vote open at a time, a
    guest's last dot) takes this process's writer lock from that read on instead. Without it,
    two requests both read "no vote open" before either wrote, and both opened one."""
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    return getattr(statement, "_for_update_arg", None) is not None


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut may lose the last
    # commits but never corrupts the file (sqlite.org/pragma.html#pragma_synchronous); a hall
    # of phones writes dozens of times a second.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.sql_echo)


def sessions_on(engine: Engine | Callable[[], Engine]) -> Callable[[], AsyncIterator[Session]]:
    """A session dependency on a database (tests override `get_session` with one on theirs).

    It is async on purpose: making a session does no I/O (it connects at its first query), so
    it is made on the event loop, and closed there when its work ended with a commit or a
    rollback (the connection is back in the pool already). A plain `def` dependency cost two
    thread-pool jobs a request, one to open and one to close: a hall of phones sends hundreds of
    requests a second. A session still in a transaction (a page that only read) is closed on a
    thread on PostgreSQL, since its rollback talks to the server; SQLite's rollback is a call
    into the library that waits for nothing (a reader's snapshot, or a writer's journal in WAL
    mode, is dropped), so it ends on the loop too: a phone's poll costs one thread-pool job."""
    engine_for = engine if callable(engine) else (lambda: engine)

    async def get_session() -> AsyncIterator[Session]:
        bind = engine_for()
        session = Session(bind, expire_on_commit=False)
        try:
            yield session
        finally:
            if session.in_transaction() and bind.dialect.name != "sqlite":
                # On a limiter of its own, as FastAPI closes a plain dependency: waiting for a
                # free thread of the shared pool while holding a connection would deadlock
                # when every thread waits for a connection (a hall of phones at once).
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
            else:
                session.close()

    get_session.engine = engine_for  # type: ignore[attr-defined]
    return get_session


get_session = sessions_on(get_engine)
SessionDep = Annotated[Session, Depends(get_session)]


def engine_of(app: Any) -> Engine:
    """The database an app's sessions use, for code outside a route (middleware, probes): the
    one of the session dependency, or of the one tests put in its place (`sessions_on`)."""
    factory = app.dependency_overrides.get(get_session, get_session)
    return factory.engine()


def release(session: Session) -> None:
    """End a dependency's read transaction, giving its connection back to the pool.

    Each plain `def` dependency runs on its own threadpool job. A request that kept its
    connection while waiting for the next job would, with enough requests at once (a hall of
    browsers reconnecting), leave every thread waiting for a connection and every connection
    held by a request waiting for a thread. Loaded rows stay usable (expire_on_commit=False)."""
    if session.in_transaction():
        session.commit()
