"""The results chain map (`/areas/{slug}/map`), its comparison of two dates, and the presentation page
for a projector (`/areas/{slug}/present`). All of them update live from the area's event stream.

The map shows the area's boundary partners in a column of their own, unless `partners=0` hides
that layer (the map page's "Boundary partners" checkbox). The projector's map has no room for a
sixth column and the comparison of two dates is about the plan: both leave them out.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.i18n import N_, gettext, parse_day, thai_today
from app.labels import label
from app.models import Area, Plan
from app.models.enums import ActionStatus, KPIStatus
from app.outcome_map import map_figure
from app.services import history, maps, rounds, shared_data, votes, workshops
from app.services.access import ANONYMOUS, Permission
from app.services.errors import Msg
from app.services.maps import MapView
from app.templating import dom_id, is_htmx, render
from app.web.auth import CurrentPrincipal, ReadArea
from app.web.deps import ReadPlan, ReadPlanOrNone
from app.web.workshops import join_url

router = APIRouter(prefix="/areas/{slug}")

PRESENT_VIEWS = ("map", "board", "changes")
BAD_DATE = N_("Give a date as YYYY-MM-DD, for example 2024-06-30.")
SINCE_AFTER_UNTIL = N_("The first date must be before the second.")
CHANGES_SHOWN = 12
Period = Annotated[str | None, Query(max_length=20)]
Day = Annotated[str | None, Query(max_length=10)]
# The partners' layer: shown unless "0". The map's form sends a hidden 0 then the checkbox's 1,
# and the last value counts, so an unticked box hides the layer.
Layer = Annotated[str | None, Query(max_length=1)]


def layer_shown(value: str | None) -> bool:
    return value != "0"


def problems_shown(value: str | None) -> bool:
    """The problems' layer is off unless asked for (`problems=1`, the last value counting)."""
    return value == "1"


def linker(request: Request, area: Area) -> maps.Link:
    """Where each element of the map opens: a KPI's page of values; the rest in the plan editor
    for those who may edit the plan, else where the plan's overview shows it (same ids)."""
    principal = getattr(request.state, "principal", ANONYMOUS)
    page = "plan_editor" if principal.can(Permission.edit, area.id) else "area_overview"
    plan_url = request.app.url_path_for(page, slug=area.slug)
    kpi_page = "progress_kpi"
    types = {"doe": "doe_statement", "kra": "kra", "action": "action"}
    partners_url = request.app.url_path_for("partners", slug=area.slug)
    problems_url = request.app.url_path_for("problems", slug=area.slug)

    def link(layer: str, element_id: int) -> str:
        if layer == "partner":
            return f"{partners_url}#boundary-partner-{element_id}"
        if layer == "problem":
            return f"{problems_url}#problem-node-{element_id}"
        if layer == "kpi":
            return request.app.url_path_for(kpi_page, slug=area.slug, kpi_id=str(element_id))
        if layer == "vision":
            return f"{plan_url}#section-vision"
        return f"{plan_url}#{dom_id(types[layer], element_id)}"

    return link


def figure_names(area: Area) -> dict[str, str]:
    names = {
        "doe": gettext("Desired outcomes"),
        "vision": gettext("Vision"),
        "kra": gettext("KRAs"),
        "kpi": gettext("KPIs"),
        "action": gettext("Actions"),
        "chain": gettext("Desired outcome, vision"),
        "gap": gettext("Gap: nothing links to it"),
        "gap_no_kpi": gettext("Gap: no KPI measures this KRA"),
        "gap_no_action": gettext("Gap: no action serves this KPI"),
        "gap_unlinked": gettext("Gap: this action serves no KPI or KRA"),
        "added": gettext("Added"),
        "changed": gettext("Changed"),
        "removed": gettext("Removed"),
        "filename": f"outcome-map-{area.slug}",
        "partner": gettext("Boundary partners"),
        "problem": gettext("Problems"),
        "partner_none": gettext("Partner: no rung reached yet"),
        "partner_levels": gettext("expect %(expect)s · like %(like)s · love %(love)s"),
        "level_line": gettext("%(level)s: %(reached)s of %(active)s rated medium or high"),
        "unrated": gettext("not rated yet"),
    }
    for rung in ("expect", "like", "love"):
        level = label("marker_level", rung)
        names[f"rung_{rung}"] = level
        names[f"partner_{rung}"] = gettext("Partner: reached “%(level)s”", level=level)
    names.update({s.value: label("kpi_status", s.value) for s in KPIStatus})
    for s in ActionStatus:
        names[f"action_{s.value}"] = gettext(
            "Action: %(status)s", status=label("action_status", s.value)
        )
    return names


