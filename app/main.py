"""The app factory: middleware, static files, routers, error handlers."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from urllib.parse import quote

import sqlalchemy as sa
from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from app import ROOT, __version__, live
from app.api import data as api_data
from app.api import maps as api_maps
from app.api import openapi, v1
from app.api import problems as api_problems
from app.api import progress as api_progress
from app.api.errors import json_error, validation_payload
from app.config import check_for_serving, get_settings, route_threads
from app.db import engine_of
from app.metrics import MetricsMiddleware
from app.middleware import InputMiddleware, LocaleMiddleware, SecurityMiddleware
from app.models import User
from app.page_cache import PageCache
from app.services.access import ANONYMOUS, Forbidden, NotAuthenticated
from app.services.audit import STALE
from app.services.errors import Conflict, Msg, NotFound, ServiceError, ValidationFailed
from app.templating import is_htmx, render, translate
from app.web import (
    account,
    admin,
    api_docs,
    comments,
    committee,
    data_entry,
    documents,
    events,
    harvest,
    history,
    indicators,
    learning,
    lessons,
    maps,
    notifications,
    outcomes,
    pages,
    partners,
    plan_editor,
    problems,
    progress,
    public,
    reference_admin,
    reflections,
    reports,
    resources,
    review,
    rounds,
    spreadsheets,
    units,
    votes,
    workshop_events,
    workshops,
)
from app.web.auth import csrf_guard, get_principal
from app.web.forms import safe_next

log = logging.getLogger(__name__)
PER_REQUEST = [Depends(get_principal), Depends(csrf_guard)]
GC_THRESHOLDS = (10_000, 10, 50)  # Python's defaults: (700, 10, 10)


class CachedStatic(StaticFiles):
    """Vendored files carry their version in the name, and pages link the others with their
    content's digest (`templating.static_url`, `?v=`): either may be cached for a long time."""

    async def get_response(self, path: str, scope) -> Response:  # noqa: ANN001
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            long = path.startswith("vendor/") or scope.get("query_string", b"").startswith(b"v=")
            response.headers["Cache-Control"] = (
                "public, max-age=31536000, immutable" if long else "public, max-age=300"
            )
        return response


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    # The routes' work runs on the thread pool (anyio's, 40 threads by default): a few threads,
    # since more fight for the interpreter's lock (app.config.route_threads).
    to_thread.current_default_thread_limiter().total_tokens = route_threads(settings)
    # Live updates: on PostgreSQL this worker listens for every worker's changes (app.live).
    stop_live = await asyncio.to_thread(live.start, settings.database_url)
    # Everything loaded so far (modules, routes, templates, translations) lives as long as the
    # process: keep it out of the collector's full scans, which otherwise pause a request for
    # 50-150 ms now and then (measured by benchmarks/review_page.py).
    gc.collect()
    gc.freeze()
    # A page such as the national review makes hundreds of thousands of short-lived objects
    # while the worker keeps large read models (app.services.review): with Python's defaults
    # the collector then scans everything every few requests, 50-400 ms each time (measured by
    # benchmarks/review_page.py). Younger generations collected less often let most of those
    # objects die first, and full collections come five times less often.
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        await asyncio.to_thread(stop_live)


