"""Pages served again while nothing they show has changed.

The most read pages (an area's overview, plan, progress and map, the projector, the review, the
home page) are kept, compressed, as this worker rendered them for one browser: its session, its
CSRF seed and language, the address asked for, and the data version (app.changes) they were
rendered at. Asked again by the same browser, the page is sent as kept when, in one query:

- the data version is the same (no write anywhere since, by any worker or host);
- the sign-in is still valid and not due for its sliding renewal (else the request renews it);

and the day (in Thailand) is the same, since overdue values and current periods depend on it.
Anything else is rendered as usual: other pages, htmx fragments, the API, requests without a
CSRF seed cookie or gzip, answers that set a cookie or are not 200.

Each worker keeps its own entries, at most `PHONLAP_PAGE_CACHE_MB` megabytes (0 turns the
cache off), least recently used first out.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import changes
from app.config import get_settings
from app.db import engine_of
from app.i18n import as_utc, thai_today
from app.middleware import LANG_COOKIE, seed_for_session
from app.models import LoginSession
from app.models.base import utcnow
from app.services.accounts import digest, renewal
from app.web.auth import CSRF_COOKIE, SESSION_COOKIE, unsign

CACHEABLE = frozenset(
    {
        "home",
        "area_overview",
        "plan_editor",
        "progress",
        "progress_charts",
        "area_map",
        "map_compare",
        "present",
        "review",
    }
)
MAX_PATHS = 50_000
LARGEST = 4 * 1024 * 1024  # a page bigger than this (compressed) is not kept
_login = LoginSession.__table__


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    day: date
    route: Any
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PageCache:
    """ASGI middleware, placed outside the compression (entries are kept compressed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.size = 0
        self.paths: set[str] = set()  # paths whose route is kept (learnt from answers)

    @property
    def limit(self) -> int:
        """Bytes kept at most (PHONLAP_PAGE_CACHE_MB, read as the settings stand)."""
        return int(get_settings().page_cache_mb * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.limit or scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path not in self.paths:  # a page not known to be kept: learn which route answers it
            await self.app(scope, receive, send)
            if getattr(scope.get("route"), "name", None) in CACHEABLE:
                if len(self.paths) >= MAX_PATHS:
                    self.paths.clear()
                self.paths.add(path)
            return
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        version, login_ok = self._state(scope, key[-1])
        if not login_ok:  # signed out or expired, or due for renewal: the app decides
            await self.app(scope, receive, send)
            return
        day = thai_today()
        entry = self.entries.get(key)
        if entry is not None and entry.version == version and entry.day == day:
            self.entries.move_to_end(key)
            scope["route"] = entry.route  # for the request metrics
            start = {"type": "http.response.start", "status": entry.status}
            await send(start | {"headers": entry.headers})
            await send({"type": "http.response.body", "body": entry.body})
            return
        blank = Entry(version, day, None, 0, [], b"")
        await self._render_and_keep(scope, receive, send, key, blank)

    async def _render_and_keep(
        self, scope: Scope, receive: Receive, send: Send, key: tuple, blank: Entry
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                headers = dict(message.get("headers", []))
                keep = (
                    message["status"] == 200
                    and b"set-cookie" not in headers
                    and headers.get(b"content-type", b"").startswith(b"text/html")
                    and headers.get(b"content-encoding") == b"gzip"
                )
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                keep = sum(map(len, chunks)) <= LARGEST
            await send(message)

        await self.app(scope, receive, capture)
        route = scope.get("route")
        if not keep or start is None or getattr(route, "name", None) not in CACHEABLE:
            return
        body = b"".join(chunks)
        entry = Entry(
            blank.version, blank.day, route, start["status"], list(start["headers"]), body
        )
        self._store(key, entry)

    def _store(self, key: tuple, entry: Entry) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.limit and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)

    @staticmethod
    def _key(scope: Scope) -> tuple | None:
        headers = dict(scope["headers"])
        if b"authorization" in headers or b"hx-request" in headers:
            return None
        if b"gzip" not in headers.get(b"accept-encoding", b""):
            return None
        cookies = _cookies(headers.get(b"cookie", b""))
        session = cookies.get(SESSION_COOKIE)
        token = unsign(session) if session else None
        if session and token is None:
            return None  # a forged or stale cookie: the app answers it
        # without a seed cookie, a signed-in browser's seed is derived from its session
        seed = cookies.get(CSRF_COOKIE) or (seed_for_session(session) if token else None)
        if not seed:
            return None  # a new random seed each time: nothing to keep
        return (
            scope["path"],
            scope.get("query_string", b""),
            scope.get("scheme"),
            scope.get("root_path", ""),
            headers.get(b"host"),
            seed,
            cookies.get(LANG_COOKIE),
            digest(token) if token else None,
        )

    def _state(self, scope: Scope, token_hash: str | None) -> tuple[int, bool]:
        """The data version, and whether the sign-in (if any) may be served as it stands."""
        version = changes.READ.scalar_subquery()
        with engine_of(scope["app"]).connect() as connection:
            if token_hash is None:
                return connection.execute(sa.select(version)).scalar() or 0, True
            row = connection.execute(
                sa.select(version, _login.c.created_at, _login.c.expires_at).where(
                    _login.c.token_hash == token_hash
                )
            ).first()
        if row is None:
            return 0, False
        now = utcnow()
        fresh = (
            as_utc(row.expires_at) > now and renewal(row.created_at, row.expires_at, now) is None
        )
        return row[0] or 0, fresh


def _cookies(header: bytes) -> dict[str, str]:
    """Name → value of a Cookie header (the first of a name wins, as in Starlette)."""
    found: dict[str, str] = {}
    for part in header.decode("latin-1").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in found:
            found[name] = value.strip().strip('"')
    return found
