"""The public portal under `/public/`: read-only pages for anyone, of the areas whose
administrators opened them (app.services.public). Unknown and closed areas are the same 404.

The pages do not depend on who asks: no sign-in is read (the router goes without the per-request
dependencies), no cookie is set (app.middleware skips the CSRF seed under /public/), and the
language comes from `?lang=en` rather than the cookie, so that a page is the same for every
visitor and shared caches may keep it (`Cache-Control: public`, an ETag, `Vary` only on the
compression). This worker also keeps each page it rendered until the data version moves, which
every write does (app.changes): closing a portal stops its pages at once.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import __version__, changes, i18n
from app.db import SessionDep
from app.models import Area
from app.outcome_map import map_data, map_figure
from app.services import maps
from app.services import public as portal
from app.templating import dom_id, env
from app.web.maps import figure_names
from app.web.progress import _block  # the charts page's KRA block: the same charts here

router = APIRouter(prefix="/public")

Lang = Annotated[str | None, Query(max_length=5)]
MAX_AGE = 60  # seconds a browser or shared cache may keep a page before asking again
KEPT = 200  # pages this worker keeps rendered


@dataclass(frozen=True)
class Kept:
    etag: str
    body: bytes


_kept: OrderedDict[tuple[str, str], Kept] = OrderedDict()  # oldest first out
_lock = threading.Lock()  # pages are rendered in the thread pool


def _locale(lang: str | None) -> str:
    return lang if lang in i18n.LOCALES else i18n.DEFAULT_LOCALE


def public_url(request: Request, name: str, **params: str) -> str:
    """A portal address in the page's language (Thai needs no parameter)."""
    url = request.app.url_path_for(name, **params)
    return url if i18n.get_locale() == i18n.DEFAULT_LOCALE else f"{url}?lang={i18n.get_locale()}"


def _page(
    request: Request,
    session: Session,
    lang: str | None,
    template: str,
    build: Callable[[], dict[str, Any]],
) -> Response:
    """The page from this worker's store while the data version and the day are the same,
    else rendered; 304 when the browser already has it."""
    locale = _locale(lang)
    i18n.set_locale(locale)
    version = changes.current(session.connection())
    stamp = f"{request.url.path}|{locale}|{version}|{i18n.thai_today()}|{__version__}"
    etag = '"' + hashlib.sha256(stamp.encode()).hexdigest()[:32] + '"'
    # no Vary of our own: the page is the same for every visitor, and the compression adds
    # `Vary: Accept-Encoding` to every answer
    headers = {
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "ETag": etag,
        "Content-Language": locale,
    }
    key = (request.url.path, locale)
    with _lock:
        kept = _kept.get(key)
    if kept is None or kept.etag != etag:
        ctx = {"request": request, **build()}  # may raise NotFound
        kept = Kept(etag, env.get_template(template).render(ctx).encode())
        with _lock:
            _kept[key] = kept
            while len(_kept) > KEPT:
                _kept.popitem(last=False)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(kept.body, headers=headers)


def forget() -> None:
    """Drop every kept page (the tests; a write moves the data version anyway)."""
    with _lock:
        _kept.clear()


def _linker(request: Request, area: Area) -> maps.Link:
    """Where the map's elements open: their place on the public plan page."""
    plan_url = public_url(request, "public_area", slug=area.slug)
    types = {"doe": "doe_statement", "kra": "kra", "kpi": "kpi", "action": "action"}

    def link(layer: str, element_id: int) -> str | None:
        if layer == "vision":
            return f"{plan_url}#vision"
        if layer in types:
            return f"{plan_url}#{dom_id(types[layer], element_id)}"
        return None

    return link


# ---- the pages ------------------------------------------------------------------------------


@router.get("/", name="public_index")
def index(request: Request, session: SessionDep, lang: Lang = None) -> Response:
    return _page(
        request, session, lang, "public/index.html", lambda: {"areas": portal.open_areas(session)}
    )


@router.get("/areas/{slug}", name="public_area")
def area_page(request: Request, slug: str, session: SessionDep, lang: Lang = None) -> Response:
    def build() -> dict[str, Any]:
        area = portal.open_area(session, slug)
        return {"area": area, "plan": portal.public_plan(session, area), "tab": "plan"}

    return _page(request, session, lang, "public/plan.html", build)


@router.get("/areas/{slug}/results", name="public_results")
def results_page(request: Request, slug: str, session: SessionDep, lang: Lang = None) -> Response:
    def build() -> dict[str, Any]:
        area = portal.open_area(session, slug)
        plan = portal.public_plan(session, area)
        return {"area": area, "plan": plan, "blocks": _blocks(plan, session), "tab": "results"}

    return _page(request, session, lang, "public/results.html", build)


@router.get("/areas/{slug}/map", name="public_map")
def map_page(request: Request, slug: str, session: SessionDep, lang: Lang = None) -> Response:
    def build() -> dict[str, Any]:
        area = portal.open_area(session, slug)
        plan = portal.public_plan(session, area)
        ctx: dict[str, Any] = {"area": area, "plan": plan, "tab": "map", "view": None}
        if plan.tree is not None:
            ctx.update(_map(request, session, plan))
        return ctx

    return _page(request, session, lang, "public/map.html", build)


def _blocks(plan: portal.PublicPlan, session: Session) -> list[Any]:
    if plan.tree is None:
        return []
    rows = portal.results(session, plan)
    kra_kpis = plan.tree.kra_kpis
    order = {kpi.id: n for n, kpi in enumerate(plan.tree.kpis)}
    groups = [
        (kra, [rows[i] for i in sorted(kra_kpis.get(kra.id, []), key=order.get) if i in rows])
        for kra in plan.tree.kras
    ]
    linked = {i for ids in kra_kpis.values() for i in ids}
    rest = [row for kpi_id, row in rows.items() if kpi_id not in linked]
    if rest:
        groups.append((None, rest))
    return [_block(kra, kpis, {}) for kra, kpis in groups if kpis]


@dataclass(frozen=True)
class PublicMap:
    period: str | None
    data: Any


def _map(request: Request, session: Session, plan: portal.PublicPlan) -> dict[str, Any]:
    """The results chain map of the adopted plan, each KPI at the newest period with data."""
    assert plan.tree is not None
    rows = portal.results(session, plan)
    today: date = i18n.thai_today()
    period = maps.latest_with_data(rows, maps.slider_periods(rows, today))
    statuses = {k: maps.status_at(row, period) if period else None for k, row in rows.items()}
    data = map_data(maps.chain_of(plan.tree, statuses, _linker(request, plan.area)))
    return {
        "view": PublicMap(period, data),
        "figure": map_figure(data, figure_names(plan.area)),
    }


env.globals.update(public_url=public_url)
