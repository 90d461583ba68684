"""One Jinja environment; one place that decides page or fragment."""

import hashlib
import os
from collections.abc import Iterator
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from starlette.routing import BaseRoute, NoMatchFound

from app import ROOT, __version__, display, i18n, labels, periods
from app.models.enums import PeriodType
from app.services.access import ANONYMOUS, Permission
from app.services.errors import Msg
from app.services.plans import SPECS
from app.services.spreadsheets import PROGRESS_COLUMNS
from app.web import area_nav
from app.web.auth import csrf_token

env = Environment(
    loader=FileSystemLoader(ROOT / "templates"),
    # a developer's edits show at once; a server does not look at each template's file on
    # every page (a stat per template per request)
    auto_reload=os.environ.get("PHONLAP_DEV", "").lower() in ("1", "true", "yes"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=env)
# Jinja's newstyle gettext formats the result itself, so it gets the raw lookups.
env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda s: i18n.translations(i18n.get_locale()).gettext(s),
    lambda s, p, n: i18n.translations(i18n.get_locale()).ngettext(s, p, n),
    newstyle=True,
)


def translate(message: Msg | str | None) -> str:
    if message is None:
        return ""
    if isinstance(message, str):
        return i18n.gettext(message)
    return (
        i18n.gettext(message.msgid, **message.params)
        if message.params
        else i18n.gettext(message.msgid)
    )


env.filters["keep_words"] = i18n.keep_words
env.globals.update(
    format_date=i18n.format_date,
    format_month=i18n.format_month,
    format_datetime=i18n.format_datetime,
    format_year=i18n.format_year,
    format_number=i18n.format_number,
    localized=i18n.localized,
    get_locale=i18n.get_locale,
    period_label=periods.period_label,
    label=labels.label,
    field_label=labels.field_label,
    options=labels.options,
    step_title=labels.step_title,
    reporter_label=labels.reporter_label,
    reporter_choices=labels.reporter_choices,
    msg=translate,
    show_value=display.show_value,
    entry_name=display.entry_name,
    show_actor=display.show_actor,
    show_reason=display.show_reason,
    entry_label=display.entry_label,
    value_names=display.value_names,
    same_value=display.same_value,
    Permission=Permission,
    app_version=__version__,
    htmx_file="vendor/htmx-2.0.11.min.js",
    sse_file="vendor/htmx-ext-sse-2.2.4.min.js",
)


def is_htmx(request: Request) -> bool:
    """A fragment request: sent by htmx and not a boosted navigation."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = {
        "principal": getattr(request.state, "principal", ANONYMOUS),
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )
    response.headers["Vary"] = "HX-Request, Cookie"
    return response


UNVERIFIED_TIP = i18n.N_(
    "Not yet checked against the official text of the national education standards; the wording may differ."
)


def doe_item_choice(item: Any) -> Markup:
    """A DOE item in a picker: code and name, with the muted "unverified" mark until an
    administrator confirms the wording (reference_admin.confirm_item)."""
    text = Markup("{} · {}").format(item.code, i18n.localized(item))
    if item.confirmed_at is None:
        text += Markup(' <span class="tag unverified" title="{}">{}</span>').format(
            i18n.gettext(UNVERIFIED_TIP), i18n.gettext("unverified")
        )
    return text


def choices(view: Any, what: str) -> list[tuple[Any, str]]:
    """Options for the pickers of a plan form, labelled in the UI language."""
    ref, tree = view.ref, view.tree
    if what == "doe_items":
        return [(i.id, doe_item_choice(i)) for i in ref.items.values()]
    if what == "themes":
        return [(t.id, i18n.localized(t)) for t in ref.themes.values()]
    if what == "agency_types":
        return [(t.id, i18n.localized(t)) for t in ref.agency_types.values()]
    if what == "agencies":
        return [(a.id, i18n.localized(a)) for a in ref.sorted_agencies()]
    if what == "indicators":
        retired = i18n.gettext("(retired)")
        return [
            (i.id, i18n.localized(i) if i.is_active else f"{i18n.localized(i)} {retired}")
            for i in ref.indicators.values()
        ]
    if what == "kras":
        return [(k.id, f"{k.code} · {k.title}") for k in tree.kras] if tree else []
    if what == "kpis":
        return [(k.id, f"{k.code} · {k.name}") for k in tree.kpis] if tree else []
    raise KeyError(what)


def period_choices(
    plan: Any, current: Any = None, *, before: int = 0
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The periods a KPI of this plan can name, by period type, labelled in the UI language
    (B.E. in Thai): the plan's years, `before` years earlier too (a baseline often precedes the
    plan). A stored code outside them stays offered, so that editing never drops it."""
    if plan is None:
        return []
    first, last = plan.span_start_be - before, plan.span_end_be
    groups = []
    for period_type in PeriodType:
        codes = periods.periods_of(period_type, first, last)
        if current and current not in codes:
            parsed = periods.parse_period(str(current))
            if parsed is not None and parsed.period_type == period_type:
                codes = sorted([*codes, parsed.code], key=periods.sort_key)
        choices = [(code, periods.period_label(code)) for code in codes]
        groups.append((period_type.value, labels.label("period_type", period_type), choices))
    return groups


def date_attrs(value: Any) -> Markup:
    """The attributes of a date field. In Thai a text field for day/month/year B.E.
    ('16/6/2566', parsed by the server): a browser's own picker would show mm/dd/yyyy in C.E.
    In English the browser's picker, which sends ISO."""
    if i18n.get_locale() == "th":
        hint = i18n.gettext("dd/mm/yyyy B.E.")
        return Markup(
            'type="text" inputmode="numeric" autocomplete="off" size="12" maxlength="10" '
            'placeholder="{}" title="{}" value="{}"'
        ).format(hint, i18n.gettext("Day/month/year B.E., e.g. 16/6/2566"), i18n.input_day(value))
    return Markup('type="date" value="{}"').format(i18n.input_day(value))


