"""The progress page: each KPI's values and targets per period, entered like a spreadsheet.

A cell is saved on change; the answer is the KPI's whole row (its two lines, actual and target),
because a running total or a carried value changes the later periods' figures and statuses too.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import charts
from app.db import SessionDep
from app.i18n import N_, format_year, gettext, thai_today
from app.inputs import parse_id
from app.labels import label
from app.models import EvidenceFile
from app.models.enums import KPIStatus
from app.periods import period_label
from app.services import (
    comments,
    committee,
    evidence,
    reflections,
    reviews,
    scope,
    shared_data,
)
from app.services import progress as progress_service
from app.services.access import Permission
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.progress import (
    KPIProgress,
    ProgressView,
    action_view,
    kpi_detail,
    kpi_view,
    locked_periods,
    progress_view,
)
from app.status import figures
from app.templating import render
from app.web.auth import CurrentPrincipal, EditArea, ReadArea, ScopedEditArea
from app.web.deps import EditPlan, ReadPlan, ScopedEditPlan
from app.web.forms import Form, field_int, field_text, field_upload

router = APIRouter(prefix="/areas/{slug}/progress")


def _ctx(
    view: ProgressView, principal: CurrentPrincipal, session: Session, **extra: Any
) -> dict[str, Any]:
    area_id = view.area.id
    actions = [a.id for a in view.tree.actions] if view.tree else []
    return {
        # an agency-scoped editor edits only its agencies' rows; the others show read-only
        "editable_kpis": scope.editable(session, principal, area_id, "kpi", view.kpis),
        "editable_actions": scope.editable(session, principal, area_id, "action", actions),
        "scope_names": scope.scope_names(session, principal, area_id),
        "view": view,
        "area": view.area,
        "plan": view.plan,
        "locks": locked_periods(view),
        "can_edit": principal.can(Permission.edit, view.area.id),
        "errors": {},
        "typed": {},
        "round_periods": _round_periods(view),
        "can_review": principal.can(Permission.review, view.area.id),
        "checkin": None,
        "today": thai_today(),
        "origins": {},  # action id -> the reflection it came from (reflections.origins)
        "round_decisions": {},  # review round id -> the resolutions that decided it
        **extra,
    }


def _round_periods(view: ProgressView) -> list[str]:
    if view.plan is None:
        return []
    types = {row.kpi.period_type for row in view.kpis.values()}
    plan = view.plan
    return reviews.round_periods(types, plan.span_start_be, plan.span_end_be, thai_today())


@router.get("", name="progress")
def progress_page(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    view = progress_view(session, area)
    live = request.app.url_path_for("area_events", slug=area.slug)
    ctx = _ctx(
        view,
        principal,
        session,
        live_url=live,
        period_comments=_period_comments(session, area, principal),
        origins=_origins(session, view),
        round_decisions=committee.decisions_for(
            session, area, "review_round", [r.id for r in view.rounds.values()]
        ),
    )
    return render(request, "progress/page.html", ctx)


def _origins(session: SessionDep, view: ProgressView) -> dict[int, Any]:
    """The reflections the page's actions came from (one query)."""
    ids = [a.id for a in view.tree.actions] if view.tree else []
    return reflections.origins(session, view.area.id, "action", ids)


def _period_comments(session: SessionDep, area: Any, principal: CurrentPrincipal) -> dict[str, int]:
    """Open comment threads per year, beside the review rounds (one query)."""
    counts = comments.open_counts(session, area, principal)
    return {key[7:]: n for key, n in counts.items() if key.startswith("period:")}


