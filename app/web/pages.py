"""Home (areas of the default group), a plan as one readable page, health, language."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from sqlmodel import Session

from app import i18n
from app.db import SessionDep
from app.middleware import LANG_COOKIE
from app.models import Area
from app.services import comments, outcomes
from app.services.access import Permission, Principal
from app.services.plan_views import plan_view, plan_views
from app.services.reference import areas_by_ids, default_group, group_areas
from app.templating import render
from app.web.auth import CurrentPrincipal, ReadArea, SignedIn
from app.web.forms import safe_next

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
def area_overview(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return overview_page(request, session, area, principal)


def overview_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The plan as one page, with its open comments inline (one query more) and the form for a
    comment on the area (`extra`: that form sent back with its problem)."""
    ctx = {
        "view": plan_view(session, area),
        "comments": comments.open_threads(session, area, principal),
        "can_comment": principal.can(Permission.comment, area.id),
        "internal": comments.sees_internal(principal),
        "outcome_counts": outcomes.counts_by_action(session, area),
        "form_values": {"target": "area"},
        "form_errors": {},
        **extra,
    }
    return render(request, "area/overview.html", ctx, status_code=status_code)


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
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LOCALES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response