def area_options(areas: dict[int, Any]) -> list[tuple[int, str]]:
    return [(a.id, i18n.localized(a)) for a in areas.values()]


def dom_id(entity_type: str, element_id: int | None) -> str:
    return f"{entity_type.replace('_', '-')}-{element_id}"


env.globals.update(
    input_value=display.input_value,
    choices=choices,
    doe_item_choice=doe_item_choice,
    area_options=area_options,
    period_choices=period_choices,
    date_attrs=date_attrs,
    dom_id=dom_id,
    specs=SPECS,
)


STEP_NUMBERS = {"doe": 1, "problems": 2, "vision": 3, "kras": 4, "kpis": 5, "actions": 6}
ADD_LABELS = {
    "doe": i18n.N_("Add a desired outcome"),
    "kras": i18n.N_("Add a KRA"),
    "kpis": i18n.N_("Add a KPI"),
    "actions": i18n.N_("Add an action"),
    "agencies": i18n.N_("Add an agency"),
}


def section_elements(view: Any, kind: str) -> list[Any]:
    if kind == "agencies":
        return [a for a in view.ref.sorted_agencies() if a.area_id == view.area.id]
    return list(getattr(view.tree, kind)) if view.tree else []


def row_maps(view: Any) -> dict[str, Any]:
    tree = view.tree
    return {
        "kras": tree.kras_by_id() if tree else {},
        "kpis": tree.kpis_by_id() if tree else {},
        "agencies": view.ref.agencies,
        "agency_types": view.ref.agency_types,
        "doe_items": view.ref.items,
        "themes": view.ref.themes,
    }


def element_label(kind: str, element: Any) -> str:
    spec = SPECS[kind]
    text = str(getattr(element, spec.label_field))
    if spec.code_prefix:
        return text
    return text if len(text) <= 40 else text[:39] + "…"


def add_label(kind: str) -> str:
    return i18n.gettext(ADD_LABELS[kind])


env.globals.update(
    section_elements=section_elements,
    row_maps=row_maps,
    element_label=element_label,
    add_label=add_label,
    step_numbers=STEP_NUMBERS,
)


def import_titles() -> dict[str, str]:
    """Column key -> its header, for the import preview."""
    return {c.key: i18n.gettext(c.title) for c in PROGRESS_COLUMNS}


env.globals.update(import_titles=import_titles)


@pass_context
def url_path(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """Links as paths ('/areas/krabi'), never absolute: the app may sit behind any host name."""
    return route_path(context["request"], name, **params)


def route_path(request: Request, name: str, /, **params: Any) -> str:
    """What `request.url_for(name, **params).path` gives, without its search: Starlette tries
    every route in turn (each miss raising an exception) on every call, which pages with
    thousands of links paid for each one. The route answering a name is found once per router,
    and its path is then filled in from its template (`/areas/{slug}`) with the route's own
    converters: the national review draws thousands of links."""
    router = request.scope.get("router") or request.scope["app"]
    found: dict[tuple[str, frozenset[str]], Any] = router.__dict__.setdefault("_phonlap_paths", {})
    key = (name, frozenset(params))
    entry = found.get(key)
    if entry is None:
        entry = found[key] = _path_template(_route_named(router, name, params), name, params)
    base = request.scope.get("phonlap.base_path")
    if base is None:  # once per request: reading base_url's path parses the URL
        base = request.scope["phonlap.base_path"] = request.base_url.path.rstrip("/")
    template, convertors = entry
    if convertors is None:  # a route whose path is not its template alone (a mount)
        return base + template.url_path_for(name, **params)
    return base + (_fill(template, convertors, params) if params else template)


def _fill(template: str, convertors: dict[str, Any], params: dict[str, Any]) -> str:
    return template.format_map({k: convertors[k].to_string(v) for k, v in params.items()})


def _path_template(route: Any, name: str, params: dict[str, Any]) -> tuple[Any, Any]:
    """The route's path template and converters when they give exactly its own answer (checked
    on this first call), else the route itself (its `url_path_for` is used each time)."""
    template = getattr(route, "path_format", None)
    convertors = getattr(route, "param_convertors", None)
    if (
        isinstance(template, str)
        and convertors is not None
        and set(convertors) == set(params)
        and _fill(template, convertors, params) == route.url_path_for(name, **params)
    ):
        return template, convertors
    return route, None


def _route_named(router: Any, name: str, params: dict[str, Any]) -> Any:
    for route in _leaves(router.routes):
        try:
            route.url_path_for(name, **params)
        except NoMatchFound:
            continue
        return route
    raise NoMatchFound(name, params)


def _leaves(routes: list[BaseRoute]) -> Iterator[Any]:
    """The routes themselves, not the routers included (FastAPI keeps each included router as
    one route that searches its own on every call)."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            yield route
        else:
            yield from contexts()


env.globals["url_for"] = url_path


@cache
def static_url(path: str) -> str:
    """A file under static/ with its content's digest in the URL: the address changes when the
    file does, so browsers and proxies may keep it for a year (app.main.CachedStatic)."""
    digest = hashlib.sha256((ROOT / "static" / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


env.globals["static_url"] = static_url


@pass_context
def area_nav_for(context: dict[str, Any], area: Any) -> area_nav.AreaNav | None:
    principal = context.get("principal", ANONYMOUS)
    return area_nav.area_nav(context["request"], principal, area)


env.globals["area_nav_for"] = area_nav_for
