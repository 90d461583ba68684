"""Live updates: one server-sent-events stream per area (`/areas/{slug}/events`).

Each committed change to the area's plan, progress, reviews or workshops arrives as an event
named by the kind of change (`plan`, `progress`, `review`, `workshop`) with the change as JSON.
Pages listen with the htmx SSE extension (`hx-trigger="sse:plan"`) and reload the part they
show. A stream starts with `ready`, pings every 15 s, and ends after `LIFETIME` seconds so that
the browser reconnects and the reader's access is checked again; `resync` tells a page that
fell behind to reload what it shows.

While a hall votes and posts, a board would reload for every dot and card: the events of
`PACED` kinds reach a stream at most once every `PACE` seconds each, the newest one held back
until then (never dropped: the last of a burst always arrives). A guest's dot in session W goes
out as `vote-W` carrying the vote's panel itself (app.web.vote_panels), which the board swaps in
(`sse-swap`) without asking for it.

A hall holds thousands of streams, and every change wakes each of them: `EventStream` writes
them with as little as possible per event (one task, one encoding of each event for all
streams, timers only for the lifetime, the ping and a held event).
"""

import asyncio
import gc
import json
import logging
import math
import re
import signal
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app import i18n, live
from app.metrics import SERVER_SEND
from app.web import vote_panels
from app.web.auth import ReadArea

log = logging.getLogger(__name__)
router = APIRouter()

LIFETIME = 30 * 60.0
PING = 15.0
RETRY_MS = 2000  # how long a browser waits before reconnecting
# What guests do, dozens a second: seconds between two events of a kind a stream sends. A board
# reloads its new cards at most about three times a second; a vote's panel (one render for
# every screen of the session, app.web.vote_panels) comes five times a second: the wait for the
# next one is part of the half second in which a dot shows on the projector.
PACE = {"vote": 0.2, "contribution": 0.3, "participant": 0.3}
PACED = frozenset(PACE)
# uvloop keeps time in whole milliseconds: a timer may fire up to a millisecond before the
# moment it was set for, and a held event would then wait for the stream's next event (seconds
# at a quiet moment, for ever for the last one of a burst)
SLACK = 0.002
STOPPING_CHECK = 0.5  # seconds between looks at whether the server is shutting down

END: live.Event = {"type": "end"}  # the stream's lifetime is over (never sent)
_TICK: live.Event = {"type": "tick"}  # a held event is due (never sent)
_PING: live.Event = {"type": "ping"}  # time for a keep-alive comment
PING_FRAME = b": ping\r\n\r\n"


def event_name(event: live.Event) -> str:
    return str(event.get("type", "change")).split(".", 1)[0]


def kind_of(name: str) -> str:
    """What a stream name is about: `vote` for `vote-12` (one session's dots)."""
    return name.partition("-")[0]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line of an event stream


def encode(name: str, data: str, retry: int | None = None) -> bytes:
    """One server-sent event; `data` (JSON, or HTML of several lines) as one `data:` line per
    line (the browser joins them with a line feed)."""
    head = f"event: {name}\r\n" + (f"retry: {retry}\r\n" if retry is not None else "")
    lines = "".join(f"data: {line}\r\n" for line in _LINE_BREAK.split(data))
    return f"{head}{lines}\r\n".encode()


READY_FRAME = encode("ready", "{}", RETRY_MS)
RESYNC_FRAME = encode("resync", "{}")
_last: tuple[live.Event | None, str, bytes] = (None, "", b"")


def frame(name: str, event: live.Event) -> bytes:
    """The event as sent under `name`. The hub hands one event object to every stream of the
    worker, so it is encoded once for all of them, not once per stream (thousands in a hall)."""
    global _last
    cached, cached_name, encoded = _last
    if cached is not event or cached_name != name:
        encoded = encode(name, json.dumps(event, ensure_ascii=False))
        _last = (event, name, encoded)
    return encoded


# what a stream sends in place of an event's JSON: the HTML it gives (app, event, when it reached
# the stream, locale) for the event's kind, such as a vote's panel
Push = Callable[[Any, live.Event, float, str], Awaitable[str]]


