"""A workshop board's vote panel, carried by the area's event stream.

While a hall votes, every screen that shows a board (the facilitator's, the projector's, the
area's present page) would ask for the vote's panel after each paced `vote` event: two dozen
screens at an 11-station event, several times a second each, every one a request with its access
checks, three queries and a render. Instead the stream sends the panel itself: the `vote.cast`
events of session W go out as `vote-W` events whose data is the panel's HTML (with each card's
dots, swapped in out of band), and the board's vote slot swaps it in (`sse-swap`).

The panel is rendered once per worker for all the streams that send it at about the same time
(`Panels`): a stream sending an event that arrived at time t takes a render that started at t
or later (in flight or done), which therefore read every change committed before that event
was published, and starts one only when there is none. An event's arrival is when it reached
the worker (`live.hub.arrived`), not when each stream took it from its queue: the board and the
projector of a session, sending the same dot a moment apart, share one render (with each
stream's own moment, the second one always rendered again: twice the work while a hall voted).

What the panel shows is what the board shows to anyone who may read the area (the stream's own
access check): the vote's question, counts and the text of its cards; the facilitator's button
to close the vote stays outside it.
"""

import asyncio
import logging
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import anyio
from markupsafe import Markup, escape
from sqlmodel import Session

from app import i18n, live
from app.db import engine_of
from app.i18n import gettext
from app.models import WorkshopSession
from app.services import votes
from app.templating import env

log = logging.getLogger(__name__)

KEEP = 600.0  # seconds a render is kept after it started (then a newer event renders again)


def panel(session: Session, workshop: WorkshopSession) -> str:
    """The vote panel of `workshop`'s board in the current locale, as every screen gets it (the
    board's `part=vote` answer and the stream's `vote-W` events): the newest vote, its results,
    and the dots of each of its cards (out of band)."""
    tally = votes.latest(session, workshop)
    cards = (
        [SimpleNamespace(contribution=c) for c in votes.item_rows(session, tally.vote)]
        if tally
        else []
    )
    view = votes.board_view(tally, cards, items=True)
    ctx: dict[str, Any] = {"workshop": workshop, **view, "oob": True}
    if tally is not None:  # (a set: the order of out-of-band swaps does not matter)
        locale = i18n.get_locale()
        lines = (_dots_line(locale, c, tally.counts[c], True) for c in ctx["vote_items"])
        ctx["dots_oob"] = Markup("".join(lines))
    return env.get_template("workshop/_vote_panel.html").render(ctx)


def vote_dots(contribution_id: int, dots: int, oob: bool = False) -> Markup:
    """A card's dots on the board (`_card.html`); `oob`: as a panel sends it, swapped in place
    out of band."""
    return Markup(_dots_line(i18n.get_locale(), contribution_id, dots, oob))


@lru_cache(maxsize=8192)
def _dots_line(locale: str, contribution_id: int, dots: int, oob: bool) -> str:
    """A panel sends the dots line of every card of the vote (dozens, five times a second per
    session while a hall votes) and few change between two: each line is drawn once per
    language, card and count. (`locale` is the one in use.)"""
    shown = "●" * min(dots, 10) + ("…" if dots > 10 else "")
    words = escape(gettext("%(n)s dots", n=i18n.format_number(dots)))
    swap = ' hx-swap-oob="true"' if oob else ""
    return (
        f'<p class="vote-dots" id="dots-{contribution_id}"{swap}>'
        f'<span class="dots" aria-hidden="true">{shown}</span> <strong>{words}</strong></p>'
    )


env.globals["vote_dots"] = vote_dots


class Panels:
    """The newest render of each session's panel per locale, shared by this worker's streams."""

    def __init__(self) -> None:
        self._renders: dict[tuple[int, str], tuple[float, asyncio.Task[str]]] = {}
        self._threads: dict[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = {}

    async def html(self, app: Any, event: live.Event, arrived: float, locale: str) -> str:
        """The panel for a `vote.cast` event that reached a stream at `arrived` (loop time)."""
        loop = asyncio.get_running_loop()
        key = (int(event["session_id"]), locale)
        kept = self._renders.get(key)
        if kept is None or kept[0] < arrived or _failed(kept[1]):
            now = loop.time()
            self._forget(now)
            task = loop.create_task(self._render(app, key[0], locale))
            self._renders[key] = kept = (now, task)
        # shielded: a stream that goes away leaves the render to the others waiting for it
        return await asyncio.shield(kept[1])

    async def _render(self, app: Any, workshop_id: int, locale: str) -> str:
        # On a thread of their own, not behind the requests waiting for the routes' threads: a
        # stream sends its other events (a new card) only after the panel, and under a hall's
        # load the requests' queue was seconds long. One render per session and locale at a
        # time (above), a few milliseconds each: one thread keeps up.
        loop = asyncio.get_running_loop()
        if (limiter := self._threads.get(loop)) is None:
            self._threads.clear()  # (another loop's, in tests)
            limiter = self._threads[loop] = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(
            _render, engine_of(app), workshop_id, locale, limiter=limiter
        )

    def _forget(self, now: float) -> None:
        for key in [k for k, (started, _) in self._renders.items() if now - started > KEEP]:
            del self._renders[key]


def _failed(task: "asyncio.Task[str]") -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


def _render(engine: Any, workshop_id: int, locale: str) -> str:
    i18n.set_locale(locale)  # (this thread's copy of the stream's context)
    with Session(engine) as session:
        # the panel reads only the session's id (its newest vote, the ids in the HTML): the
        # session itself is not loaded (a gone one has no vote: an empty panel)
        return panel(session, SimpleNamespace(id=workshop_id))  # type: ignore[arg-type]


PANELS = Panels()
