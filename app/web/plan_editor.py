"""The plan editor: a guided page in the workshop's order, every element edited in place.

Fragments: a row (`_row`), its form (`_form`), a delete confirmation (`_confirm_delete`), a
whole section (`_section`) and the checks panel (`_checks`). Action routes return the fragment
that changed and send `HX-Trigger: plan-changed` so the checks panel refreshes itself.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app import display
from app.db import SessionDep
from app.models import Area, Plan
from app.services import learning, scope, shared_data, workshops
from app.services import plans as plan_service
from app.services.access import Principal
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.plan_views import PlanView, plan_view
from app.templating import dom_id, is_htmx, render
from app.web.auth import CurrentPrincipal, EditArea, ScopedEditArea
from app.web.deps import EditPlan, ScopedEditPlan
from app.web.forms import Form, field_int

router = APIRouter(prefix="/areas/{slug}/plan")
CHANGED = {"HX-Trigger": "plan-changed"}
SECTIONS = ("doe", "problems", "vision", "kras", "kpis", "actions", "agencies")
REASON_KINDS = ("kras", "kpis", "actions")  # their forms ask why (see learning.material)


@dataclass
class Scope:
    """What every element route works within: the request, its session, the area and plan."""

    request: Request
    session: Session
    area: Area
    plan: Plan
    principal: Principal


def plan_scope(
    request: Request,
    area: EditArea,
    plan: EditPlan,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Scope:
    return Scope(request, session, area, plan, principal)


PlanScope = Annotated[Scope, Depends(plan_scope)]


def element_scope(
    request: Request,
    area: ScopedEditArea,
    plan: ScopedEditPlan,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Scope:
    """For showing and changing one element: agency-scoped editors too, on their own KPIs and
    actions only (`require_element`)."""
    return Scope(request, session, area, plan, principal)


ElementScope = Annotated[Scope, Depends(element_scope)]


def _values(kind: str, form: FormData) -> dict[str, Any]:
    spec = plan_service.get_spec(kind)
    lists = {link.field for link in spec.links}
    values: dict[str, Any] = {}
    for name in spec.schema.model_fields:
        if name in lists:
            values[name] = form.getlist(name)
        elif name in form:
            values[name] = form.get(name)
    return values


COMPUTE_FIELDS = ("compute_method", "compute_numerator", "compute_denominator", "compute_item")


def _computation_values(form: FormData) -> dict[str, Any]:
    """The KPI form's "how the value is obtained" fields, as typed."""
    values: dict[str, Any] = {name: form.get(name, "") for name in COMPUTE_FIELDS}
    values["compute_scale"] = form.get("compute_scale", "")
    values["compute_items"] = form.getlist("compute_items")
    return values


def _computation_in(values: dict[str, Any]) -> dict[str, Any] | None:
    """Those fields as `shared_data.check_computation` takes them (None: entered by hand)."""
    method = str(values.get("compute_method") or "")
    if not method:
        return None

    def item(text: Any) -> Any:
        text = str(text or "").strip()
        return int(text) if text.isdigit() else (text or None)

    out: dict[str, Any] = {"method": method}
    if method == "ratio":
        out["numerator"] = item(values.get("compute_numerator"))
        out["denominator"] = item(values.get("compute_denominator"))
    elif method == "item":
        out["item"] = item(values.get("compute_item"))
    else:
        out["items"] = [item(i) for i in values.get("compute_items") or []]
    scale = str(values.get("compute_scale") or "").strip()
    if scale:
        out["scale"] = scale
    return out


def _computation_shown(computation: dict[str, Any] | None) -> dict[str, Any]:
    """A KPI's stored computation as the form's fields."""
    if not computation:
        return {"compute_method": ""}
    scale = computation.get("scale")
    return {
        "compute_method": computation["method"],
        "compute_numerator": computation.get("numerator") or "",
        "compute_denominator": computation.get("denominator") or "",
        "compute_item": computation.get("item") or "",
        "compute_items": computation.get("items") or [],
        "compute_scale": "" if scale is None else display.input_value(scale),
    }


