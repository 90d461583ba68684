"""Publish/subscribe for live updates.

Services publish after commit. Today the broker is in-process (one worker); a PostgreSQL
LISTEN/NOTIFY broker with the same two methods will serve several workers.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)
Event = dict[str, Any]
Listener = Callable[[str, Event], None]


class Broker(Protocol):
    def publish(self, channel: str, event: Event) -> None: ...
    def subscribe(self, listener: Listener) -> Callable[[], None]: ...


class InProcessBroker:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def publish(self, channel: str, event: Event) -> None:
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


broker: Broker = InProcessBroker()


def area_channel(area_id: int) -> str:
    return f"area:{area_id}"


class Hub:
    """Fans the broker's events out to the open event streams of this worker.

    The broker calls listeners on the publishing thread (a route's threadpool thread); the hub
    hands each event to its event loop once, and the loop puts it on every stream's queue for
    that channel. A stream that falls `QUEUE_SIZE` events behind is told to resync instead.
    """

    QUEUE_SIZE = 100

    def __init__(self, source: Broker) -> None:
        self._source = source
        self._streams: dict[str, set[asyncio.Queue[Event]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def count(self, channel: str | None = None) -> int:
        if channel is not None:
            return len(self._streams.get(channel, ()))
        return sum(len(queues) for queues in self._streams.values())

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[Event]]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first stream, or a new loop (tests start one per client)
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._streams = {}
            self._loop = loop
            self._unsubscribe = self._source.subscribe(self._on_event)
        queue: asyncio.Queue[Event] = asyncio.Queue(self.QUEUE_SIZE)
        self._streams.setdefault(channel, set()).add(queue)
        try:
            yield queue
        finally:
            queues = self._streams.get(channel)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._streams[channel]

    def _on_event(self, channel: str, event: Event) -> None:
        loop = self._loop
        if loop is None or channel not in self._streams or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._deliver, channel, event)

    def _deliver(self, channel: str, event: Event) -> None:
        for queue in list(self._streams.get(channel, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                _replace_with_resync(queue)


def _replace_with_resync(queue: "asyncio.Queue[Event]") -> None:
    """A stream too far behind gets one 'resync' event: its page reloads what it shows."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait({"type": "resync"})


hub = Hub(broker)
