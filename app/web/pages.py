"""Home (areas of the default group), a plan as one readable page, health, language."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from app import i18n
from app.db import SessionDep
from app.middleware import LANG_COOKIE
from app.services.plan_views import plan_view, plan_views
from app.services.reference import areas_by_ids, default_group, group_areas
from app.templating import render
from app.web.auth import ReadArea, SignedIn

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    """Reviewers and admins see the default group; everyone else the areas they belong to."""
    ids = principal.area_ids()
    group = default_group(session) if ids is None else None
    areas = group_areas(session, group) if ids is None else areas_by_ids(session, ids)
    views = plan_views(session, areas)
    return render(request, "home.html", {"group": group, "views": [views[a.id] for a in areas]})


@router.get("/areas/{slug}", name="area_overview")
def area_overview(request: Request, area: ReadArea, session: SessionDep) -> Response:
    return render(request, "area/overview.html", {"view": plan_view(session, area)})


@router.get("/healthz", name="healthz")
def healthz(session: SessionDep) -> Response:
    try:
        session.exec(text("SELECT 1")).one()
    except Exception as exc:  # report, don't crash: this is what monitors poll
        return JSONResponse(
            {"status": "error", "database": "unreachable", "error": exc.__class__.__name__},
            status_code=503,
        )
    dialect = session.get_bind().dialect.name
    return JSONResponse({"status": "ok", "database": "ok", "dialect": dialect})


@router.post("/lang", name="set_language")
def set_language(lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    target = next if local_path(next) else "/"
    response = RedirectResponse(target, status_code=303)
    if lang in i18n.LOCALES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response


def local_path(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/") and "\\" not in url
