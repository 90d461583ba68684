"""Pure ASGI middleware (context variables set here reach the endpoint)."""

import base64
import hashlib
import hmac
import secrets
from urllib.parse import parse_qsl, unquote_to_bytes, urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.config import get_settings
from app.inputs import clean_text, has_control

LANG_COOKIE = "phonlap_lang"
CSRF_COOKIE = "phonlap_csrf"  # the per-browser seed of the CSRF token (see app.web.auth)
SESSION_COOKIE = "phonlap_session"  # the signed sign-in (see app.web.auth)
PUBLIC_PREFIX = "/public/"  # the public portal: the same page for everyone, so no cookie
NO_SEED = (PUBLIC_PREFIX, "/static/")  # nor do its files (stylesheet, scripts) set one

# Only this host: scripts, styles, fonts, images, requests and forms; never framed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class InputMiddleware:
    """The input boundary for what no route parameter can refuse (see app.inputs): a path with a
    control character in it names nothing (404, before any route or query runs); control
    characters are removed from the query string's values."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if has_control(scope["path"]):
            api = scope["path"].startswith("/api/")
            answer = (
                JSONResponse({"detail": "Not found"}, 404) if api else PlainTextResponse("", 404)
            )
            await answer(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if query and has_control(unquote_to_bytes(query).decode("utf-8", "replace")):
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            cleaned = [(clean_text(k), clean_text(v)) for k, v in pairs]
            scope = {**scope, "query_string": urlencode(cleaned).encode("latin-1")}
        await self.app(scope, receive, send)


class LocaleMiddleware:
    """The UI language: the remembered cookie, else Thai."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            i18n.set_locale(_cookie(scope, LANG_COOKIE) or i18n.DEFAULT_LOCALE)
        await self.app(scope, receive, send)


class SecurityMiddleware:
    """Security headers on every response; a CSRF seed cookie for browsers that have none.

    Dynamic responses are not stored by shared caches or the back button after sign-out
    (`no-store` unless the route chose its own Cache-Control, as static files do)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        new_seed = None
        no_seed = f"{scope['path']}/".startswith(NO_SEED)
        if _cookie(scope, CSRF_COOKIE) is None and not no_seed:
            session = _cookie(scope, SESSION_COOKIE)
            new_seed = seed_for_session(session) if session else secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf_seed"] = new_seed
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", "no-store")
                if new_seed is not None:
                    flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                    headers.append("Set-Cookie", f"{CSRF_COOKIE}={new_seed}; {flags}")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def seed_for_session(session_cookie: str) -> str:
    """The CSRF seed given to a signed-in browser that has none (a client that kept only its
    session cookie): derived from the session with the secret key, so that its pages are the
    same from one request to the next (app.page_cache) and unknown to anyone else."""
    key = get_settings().secret_key.encode()
    raw = hmac.new(key, f"csrf-seed:{session_cookie}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw[:18]).decode()


_COOKIES = "phonlap.cookies"  # the request's cookies, parsed (`_cookie`)


def _cookie(scope: Scope, name: str) -> str | None:
    """A cookie of the request, read as the routes read them (`request.cookies`): the header is
    parsed once per request, for every middleware that asks."""
    jar = scope.get(_COOKIES)
    if jar is None:
        headers = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie"]
        jar = scope[_COOKIES] = cookie_parser("; ".join(headers)) if headers else {}
    return jar.get(name)
