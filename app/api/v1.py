"""JSON API under /api/v1: areas, whole plans as one document, and each plan element."""

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session, SQLModel

from app.api.body import JSONObject, version_of
from app.db import SessionDep
from app.i18n import get_locale
from app.models import Area, Plan
from app.schemas import PlanIn
from app.services import plans as plan_service
from app.services import scope, shared_data
from app.services.plan_views import PlanView, plan_view, plan_views
from app.services.reference import areas_by_ids, group_areas
from app.templating import translate
from app.web.auth import CurrentPrincipal, EditArea, ReadArea, ScopedEditArea, SignedIn
from app.web.deps import EditPlan, ReadPlan, ScopedEditPlan

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API token or session"},
    403: {"description": "Not allowed for this area, or a browser request without CSRF token"},
    404: {"description": "No such area or element"},
}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=AUTH_RESPONSES)


@router.get("/areas", name="api_areas")
def list_areas(session: SessionDep, principal: SignedIn) -> list[dict[str, Any]]:
    """The areas you may read, in Thai dictionary order, each with its current plan's status."""
    ids = principal.area_ids()
    areas = group_areas(session, None) if ids is None else areas_by_ids(session, ids)
    views = plan_views(session, areas)
    return [_area_json(views[a.id]) for a in areas]


@router.get("/areas/{slug}/plan", name="api_plan")
def read_plan(area: ReadArea, plan: ReadPlan, session: SessionDep) -> dict[str, Any]:
    """The whole plan as one document: DOE → problems → vision → KRAs → KPIs → actions."""
    return plan_document(plan_view(session, area))


@router.post(
    "/areas/{slug}/plan",
    name="api_plan_create",
    status_code=201,
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": PlanIn.model_json_schema()}}}
    },
)
def create_plan(
    area: EditArea,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: JSONObject,
) -> JSONResponse:
    plan_service.create_plan(session, actor=principal.actor, area=area, plan_in=body)
    return JSONResponse(plan_document(plan_view(session, area)), status_code=201)


@router.patch("/areas/{slug}/plan", name="api_plan_update")
def update_plan(
    area: EditArea,
    plan: EditPlan,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: JSONObject,
) -> dict[str, Any]:
    """Change the title, span, status or vision; send `version` to refuse stale writes."""
    plan_service.update_plan(
        session,
        actor=principal.actor,
        plan=plan,
        plan_in=body,
        expected_version=version_of(body),
    )
    return plan_document(plan_view(session, area))


def _element_routes(kind: str, schema: type) -> None:
    body_doc = {
        "requestBody": {"content": {"application/json": {"schema": schema.model_json_schema()}}}
    }

    @router.post(
        f"/areas/{{slug}}/plan/{kind}",
        name=f"api_{kind}_create",
        status_code=201,
        openapi_extra=body_doc,
    )
    def create(
        plan: EditPlan,
        session: SessionDep,
        principal: CurrentPrincipal,
        body: JSONObject,
    ) -> JSONResponse:
        row = plan_service.create_element(
            session, actor=principal.actor, plan=plan, kind=kind, element_in=body
        )
        return JSONResponse(element_json(session, kind, row), status_code=201)

    @router.get(f"/areas/{{slug}}/plan/{kind}/{{element_id:id}}", name=f"api_{kind}_read")
    def read(element_id: int, plan: ReadPlan, session: SessionDep) -> dict[str, Any]:
        row = plan_service.get_element(session, plan=plan, kind=kind, element_id=element_id)
        return element_json(session, kind, row)

    @router.patch(
        f"/areas/{{slug}}/plan/{kind}/{{element_id:id}}",
        name=f"api_{kind}_update",
        openapi_extra=body_doc,
    )
    def update(
        element_id: int,
        area: ScopedEditArea,
        plan: ScopedEditPlan,
        session: SessionDep,
        principal: CurrentPrincipal,
        body: JSONObject,
    ) -> dict[str, Any]:
        """Fields left out keep their values; send `version` to refuse stale writes (409). A
        KPI's `computation` makes it computed from data items (null: entered by hand). An
        agency-scoped editor may change only its agencies' KPIs and actions."""
        scope.require_element(session, principal, area.id, kind, element_id)
        if kind == "kpis" and "computation" in body:
            return _update_computed_kpi(session, principal, plan, element_id, body)
        row = plan_service.update_element(
            session,
            actor=principal.actor,
            plan=plan,
            kind=kind,
            element_id=element_id,
            element_in=body,
            expected_version=version_of(body),
            partial=True,
        )
        return element_json(session, kind, row)

    @router.delete(
        f"/areas/{{slug}}/plan/{kind}/{{element_id:id}}",
        name=f"api_{kind}_delete",
        status_code=204,
        responses={409: {"description": "Still linked"}},
    )
    def delete(
        element_id: int,
        plan: EditPlan,
        session: SessionDep,
        principal: CurrentPrincipal,
        force: bool = Query(False, description="unlink and delete a linked element"),
    ) -> Response:
        """A linked element is refused (409, listing what would be unlinked) unless force."""
        plan_service.delete_element(
            session, actor=principal.actor, plan=plan, kind=kind, element_id=element_id, force=force
        )
        return Response(status_code=204)


