"""Who is asking, and may they: the dependencies every route goes through.

- The principal comes from a bearer token (`Authorization: Bearer phl_…`, for scripts and the
  JSON API) or from the signed, HttpOnly session cookie (browsers); otherwise it is anonymous.
- CSRF: every unsafe request from a browser must carry the page's token, in the `X-CSRF-Token`
  header (htmx, scripts) or a `csrf_token` form field, and must not come from another origin.
  The token is an HMAC of a random per-browser cookie, so it needs no storage and survives
  signing in again in another tab (a form left open while the session ended can still be
  saved after signing in). Bearer-token calls need none: a browser never adds that header.
- Permissions: `area_access(permission)` loads the area named in the URL and checks the
  principal against the policy in `app.services.access`. Routes declare what they need; the
  route x role matrix test holds every route to it.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.db import SessionDep, release
from app.middleware import CSRF_COOKIE, SESSION_COOKIE
from app.models import Area
from app.services import accounts
from app.services.access import (
    ANONYMOUS,
    SCOPED_READ_ONLY,
    Forbidden,
    NotAuthenticated,
    Permission,
    Principal,
)
from app.services.errors import Msg
from app.services.reference import get_area

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# ---- signing --------------------------------------------------------------------------------


def _mac(purpose: str, value: str) -> str:
    key = get_settings().secret_key.encode()
    raw = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(value: str) -> str:
    return f"{value}.{_mac('cookie', value)}"


def unsign(signed: str | None) -> str | None:
    if not signed or "." not in signed:
        return None
    value, mac = signed.rsplit(".", 1)
    return value if hmac.compare_digest(mac, _mac("cookie", value)) else None


def csrf_token(request: Request) -> str:
    """The token this browser's pages carry (in the meta tag and in forms)."""
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_seed", None) or ""
    return _mac("csrf", seed)


# ---- who is asking --------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def get_principal(request: Request, session: SessionDep) -> Principal:
    """Who is asking. Without an API token or a sign-in cookie (a guest's phone, a visitor) it
    is nobody, known at once: no trip to the thread pool for what needs no query (a hall of
    phones sends dozens of requests a second)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    if _bearer(request) is None and request.cookies.get(SESSION_COOKIE) is None:
        principal = ANONYMOUS
    else:
        principal = await run_in_threadpool(_resolve_released, request, session)
    request.state.principal = principal
    return principal


def _resolve_released(request: Request, session: Session) -> Principal:
    principal = _resolve(request, session)
    release(session)
    return principal


def _resolve(request: Request, session: Session) -> Principal:
    token = _bearer(request)
    if token is not None:
        principal = accounts.token_principal(session, token)
        if principal is None:
            raise NotAuthenticated(
                Msg("The API token is not valid (revoked, mistyped or expired).")
            )
        return principal
    session_token = unsign(request.cookies.get(SESSION_COOKIE))
    if session_token is None:
        return ANONYMOUS
    principal = accounts.session_principal(session, session_token)
    if principal is None:
        request.state.session_expired = True
        return ANONYMOUS
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def csrf_guard(request: Request) -> None:
    """App-wide: refuse an unsafe browser request that lacks this browser's token."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    if request.url.path.startswith("/api/") and not request.cookies.get(SESSION_COOKIE):
        return  # no session to abuse: the API answers 401 by itself
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached on the request: the route reads it again
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = csrf_token(request) if request.cookies.get(CSRF_COOKIE) else None
    foreign = not _same_origin(request)
    if foreign or not sent or expected is None or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            Msg("This page has expired or did not come from Phonlap. Reload it and try again.")
        )


def _same_origin(request: Request) -> bool:
    """Browsers name the page a request came from; it must be this host (when they do)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


# ---- may they -------------------------------------------------------------------------------


def signed_in(principal: CurrentPrincipal) -> Principal:
    principal.require_signed_in()
    return principal


SignedIn = Annotated[Principal, Depends(signed_in)]


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency for service-wide permissions (e.g. managing users)."""

    def check(principal: CurrentPrincipal) -> Principal:
        principal.require(permission)
        return principal

    return check


def area_access(permission: Permission) -> Callable[..., Area]:
    """A dependency that loads the area in the URL (404) and checks the permission on it."""

    def load(slug: str, session: SessionDep, principal: CurrentPrincipal) -> Area:
        principal.require_signed_in()  # before the lookup: no 404s for the signed-out
        area = get_area(session, slug)
        if principal.is_scoped(area.id) and not principal.can(permission, area.id):
            raise Forbidden(SCOPED_READ_ONLY)
        principal.require(permission, area.id)
        release(session)
        return area

    return load


def scoped_edit_access(slug: str, session: SessionDep, principal: CurrentPrincipal) -> Area:
    """Editors, and agency-scoped editors too: the route then asks `Principal.may_change`
    (through app.services.scope) about each element it changes."""
    principal.require_signed_in()
    area = get_area(session, slug)
    if not principal.can_edit_some(area.id):
        raise Forbidden()
    release(session)
    return area


ReadArea = Annotated[Area, Depends(area_access(Permission.read))]
EditArea = Annotated[Area, Depends(area_access(Permission.edit))]
FacilitateArea = Annotated[Area, Depends(area_access(Permission.facilitate))]
ReflectArea = Annotated[Area, Depends(area_access(Permission.reflect))]
ScopedEditArea = Annotated[Area, Depends(scoped_edit_access)]
