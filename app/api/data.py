"""JSON API for the province's shared data: the data catalogue's items and their values per
period, unit and category options (issue 21). A KPI's `computation` is set through the plan's
KPI routes (app/api/v1.py); its computed values are read through its measurements.

Writes go through the same services as the pages: the same rules, the same audit trail."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator
from sqlmodel import Session

from app.api.body import JSONObject, version_of
from app.api.v1 import AUTH_RESPONSES
from app.db import SessionDep
from app.i18n import N_
from app.inputs import clean
from app.models import Area, DataItem
from app.services import records, resources, shared_data
from app.services.access import Permission
from app.services.errors import Msg, NotFound, ValidationFailed
from app.web.auth import CurrentPrincipal, ReadArea, ReflectArea

router = APIRouter(prefix="/api/v1", tags=["data"], responses=AUTH_RESPONSES)

# A JSON list of cells, or {"values": [...], "source": "..."}.
# (Any: a body of another shape reaches check_rows, which says what to send)
ValuesBody = Annotated[Any, Body(), AfterValidator(clean)]
VALUES_DOC = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "period": {"type": "string", "example": "FY2567"},
                            "unit": {"type": ["string", "null"], "example": "5801"},
                            "categories": {"type": "object", "example": {"sex": "female"}},
                            "value": {"type": ["number", "string", "null"], "example": 12.5},
                        },
                        "required": ["period", "value"],
                    },
                }
            }
        }
    }
}


class ItemAccess:
    """A data item with its area, once the principal may act on the area."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(
        self, session: SessionDep, principal: CurrentPrincipal, request: Request
    ) -> tuple[Area, DataItem]:
        principal.require_signed_in()
        item = session.get(DataItem, int(request.path_params["data_item_id"]))
        area = session.get(Area, item.area_id) if item else None
        if item is None or area is None:
            raise NotFound(N_("No such data item."))
        if self.permission == Permission.edit:  # values: the custodian's scoped editors too
            principal.require_change(area.id, [item.custodian_agency_id])
        else:
            principal.require(self.permission, area.id)
        return area, item


# The catalogue is kept as the web page keeps it (the DE records' permission); values are
# entered by the area's editors, as progress is.
ReadItem = Annotated[tuple[Area, DataItem], Depends(ItemAccess(Permission.read))]
KeepItem = Annotated[tuple[Area, DataItem], Depends(ItemAccess(Permission.reflect))]
EditItem = Annotated[tuple[Area, DataItem], Depends(ItemAccess(Permission.edit))]


def items_json(session: Session, area: Area, items: list[DataItem]) -> list[dict[str, Any]]:
    """Items as their input schema sees them, with id and version; one query per link table."""
    spec = resources.DATA_ITEMS
    links = records.links_by_record(session, spec, [i.id for i in items])
    out = []
    for item in items:
        values = {n: getattr(item, n) for n in spec.schema.model_fields if hasattr(item, n)}
        values.update({name: found[item.id] for name, found in links.items()})
        out.append({"id": item.id, "area": area.slug, **values, "version": item.version})
    return out


def item_json(session: Session, area: Area, item: DataItem) -> dict[str, Any]:
    return items_json(session, area, [item])[0]


@router.get("/areas/{slug}/data-items", name="api_data_items")
def list_items(area: ReadArea, session: SessionDep) -> list[dict[str, Any]]:
    """The area's data catalogue, in Thai dictionary order of the names."""
    view = resources.catalogue(session, area)
    return items_json(session, area, [e.item for e in view.entries])


@router.post("/areas/{slug}/data-items", name="api_data_item_create", status_code=201)
def create_item(
    area: ReflectArea, session: SessionDep, principal: CurrentPrincipal, body: JSONObject
) -> JSONResponse:
    row = resources.create_data_item(session, actor=principal.actor, area=area, item_in=body)
    return JSONResponse(item_json(session, area, row), status_code=201)