class EventStream(StreamingResponse):
    """A `text/event-stream` answer of the changes on `channels`: `ready`, then each event that
    `name_of` names (paced, see `paced`) under that name, until the stream's lifetime is over,
    the browser leaves, the server shuts down, or `last(event)` says so. An event whose kind
    (`kind_of` its name) is in `push` goes out with the HTML that gives as its data."""

    def __init__(
        self,
        channels: Iterable[str],
        name_of: Callable[[live.Event], str | None] = event_name,
        last: Callable[[live.Event], bool] = lambda _event: False,
        push: dict[str, Push] | None = None,
    ) -> None:
        super().__init__(
            iter(()),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self.channels, self.name_of, self.last = list(channels), name_of, last
        self.push, self.locale = push or {}, i18n.get_locale()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        async with live.hub.listen(*self.channels) as queue:
            _look_after_streams(loop)
            # Timers for the stream's whole life, not one per event: a hall's thousands of
            # streams each wake for every event, and a timer set and cancelled on each costs.
            lifetime = loop.call_later(LIFETIME, _end, queue)
            pings = _Pings(loop, queue)
            gone = loop.create_task(_end_on_disconnect(receive, queue))
            try:
                await send({"type": "http.response.start", "status": self.status_code,
                            "headers": self.raw_headers})  # fmt: skip
                # The middleware has seen the status and the headers (metrics, security headers,
                # no compression of a stream): the frames go straight to the server.
                write = scope.get(SERVER_SEND, send)
                await write({"type": "http.response.body", "body": READY_FRAME, "more_body": True})
                async for name, event, arrived in paced(queue, self.name_of):
                    if event is _PING:
                        body = PING_FRAME
                    elif (push := self.push.get(kind_of(name))) is not None:
                        body = await self._pushed(push, scope, name, event, arrived)
                    else:
                        body = frame(name, event)
                    await write({"type": "http.response.body", "body": body, "more_body": True})
                    if self.last(event):
                        break
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                lifetime.cancel()
                pings.cancel()
                gone.cancel()

    async def _pushed(
        self, push: Push, scope: Scope, name: str, event: live.Event, arrived: float
    ) -> bytes:
        try:
            return encode(name, await push(scope["app"], event, arrived, self.locale))
        except Exception:  # the page reloads what it shows instead
            log.exception("could not make the %s event's HTML", name)
            return RESYNC_FRAME


@router.get("/areas/{slug}/events", name="area_events", include_in_schema=False)
async def area_events(area: ReadArea) -> EventStream:
    # The access checks gave their database connection back (db.release): none is held while
    # the stream stays open.
    return EventStream([live.area_channel(area.id)], _area_event_name, push=AREA_PUSH)


AREA_PUSH: dict[str, Push] = {"vote": vote_panels.PANELS.html}


def _area_event_name(event: live.Event) -> str:
    """A guest's dot in session W goes out as `vote-W`, with the vote's panel (`AREA_PUSH`),
    paced per session."""
    name = event_name(event)
    return f"vote-{event.get('session_id')}" if name == "vote" else name


async def paced(
    queue: "asyncio.Queue[live.Event]",
    name_of: Callable[[live.Event], str | None],
    every: float | None = None,
) -> AsyncIterator[tuple[str, live.Event, float]]:
    """The queue's events with their stream names and when they reached the worker (loop time,
    `live.hub.arrived`: the same for every stream; else when taken from the queue), until `END`
    (those named None skipped); those whose kind (`kind_of` the name) is `PACED` at most once
    every `every` seconds per name (else its kind's `PACE`): one that comes sooner is held (a
    newer one replacing it) and sent when its time comes. A timer is set only while an event is
    held, not for every event. A ping passes as ("", `_PING`, its time)."""

    def gap(name: str) -> float:
        return every if every is not None else PACE[kind_of(name)]

    loop = asyncio.get_running_loop()
    sent: dict[str, float] = {}  # name -> when its last event went out
    held: dict[str, tuple[live.Event, float]] = {}  # name -> the newest event waiting, and when
    timers: dict[str, asyncio.TimerHandle] = {}
    try:
        while (event := await queue.get()) is not END:
            now = loop.time()
            if event is _PING:
                yield "", event, now
            elif event is not _TICK and (name := name_of(event)) is not None:
                arrived = live.hub.arrived(event, now)  # (as for every other stream)
                if kind_of(name) not in PACED:
                    yield name, event, arrived
                elif name in held or now - sent.get(name, -math.inf) < gap(name):
                    held[name] = (event, arrived)
                    if name not in timers:
                        timers[name] = loop.call_at(
                            sent[name] + gap(name), _tick, queue, timers, name, gap(name)
                        )
                else:
                    sent[name] = now
                    yield name, event, arrived
            for due in [n for n in held if sent[n] + gap(n) <= now + SLACK]:
                sent[due] = now
                if (timer := timers.pop(due, None)) is not None:
                    timer.cancel()
                yield due, *held.pop(due)
            for name in held.keys() - timers.keys():  # its timer came too early: set it again
                timers[name] = loop.call_at(
                    sent[name] + gap(name), _tick, queue, timers, name, gap(name)
                )
    finally:
        for timer in timers.values():
            timer.cancel()


def _tick(queue: "asyncio.Queue[live.Event]", timers: dict, name: str, every: float) -> None:
    if queue.full():  # events are waiting: the stream wakes for them; try again after
        loop = asyncio.get_running_loop()
        timers[name] = loop.call_later(every / 5, _tick, queue, timers, name, every)
    else:
        del timers[name]  # (fired: `paced` sets another if the event is not due yet)
        queue.put_nowait(_TICK)


def _end(queue: "asyncio.Queue[live.Event]") -> None:
    while queue.full():  # the reader is that far behind: it reconnects and reloads anyway
        queue.get_nowait()
    queue.put_nowait(END)


class _Pings:
    """A keep-alive comment every `PING` seconds (proxies close a silent connection)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: "asyncio.Queue[live.Event]"):
        self.loop, self.queue = loop, queue
        self.handle = loop.call_later(PING, self._due)

    def _due(self) -> None:
        if not self.queue.full():  # a full queue is a reader far behind: no ping needed
            self.queue.put_nowait(_PING)
        self.handle = self.loop.call_later(PING, self._due)

    def cancel(self) -> None:
        self.handle.cancel()


async def _end_on_disconnect(receive: Receive, queue: "asyncio.Queue[live.Event]") -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    _end(queue)


_watched: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()


def _look_after_streams(loop: asyncio.AbstractEventLoop) -> None:
    """While streams are open, one task per event loop looks twice a second whether the server
    is shutting down (then it ends them all: the server waits for open answers before it stops)
    and keeps them out of the collector's full scans (`_Collector`)."""
    if loop not in _watched:
        _watched.add(loop)
        loop.create_task(_streams_open(loop))


async def _streams_open(loop: asyncio.AbstractEventLoop) -> None:
    try:
        while queues := live.hub.queues():
            if _server_stopping():
                for queue in queues:
                    _end(queue)
                return
            _collector.streams_open(len(queues))
            await asyncio.sleep(STOPPING_CHECK)
    finally:
        _watched.discard(loop)
        _collector.streams_open(0)


class _Collector:
    """Keeps open streams out of the garbage collector's full scans.

    Each stream holds a few hundred objects for half an hour (its task, queue, timers, the
    request's state), and each change it carries makes new ones that the collector promotes.
    With thousands of streams, Python's full collection then scans them all every few changes:
    0.7-0.8 s with 5,000 streams (measured), during which no event goes out. So once the open
    streams have grown and stayed `SETTLE` seconds, what is alive is frozen (never scanned, as
    the start-up objects are: app.main); once all streams have closed, or every `LIFETIME` (by
    when every stream has reconnected), it is thawed and collected once, so that garbage frozen
    with them does not stay."""

    SETTLE = 10.0

    def __init__(self) -> None:
        self.frozen = 0  # streams open at the last freeze
        self.grown_at: float | None = None  # when more streams than that were first seen
        self.thawed_at = time.monotonic()

    def streams_open(self, count: int) -> None:
        now = time.monotonic()
        if self.frozen and (count == 0 or now - self.thawed_at > LIFETIME):
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.frozen, self.grown_at, self.thawed_at = 0, None, now
        if count <= self.frozen:
            self.grown_at = None
        elif self.grown_at is None:
            self.grown_at = now
        elif now - self.grown_at >= self.SETTLE:
            gc.freeze()
            self.frozen, self.grown_at = count, None


_collector = _Collector()


def _server_stopping() -> bool:
    """Whether the uvicorn server of this process was told to stop: its signal handler is a
    method of the server, whose `should_exit` it sets."""
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