@router.put("/kpis/{kpi_id:id}/{period}/{cell}", name="progress_cell")
def save_cell(
    request: Request,
    kpi_id: int,
    period: str,
    cell: str,
    area: ScopedEditArea,
    plan: ScopedEditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    scope.require(session, principal, area.id, "kpi", kpi_id)
    text = str(form.get("value", ""))
    status_code, errors = 200, {}
    saved: list[ProgressView] = []  # the row as saved, read inside the save's transaction
    try:
        progress_service.save_cell(
            session,
            actor=principal.actor,
            plan=plan,
            kpi_id=kpi_id,
            period=period,
            cell=cell,
            text=text,
            expected_version=field_int(form, "version"),
            before_commit=lambda: saved.append(kpi_view(session, area, plan, kpi_id)),
        )
    except ValidationFailed as exc:
        session.rollback()
        status_code, errors = 422, {(period, cell): exc.errors["value"]}
    except Conflict as exc:
        session.rollback()
        status_code, errors = 409, {(period, cell): exc.message}
    view = saved[0] if saved else kpi_view(session, area, plan, kpi_id)
    row = view.kpis[kpi_id]
    typed = {(period, cell): text} if errors else {}
    ctx = _ctx(view, principal, session, row=row, errors=errors, typed=typed)
    return render(request, "progress/_kpi.html", ctx, status_code=status_code)


Groups = list[tuple[str, list[float | None]]]  # a computed KPI's groups: name, figure per period


@dataclass
class ChartBlock:
    """A KRA (or the KPIs outside any KRA) on the charts page."""

    kra: Any
    years: list[int]
    counts: dict[KPIStatus, list[int]]
    figure: dict[str, Any] | None
    kpis: list[tuple[KPIProgress, dict[str, Any], Groups]]


@router.get("/charts", name="progress_charts")
def charts_page(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    view = progress_view(session, area)
    computed = shared_data.computed_kpis(session, area, [row.kpi for row in view.kpis.values()])
    blocks = _blocks(view, computed)
    return render(request, "progress/charts.html", _ctx(view, principal, session, blocks=blocks))


def _blocks(view: ProgressView, computed: dict[int, shared_data.ComputedKPI]) -> list[ChartBlock]:
    if view.tree is None:
        return []
    kra_kpis = view.tree.kra_kpis
    order = {kpi.id: index for index, kpi in enumerate(view.tree.kpis)}  # as the grid lists them
    groups = [
        (
            kra,
            [
                view.kpis[i]
                for i in sorted(kra_kpis.get(kra.id, []), key=order.get)
                if i in view.kpis
            ],
        )
        for kra in view.tree.kras
    ]
    linked = {i for ids in kra_kpis.values() for i in ids}
    rest = [row for kpi_id, row in view.kpis.items() if kpi_id not in linked]
    if rest:
        groups.append((None, rest))
    return [_block(kra, rows, computed) for kra, rows in groups if rows]


def _block(
    kra: Any, rows: list[KPIProgress], computed: dict[int, shared_data.ComputedKPI]
) -> ChartBlock:
    begun = {
        charts.year_of(p)
        for row in rows
        for p, j in row.judgements.items()
        if j.reason != "not_started"
    }
    years = sorted(begun)
    counts = charts.yearly_statuses(
        ({p: j.status for p, j in row.judgements.items()} for row in rows), years
    )
    names = {s: label("kpi_status", s.value) for s in KPIStatus}
    labels = [format_year(y) for y in years]
    figure = charts.status_figure(labels, counts, names) if kra is not None else None
    kpi_figures = []
    for row in rows:
        groups = _groups(row, computed.get(row.kpi.id or 0))
        kpi_figures.append((row, _kpi_figure(row, groups), groups))
    return ChartBlock(kra, years, counts, figure, kpi_figures)


def _groups(row: KPIProgress, computed: shared_data.ComputedKPI | None) -> Groups:
    """A computed KPI's groups (girls, boys…) for the whole area, each with its figure per
    period under the KPI's own aggregation rule, as the total's."""
    if computed is None:
        return []
    return [
        (
            computed.group_name(column),
            list(figures(row.periods, computed.values(column), row.kpi.aggregation).values()),
        )
        for column in computed.groups()
    ]


def _kpi_figure(row: KPIProgress, groups: Groups) -> dict[str, Any]:
    series = charts.Series(
        labels=[period_label(p) for p in row.periods],
        figures=[row.judgements[p].figure for p in row.periods],
        targets=[row.judgements[p].target for p in row.periods],
        baseline=row.kpi.baseline_value,
        unit=row.kpi.unit or label("kpi_kind", row.kpi.kind),
        groups=groups,
    )
    names = {
        "actual": gettext("Actual"),
        "target": gettext("Target"),
        "baseline": gettext("Baseline"),
    }
    return charts.kpi_figure(series, names)


@router.get("/kpis/{kpi_id:id}", name="progress_kpi")
def kpi_page(
    request: Request,
    kpi_id: int,
    area: ReadArea,
    plan: ReadPlan,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    return _kpi_page(request, session, principal, area, plan, kpi_id)


def _kpi_page(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    area: Any,
    plan: Any,
    kpi_id: int,
    *,
    period: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    unit: tuple[dict[str, Any], dict[str, Msg]] | None = None,
    status_code: int = 200,
) -> Response:
    detail = kpi_detail(session, area, plan, kpi_id)
    ctx = _ctx(
        detail.view,
        principal,
        session,
        detail=detail,
        row=detail.row,
        kpi=detail.row.kpi,
        form_period=period or request.query_params.get("saved"),
        form_values=values or {},
        form_errors=errors or {},
        unit_values=unit[0] if unit else {},
        unit_errors=unit[1] if unit else {},
        unit_added=request.query_params.get("unit") == "added",
        computed=shared_data.computed_kpi(session, area, detail.row.kpi),
        reasons=shared_data.REASONS,
    )
    return render(request, "progress/kpi.html", ctx, status_code=status_code)


DETAIL_FIELDS = ("value", "n_measured", "note", "evidence_url")


@router.post("/kpis/{kpi_id:id}/{period}", name="measurement_save")
def measurement_save(
    request: Request,
    kpi_id: int,
    period: str,
    area: ScopedEditArea,
    plan: ScopedEditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    scope.require(session, principal, area.id, "kpi", kpi_id)
    values = {name: field_text(form, name, 5000) for name in DETAIL_FIELDS}
    units = {
        int(key.split("-")[1]): (field_text(form, key, 100), field_text(form, key[:-6] + "-n", 100))
        for key in form
        if key.startswith("unit-") and key.endswith("-value") and parse_id(key.split("-")[1])
    }
    try:
        progress_service.save_measurement(
            session,
            actor=principal.actor,
            plan=plan,
            kpi_id=kpi_id,
            period=period,
            details_in=values,
            units_in=units,
            upload=field_upload(form, "evidence"),
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"value": exc.message}
        typed = {**values, **{f"unit-{u}": v for u, (v, _) in units.items()}}
        typed |= {f"unit-{u}-n": n for u, (_, n) in units.items()}
        return _kpi_page(
            request,
            session,
            principal,
            area,
            plan,
            kpi_id,
            period=period,
            values=typed,
            errors=errors,
            status_code=exc.status_code,
        )
    url = request.url_for("progress_kpi", slug=area.slug, kpi_id=kpi_id).path
    return Response(status_code=303, headers={"Location": f"{url}?saved={period}#period-{period}"})


@router.post("/units", name="org_unit_create")
def org_unit_create(
    request: Request,
    area: EditArea,
    plan: EditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Add a reporting unit, from a KPI's page (`kpi_id`), which then shows it."""
    kpi_id = field_int(form, "kpi_id")
    if kpi_id is None:
        raise NotFound(N_("No such KPI in this plan."))
    unit_in = {"kind": field_text(form, "kind"), "name": field_text(form, "name", 400)}
    try:
        progress_service.add_unit(session, actor=principal.actor, area=area, unit_in=unit_in)
    except ValidationFailed as exc:
        session.rollback()
        return _kpi_page(
            request,
            session,
            principal,
            area,
            plan,
            kpi_id,
            unit=(unit_in, exc.errors),
            status_code=422,
        )
    url = request.url_for("progress_kpi", slug=area.slug, kpi_id=kpi_id).path
    return Response(status_code=303, headers={"Location": f"{url}?unit=added#units"})


@router.get("/evidence/{evidence_id:id}", name="evidence_file")
def evidence_file(evidence_id: int, area: ReadArea, session: SessionDep) -> Response:
    row = session.get(EvidenceFile, evidence_id)
    data = evidence.content(row) if row and row.area_id == area.id else None
    if row is None or data is None:
        raise NotFound(N_("No such file."))
    quoted = quote(row.filename)
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"}
    return Response(data, media_type=row.content_type, headers=headers)


@router.post("/rounds/{period}/{action}", name="review_round_step")
def review_round_step(
    request: Request,
    period: str,
    action: str,
    area: ReadArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    step = reviews.STEPS.get(action)
    if step is None:
        raise NotFound(action)
    principal.require(Permission.review if step.by_reviewer else Permission.edit, area.id)
    try:
        reviews.step_round(
            session,
            actor=principal.actor,
            area=area,
            period=period,
            action=action,
            comment=str(form.get("comment", "")),
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        problem = (
            exc.errors.get("comment") or next(iter(exc.errors.values()))
            if isinstance(exc, ValidationFailed)
            else exc.message
        )
        ctx = _ctx(
            progress_view(session, area),
            principal,
            session,
            round_problem=(period, action, problem),
            typed_comment=str(form.get("comment", "")),
            period_comments=_period_comments(session, area, principal),
        )
        return render(request, "progress/page.html", ctx, status_code=exc.status_code)
    url = request.url_for("progress", slug=area.slug).path + f"?done={action}#round-{period}"
    return Response(status_code=303, headers={"Location": url})


@dataclass
class CheckIn:
    """The check-in form of one action as it comes back: saved, or with its errors."""

    action_id: int
    values: dict[str, Any]
    errors: dict[str, Msg]
    saved: bool = False


CHECKIN_FIELDS = (
    "on_date",
    "status",
    "percent_complete",
    "confidence",
    "spent_thb",
    "what_changed",
    "next_steps",
    "evidence_url",
)


@router.post("/actions/{action_id:id}/updates", name="action_update_create")
def action_update_create(
    request: Request,
    action_id: int,
    area: ScopedEditArea,
    plan: ScopedEditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    scope.require(session, principal, area.id, "action", action_id)
    values = {name: form.get(name, "") for name in CHECKIN_FIELDS}
    status_code, checkin = 200, CheckIn(action_id, values, {}, saved=True)
    try:
        progress_service.add_action_update(
            session,
            actor=principal.actor,
            plan=plan,
            action_id=action_id,
            update_in=values,
            upload=field_upload(form, "evidence"),
        )
    except ValidationFailed as exc:
        session.rollback()
        status_code, checkin = 422, CheckIn(action_id, values, exc.errors)
    view, action = action_view(session, area, plan, action_id)
    origins = reflections.origins(session, area.id, "action", [action_id])
    ctx = _ctx(view, principal, session, action=action, checkin=checkin, origins=origins)
    return render(request, "progress/_action.html", ctx, status_code=status_code)
