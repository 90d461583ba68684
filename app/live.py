"""Publish/subscribe for live updates.

A write's event goes out with its commit (`commit`): it is delivered once the write is
committed, never for a write rolled back. Two brokers share one interface; the server picks one
from the database URL when it starts (`start`):

- `InProcessBroker` (SQLite; one worker): publishes after the commit to this process's
  listeners.
- `PostgresBroker` (PostgreSQL; any number of workers and hosts): `pg_notify` in the writing
  transaction, so PostgreSQL delivers it on commit; each worker holds one listening connection
  (a thread, outside the pool) and hands what arrives to its own listeners. After a gap (the
  connection lost, then back) it tells them to `resync`: what they show may be stale.
"""

import asyncio
import contextlib
import json
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

log = logging.getLogger(__name__)
Event = dict[str, Any]
Listener = Callable[[str, Event], None]

EVERY = "*"  # the channel of an event meant for every stream of the process (resync)
RESYNC: Event = {"type": "resync"}


class Broker(Protocol):
    # True: `publish` is called before the commit, with the writing session, and sends the event
    # in its transaction. False: `publish` is called after the commit, without a session.
    transactional: bool

    def publish(self, channel: str, event: Event, *, session: Session | None = None) -> None: ...
    def subscribe(self, listener: Listener) -> Callable[[], None]: ...


def commit(session: Session, channel: str | None, event: Event | None) -> None:
    """Commit the session's transaction and publish `event` on `channel` with it (if given)."""
    current = broker
    if channel is None or event is None:
        session.commit()
    elif current.transactional:
        current.publish(channel, event, session=session)
        session.commit()
    else:
        if session.get_bind().dialect.name == "postgresql":
            # A process that does not listen (the command line, a script, the test suite) still
            # tells the servers on the same database.
            notify(session, channel, event)
        session.commit()
        current.publish(channel, event)


def commit_all(session: Session, messages: list[tuple[str, Event]]) -> None:
    """Like `commit`, with several events on their channels (one write seen by several areas
    and an event's projector)."""
    current = broker
    if current.transactional:
        for channel, event in messages:
            current.publish(channel, event, session=session)
        session.commit()
        return
    if session.get_bind().dialect.name == "postgresql":
        for channel, event in messages:
            notify(session, channel, event)
    session.commit()
    for channel, event in messages:
        current.publish(channel, event)


class InProcessBroker:
    transactional = False

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def publish(self, channel: str, event: Event, *, session: Session | None = None) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(channel, event)
            except Exception:  # a broken listener must not undo a committed write
                log.exception("live listener failed")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


# ---- PostgreSQL: LISTEN/NOTIFY ----------------------------------------------------------------

PG_CHANNEL = "phonlap_live"
MAX_PAYLOAD = 8000  # PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more


def encode(channel: str, event: Event) -> str:
    """The NOTIFY payload: the area's channel and the event (ids and kinds, a few hundred bytes).
    An event too large to send becomes `resync` on its channel: its streams reload instead."""
    payload = json.dumps({"c": channel, "e": event}, ensure_ascii=False, separators=(",", ":"))
    if len(payload.encode()) < MAX_PAYLOAD:
        return payload
    log.warning("live event on %s too large to send (%d characters): resync", channel, len(payload))
    return json.dumps({"c": channel, "e": RESYNC})


def notify(session: Session, channel: str, event: Event) -> None:
    """Send the event in the session's transaction: delivered when (if) it commits."""
    params = {"c": PG_CHANNEL, "p": encode(channel, event)}
    session.execute(text("SELECT pg_notify(:c, :p)"), params)