def _date(value: str | None, field: str, errors: dict[str, Msg]) -> date | None:
    if not value:
        return None
    day = parse_day(value)
    if day is None:
        errors[field] = Msg(BAD_DATE)
    return day


def _view(
    request: Request,
    session: SessionDep,
    area: Area,
    plan: Plan,
    period: str | None,
    as_of: date | None,
    errors: dict[str, Msg],
    partners: bool = True,
    default: maps.DefaultPeriod = maps.latest_with_data,
    problems: bool = False,
) -> MapView:
    """The map; with an unknown period, the default one and the message beside the field."""
    link = linker(request, area)
    view = maps.map_view(
        session,
        area,
        plan,
        link,
        period=period,
        as_of=as_of,
        partners=partners,
        default=default,
        problems=problems,
    )
    if view.unknown:
        errors.update(maps.unknown_period(view))
    return view


def no_plan_page(request: Request, area: Area, title: str) -> Response:
    """What the map and the projector show for an area that has no plan yet."""
    return render(request, "area/no_plan.html", {"area": area, "title": gettext(title)})


@router.get("/map", name="area_map")
def map_page(
    request: Request,
    area: ReadArea,
    plan: ReadPlanOrNone,
    session: SessionDep,
    period: Period = None,
    as_of: Day = None,
    partners: Layer = None,
    problems: Layer = None,
) -> Response:
    if plan is None:
        return no_plan_page(request, area, N_("Results chain map"))
    errors: dict[str, Msg] = {}
    day = _date(as_of, "as_of", errors)
    view = _view(
        request,
        session,
        area,
        plan,
        period,
        day,
        errors,
        layer_shown(partners),
        problems=problems_shown(problems),
    )
    ctx = {
        "area": area,
        "plan": plan,
        "view": view,
        "figure": map_figure(view.data, figure_names(area)),
        "errors": errors,
        "typed": {"period": period or "", "as_of": as_of or ""},
        "partners_shown": view.partners is not None,
        "problems_shown": problems_shown(problems),
        "live_url": None if day else request.app.url_path_for("area_events", slug=area.slug),
        "computed": [] if day else _computed(session, area, view),
        "reasons": shared_data.REASONS,
    }
    template = "map/_view.html" if is_htmx(request) else "map/page.html"
    return render(request, template, ctx, status_code=422 if errors else 200)


def _computed(session: SessionDep, area: Area, view: MapView) -> list[shared_data.ComputedKPI]:
    """The map's computed KPIs that have cells in its period, for their tables by unit and
    group (only today's map: computed cells keep no history)."""
    if view.period is None:
        return []
    found = shared_data.computed_kpis(session, area, view.tree.kpis)
    return [c for k in view.tree.kpis if (c := found.get(k.id or 0)) and c.by_period(view.period)]


@router.get("/map/compare", name="map_compare")
def compare_page(
    request: Request,
    area: ReadArea,
    plan: ReadPlan,
    session: SessionDep,
    since: Day = None,
    until: Day = None,
) -> Response:
    errors: dict[str, Msg] = {}
    first = _date(since, "since", errors) or plan.created_at.date()
    last = _date(until, "until", errors) or thai_today()
    if not errors and first > last:
        errors["since"] = Msg(SINCE_AFTER_UNTIL)
    view, differences = maps.compare_view(
        session, area, plan, linker(request, area), min(first, last), max(first, last)
    )
    ctx = {
        "area": area,
        "plan": plan,
        "view": view,
        "differences": differences,
        "figure": map_figure(view.data, figure_names(area)),
        "since": first,
        "until": last,
        "errors": errors,
        "typed": {"since": since or first.isoformat(), "until": until or last.isoformat()},
    }
    return render(request, "map/compare.html", ctx, status_code=422 if errors else 200)