def create_app() -> FastAPI:
    check_for_serving(get_settings())  # e.g. refuse the built-in secret key outside demo/dev
    app = FastAPI(
        lifespan=lifespan,
        title="Phonlap API",
        version=__version__,
        description=(
            "Plans and progress of Thailand's education innovation areas. "
            "Authenticate with a personal API token (`Authorization: Bearer phl_…`), "
            "created on your account page."
        ),
        docs_url=None,  # served from vendored files by app.web.api_docs
        redoc_url=None,
    )
    # zlib's default level: as small as level 9 on these pages at half the CPU (0.2 ms, not 0.4,
    # on a phone's 46 kB vote section), which a hall of phones asks for hundreds of times a minute
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    app.add_middleware(PageCache)  # outside the compression: pages are kept compressed
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(SecurityMiddleware)
    app.add_middleware(InputMiddleware)
    app.add_middleware(MetricsMiddleware)  # outermost: it times the other middleware too
    app.mount("/static", CachedStatic(directory=ROOT / "static"), name="static")
    app.include_router(pages.probes)  # /healthz first, and without the per-request dependencies
    app.include_router(public.router)  # the same for everyone: no sign-in read, no cookie set
    # FastAPI tries the routes in this order, each at a cost: what a hall of phones and the
    # screens of a workshop ask for dozens of times a second comes first (no paths overlap)
    for module in (
        pages,
        events,
        workshops,
        votes,
        rounds,
        account,
        notifications,
        admin,
        reference_admin,
        plan_editor,
        progress,
        maps,
        review,
        lessons,
        reports,
        documents,
        spreadsheets,
        history,
        harvest,
        workshop_events,
        indicators,
        comments,
        learning,
        reflections,
        committee,
        outcomes,
        partners,
        problems,
        resources,
        units,
        data_entry,
        v1,
        api_progress,
        api_data,
        api_maps,
        api_problems,
        api_docs,
    ):
        # Every route: who is asking (cached for the route's own checks), and CSRF.
        app.include_router(module.router, dependencies=PER_REQUEST)
    _error_handlers(app)
    openapi.install(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_signed_in(request: Request, exc: NotAuthenticated) -> Response:
        expired = bool(getattr(request.state, "session_expired", False))
        if _is_api(request):
            response = json_error(401, exc.message.msgid)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        if request.method == "GET" and not is_htmx(request):
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target = safe_next(path)  # a path like //host/x must not come back as next
            query = f"next={quote(target)}" + ("&expired=1" if expired else "")
            return RedirectResponse(f"/login?{query}", status_code=303)
        message = Msg("Your session has expired.") if expired else Msg("You are not signed in.")
        return _error(request, 401, message)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, exc.message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _not_found(request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _not_found(request)
        if _is_api(request):
            return json_error(exc.status_code, str(exc.detail))
        return _error(request, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse(validation_payload(exc), status_code=422)
        # a malformed id or parameter in a page URL names nothing that exists
        return _not_found(request)

    @app.exception_handler(ValidationFailed)
    async def invalid(request: Request, exc: ValidationFailed) -> Response:
        if _is_api(request):
            return JSONResponse(validation_payload(exc), status_code=422)
        return _error(request, 422)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        if _is_api(request):
            return json_error(409, exc.message.msgid, current=exc.current)
        return _error(request, 409, exc.message)

    @app.exception_handler(StaleDataError)
    async def lost_race(request: Request, exc: StaleDataError) -> Response:
        # a write outside audit.finish lost to another writer (see models.base.Versioned)
        return await conflict(request, Conflict(Msg(STALE)))

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        if _is_api(request):
            return json_error(exc.status_code, str(exc))
        return _error(request, exc.status_code)

    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: OperationalError) -> Response:
        # SQLite: a write waited longer than its busy timeout for another one (a hall of guests
        # posting at once on a slow machine). Nothing was written: say so, and when to retry.
        if "database is locked" not in str(exc.orig):
            return await crash(request, exc)
        log.warning("database busy on %s %s", request.method, request.url.path)
        message = Msg("Phonlap is very busy right now. Nothing was saved: try again in a moment.")
        response = _error(request, 503, message)
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _is_api(request):
            return json_error(500, "Internal error")
        return _error(request, 500)


def _not_found(request: Request) -> Response:
    if _is_api(request):
        return json_error(404, "Not found")
    return _error(request, 404)


def _error(request: Request, status: int, message: Msg | None = None) -> Response:
    """An error page, or for htmx a short message in the page's notice area (`#flash`): the
    form the person was filling in stays as it was."""
    if _is_api(request):
        return json_error(status, message.msgid if message else str(status))
    _usable_principal(request)
    ctx = {"status": status, "message": translate(message) if message else ""}
    if is_htmx(request):
        headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return render(request, "_flash.html", ctx, status_code=status, headers=headers)
    return render(request, "error.html", ctx, status_code=status)


def _usable_principal(request: Request) -> None:
    """After a failed write the request's session was rolled back and closed, which leaves the
    signed-in person's row expired and detached: the page header could not show their name.
    Read it again in a session of its own."""
    principal = getattr(request.state, "principal", None)
    user = getattr(principal, "user", None)
    if user is None:
        return
    state = sa.inspect(user)
    if not state.expired_attributes or state.identity is None:
        return
    with Session(engine_of(request.app), expire_on_commit=False) as session:
        fresh = session.get(User, state.identity[0])
    request.state.principal = replace(principal, user=fresh) if fresh else ANONYMOUS