for _spec in plan_service.SPECS.values():
    _element_routes(_spec.kind, _spec.schema)


def _update_computed_kpi(
    session: Session, principal: Any, plan: Plan, kpi_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """A KPI's PATCH naming its computation: the other fields and the computation (with the
    values it yields) are saved together in one commit, or nothing is (see shared_data.save_kpi)."""
    area = session.get(Area, plan.area_id)
    assert area is not None
    kpi = shared_data.save_kpi(
        session,
        actor=principal.actor,
        area=area,
        plan=plan,
        kpi_id=kpi_id,
        element_in={k: v for k, v in body.items() if k not in ("computation", "version")},
        computation_in=body["computation"],
        expected_version=version_of(body),
        partial=True,
    )
    return element_json(session, "kpis", kpi)


# ---- serialisation --------------------------------------------------------------------------


def element_json(session: SessionDep, kind: str, row: SQLModel) -> dict[str, Any]:
    spec = plan_service.get_spec(kind)
    data = row.model_dump(mode="json")
    data.update(plan_service.element_links(session, spec, row.id))
    if kind == "kpis":
        data["computation"] = shared_data.computation_of(session, row)
    return data


def _area_json(view: PlanView) -> dict[str, Any]:
    area = view.area
    plan = view.plan
    return {
        "slug": area.slug,
        "iso_code": area.iso_code,
        "name_th": area.name_th,
        "name_en": area.name_en,
        "cohort": area.cohort,
        "designated_on": area.designated_on.isoformat() if area.designated_on else None,
        "status": area.status,
        "plan": None
        if plan is None
        else {
            "id": plan.id,
            "title": plan.title,
            "status": plan.status,
            "is_demo": plan.is_demo,
            "completeness": round(view.completeness, 3),
            "findings": len(view.findings),
        },
    }


def _problem_json(view: PlanView, node: Any) -> dict[str, Any]:
    """A problem (or cause) of the tree with its links by code and its causes, nested."""
    tree = view.tree
    assert tree is not None
    kras, actions = tree.kras_by_id(), tree.actions_by_id()
    return {
        **node.model_dump(mode="json", exclude={"parent_id"}),
        "kras": [kras[i].code for i in tree.node_kras.get(node.id, []) if i in kras],
        "doe_items": view.ref.item_codes(tree.node_items.get(node.id, [])),
        "actions": [actions[i].code for i in tree.node_actions.get(node.id, []) if i in actions],
        "causes": [_problem_json(view, cause) for cause in tree.causes_of(node.id)],
    }


def plan_document(view: PlanView) -> dict[str, Any]:
    tree, ref = view.tree, view.ref
    assert tree is not None and view.plan is not None
    kra_kpis, kpi_actions, kra_actions = tree.kra_kpis, tree.kpi_actions, tree.kra_actions
    theme_codes = {t.id: t.code for t in ref.themes.values()}
    return {
        "area": _area_json(view),
        "plan": view.plan.model_dump(mode="json"),
        "locale": get_locale(),
        "doe": [
            {**s.model_dump(mode="json"), "items": ref.item_codes(tree.doe_items.get(s.id, []))}
            for s in tree.doe
        ],
        "problems": [_problem_json(view, node) for node in tree.problems],
        "vision": view.plan.vision,
        "kras": [
            {
                **k.model_dump(mode="json"),
                "theme": theme_codes.get(k.theme_id),
                "doe_items": ref.item_codes(tree.kra_items.get(k.id, [])),
                "kpi_ids": sorted(kra_kpis.get(k.id, [])),
                "action_ids": sorted(kra_actions.get(k.id, [])),
            }
            for k in tree.kras
        ],
        "kpis": [
            {
                **k.model_dump(mode="json"),
                "kra_ids": tree.kpi_kras.get(k.id, []),
                "co_owner_ids": tree.kpi_co_owners.get(k.id, []),
                "action_ids": sorted(kpi_actions.get(k.id, [])),
            }
            for k in tree.kpis
        ],
        "actions": [
            {
                **a.model_dump(mode="json"),
                "kpi_ids": tree.action_kpis.get(a.id, []),
                "kra_ids": tree.action_kras.get(a.id, []),
                "partner_ids": tree.action_partners.get(a.id, []),
            }
            for a in tree.actions
        ],
        "agencies": [
            {**a.model_dump(mode="json"), "national": a.area_id is None}
            for a in ref.sorted_agencies()
        ],
        "checks": [
            {"check": f.check, "kind": f.kind, "id": f.element_id, "message": translate(f.message)}
            for f in view.findings
        ],
        "completeness": {"ratio": round(view.completeness, 3), "steps": view.steps},
    }
