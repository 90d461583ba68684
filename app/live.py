"""Publish/subscribe for live updates.

Services publish after commit. Today the broker is in-process (one worker); a PostgreSQL
LISTEN/NOTIFY broker with the same two methods will serve several workers.
"""

import logging
import threading
from collections.abc import Callable
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
