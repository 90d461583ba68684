"""Pure ASGI middleware (context variables set here reach the endpoint)."""

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from app import i18n

LANG_COOKIE = "phonlap_lang"


class LocaleMiddleware:
    """The UI language: the remembered cookie, else Thai."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            i18n.set_locale(_cookie(scope, LANG_COOKIE) or i18n.DEFAULT_LOCALE)
        await self.app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is the client's problem, not ours
                return None
            if name in jar:
                return jar[name].value
    return None
