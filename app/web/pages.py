"""Home (areas of the default group), a plan as one readable page, health, metrics, language."""

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import Engine, text
from sqlmodel import Session

from app import i18n, live, metrics, migrate
from app.db import SessionDep, engine_of
from app.middleware import LANG_COOKIE
from app.models import Area
from app.services import agenda, comments, outcomes
from app.services.access import Permission, Principal
from app.services.plan_views import plan_view, plan_views
from app.services.reference import (
    areas_by_ids,
    by_programme,
    default_group,
    group_areas,
    other_programme_areas,
)
from app.templating import render
from app.web.auth import CurrentPrincipal, ReadArea, SignedIn
from app.web.forms import safe_next

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    """What needs the person now (app.services.agenda), then the areas: reviewers and admins
    see the default group; everyone else the areas they belong to."""
    ids = principal.area_ids()
    group = default_group(session) if ids is None else None
    areas = group_areas(session, group) if ids is None else areas_by_ids(session, ids)
    if ids is None:  # areas of other programmes belong to no workshop group: shown after them
        shown = {a.id for a in areas}
        areas += [a for a in other_programme_areas(session) if a.id not in shown]
    by_area = plan_views(session, areas)
    views = [by_area[a.id] for a in areas]
    todo = agenda.agenda(session, principal, views)
    return render(
        request,
        "home.html",
        {
            "group": group,
            "views": views,
            "sections": by_programme(views, lambda v: v.area),
            "agenda": todo,
            "shown": agenda.SHOWN,
            "stale_days": agenda.STALE_AFTER.days,
        },
    )


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


# Probes: no principal, no CSRF, and at most one database check a second per worker, so that a
# monitor or load balancer polling often costs next to nothing (app.main includes this router
# without the app's per-request dependencies).
probes = APIRouter()
HEALTH_SECONDS = 1.0


@probes.get("/healthz", name="healthz")
async def healthz(request: Request) -> Response:
    """For monitors: 200 when the database answers and its schema is the one this code needs."""
    known = getattr(request.app.state, "health", None)
    if known is None or time.monotonic() - known[0] > HEALTH_SECONDS:
        body = await asyncio.to_thread(_health, engine_of(request.app))
        known = request.app.state.health = (time.monotonic(), body)
    body = known[1]
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


def _health(engine: Engine) -> dict[str, Any]:
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except Exception as exc:  # report, don't crash: this is what monitors poll
        return _unhealthy(engine, exc)
    current, head = revision[0] if revision else None, migrate.head()
    body = {
        "status": "ok",
        "database": "ok",
        "dialect": engine.dialect.name,
        "revision": current,
        "head": head,
    }
    if current != head:
        body |= {"status": "error", "schema": "not at head: run phonlap migrate"}
    return body


def _unhealthy(engine: Engine, exc: Exception) -> dict[str, Any]:
    try:  # reachable, but no migration has run?
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).one()
    except Exception as again:
        return {"status": "error", "database": "unreachable", "error": again.__class__.__name__}
    return {
        "status": "error",
        "database": "ok",
        "schema": "not migrated: run phonlap migrate",
        "error": exc.__class__.__name__,
    }


def _may_read_metrics(request: Request, principal: CurrentPrincipal) -> None:
    """Administrators, or a scraper on this machine that no proxy forwarded."""
    host = request.client.host if request.client else ""
    forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    if host in LOOPBACK and not forwarded:
        return
    principal.require(Permission.manage)


LOOPBACK = frozenset({"127.0.0.1", "::1"})


@router.get("/metrics", name="metrics", dependencies=[Depends(_may_read_metrics)])
def metrics_text(session: SessionDep) -> Response:
    pool = metrics.pool_figures(session.get_bind().pool)
    body = metrics.render(streams=live.hub.count(), pool=pool)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")


@router.post("/lang", name="set_language")
def set_language(lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in i18n.LOCALES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response