@router.get("/data-items/{data_item_id:id}", name="api_data_item")
def read_item(data_item_id: int, found: ReadItem, session: SessionDep) -> dict[str, Any]:
    area, item = found
    return item_json(session, area, item)


@router.patch("/data-items/{data_item_id:id}", name="api_data_item_update")
def update_item(
    data_item_id: int,
    found: KeepItem,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: JSONObject,
) -> dict[str, Any]:
    """Fields left out keep their values; send `version` to refuse stale writes (409)."""
    area, item = found
    merged = {**resources.data_item_values(session, item), **body}
    merged.pop("version", None)
    row = resources.update_data_item(
        session,
        actor=principal.actor,
        area=area,
        item_id=item.id,
        item_in=merged,
        expected_version=version_of(body),
    )
    return item_json(session, area, row)


@router.delete(
    "/data-items/{data_item_id:id}",
    name="api_data_item_delete",
    status_code=204,
    responses={409: {"description": "KPIs cite the item"}},
)
def delete_item(
    data_item_id: int,
    found: KeepItem,
    session: SessionDep,
    principal: CurrentPrincipal,
    force: bool = Query(False, description="delete an item KPIs cite, unlinking them"),
) -> Response:
    area, item = found
    resources.delete_data_item(
        session, actor=principal.actor, area=area, item_id=item.id, force=force
    )
    return Response(status_code=204)


@router.get("/data-items/{data_item_id:id}/values", name="api_data_values")
def list_values(
    data_item_id: int,
    found: ReadItem,
    session: SessionDep,
    period: str | None = Query(None, max_length=20, description="a period code, e.g. FY2567"),
    unit: str | None = Query(None, max_length=40, description="a unit's code"),
) -> dict[str, Any]:
    """The item's values, each with its period, unit, categories, who entered it and when."""
    area, item = found
    shape = shared_data.item_shapes(session, area, [item])[item.id]
    code = None
    if period is not None:
        code = shared_data.period_problem_of(item, period)
        if isinstance(code, Msg):
            raise ValidationFailed({"period": code})
    unit_id = None
    if unit is not None:
        found_unit = shape.units.get(unit.strip())
        if found_unit is None:
            msg = N_("“%(unit)s” is not a unit that reports this data item.")
            raise ValidationFailed({"unit": Msg(msg, {"unit": unit[:40]})})
        unit_id = found_unit.id
    rows = shared_data.values_of(session, item, period=code, unit_id=unit_id)
    codes = {u.id: c for c, u in shape.units.items()}
    return {
        "item": {"id": item.id, "name": item.name, "measure": item.measure},
        "values": [
            {
                "period": v.period,
                "unit": codes.get(v.unit_id) if v.unit_id else None,
                "categories": shared_data.categories_of(v.categories),
                "value": v.value,
                "source": v.source,
                "entered_by": v.entered_by,
                "entered_at": v.entered_at.isoformat(),
                "version": v.version,
            }
            for v in rows
        ],
    }


@router.put(
    "/data-items/{data_item_id:id}/values",
    name="api_data_values_save",
    openapi_extra=VALUES_DOC,
    responses={422: {"description": "Bad rows, each named (row-1, row-2, …); nothing stored"}},
)
def put_values(
    data_item_id: int,
    found: EditItem,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: ValuesBody,
) -> dict[str, Any]:
    """Store, change or clear (value null) cells, all or nothing. KPIs computed from the item
    are computed again. Send a list, or {"values": [...], "source": "where they came from"}."""
    area, item = found
    rows: Any = body
    source = ""
    if isinstance(body, dict):
        rows, source = body.get("values"), body.get("source") or ""
        if not isinstance(source, str):
            raise ValidationFailed({"source": Msg(N_("The source is text."))})
    counts = shared_data.put_values(
        session, actor=principal.actor, area=area, item=item, rows=rows, source=source
    )
    return {"item": data_item_id, **counts}
