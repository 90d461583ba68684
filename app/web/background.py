"""Requests that can wait: a phone's poll goes after the requests someone is waiting for.

A hall's phones each ask every 20 s whether their vote or café section changed (`guest_live`).
When the facilitators open their votes, 720 phones learn of it within those 20 s and each gets
its section drawn, while the same phones start putting dots, posting, and every board and
projector reloads: the routes' few threads (app.config.route_threads) then have a queue, first
come first served, and a guest's dot waited behind a dozen polls. Nobody watches a poll: one
answered a second later shows the vote a second later on a phone that looks every 20 s.

So a poll takes its turn in a lane of its own (`Lane`): one poll at a time, and only while no
other request waits for a route thread and one is free. A poll that has waited `MAX_WAIT`
seconds goes anyway, still one at a time: polls never take more than one thread, and never wait
for ever while the server is busy.
"""

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator

from anyio import to_thread

MAX_WAIT = 2.0  # seconds a poll waits at most for the routes' threads to be free
TICK = 0.005  # seconds between two looks at the threads while polls wait


class Lane:
    """One request at a time, each when the routes' threads are free (or it waited
    `max_wait` seconds), in the order they came; per event loop."""

    def __init__(self, max_wait: float = MAX_WAIT, tick: float = TICK) -> None:
        self.max_wait, self.tick = max_wait, tick
        self.waiting: deque[tuple[float, asyncio.Future[None]]] = deque()
        self.busy = False
        self.timer: asyncio.TimerHandle | None = None

    async def enter(self) -> None:
        """Wait for this request's turn (then `leave` when it is done)."""
        loop = asyncio.get_running_loop()
        if not self.busy and not self.waiting and _threads_free():
            self.busy = True
            return
        turn: asyncio.Future[None] = loop.create_future()
        self.waiting.append((loop.time(), turn))
        self._look(loop)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # its turn came as it went: pass it on
                self.leave()
            raise

    def leave(self) -> None:
        self.busy = False
        if self.waiting:
            self._look(asyncio.get_running_loop())

    def _look(self, loop: asyncio.AbstractEventLoop) -> None:
        """Give the turn to the first request waiting when it is due, else look again soon."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        while self.waiting and self.waiting[0][1].done():  # (gone: the client went away)
            self.waiting.popleft()
        if not self.waiting or self.busy:
            return
        since, turn = self.waiting[0]
        if _threads_free() or loop.time() - since >= self.max_wait:
            self.waiting.popleft()
            self.busy = True
            turn.set_result(None)
        else:
            self.timer = loop.call_later(self.tick, self._look, loop)


def _threads_free() -> bool:
    """Whether a route thread is free and no request waits for one."""
    stats = to_thread.current_default_thread_limiter().statistics()
    return stats.tasks_waiting == 0 and stats.borrowed_tokens < stats.total_tokens


_LANES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Lane]" = weakref.WeakKeyDictionary()


def lane() -> Lane:
    """This event loop's lane (a test's client runs its own loop)."""
    loop = asyncio.get_running_loop()
    if (found := _LANES.get(loop)) is None:
        found = _LANES[loop] = Lane()
    return found


async def in_turn() -> AsyncIterator[None]:
    """A route's dependency: its work waits for its turn in the lane (before it takes a thread,
    or a database connection)."""
    polls = lane()
    await polls.enter()
    try:
        yield
    finally:
        polls.leave()
