"""The progress page: each KPI's values and targets per period, entered like a spreadsheet.

A cell is saved on change; the answer is the KPI's whole row (its two lines, actual and target),
because a running total or a carried value changes the later periods' figures and statuses too.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.services import progress as progress_service
from app.services import reviews
from app.services.access import Permission
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.progress import (
    ProgressView,
    action_view,
    kpi_view,
    locked_periods,
    progress_view,
)
from app.templating import render
from app.web.auth import CurrentPrincipal, EditArea, ReadArea
from app.web.deps import EditPlan
from app.web.forms import Form, field_int

router = APIRouter(prefix="/areas/{slug}/progress")


def _ctx(view: ProgressView, principal: CurrentPrincipal, **extra: Any) -> dict[str, Any]:
    return {
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
        "today": date.today(),
        **extra,
    }


def _round_periods(view: ProgressView) -> list[str]:
    if view.plan is None:
        return []
    types = {row.kpi.period_type for row in view.kpis.values()}
    plan = view.plan
    return reviews.round_periods(types, plan.span_start_be, plan.span_end_be, date.today())


@router.get("", name="progress")
def progress_page(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return render(request, "progress/page.html", _ctx(progress_view(session, area), principal))


@router.put("/kpis/{kpi_id}/{period}/{cell}", name="progress_cell")
def save_cell(
    request: Request,
    kpi_id: int,
    period: str,
    cell: str,
    area: EditArea,
    plan: EditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    text = str(form.get("value", ""))
    status_code, errors = 200, {}
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
        )
    except ValidationFailed as exc:
        session.rollback()
        status_code, errors = 422, {(period, cell): exc.errors["value"]}
    except Conflict as exc:
        session.rollback()
        status_code, errors = 409, {(period, cell): exc.message}
    view = kpi_view(session, area, plan, kpi_id)
    row = view.kpis[kpi_id]
    typed = {(period, cell): text} if errors else {}
    ctx = _ctx(view, principal, row=row, errors=errors, typed=typed)
    return render(request, "progress/_kpi.html", ctx, status_code=status_code)


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
            round_problem=(period, action, problem),
            typed_comment=str(form.get("comment", "")),
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


@router.post("/actions/{action_id}/updates", name="action_update_create")
def action_update_create(
    request: Request,
    action_id: int,
    area: EditArea,
    plan: EditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = {name: form.get(name, "") for name in CHECKIN_FIELDS}
    status_code, checkin = 200, CheckIn(action_id, values, {}, saved=True)
    try:
        progress_service.add_action_update(
            session, actor=principal.actor, plan=plan, action_id=action_id, update_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        status_code, checkin = 422, CheckIn(action_id, values, exc.errors)
    view, action = action_view(session, area, plan, action_id)
    ctx = _ctx(view, principal, action=action, checkin=checkin)
    return render(request, "progress/_action.html", ctx, status_code=status_code)
