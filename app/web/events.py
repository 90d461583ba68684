"""Live updates: one server-sent-events stream per area (`/areas/{slug}/events`).

Each committed change to the area's plan, progress, reviews or workshops arrives as an event
named by the kind of change (`plan`, `progress`, `review`, `workshop`) with the change as JSON.
Pages listen with the htmx SSE extension (`hx-trigger="sse:plan"`) and reload the part they
show. A stream starts with `ready`, pings every 15 s, and ends after `LIFETIME` seconds so that
the browser reconnects and the reader's access is checked again; `resync` tells a page that
fell behind to reload what it shows.

While a hall votes and posts, a board would reload for every dot and card: the events of
`PACED` kinds reach a stream at most once every `PACE` seconds each, the newest one held back
until then (never dropped: the last of a burst always arrives).
"""

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent

from app import live
from app.web.auth import ReadArea

router = APIRouter()

LIFETIME = 30 * 60.0
PING = 15
RETRY_MS = 2000  # how long a browser waits before reconnecting
PACED = frozenset({"vote", "contribution", "participant"})  # what guests do, dozens a second
PACE = 0.3  # seconds: a board reloads its votes or new cards at most about three times a second


def event_name(event: live.Event) -> str:
    return str(event.get("type", "change")).split(".", 1)[0]


_last: tuple[live.Event | None, bytes] = (None, b"")


def frame(event: live.Event) -> bytes:
    """The event as sent. The hub hands one event object to every stream of the worker, so it is
    encoded once for all of them, not once per stream (thousands in a hall)."""
    global _last
    cached, encoded = _last
    if cached is not event:
        data = json.dumps(event, ensure_ascii=False)
        encoded = ServerSentEvent(data=data, event=event_name(event)).encode()
        _last = (event, encoded)
    return encoded


@router.get("/areas/{slug}/events", name="area_events", include_in_schema=False)
async def area_events(area: ReadArea) -> EventSourceResponse:
    # The access checks gave their database connection back (db.release): none is held while
    # the stream stays open.
    return EventSourceResponse(_stream(live.area_channel(area.id)), ping=PING)


async def _stream(channel: str) -> AsyncIterator[dict[str, Any] | bytes]:
    async with live.hub.listen(channel) as queue:
        yield {"event": "ready", "data": "{}", "retry": RETRY_MS}
        # One timer for the stream's whole life, not one per event: a hall's thousands of
        # streams each wake for every event, and a timer set and cancelled on each costs them.
        timer = asyncio.get_running_loop().call_later(LIFETIME, _end, queue)
        try:
            async for _, event in paced(queue, event_name):
                yield frame(event)
        finally:
            timer.cancel()


END: live.Event = {"type": "end"}  # the stream's lifetime is over (never sent)
_TICK: live.Event = {"type": "tick"}  # a held event is due (never sent)


async def paced(
    queue: "asyncio.Queue[live.Event]",
    name_of: Callable[[live.Event], str | None],
    every: float = PACE,
) -> AsyncIterator[tuple[str, live.Event]]:
    """The queue's events with their stream names until `END` (those named None skipped), the
    `PACED` ones at most once every `every` seconds per name: one that comes sooner is held (a
    newer one replacing it) and sent when its time comes. A timer is set only while an event is
    held, not for every event."""
    loop = asyncio.get_running_loop()
    sent: dict[str, float] = {}  # name -> when its last event went out
    held: dict[str, live.Event] = {}  # name -> the newest event waiting for its time
    timers: dict[str, asyncio.TimerHandle] = {}
    try:
        while (event := await queue.get()) is not END:
            now = loop.time()
            if event is not _TICK and (name := name_of(event)) is not None:
                if name not in PACED:
                    yield name, event
                elif name in held or now - sent.get(name, -math.inf) < every:
                    held[name] = event
                    if name not in timers:
                        timers[name] = loop.call_at(sent[name] + every, _tick, queue, timers, name)
                else:
                    sent[name] = now
                    yield name, event
            for name in [n for n in held if sent[n] + every <= now]:
                sent[name] = now
                timers.pop(name).cancel()
                yield name, held.pop(name)
    finally:
        for timer in timers.values():
            timer.cancel()


def _tick(queue: "asyncio.Queue[live.Event]", timers: dict, name: str) -> None:
    if queue.full():  # events are waiting: the stream wakes for them; try again after
        timers[name] = asyncio.get_running_loop().call_later(PACE / 5, _tick, queue, timers, name)
    else:
        queue.put_nowait(_TICK)


def _end(queue: "asyncio.Queue[live.Event]") -> None:
    while queue.full():  # the reader is that far behind: it reconnects and reloads anyway
        queue.get_nowait()
    queue.put_nowait(END)
