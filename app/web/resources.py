"""The area's resources in four dimensions and its data catalogue.

Both pages list for everyone who reads the area; those who may reflect (editors, facilitators,
admins) get an add form, and edit or delete each entry in place (htmx) or on its own page
(without JavaScript: plain POST forms that redirect). A form sent back with a problem comes
with 422, the message beside the field and what was typed kept.
"""

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import SessionDep
from app.i18n import gettext, localized, thai_sort_key
from app.models import Area
from app.models.de import DataAccess, DataFrequency
from app.models.enums import PeriodType
from app.models.workshops import ResourceDimension
from app.services import breakdowns, catalogue_import, resources, shared_data
from app.services import spreadsheets as sheets
from app.services.access import Permission, Principal
from app.services.catalogue_import import CatalogueImport
from app.services.errors import Conflict, Msg, ValidationFailed
from app.templating import is_htmx, render
from app.web.auth import CurrentPrincipal, ReadArea, ReflectArea
from app.web.forms import Form, field_int, field_text, see_other
from app.web.spreadsheets import (
    Page,
    apply_upload,
    download,
    file_stem,
    import_page,
    preview_upload,
)

router = APIRouter(prefix="/areas/{slug}")

RESOURCE_FIELDS = ("dimension", "name", "description", "owner_agency_id")
NEW_ITEM = {
    "frequency": DataFrequency.yearly.value,
    "access": DataAccess.on_request.value,
    "period_type": PeriodType.fiscal_year.value,
    "due_days": resources.DUE_DAYS,
}
DATA_ITEM_FIELDS = (
    "name",
    "description",
    "custodian_agency_id",
    "source_system",
    "frequency",
    "access",
    "measure",
    "period_type",
    "reported_by",
    "due_days",
)


def _fragment_headers(target: str) -> dict[str, str]:
    return {"HX-Retarget": target, "HX-Reswap": "outerHTML"}


# ---- resources ------------------------------------------------------------------------------


def _resource_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: field_text(form, name, 5000) for name in RESOURCE_FIELDS}
    values["action_ids"] = form.getlist("action_ids")
    return values


def _inventory(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    fragment: bool = False,
    **extra: Any,
) -> Response:
    ctx = {
        "area": area,
        "inv": resources.inventory(session, area),
        "can_reflect": principal.can(Permission.reflect, area.id),
        "values": {},
        "errors": {},
        **extra,
    }
    if fragment:
        headers = _fragment_headers("#inventory")
        return render(request, "resources/_inventory.html", ctx, headers=headers)
    template = "resources/_inventory.html" if is_htmx(request) else "resources/page.html"
    return render(request, template, ctx, status_code=status_code)


