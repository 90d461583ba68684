"""The area's reporting units as a registry: the tree of units with their codes and kinds, a
form to add one, each unit's edit and delete pages, the import of a workbook of units (a preview,
then all or nothing) and the export.

Everyone who reads the area sees the registry; editors change it. Plain forms that redirect; a
form sent back with a problem comes with 422, the message beside the field and what was typed
kept.
"""

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import SessionDep
from app.models import Area
from app.services import spreadsheets as sheets
from app.services import units
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, ValidationFailed
from app.templating import render
from app.web.auth import CurrentPrincipal, EditArea, ReadArea
from app.web.forms import Form, field_text, see_other
from app.web.spreadsheets import (
    Page,
    apply_upload,
    download,
    file_stem,
    import_page,
    preview_upload,
)

router = APIRouter(prefix="/areas/{slug}/units")

UNIT_FIELDS = ("kind", "name", "code", "parent_id")


def _unit_values(form: FormData) -> dict[str, Any]:
    return {name: field_text(form, name, 400) for name in UNIT_FIELDS}


def _page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    ctx = {
        "area": area,
        "reg": units.registry(session, area),
        "can_edit": principal.can(Permission.edit, area.id),
        "values": {"kind": "school"},
        "errors": {},
        **extra,
    }
    return render(request, "units/page.html", ctx, status_code=status_code)


@router.get("", name="org_units")
def unit_list(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _page(request, session, area, principal)


@router.get(".xlsx", name="org_units_xlsx")
def unit_xlsx(area: ReadArea, session: SessionDep) -> Response:
    body = units.units_workbook(units.registry(session, area))
    return download(body, sheets.XLSX_TYPE, file_stem(area.slug, "units") + ".xlsx")


@router.post("", name="org_unit_add")
def unit_add(
    request: Request, area: EditArea, session: SessionDep, form: Form, principal: CurrentPrincipal
) -> Response:
    values = _unit_values(form)
    try:
        row = units.create_unit(session, actor=principal.actor, area=area, unit_in=values)
    except ValidationFailed as exc:
        session.rollback()
        return _page(
            request, session, area, principal, status_code=422, values=values, errors=exc.errors
        )
    return see_other(request, "org_units", f"org-unit-{row.id}", slug=area.slug)


def _edit_page(
    request: Request,
    session: Session,
    area: Area,
    unit_id: int,
    values: dict[str, Any],
    *,
    errors: dict[str, Msg] | None = None,
    status_code: int = 200,
) -> Response:
    unit = units.get_unit(session, area, unit_id)
    ctx = {
        "area": area,
        "reg": units.registry(session, area),
        "unit": unit,
        "values": values,
        "errors": errors or {},
    }
    return render(request, "units/edit.html", ctx, status_code=status_code)


@router.get("/{unit_id:id}/edit", name="org_unit_edit")
def unit_edit(request: Request, unit_id: int, area: EditArea, session: SessionDep) -> Response:
    unit = units.get_unit(session, area, unit_id)
    values = {name: getattr(unit, name) for name in UNIT_FIELDS}
    return _edit_page(request, session, area, unit_id, values)


@router.post("/{unit_id:id}", name="org_unit_update")
def unit_update(
    request: Request,
    unit_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    units.get_unit(session, area, unit_id)
    values = _unit_values(form)
    try:
        units.update_unit(
            session, actor=principal.actor, area=area, unit_id=unit_id, unit_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        return _edit_page(
            request, session, area, unit_id, values, errors=exc.errors, status_code=422
        )
    return see_other(request, "org_units", f"org-unit-{unit_id}", slug=area.slug)


def _confirm(
    request: Request, session: Session, area: Area, unit_id: int, status_code: int = 200
) -> Response:
    reg = units.registry(session, area)
    node = reg.node(units.get_unit(session, area, unit_id).id)
    ctx = {"area": area, "node": node, "values_count": units.values_behind(session, unit_id)}
    return render(request, "units/confirm.html", ctx, status_code=status_code)


@router.get("/{unit_id:id}/delete", name="org_unit_confirm_delete")
def unit_confirm_delete(
    request: Request, unit_id: int, area: EditArea, session: SessionDep
) -> Response:
    return _confirm(request, session, area, unit_id)


@router.post("/{unit_id:id}/delete", name="org_unit_delete")
def unit_delete(
    request: Request,
    unit_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Deletes at once a unit without values; one with values only from its confirmation,
    which counts them (a request without `confirm` gets the confirmation, 409)."""
    try:
        units.delete_unit(
            session,
            actor=principal.actor,
            area=area,
            unit_id=unit_id,
            force=field_text(form, "confirm", 10) == "1",
        )
    except Conflict:
        session.rollback()
        return _confirm(request, session, area, unit_id, status_code=409)
    return see_other(request, "org_units", slug=area.slug)


# ---- import ---------------------------------------------------------------------------------


def _import_page(request: Request, area: Area) -> Page:
    return partial(
        import_page, request, "units/import.html", {"area": area, "titles": units.FIELD_TITLES}
    )


@router.get("/import", name="org_units_import")
def import_form(request: Request, area: EditArea) -> Response:
    return _import_page(request, area)(None)


@router.post("/import", name="org_units_import_preview")
def import_preview(request: Request, area: EditArea, session: SessionDep, form: Form) -> Response:
    def preview_of(data: bytes, name: str) -> Any:
        return units.preview_units(session, area, data, name)

    return preview_upload(session, area.id, form, preview_of, _import_page(request, area))


@router.post("/import/{digest}", name="org_units_import_apply")
def import_apply(
    request: Request,
    digest: str,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    def apply(data: bytes, filename: str) -> Any:
        return units.apply_units(
            session, actor=principal.actor, area=area, data=data, filename=filename
        )

    url = request.url_for("org_units", slug=area.slug).path
    page = _import_page(request, area)
    return apply_upload(
        session, area.id, digest, form, apply, page, lambda p: f"{url}?imported={p.change_count}"
    )
