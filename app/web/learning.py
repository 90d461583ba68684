"""The area's learning: the hub of the developmental-evaluation layer, its timeline (with the key
developments entered on it), the plan's named versions and their comparison."""

from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.display import value_names
from app.i18n import N_, format_date, gettext
from app.models import Area, AuditEvent, PlanVersion
from app.services import committee, history, learning, records, versions
from app.services.access import Permission, Principal
from app.services.errors import Msg, ValidationFailed
from app.services.plan_tree import current_plans
from app.services.reference import load_reference
from app.templating import render
from app.web.auth import CurrentPrincipal, EditArea, ReadArea, ReflectArea
from app.web.deps import EditPlan, ReadPlan
from app.web.forms import Form, see_other

router = APIRouter(prefix="/areas/{slug}")
CODED = {"kra": "kras", "kpi": "kpis", "action": "actions"}  # entity type -> value_names key


@router.get("/learning", name="learning")
def hub(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    counts = learning.counts(session, area)
    links = [
        (route, gettext(title), gettext(text), counts.get(key) if key else None)
        for route, key, title, text in HUB
    ]
    ctx = {"area": area, "links": links, "can_reflect": principal.can(Permission.reflect, area.id)}
    return render(request, "learning/hub.html", ctx)


# The hub's pages: route, the count shown (learning.COUNTED), title and what it is for.
HUB = (
    (
        "timeline",
        None,
        N_("Timeline"),
        N_(
            "Adaptations, versions, reflections, outcomes, review decisions and key "
            "developments in one chronological view."
        ),
    ),
    (
        "plan_versions",
        "versions",
        N_("Plan versions"),
        N_("Named copies of the plan, compared side by side with the reasons for each change."),
    ),
    (
        "reflections",
        "reflections",
        N_("Reflections"),
        N_(
            "What? So what? Now what? The committee's reflections on the figures, and what "
            "came of them."
        ),
    ),
    (
        "questions",
        "questions",
        N_("Learning questions"),
        N_("What the committee wants to learn while the plan runs, and what answered it."),
    ),
    (
        "proposals",
        "proposals",
        N_("Change proposals"),
        N_("Changes to the plan put to the committee, adopted or declined."),
    ),
    (
        "outcomes",
        "outcomes",
        N_("Emergent outcomes"),
        N_(
            "Changes in people and organisations that were seen, planned or not, and how the "
            "area's actions contributed."
        ),
    ),
    (
        "partners",
        "partners",
        N_("Boundary partners"),
        N_("The actors the area works with directly, and their progress markers over time."),
    ),
    (
        "resources",
        "resources",
        N_("Resources"),
        N_("The area's capital in four dimensions, with who holds it and the actions using it."),
    ),
    (
        "data_catalogue",
        "data_items",
        N_("Data catalogue"),
        N_("Data items, their custodians and systems, and the KPIs that draw on them."),
    ),
    (
        "principles",
        "principles",
        N_("Guiding principles"),
        N_("The principles the committee works by, self-rated on the GUIDE criteria."),
    ),
)


# ---- the timeline and its key developments --------------------------------------------------

DEVELOPMENT_FIELDS = ("happened_on", "kind", "title", "description")


@router.get("/timeline", name="timeline")
def timeline(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _timeline(request, area, session, principal)


def _timeline(
    request: Request,
    area: Area,
    session: SessionDep,
    principal: Principal,
    status_code: int = 200,
    **form: Any,
) -> Response:
    params = request.query_params
    kinds = params.getlist("kind")
    errors: dict[str, Msg] = {}
    try:
        filters = learning.TimelineFilters.parse(params, kinds)
    except ValidationFailed as exc:
        errors = exc.errors
        filters = learning.TimelineFilters()
    entries = learning.timeline(session, area, filters)
    audited = {e.record.actor_id for e in entries if isinstance(e.record, AuditEvent)}
    ctx = {
        "area": area,
        "entries": entries,
        "actor_names": history.names_of(session, audited),
        "filters": filters,
        "filter_values": {**params, "kind": kinds},
        "filter_errors": errors,
        "can_reflect": principal.can(Permission.reflect, area.id),
        "values": form.get("values", {"kind": "decision"}),
        "errors": form.get("errors", {}),
    }
    code = 422 if errors else status_code
    return render(request, "learning/timeline.html", ctx, status_code=code)


@router.post("/timeline/developments", name="development_create")
def development_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    principal: CurrentPrincipal,
    form: Form,
) -> Response:
    values = {name: form.get(name, "") for name in DEVELOPMENT_FIELDS}
    try:
        row = records.create(
            session,
            actor=principal.actor,
            area=area,
            spec=learning.DEVELOPMENTS,
            record_in=values,
        )
    except ValidationFailed as exc:
        return _timeline(
            request, area, session, principal, status_code=422, values=values, errors=exc.errors
        )
    return see_other(request, "timeline", f"development-{row.id}", slug=area.slug)


@router.post("/timeline/developments/{development_id:id}/delete", name="development_delete")
def development_delete(
    request: Request,
    area: ReflectArea,
    development_id: int,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    records.delete(
        session,
        actor=principal.actor,
        area=area,
        spec=learning.DEVELOPMENTS,
        record_id=development_id,
    )
    return see_other(request, "timeline", slug=area.slug)


# ---- named versions of the plan and their comparison ----------------------------------------

VERSION_FIELDS = ("name", "note", "as_of")


@router.get("/versions", name="plan_versions")
def plan_versions(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _versions(request, area, session, principal)


def _versions(
    request: Request,
    area: Area,
    session: SessionDep,
    principal: Principal,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
) -> Response:
    rows = versions.list_versions(session, area)
    ctx = {
        "area": area,
        "versions": rows,
        "element_counts": {v.id: versions.element_counts(v.snapshot) for v in rows},
        "has_plan": bool(current_plans(session, [area.id])),
        "can_edit": principal.can(Permission.edit, area.id),
        "values": values or {},
        "errors": errors or {},
        "sides": _side_choices(rows),
    }
    return render(request, "learning/versions.html", ctx, status_code=status_code)


def _side_choices(rows: list[PlanVersion]) -> list[tuple[str, str]]:
    """The versions, newest first, then the plan as it is today."""
    return [(f"v{v.id}", f"{v.name} ({format_date(v.as_of)})") for v in reversed(rows)] + [
        ("now", gettext("The plan today"))
    ]


@router.post("/versions", name="plan_version_create")
def plan_version_create(
    request: Request,
    area: EditArea,
    plan: EditPlan,
    session: SessionDep,
    principal: CurrentPrincipal,
    form: Form,
) -> Response:
    values = {name: form.get(name, "") for name in VERSION_FIELDS}
    try:
        row = versions.name_version(
            session, actor=principal.actor, area=area, plan=plan, version_in=values
        )
    except ValidationFailed as exc:
        return _versions(request, area, session, principal, 422, values, exc.errors)
    return see_other(request, "plan_version", slug=area.slug, version_id=str(row.id))


@router.get("/versions/compare", name="plan_versions_compare")
def plan_versions_compare(
    request: Request, area: ReadArea, plan: ReadPlan, session: SessionDep
) -> Response:
    rows = versions.list_versions(session, area)
    default_left = f"v{rows[0].id}" if rows else ""  # the first version: the whole story
    params = request.query_params
    raw = {  # a date typed for a side wins over the version chosen for it
        "a": (params.get("a_date") or params.get("a", default_left))[:40],
        "b": (params.get("b_date") or params.get("b", "now"))[:40],
    }
    errors: dict[str, Msg] = {}
    sides = {}
    for name, value in raw.items():
        side = versions.parse_side(session, area, value)
        if side is None:
            errors[name] = Msg("Pick a version, a date or today.")
        sides[name] = side
    comparison = None
    if not errors:
        comparison = versions.compare(session, area, plan, sides["a"], sides["b"])
    # names for linked ids: reference data, and the codes the two sides themselves hold
    names = value_names(SimpleNamespace(tree=None, ref=load_reference(session, [area.id])))
    for (entity_type, element_id), code in comparison.codes.items() if comparison else ():
        kind = CODED.get(entity_type)
        if kind:
            names[kind][element_id] = code
    ctx = {
        "area": area,
        "comparison": comparison,
        "values": raw,
        "errors": errors,
        "sides": _side_choices(rows),
        "names": names,
        "actor_names": history.names_of(
            session,
            {r.actor_id for c in comparison.changes for r in c.reasons} if comparison else set(),
        ),
    }
    return render(request, "learning/compare.html", ctx, status_code=422 if errors else 200)


@router.get("/versions/{version_id:id}", name="plan_version")
def plan_version(
    request: Request,
    area: ReadArea,
    version_id: int,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    row = versions.get_version(session, area, version_id)
    state = versions.thaw(session, area, row)
    ctx = {
        "area": area,
        "version": row,
        "tree": state.tree,
        "can_edit": principal.can(Permission.edit, area.id),
        "decided": committee.decisions_for(session, area, "plan_version", [row.id]).get(row.id, []),
    }
    return render(request, "learning/version.html", ctx)


@router.post("/versions/{version_id:id}/delete", name="plan_version_delete")
def plan_version_delete(
    request: Request,
    area: EditArea,
    version_id: int,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    versions.delete_version(session, actor=principal.actor, area=area, version_id=version_id)
    return see_other(request, "plan_versions", slug=area.slug)