@router.get("/present", name="present")
def present_page(
    request: Request,
    area: ReadArea,
    plan: ReadPlanOrNone,
    session: SessionDep,
    principal: CurrentPrincipal,
    period: Period = None,
    part: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Full screen for a projector: the map, a board of KPIs, the latest changes (and the
    workshop's join code while a session is open). A `part` answers one view for a live
    refresh, reading only what that view shows."""
    if plan is None:
        return no_plan_page(request, area, N_("Present"))
    if part == "workshop" and is_htmx(request):
        ctx = {"area": area, **_workshop(request, session, area)}
        return render(request, "present/_workshop.html", ctx)
    if part in PRESENT_VIEWS and is_htmx(request):
        if part == "changes":
            return render(
                request, "present/_changes.html", {"area": area, **_changes(session, area)}
            )
        ctx = _present_view(request, session, area, plan, period, part)
        return render(request, f"present/_{part}.html", ctx)
    ctx = {
        **_present_view(request, session, area, plan, period, None),
        "live_url": request.app.url_path_for("area_events", slug=area.slug),
        **_changes(session, area),
        **_workshop(request, session, area),
    }
    return render(request, "present/page.html", ctx, status_code=422 if ctx["errors"] else 200)


def _present_view(
    request: Request,
    session: SessionDep,
    area: Area,
    plan: Plan,
    period: str | None,
    part: str | None,
) -> dict[str, Any]:
    """The map and/or the KPI board at a period (`part` names one of them; None: both)."""
    errors: dict[str, Msg] = {}
    first = maps.best_covered  # the projector opens where most KPIs have a figure
    view = _view(request, session, area, plan, period, None, errors, partners=False, default=first)
    ctx: dict[str, Any] = {
        "area": area,
        "plan": plan,
        "view": view,
        "period": view.period,
        "errors": errors,
    }
    if part in (None, "map"):
        ctx["figure"] = map_figure(view.data, figure_names(area), big=True)
    if part in (None, "board"):
        ctx["kpi_board"] = _board(view)
    return ctx


def _board(view: MapView) -> list[dict[str, Any]]:
    """The KPIs at the chosen period, grouped under their first KRA, in the plan's order. A
    card's trend runs up to that period and only where it has a figure (maps.trend_at)."""
    kras = {k.id: k for k in view.tree.kras}
    cards = []
    for kpi in view.tree.kpis:
        judgement = view.statuses.get(kpi.id)
        row = view.rows.get(kpi.id)
        kra_ids = [i for i in view.tree.kpi_kras.get(kpi.id, []) if i in kras]
        cards.append(
            {
                "kpi": kpi,
                "kra": kras[kra_ids[0]] if kra_ids else None,
                "judgement": judgement,
                "status": judgement.status.value if judgement else KPIStatus.no_data.value,
                "no_target": judgement is not None and judgement.reason == "no_target",
                "trend": maps.trend_at(row, view.period) if row and view.period else None,
            }
        )
    return cards


def _changes(session: SessionDep, area: Area) -> dict[str, Any]:
    entries, _more = history.area_history(session, area.id, history.Filters(), CHANGES_SHOWN)
    return {"entries": entries, "actor_names": history.actor_names(session, entries)}


def _workshop(request: Request, session: SessionDep, area: Area) -> dict[str, Any]:
    """The open workshop session, if any: its join code and QR code, and its board."""
    workshop = workshops.open_session(session, area.id)
    if workshop is None:
        return {"workshop": None}
    return {
        "workshop": workshop,
        "join_url": join_url(request, workshop),
        "board": (board := workshops.board_view(session, workshop)),
        **votes.board_view(votes.latest(session, workshop), board.cards),
        "cafe": rounds.board_view(session, workshop),
    }