def _save(
    s: "Scope", kind: str, element_id: int | None, form: FormData, values: dict[str, Any]
) -> Any:
    """Create or change an element; a KPI with how its value is obtained, in one commit (a form
    without that fieldset leaves it as it is)."""
    reason = _reason(s, form) if kind in REASON_KINDS else learning.Reason()
    if kind == "kpis" and "compute_method" in form:
        return shared_data.save_kpi(
            s.session,
            actor=s.principal.actor,
            area=s.area,
            plan=s.plan,
            kpi_id=element_id,
            element_in={k: v for k, v in values.items() if not k.startswith("compute_")},
            computation_in=_computation_in(values),
            expected_version=field_int(form, "version") if element_id else None,
            **reason.as_kwargs(),
        )
    if element_id is None:
        return plan_service.create_element(
            s.session,
            actor=s.principal.actor,
            plan=s.plan,
            kind=kind,
            element_in=values,
            **reason.as_kwargs(),
        )
    return plan_service.update_element(
        s.session,
        actor=s.principal.actor,
        plan=s.plan,
        kind=kind,
        element_id=element_id,
        element_in=values,
        expected_version=field_int(form, "version"),
        **reason.as_kwargs(),
    )


def _reason(s: "Scope", form: FormData | Any) -> learning.Reason:
    """The reason fields the form sent (an htmx DELETE sends them in the query string)."""
    raw = {name: form.get(name) or s.request.query_params.get(name) for name in REASON_FIELDS}
    return learning.parse_reason(s.session, s.area, raw)


REASON_FIELDS = learning.REASON_FIELDS


def _ctx(view: PlanView, **extra: Any) -> dict[str, Any]:
    return {"view": view, "area": view.area, "plan": view.plan, **extra}


# ---- the page, plan header, vision, checks --------------------------------------------------


@router.get("", name="plan_editor")
def editor(request: Request, area: EditArea, session: SessionDep) -> Response:
    live = request.app.url_path_for("area_events", slug=area.slug)
    view = plan_view(session, area)
    phrases = workshops.vision_phrases(session, area.id)
    ctx = _ctx(view, sections=SECTIONS, editing=True, live_url=live, vision_phrases=phrases)
    return render(request, "plan/editor.html", ctx)


