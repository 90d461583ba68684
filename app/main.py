"""The app factory: middleware, static files, routers, error handlers."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from app import ROOT, __version__
from app.api import v1
from app.api.errors import json_error, validation_payload
from app.middleware import LocaleMiddleware
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.templating import render
from app.web import pages, plan_editor

log = logging.getLogger(__name__)


class CachedStatic(StaticFiles):
    """Vendored files carry their version in the name, so they may be cached for a long time."""

    async def get_response(self, path: str, scope) -> Response:  # noqa: ANN001
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            long = path.startswith("vendor/")
            response.headers["Cache-Control"] = (
                "public, max-age=31536000, immutable" if long else "public, max-age=300"
            )
        return response


def create_app() -> FastAPI:
    app = FastAPI(
        title="Phonlap API",
        version=__version__,
        description="Plans and progress of Thailand's education innovation areas.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(LocaleMiddleware)
    app.mount("/static", CachedStatic(directory=ROOT / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(plan_editor.router)
    app.include_router(v1.router)
    _error_handlers(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _not_found(request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _not_found(request)
        if _is_api(request):
            return json_error(exc.status_code, str(exc.detail))
        return render(
            request, "error.html", {"status": exc.status_code}, status_code=exc.status_code
        )

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
        return render(request, "error.html", {"status": 422}, status_code=422)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        if _is_api(request):
            return json_error(409, exc.message.msgid, current=exc.current)
        return render(request, "error.html", {"status": 409}, status_code=409)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        return (
            json_error(exc.status_code, str(exc))
            if _is_api(request)
            else render(
                request, "error.html", {"status": exc.status_code}, status_code=exc.status_code
            )
        )

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _is_api(request):
            return json_error(500, "Internal error")
        return render(request, "error.html", {"status": 500}, status_code=500)


def _not_found(request: Request) -> Response:
    if _is_api(request):
        return json_error(404, "Not found")
    return render(request, "error.html", {"status": 404}, status_code=404)