@router.get("/resources", name="resources")
def resource_list(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """`?dimension=data` opens the add form with that dimension chosen."""
    dimension = request.query_params.get("dimension", "")
    if dimension in {d.value for d in ResourceDimension}:
        return _inventory(request, session, area, principal, values={"dimension": dimension})
    return _inventory(request, session, area, principal)


@router.post("/resources", name="resource_create")
def resource_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _resource_values(form)
    try:
        row = resources.create_resource(
            session, actor=principal.actor, area=area, resource_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        return _inventory(
            request, session, area, principal, status_code=422, values=values, errors=exc.errors
        )
    return see_other(request, "resources", f"resource-{row.id}", slug=area.slug)


def _resource_form(
    request: Request,
    session: Session,
    area: Area,
    resource_id: int,
    values: dict[str, Any],
    *,
    errors: dict[str, Msg] | None = None,
    conflict: Msg | None = None,
    status_code: int = 200,
) -> Response:
    """The edit form: in place of the entry (htmx) or on a page of its own."""
    inv = resources.inventory(session, area)
    ctx = {
        "area": area,
        "inv": inv,
        "resource": resources.get_resource(session, area, resource_id),
        "values": values,
        "errors": errors or {},
        "conflict": conflict,
        "in_place": is_htmx(request),
    }
    template = "resources/_form.html" if is_htmx(request) else "resources/edit.html"
    return render(request, template, ctx, status_code=status_code)


@router.get("/resources/{resource_id:id}/edit", name="resource_edit")
def resource_edit(
    request: Request, resource_id: int, area: ReflectArea, session: SessionDep
) -> Response:
    row = resources.get_resource(session, area, resource_id)
    values = resources.resource_values(session, row)
    return _resource_form(request, session, area, resource_id, values)


@router.post("/resources/{resource_id:id}", name="resource_update")
def resource_update(
    request: Request,
    resource_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    resources.get_resource(session, area, resource_id)
    values = _resource_values(form)
    try:
        resources.update_resource(
            session,
            actor=principal.actor,
            area=area,
            resource_id=resource_id,
            resource_in=values,
            expected_version=field_int(form, "version"),
        )
    except ValidationFailed as exc:
        session.rollback()
        return _resource_form(
            request, session, area, resource_id, values, errors=exc.errors, status_code=422
        )
    except Conflict as exc:
        session.rollback()
        return _resource_form(
            request, session, area, resource_id, values, conflict=exc.message, status_code=409
        )
    if is_htmx(request):
        return _inventory(request, session, area, principal, fragment=True, focus=resource_id)
    return see_other(request, "resources", f"resource-{resource_id}", slug=area.slug)


@router.get("/resources/{resource_id:id}/delete", name="resource_confirm_delete")
def resource_confirm_delete(
    request: Request, resource_id: int, area: ReflectArea, session: SessionDep
) -> Response:
    inv = resources.inventory(session, area)
    entry = inv.entry(resources.get_resource(session, area, resource_id).id)
    ctx = {"area": area, "entry": entry, "in_place": is_htmx(request)}
    template = "resources/_confirm.html" if is_htmx(request) else "resources/confirm.html"
    return render(request, template, ctx)


@router.post("/resources/{resource_id:id}/delete", name="resource_delete")
def resource_delete(
    request: Request,
    resource_id: int,
    area: ReflectArea,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    resources.delete_resource(session, actor=principal.actor, area=area, resource_id=resource_id)
    if is_htmx(request):
        return _inventory(request, session, area, principal, fragment=True)
    return see_other(request, "resources", slug=area.slug)


# ---- the data catalogue ---------------------------------------------------------------------


def _item_values(form: FormData) -> dict[str, Any]:
    """What was sent; a frequency or access left out takes its default."""
    values: dict[str, Any] = {name: field_text(form, name, 5000) for name in DATA_ITEM_FIELDS}
    values = {k: v for k, v in values.items() if v or k not in NEW_ITEM}
    values["category_set_ids"] = form.getlist("category_set_ids")
    return values


def _catalogue(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    fragment: bool = False,
    **extra: Any,
) -> Response:
    ctx = {
        "area": area,
        "cat": resources.catalogue(session, area),
        "can_reflect": principal.can(Permission.reflect, area.id),
        "values": NEW_ITEM,
        "errors": {},
        "bd": {},
        **extra,
    }
    if fragment:
        headers = _fragment_headers("#catalogue")
        return render(request, "resources/_catalogue.html", ctx, headers=headers)
    if is_htmx(request):
        return render(request, "resources/_catalogue.html", ctx, status_code=status_code)
    ctx.update(_completeness(session, area))
    return render(request, "resources/data.html", ctx, status_code=status_code)


def _completeness(session: Session, area: Area) -> dict[str, Any]:
    """Who owes which data: the view and its agencies in Thai order (no custodian last)."""
    view = shared_data.completeness(session, area)
    ids = {agency_id for agency_id, _period in view.by_agency}
    named = [(a, localized(view.agencies[a])) for a in ids if a in view.agencies]
    named.sort(key=lambda pair: thai_sort_key(pair[1]))
    if None in ids:
        named.append((None, gettext("No custodian agency named")))
    return {"completeness": view, "completeness_agencies": named}


@router.get("/data", name="data_catalogue")
def data_catalogue(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _catalogue(request, session, area, principal)


@router.get("/data.xlsx", name="data_catalogue_xlsx")
def data_catalogue_xlsx(area: ReadArea, session: SessionDep) -> Response:
    body = resources.catalogue_workbook(resources.catalogue(session, area))
    return download(body, sheets.XLSX_TYPE, file_stem(area.slug, "data-catalogue") + ".xlsx")


@router.post("/data", name="data_item_create")
def data_item_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _item_values(form)
    try:
        row = resources.create_data_item(session, actor=principal.actor, area=area, item_in=values)
    except ValidationFailed as exc:
        session.rollback()
        kept = {**NEW_ITEM, **values}
        return _catalogue(
            request, session, area, principal, status_code=422, values=kept, errors=exc.errors
        )
    return see_other(request, "data_catalogue", f"data-item-{row.id}", slug=area.slug)


def _item_form(
    request: Request,
    session: Session,
    area: Area,
    item_id: int,
    values: dict[str, Any],
    *,
    errors: dict[str, Msg] | None = None,
    conflict: Msg | None = None,
    status_code: int = 200,
) -> Response:
    ctx = {
        "area": area,
        "cat": resources.catalogue(session, area),
        "item": resources.get_data_item(session, area, item_id),
        "values": values,
        "errors": errors or {},
        "conflict": conflict,
        "in_place": is_htmx(request),
    }
    template = "resources/_item_form.html" if is_htmx(request) else "resources/item_edit.html"
    return render(request, template, ctx, status_code=status_code)


@router.get("/data/{data_item_id:id}/edit", name="data_item_edit")
def data_item_edit(
    request: Request, data_item_id: int, area: ReflectArea, session: SessionDep
) -> Response:
    row = resources.get_data_item(session, area, data_item_id)
    return _item_form(request, session, area, row.id, resources.data_item_values(session, row))


@router.post("/data/{data_item_id:id}", name="data_item_update")
def data_item_update(
    request: Request,
    data_item_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    resources.get_data_item(session, area, data_item_id)
    values = _item_values(form)
    try:
        resources.update_data_item(
            session,
            actor=principal.actor,
            area=area,
            item_id=data_item_id,
            item_in=values,
            expected_version=field_int(form, "version"),
        )
    except ValidationFailed as exc:
        session.rollback()
        return _item_form(
            request, session, area, data_item_id, values, errors=exc.errors, status_code=422
        )
    except Conflict as exc:
        session.rollback()
        return _item_form(
            request, session, area, data_item_id, values, conflict=exc.message, status_code=409
        )
    if is_htmx(request):
        return _catalogue(request, session, area, principal, fragment=True, focus=data_item_id)
    return see_other(request, "data_catalogue", f"data-item-{data_item_id}", slug=area.slug)


def _item_confirm(
    request: Request, session: Session, area: Area, item_id: int, status_code: int = 200
) -> Response:
    cat = resources.catalogue(session, area)
    entry = cat.entry(resources.get_data_item(session, area, item_id).id)
    ctx = {"area": area, "entry": entry, "in_place": is_htmx(request)}
    template = "resources/_item_confirm.html" if is_htmx(request) else "resources/item_confirm.html"
    return render(request, template, ctx, status_code=status_code)


@router.get("/data/{data_item_id:id}/delete", name="data_item_confirm_delete")
def data_item_confirm_delete(
    request: Request, data_item_id: int, area: ReflectArea, session: SessionDep
) -> Response:
    return _item_confirm(request, session, area, data_item_id)


@router.post("/data/{data_item_id:id}/delete", name="data_item_delete")
def data_item_delete(
    request: Request,
    data_item_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Deletes at once what no KPI cites; a cited item only from its confirmation, which
    names the KPIs (a request without `confirm` gets the confirmation, 409)."""
    try:
        resources.delete_data_item(
            session,
            actor=principal.actor,
            area=area,
            item_id=data_item_id,
            force=field_text(form, "confirm", 10) == "1",
        )
    except Conflict:
        session.rollback()
        return _item_confirm(request, session, area, data_item_id, status_code=409)
    if is_htmx(request):
        return _catalogue(request, session, area, principal, fragment=True)
    return see_other(request, "data_catalogue", slug=area.slug)


# ---- breakdowns (category sets) -------------------------------------------------------------

SET_FIELDS = ("code", "name_th", "name_en")


def _bd_values(form: FormData) -> dict[str, Any]:
    return {name: field_text(form, name, 400) for name in SET_FIELDS if name in form}


def _breakdown_write(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    key: str,
    values: dict[str, Any],
    write: Any,
) -> Response:
    """Run one breakdown write; a problem sends the data page back (422) with the message
    beside the form `key`, a success goes to the breakdown."""
    try:
        anchor = write()
    except ValidationFailed as exc:
        session.rollback()
        bd = {"key": key, "values": values, "errors": exc.errors}
        return _catalogue(request, session, area, principal, status_code=422, bd=bd)
    return see_other(request, "data_catalogue", anchor, slug=area.slug)


@router.post("/data/breakdowns", name="category_set_create")
def category_set_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _bd_values(form)

    def write() -> str:
        row = breakdowns.create_set(session, actor=principal.actor, area=area, set_in=values)
        return f"category-set-{row.id}"

    return _breakdown_write(request, session, area, principal, "set-new", values, write)


@router.post("/data/breakdowns/{set_id:id}", name="category_set_update")
def category_set_update(
    request: Request,
    set_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _bd_values(form)

    def write() -> str:
        breakdowns.rename_set(
            session, actor=principal.actor, area=area, set_id=set_id, names_in=values
        )
        return f"category-set-{set_id}"

    return _breakdown_write(request, session, area, principal, f"set-{set_id}", values, write)


@router.post("/data/breakdowns/{set_id:id}/delete", name="category_set_delete")
def category_set_delete(
    request: Request,
    set_id: int,
    area: ReflectArea,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    def write() -> str:
        breakdowns.delete_set(session, actor=principal.actor, area=area, set_id=set_id)
        return "breakdowns"

    return _breakdown_write(request, session, area, principal, f"set-{set_id}", {}, write)


@router.post("/data/breakdowns/{set_id:id}/options", name="category_option_create")
def category_option_create(
    request: Request,
    set_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _bd_values(form)

    def write() -> str:
        breakdowns.add_option(
            session, actor=principal.actor, area=area, set_id=set_id, option_in=values
        )
        return f"category-set-{set_id}"

    key = f"option-new-{set_id}"
    return _breakdown_write(request, session, area, principal, key, values, write)


@router.post("/data/breakdowns/{set_id:id}/options/{option_id:id}", name="category_option_update")
def category_option_update(
    request: Request,
    set_id: int,
    option_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _bd_values(form)

    def write() -> str:
        breakdowns.rename_option(
            session,
            actor=principal.actor,
            area=area,
            set_id=set_id,
            option_id=option_id,
            names_in=values,
        )
        return f"category-option-{option_id}"

    key = f"option-{option_id}"
    return _breakdown_write(request, session, area, principal, key, values, write)


@router.post(
    "/data/breakdowns/{set_id:id}/options/{option_id:id}/delete", name="category_option_delete"
)
def category_option_delete(
    request: Request,
    set_id: int,
    option_id: int,
    area: ReflectArea,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    def write() -> str:
        breakdowns.remove_option(
            session, actor=principal.actor, area=area, set_id=set_id, option_id=option_id
        )
        return f"category-set-{set_id}"

    key = f"option-{option_id}"
    return _breakdown_write(request, session, area, principal, key, {}, write)


# ---- the catalogue in bulk ------------------------------------------------------------------


def _import_page(request: Request, area: Area) -> Page:
    return partial(
        import_page,
        request,
        "resources/import.html",
        {"area": area, "titles": catalogue_import.TITLES},
    )


@router.get("/data/import", name="data_catalogue_import")
def data_import_form(request: Request, area: ReflectArea) -> Response:
    return _import_page(request, area)(None)


@router.post("/data/import", name="data_catalogue_import_preview")
def data_import_preview(
    request: Request, area: ReflectArea, session: SessionDep, form: Form
) -> Response:
    def preview_of(data: bytes, name: str) -> CatalogueImport:
        return catalogue_import.preview_catalogue(session, area, data, name)

    return preview_upload(session, area.id, form, preview_of, _import_page(request, area))


@router.post("/data/import/{digest}", name="data_catalogue_import_apply")
def data_import_apply(
    request: Request,
    digest: str,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    def apply(data: bytes, filename: str) -> CatalogueImport:
        return catalogue_import.apply_catalogue(
            session, actor=principal.actor, area=area, data=data, filename=filename
        )

    url = request.url_for("data_catalogue", slug=area.slug).path
    page = _import_page(request, area)
    return apply_upload(
        session, area.id, digest, form, apply, page, lambda p: f"{url}?imported={p.change_count}"
    )