@router.post("", name="plan_create")
def create_plan(
    request: Request,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = {k: form.get(k) for k in ("title", "span_start_be", "span_end_be")}
    try:
        plan_service.create_plan(session, actor=principal.actor, area=area, plan_in=values)
    except ValidationFailed as exc:
        ctx = _ctx(plan_view(session, area), sections=SECTIONS, values=values, errors=exc.errors)
        return render(request, "plan/editor.html", ctx, status_code=422)
    url = request.url_for("plan_editor", slug=area.slug).path
    if is_htmx(request):  # the form swaps in the editor: no page load
        ctx = _ctx(plan_view(session, area), sections=SECTIONS, editing=True)
        return render(request, "plan/editor.html", ctx, headers={"HX-Push-Url": url})
    return Response(status_code=303, headers={"Location": url})


@router.get("/checks", name="plan_checks")
def checks(request: Request, area: EditArea, session: SessionDep) -> Response:
    return render(request, "plan/_checks.html", _ctx(plan_view(session, area), editing=True))


# The plan's own fields, edited in two places: the header (title, years, status) and the vision.
PLAN_PARTS = {
    "meta": (
        ("title", "span_start_be", "span_end_be", "status"),
        "plan/_meta.html",
        "plan/_meta_form.html",
    ),
    "vision": (("vision",), "plan/_vision.html", "plan/_vision_form.html"),
}


def _part(part: str) -> tuple[tuple[str, ...], str, str]:
    if part not in PLAN_PARTS:
        raise NotFound(part)
    return PLAN_PARTS[part]


@router.get("/{part}", name="plan_part")
def plan_part(part: str, s: PlanScope) -> Response:
    _fields, shown, _form_template = _part(part)
    return render(s.request, shown, _ctx(plan_view(s.session, s.area)))


@router.get("/{part}/edit", name="plan_part_edit")
def plan_part_edit(part: str, s: PlanScope) -> Response:
    fields, _shown, form_template = _part(part)
    values = {name: getattr(s.plan, name) for name in fields}
    ctx = _ctx(
        plan_view(s.session, s.area),
        values=values,
        errors={},
        **_reason_ctx(s.session, s.area, part),
    )
    return render(s.request, form_template, ctx)


@router.put("/{part}", name="plan_part_update")
def plan_part_update(part: str, s: PlanScope, form: Form) -> Response:
    fields, shown, form_template = _part(part)
    values = {name: form.get(name, "") for name in fields}
    reasons = _reason_ctx(s.session, s.area, part)
    if reasons:
        values.update({name: form.get(name, "") for name in REASON_FIELDS})
    try:
        reason = _reason(s, form) if reasons else learning.Reason()
        plan_service.update_plan(
            s.session,
            actor=s.principal.actor,
            plan=s.plan,
            plan_in={name: values[name] for name in fields},
            expected_version=field_int(form, "version"),
            **reason.as_kwargs(),
        )
    except ValidationFailed as exc:
        ctx = _ctx(plan_view(s.session, s.area), values=values, errors=exc.errors, **reasons)
        return render(s.request, form_template, ctx, status_code=422)
    except Conflict as exc:
        ctx = _ctx(plan_view(s.session, s.area), values=values, errors={}, conflict=exc, **reasons)
        return render(s.request, form_template, ctx, status_code=409)
    return render(s.request, shown, _ctx(plan_view(s.session, s.area)), headers=CHANGED)


# ---- elements -------------------------------------------------------------------------------


@router.get("/{kind}/new", name="element_new")
def element_new(kind: str, s: PlanScope) -> Response:
    request, session, area, plan = s.request, s.session, s.area, s.plan
    plan_service.get_spec(kind)
    values = {"code": plan_service.suggest_code(session, plan=plan, kind=kind)}
    return _form(request, session, area, kind, None, values, {})


@router.post("/{kind}", name="element_create")
def element_create(kind: str, s: PlanScope, form: Form) -> Response:
    request, session, area = s.request, s.session, s.area
    values = _values(kind, form)
    values.update({name: form.get(name, "") for name in REASON_FIELDS})
    if kind == "kpis" and "compute_method" in form:
        values.update(_computation_values(form))
    try:
        row = _save(s, kind, None, form, values)
    except ValidationFailed as exc:
        return _form(request, session, area, kind, None, values, exc.errors, status_code=422)
    headers = {**CHANGED, "HX-Retarget": f"#section-{kind}", "HX-Reswap": "outerHTML"}
    return _section(request, session, area, kind, focus=row.id, headers=headers)


@router.get("/{kind}/{element_id:id}", name="element_row")
def element_row(kind: str, element_id: int, s: ElementScope) -> Response:
    request, session, area, plan = s.request, s.session, s.area, s.plan
    scope.require_element(session, s.principal, area.id, kind, element_id)
    row = plan_service.get_element(session, plan=plan, kind=kind, element_id=element_id)
    return _row(request, session, area, kind, row.id)


@router.get("/{kind}/{element_id:id}/edit", name="element_edit")
def element_edit(kind: str, element_id: int, s: ElementScope) -> Response:
    request, session, area, plan = s.request, s.session, s.area, s.plan
    scope.require_element(session, s.principal, area.id, kind, element_id)
    spec = plan_service.get_spec(kind)
    row = plan_service.get_element(session, plan=plan, kind=kind, element_id=element_id)
    values = plan_service.element_values(session, spec, row)
    if kind == "kpis":
        values.update(_computation_shown(shared_data.computation_of(session, row)))
    return _form(request, session, area, kind, row, values, {})


@router.put("/{kind}/{element_id:id}", name="element_update")
def element_update(kind: str, element_id: int, s: ElementScope, form: Form) -> Response:
    request, session, area, plan = s.request, s.session, s.area, s.plan
    scope.require_element(session, s.principal, area.id, kind, element_id)
    row = plan_service.get_element(session, plan=plan, kind=kind, element_id=element_id)
    values = _values(kind, form)
    values.update({name: form.get(name, "") for name in REASON_FIELDS})
    if kind == "kpis" and "compute_method" in form:
        values.update(_computation_values(form))
    try:
        _save(s, kind, element_id, form, values)
    except ValidationFailed as exc:
        return _form(request, session, area, kind, row, values, exc.errors, status_code=422)
    except Conflict as exc:
        return _form(request, session, area, kind, row, values, {}, status_code=409, conflict=exc)
    return _row(request, session, area, kind, element_id, headers=CHANGED)


@router.get("/{kind}/{element_id:id}/delete", name="element_confirm_delete")
def element_confirm_delete(kind: str, element_id: int, s: PlanScope) -> Response:
    row = plan_service.get_element(s.session, plan=s.plan, kind=kind, element_id=element_id)
    return _confirm_delete(s, kind, row)


def _confirm_delete(
    s: Scope,
    kind: str,
    row: Any,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    errors: dict | None = None,
) -> Response:
    linked = plan_service.dependents(s.session, plan=s.plan, kind=kind, row=row)
    ctx = _ctx(
        plan_view(s.session, s.area),
        kind=kind,
        element=row,
        linked=linked,
        spec=plan_service.get_spec(kind),
        values=dict(s.request.query_params),
        errors=errors or {},
        **_reason_ctx(s.session, s.area, kind),
    )
    return render(
        s.request, "plan/_confirm_delete.html", ctx, status_code=status_code, headers=headers
    )


def _reason_ctx(session: Session, area: Area, kind: str) -> dict[str, Any]:
    """What a form that asks for a reason needs: the records a change may cite."""
    if kind not in (*REASON_KINDS, "vision"):
        return {}
    return {"asks_reason": True, "citations": learning.citation_choices(session, area)}


@router.delete("/{kind}/{element_id:id}", name="element_delete")
def element_delete(kind: str, element_id: int, s: PlanScope, form: Form) -> Response:
    request, session, area, plan = s.request, s.session, s.area, s.plan
    try:
        reason = _reason(s, form) if kind in REASON_KINDS else learning.Reason()
    except ValidationFailed as exc:
        row = plan_service.get_element(session, plan=plan, kind=kind, element_id=element_id)
        spec = plan_service.get_spec(kind)
        headers = {
            "HX-Retarget": f"#{dom_id(spec.entity_type, element_id)}",
            "HX-Reswap": "outerHTML",
        }
        return _confirm_delete(s, kind, row, status_code=422, headers=headers, errors=exc.errors)
    plan_service.delete_element(
        session,
        actor=s.principal.actor,
        plan=plan,
        kind=kind,
        element_id=element_id,
        force=True,
        **reason.as_kwargs(),
    )
    return _section(request, session, area, kind, headers=CHANGED)


@router.post("/{kind}/{element_id:id}/move", name="element_move")
def element_move(kind: str, element_id: int, s: PlanScope, form: Form) -> Response:
    request, session, area, plan = s.request, s.session, s.area, s.plan
    direction = str(form.get("direction", ""))
    plan_service.move_element(
        session,
        actor=s.principal.actor,
        plan=plan,
        kind=kind,
        element_id=element_id,
        direction=direction,
    )
    return _section(
        request, session, area, kind, focus=element_id, focus_move=direction, headers=CHANGED
    )


# ---- fragment helpers -----------------------------------------------------------------------


def _form(
    request: Request,
    session: SessionDep,
    area: Area,
    kind: str,
    row: Any,
    values: dict[str, Any],
    errors: dict,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    ctx = _ctx(
        plan_view(session, area),
        kind=kind,
        element=row,
        values=values,
        errors=errors,
        spec=plan_service.get_spec(kind),
        **_reason_ctx(session, area, kind),
        **extra,
    )
    return render(request, "plan/_form.html", ctx, status_code=status_code)


def _row(
    request: Request,
    session: SessionDep,
    area: Area,
    kind: str,
    element_id: int,
    headers: dict[str, str] | None = None,
) -> Response:
    view = plan_view(session, area)
    element = _find(view, kind, element_id)
    ctx = _ctx(view, kind=kind, element=element, focus=element_id)
    return render(request, "plan/_row.html", ctx, headers=headers)


def _find(view: PlanView, kind: str, element_id: int) -> Any:
    if kind == "agencies":
        return view.ref.agencies[element_id]
    return next(e for e in getattr(view.tree, kind) if e.id == element_id)


def _section(
    request: Request,
    session: SessionDep,
    area: Area,
    kind: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    ctx = _ctx(plan_view(session, area), kind=kind, **extra)
    return render(request, "plan/_section.html", ctx, headers=headers)
