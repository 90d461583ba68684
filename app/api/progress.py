"""JSON API for progress: a KPI's values and targets per period, and actions' check-ins.

Every write goes through the same services as the pages, so the rules (Thai digits, ranges,
locked periods, roll-up from units, stale versions) and the audit trail are the same.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from app.api.body import JSONObject, scalar, scalar_or_none, version_of
from app.api.v1 import AUTH_RESPONSES
from app.db import SessionDep, release
from app.i18n import N_
from app.inputs import parse_id
from app.models import KPI, Action, Area, Plan
from app.periods import period_label
from app.services import progress, scope, shared_data
from app.services.access import Permission
from app.services.errors import Msg, NotFound, ValidationFailed
from app.services.progress import KPIDetail, action_view, kpi_detail
from app.web.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["progress"], responses=AUTH_RESPONSES)
UNITS = N_('Send the units as an object: {unit id: {"value": …, "n_measured": …}}.')


@dataclass
class Owned:
    """A KPI or action with the plan and area it belongs to."""

    area: Area
    plan: Plan
    id: int


def _owned(session: Session, principal: Any, model: Any, row_id: int, permission: Any) -> Owned:
    principal.require_signed_in()
    row = session.get(model, row_id)
    plan = session.get(Plan, row.plan_id) if row else None
    area = session.get(Area, plan.area_id) if plan else None
    if row is None or plan is None or area is None:
        raise NotFound(N_("No such KPI in this plan.") if model is KPI else N_("No such action."))
    if permission == Permission.edit:  # the agency scope: scoped editors change only their own
        kind = "kpi" if model is KPI else "action"
        scope.require(session, principal, area.id, kind, row_id)
    else:
        principal.require(permission, area.id)
    release(session)
    return Owned(area, plan, row_id)


def _access(model: Any, permission: Permission, name: str) -> Any:
    def load(session: SessionDep, principal: CurrentPrincipal, request: Request) -> Owned:
        return _owned(session, principal, model, int(request.path_params[name]), permission)

    return load


ReadKPI = Annotated[Owned, Depends(_access(KPI, Permission.read, "kpi_id"))]
EditKPI = Annotated[Owned, Depends(_access(KPI, Permission.edit, "kpi_id"))]
ReadAction = Annotated[Owned, Depends(_access(Action, Permission.read, "action_id"))]
EditAction = Annotated[Owned, Depends(_access(Action, Permission.edit, "action_id"))]


@router.get("/kpis/{kpi_id:id}/measurements", name="api_measurements")
def list_measurements(kpi_id: int, kpi: ReadKPI, session: SessionDep) -> dict[str, Any]:
    """Every period of the plan: value, figure (after aggregation), target, status, details.
    A KPI computed from data items has its values' `source` "computed" and, per period, its
    computed cells by unit and categories (`breakdown`), with the reason where one has none."""
    detail = kpi_detail(session, kpi.area, kpi.plan, kpi_id)
    out = measurements_json(detail)
    if detail.row.kpi.compute_method:
        out["kpi"]["computation"] = shared_data.computation_of(session, detail.row.kpi)
        cells = shared_data.computed_cells(session, [kpi_id])[kpi_id]
        codes = {u.id: u.code or str(u.id) for u in detail.units}
        for period in out["periods"]:
            period["breakdown"] = [
                {
                    "unit": codes.get(c.unit_id) if c.unit_id else None,
                    "categories": shared_data.categories_of(c.categories),
                    "value": c.value,
                    "reason": c.reason or None,
                }
                for c in cells
                if c.period == period["period"]
            ]
    return out


@router.put("/kpis/{kpi_id:id}/measurements/{period}", name="api_measurement_save")
def save_measurement(
    kpi_id: int,
    period: str,
    kpi: EditKPI,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: JSONObject,
) -> Response:
    """`value` (or `units`: {unit id: {value, n_measured}}), `n_measured`, `note`,
    `evidence_url`; send `version` to refuse stale writes (409). A null value clears it."""
    units = _units(body)
    details = {k: scalar(body, k) for k in ("value", "n_measured", "note", "evidence_url")}
    answer: dict[str, Any] = {}
    row = progress.save_measurement(
        session,
        actor=principal.actor,
        plan=kpi.plan,
        kpi_id=kpi_id,
        period=period,
        details_in=details,
        units_in=units,
        expected_version=version_of(body),
        before_commit=_answer(answer, session, kpi, period),
    )
    if row is None:
        return Response(status_code=204)
    return JSONResponse(answer)


def _answer(
    answer: dict[str, Any], session: Session, kpi: Owned, period: str
) -> Callable[[], None]:
    """Fill `answer` with the period as saved, inside the save's transaction (the service has
    checked the period by then): an answer that cannot be built stores nothing."""

    def build() -> None:
        detail = kpi_detail(session, kpi.area, kpi.plan, kpi.id)
        answer.update(_period_json(detail, progress.period_code(period)))

    return build


def _units(body: dict[str, Any]) -> dict[int, tuple[str, str]]:
    """`units`: {unit id: {"value": …, "n_measured": …}} as the texts the services read."""
    units = body.get("units") or {}
    if not isinstance(units, dict):
        raise ValidationFailed({"units": Msg(UNITS)})
    out = {}
    for unit_id, values in units.items():
        key = parse_id(unit_id)
        if key is None or not isinstance(values, dict):
            raise ValidationFailed({f"units.{unit_id}"[:80]: Msg(UNITS)})
        out[key] = (scalar(values, "value"), scalar(values, "n_measured"))
    return out


@router.delete(
    "/kpis/{kpi_id:id}/measurements/{period}", name="api_measurement_delete", status_code=204
)
def delete_measurement(
    kpi_id: int, period: str, kpi: EditKPI, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    progress.save_cell(
        session,
        actor=principal.actor,
        plan=kpi.plan,
        kpi_id=kpi_id,
        period=period,
        cell="actual",
        text=None,
    )
    return Response(status_code=204)


@router.put("/kpis/{kpi_id:id}/targets/{period}", name="api_target_save")
def save_target(
    kpi_id: int,
    period: str,
    kpi: EditKPI,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: JSONObject,
) -> Response:
    """`{"value": 70}` sets the period's target; `{"value": null}` goes back to the line."""
    answer: dict[str, Any] = {}
    progress.save_cell(
        session,
        actor=principal.actor,
        plan=kpi.plan,
        kpi_id=kpi_id,
        period=period,
        cell="target",
        text=scalar_or_none(body, "value"),
        before_commit=_answer(answer, session, kpi, period),
    )
    return JSONResponse(answer)