def decode(payload: str) -> tuple[str, Event] | None:
    try:
        data = json.loads(payload)
        channel, event = data["c"], data["e"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(channel, str) or not isinstance(event, dict):
        return None
    return channel, event


def conninfo_of(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+psycopg://…`) as a libpq connection string for psycopg."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresBroker:
    """Publishes with `pg_notify` in the writing transaction; one thread per worker listens on
    its own connection and hands every notification to this worker's listeners."""

    transactional = True
    BACKOFF = (0.1, 5.0)  # the first and the longest wait before connecting again
    CHECK_EVERY = 10.0  # seconds between checks that a quiet listening connection still works
    POLL = 0.5  # how often the listening thread looks whether it should stop
    # A network that drops the connection silently is noticed within a minute (TCP keepalives;
    # unanswered data times out after 30 s), not after the kernel's quarter of an hour.
    CONNECT: dict[str, Any] = {
        "autocommit": True,
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 30000,
    }

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._local = InProcessBroker()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self.backend_pid: int | None = None  # the listening connection's server process
        self.connections = 0  # connections made so far (1 + reconnections)

    def publish(self, channel: str, event: Event, *, session: Session | None = None) -> None:
        if session is not None:
            notify(session, channel, event)
            return
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (PG_CHANNEL, encode(channel, event)))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._local.subscribe(listener)

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def start(self, wait: float = 5.0) -> bool:
        """Start listening; wait up to `wait` seconds for the connection. True if listening."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="phonlap-live", daemon=True)
        self._thread.start()
        return self._listening.wait(wait)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.POLL + 5)
            self._thread = None

    def _run(self) -> None:
        delay, gap = self.BACKOFF[0], False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, **self.CONNECT) as conn:
                    conn.execute(f"LISTEN {PG_CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    self.connections += 1
                    self._listening.set()
                    if gap:  # events sent while nobody listened are lost: reload instead
                        log.info("live: listening again; streams resync")
                        self._local.publish(EVERY, RESYNC)
                    delay = self.BACKOFF[0]
                    self._listen(conn)
            except psycopg.Error as exc:
                log.warning("live: listening connection failed (%s); again in %.1f s", exc, delay)
            except Exception:  # never let the thread die: streams would silently go stale
                log.exception("live: listener failed; again in %.1f s", delay)
            self._listening.clear()
            gap = True
            self._stop.wait(delay * random.uniform(1.0, 1.5))  # jitter: workers don't stampede
            delay = min(delay * 2, self.BACKOFF[1])

    def _listen(self, conn: psycopg.Connection) -> None:
        checked = time.monotonic()
        while not self._stop.is_set():
            for message in conn.notifies(timeout=self.POLL):
                self._dispatch(message.payload)
            if time.monotonic() - checked > self.CHECK_EVERY:
                conn.execute("SELECT 1")  # raises if the connection died without a word
                checked = time.monotonic()

    def _dispatch(self, payload: str) -> None:
        message = decode(payload)
        if message is None:
            log.warning("live: ignored a malformed notification")
            return
        self._local.publish(*message)


def area_channel(area_id: int) -> str:
    return f"area:{area_id}"


def workshop_event_channel(event_id: int) -> str:
    """A national workshop's own changes (stations attached, detached, the event closed)."""
    return f"workshop_event:{event_id}"


class Hub:
    """Fans the broker's events out to the open event streams of this worker.

    The broker calls listeners on the publishing thread (a route's threadpool thread, or the
    PostgreSQL broker's listening thread); the hub hands each event to its event loop once, and
    the loop puts it on every stream's queue for that channel (every queue for `EVERY`). A
    stream that falls `QUEUE_SIZE` events behind is told to resync instead.
    """

    QUEUE_SIZE = 100
    ARRIVALS = 1024  # the newest events whose arrival is kept (`arrived`)

    def __init__(self, source: Broker) -> None:
        self._source = source
        self._streams: dict[str, set[asyncio.Queue[Event]]] = {}
        # id -> (the event, kept so that its id is not reused while here; when it arrived)
        self._arrived: OrderedDict[int, tuple[Event, float]] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def count(self, channel: str | None = None) -> int:
        if channel is not None:
            return len(self._streams.get(channel, ()))
        return len({id(q) for queues in self._streams.values() for q in queues})

    def queues(self) -> "list[asyncio.Queue[Event]]":
        """Every open stream's queue (once each, even a queue on several channels)."""
        return list({id(q): q for qs in self._streams.values() for q in qs}.values())

    def use(self, source: Broker) -> None:
        """Listen to `source` from now on (the server chose its broker)."""
        self._source = source
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = source.subscribe(self._on_event)

    @contextlib.asynccontextmanager
    async def listen(self, *channels: str) -> AsyncIterator[asyncio.Queue[Event]]:
        """One queue for the events of every channel given (an event's projector hears the
        channels of all its stations' areas)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first stream, or a new loop (tests start one per client)
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._streams = {}
            self._loop = loop
            self._unsubscribe = self._source.subscribe(self._on_event)
        queue: asyncio.Queue[Event] = asyncio.Queue(self.QUEUE_SIZE)
        for channel in channels:
            self._streams.setdefault(channel, set()).add(queue)
        try:
            yield queue
        finally:
            for channel in channels:
                queues = self._streams.get(channel)
                if queues is not None:
                    queues.discard(queue)
                    if not queues:
                        del self._streams[channel]

    def _on_event(self, channel: str, event: Event) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or (channel != EVERY and channel not in self._streams):
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._deliver, channel, event)

    def arrived(self, event: Event, default: float) -> float:
        """When `event` reached this worker's event loop (loop time), the same moment for all
        the streams it was put on, whenever each takes it from its queue; `default` for one
        that did not come through the hub or came too long ago. Whatever was committed before
        the event was published can be read by then (app.web.vote_panels shares a render)."""
        kept = self._arrived.get(id(event))
        return kept[1] if kept is not None and kept[0] is event else default

    def _deliver(self, channel: str, event: Event) -> None:
        if id(event) not in self._arrived:
            self._arrived[id(event)] = (event, self._loop.time() if self._loop else 0.0)
            if len(self._arrived) > self.ARRIVALS:
                self._arrived.popitem(last=False)
        queues = self.queues() if channel == EVERY else list(self._streams.get(channel, ()))
        for queue in queues:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                _replace_with_resync(queue)


def _replace_with_resync(queue: "asyncio.Queue[Event]") -> None:
    """A stream too far behind gets one 'resync' event: its page reloads what it shows."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(dict(RESYNC))


broker: Broker = InProcessBroker()
hub = Hub(broker)


def install(new: Broker) -> Broker:
    """Make `new` this process's broker (the event streams follow); returns the one before."""
    global broker
    previous, broker = broker, new
    hub.use(new)
    return previous


def start(database_url: str) -> Callable[[], None]:
    """At server start: PostgreSQL gets a `PostgresBroker` listening for every worker; SQLite
    keeps the in-process broker. Returns what to call at shutdown."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return lambda: None
    pg = PostgresBroker(conninfo_of(database_url))
    if not pg.start():
        log.warning("live: not listening yet; streams will resync once the database answers")
    previous = install(pg)

    def stop() -> None:
        install(previous)
        pg.stop()

    return stop