@router.get("/actions/{action_id:id}/updates", name="api_action_updates")
def list_updates(action_id: int, action: ReadAction, session: SessionDep) -> list[dict[str, Any]]:
    """Check-ins, newest first."""
    view, _ = action_view(session, action.area, action.plan, action_id)
    return [u.model_dump(mode="json") for u in view.updates.get(action_id, [])]


@router.post("/actions/{action_id:id}/updates", name="api_action_update_create", status_code=201)
def create_update(
    action_id: int,
    action: EditAction,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: JSONObject,
) -> JSONResponse:
    """`on_date`, `status`, `what_changed`; optional `percent_complete`, `confidence` (0–10),
    `spent_thb`, `next_steps`, `evidence_url`. The action takes the check-in's status."""
    row = progress.add_action_update(
        session, actor=principal.actor, plan=action.plan, action_id=action_id, update_in=body
    )
    return JSONResponse(row.model_dump(mode="json"), status_code=201)


def measurements_json(detail: KPIDetail) -> dict[str, Any]:
    kpi = detail.row.kpi
    return {
        "kpi": {
            "id": kpi.id,
            "code": kpi.code,
            "name": kpi.name,
            "unit": kpi.unit,
            "direction": kpi.direction,
            "aggregation": kpi.aggregation,
            "rollup": kpi.rollup,
            "baseline": {"value": kpi.baseline_value, "period": kpi.baseline_period},
            "target": {"value": kpi.target_value, "period": kpi.target_period},
            "tolerance": kpi.tolerance,
        },
        "trend": {"direction": detail.row.trend.direction, "periods": detail.row.trend.periods},
        "overdue": detail.row.overdue,
        "periods": [_period_json(detail, p) for p in detail.row.periods],
    }


def _period_json(detail: KPIDetail, period: str) -> dict[str, Any]:
    row = detail.row
    j = row.judgements[period]
    m = row.actuals.get(period)
    units = detail.unit_values.get(period, {})
    names = {u.id: u.name for u in detail.units}
    return {
        "period": period,
        "label": period_label(period),
        "value": m.value if m else None,
        "figure": j.figure,
        "target": j.target,
        "target_set": period in row.targets,  # typed in, not interpolated
        "status": j.status.value,
        "reason": j.reason,
        "n_measured": m.n_measured if m else None,
        "note": m.note if m else "",
        "evidence_url": m.evidence_url if m else "",
        "evidence_file_id": m.evidence_id if m else None,
        "entered_at": m.entered_at.isoformat() if m else None,
        "source": m.source if m else None,
        "version": m.version if m else None,
        "units": [
            {"unit_id": u, "name": names.get(u, ""), "value": v.value, "n_measured": v.n_measured}
            for u, v in units.items()
        ],
    }
