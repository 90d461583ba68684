"""A custodian agency's data values: "my data for this period" (a grid per data item, saved all
or nothing), the read view of an item's values, and the agency's workbook (template, import
with a preview, then an all-or-nothing confirm).

The entry form is sent back with 422 when any cell is wrong, every message beside its input and
everything typed kept; nothing of any item is stored then.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.i18n import N_
from app.models import Area, DataItem
from app.services import data_entry, resources, scope, shared_data
from app.services import spreadsheets as sheets
from app.services.access import Principal
from app.services.data_entry import EntryView
from app.services.errors import Conflict, Msg, ValidationFailed
from app.services.spreadsheets import ImportPreview
from app.templating import render
from app.web.auth import CurrentPrincipal, ReadArea, ScopedEditArea
from app.web.forms import Form, field_int, field_text
from app.web.spreadsheets import (
    Page,
    apply_upload,
    download,
    file_stem,
    import_page,
    preview_upload,
)

router = APIRouter(prefix="/areas/{slug}")
NO_PERIOD = N_("Choose one of the periods offered; nothing was saved.")


def _choice(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _entry_page(
    request: Request,
    area: Area,
    view: EntryView,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, Msg] | None = None,
    source: str = "",
    saved: int | None = None,
    problem: Msg | None = None,
    status_code: int = 200,
    principal: Principal | None = None,
    session: SessionDep | None = None,
) -> Response:
    names = scope.scope_names(session, principal, area.id) if principal and session else []
    ctx = {
        "area": area,
        "view": view,
        # an agency-scoped editor enters only its agencies' items; others' show read-only
        "read_only": principal is not None
        and not principal.may_change(area.id, [view.agency_id or None]),
        "scope_names": names,
        "typed": typed,
        "errors": errors or {},
        "source": source,
        "saved": saved,
        "problem": problem,
    }
    return render(request, "resources/data_entry.html", ctx, status_code=status_code)


@router.get("/data/entry", name="data_entry")
def data_entry_page(
    request: Request, area: ScopedEditArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """`?agency=<id>&period=<code>` choose the agency (0: items no agency keeps) and period.
    An agency-scoped editor starts at its own agency."""
    query = request.query_params
    agency = _choice(query.get("agency"))
    own = principal.edit_scope(area.id)
    if agency is None and own:
        agency = min(own)
    view = data_entry.entry_view(session, area, agency, query.get("period", "")[:20])
    if own and agency not in {value for value, _ in view.agencies}:  # not in the list: the first
        view = data_entry.entry_view(
            session, area, next((v for v, _ in view.agencies if v in own), None), view.period or ""
        )
    saved = _choice(query.get("saved"))
    return _entry_page(request, area, view, saved=saved, principal=principal, session=session)


@router.post("/data/entry", name="data_entry_save")
def data_entry_save(
    request: Request,
    area: ScopedEditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    view = data_entry.entry_view(
        session, area, field_int(form, "agency"), field_text(form, "period", 20)
    )
    principal.require_change(area.id, [view.agency_id or None])
    names = [name for grid in view.grids for row in grid.rows for name in row.names]
    typed = {name: field_text(form, name, 40) for name in names}
    source = field_text(form, "source", shared_data.SOURCE_MAX)
    if view.period is None or field_text(form, "period", 20) != view.period:
        problem = Msg(NO_PERIOD)
        return _entry_page(
            request,
            area,
            view,
            principal=principal,
            session=session,
            typed=typed,
            source=source,
            problem=problem,
            status_code=422,
        )
    rows_by_item: dict[int, Any] = {}
    fields: dict[str, str] = {}  # "item-<id>-row-<n>" -> the input it came from
    for grid in view.grids:
        rows, names = data_entry.grid_rows(grid, view.period, typed)
        if rows:
            rows_by_item[grid.item.id] = rows
            fields.update({f"item-{grid.item.id}-row-{n}": name for n, name in enumerate(names, 1)})
    scope.require_all(session, principal, area.id, "data_item", rows_by_item)
    try:
        counts = shared_data.put_many(
            session, actor=principal.actor, area=area, rows_by_item=rows_by_item, source=source
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        view = data_entry.entry_view(session, area, view.agency_id, view.period)
        if isinstance(exc, Conflict):
            return _entry_page(
                request, area, view, principal=principal, session=session, typed=typed, source=source, problem=exc.message,
                status_code=409,
            )  # fmt: skip
        errors = {fields.get(key, key): m for key, m in exc.errors.items()}
        return _entry_page(
            request,
            area,
            view,
            principal=principal,
            session=session,
            typed=typed,
            errors=errors,
            source=source,
            status_code=422,
        )
    changed = sum(c["added"] + c["changed"] + c["cleared"] for c in counts.values())
    url = request.url_for("data_entry", slug=area.slug).path
    query = f"?agency={view.agency_id}&period={view.period}&saved={changed}"
    return Response(status_code=303, headers={"Location": url + query})


@router.get("/data/{data_item_id:id}/values", name="data_values")
def data_values(
    request: Request, data_item_id: int, area: ReadArea, session: SessionDep
) -> Response:
    item = resources.get_data_item(session, area, data_item_id)
    view = data_entry.values_view(session, area, item)
    return render(request, "resources/data_values.html", {"area": area, "view": view})


# ---- the agency's workbook ------------------------------------------------------------------


@router.get("/data/entry.xlsx", name="data_entry_xlsx")
def data_entry_xlsx(request: Request, area: ScopedEditArea, session: SessionDep) -> Response:
    query = request.query_params
    view = data_entry.entry_view(
        session, area, _choice(query.get("agency")), query.get("period", "")[:20]
    )
    stem = file_stem(area.slug, f"data-{view.agency_id}-{view.period or ''}")
    return download(data_entry.workbook(view), sheets.XLSX_TYPE, stem + ".xlsx")


def _may_enter(principal: Principal, area: Area) -> Callable[[DataItem], bool] | None:
    """Which items an agency-scoped editor may enter by workbook (None: any, a full editor)."""
    if principal.edit_scope(area.id) is None:
        return None
    return lambda item: principal.may_change(area.id, [item.custodian_agency_id])


def _import_page(request: Request, area: Area) -> Page:
    query = request.query_params
    ctx = {
        "area": area,
        "agency": _choice(query.get("agency")),
        "period": query.get("period", "")[:20],
    }
    return partial(import_page, request, "resources/data_values_import.html", ctx)


@router.get("/data/entry/import", name="data_values_import")
def data_values_import(request: Request, area: ScopedEditArea) -> Response:
    return _import_page(request, area)(None)


@router.post("/data/entry/import", name="data_values_import_preview")
def data_values_import_preview(
    request: Request,
    area: ScopedEditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    def preview_of(data: bytes, name: str) -> ImportPreview:
        return data_entry.preview_import(session, area, data, name, _may_enter(principal, area))

    return preview_upload(session, area.id, form, preview_of, _import_page(request, area))


@router.post("/data/entry/import/{digest}", name="data_values_import_apply")
def data_values_import_apply(
    request: Request,
    digest: str,
    area: ScopedEditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    def apply(data: bytes, filename: str) -> ImportPreview:
        return data_entry.apply_import(
            session,
            actor=principal.actor,
            area=area,
            data=data,
            filename=filename,
            may_enter=_may_enter(principal, area),
        )

    url = request.url_for("data_entry", slug=area.slug).path
    query = request.query_params
    back = f"?agency={_choice(query.get('agency')) or ''}&period={query.get('period', '')[:20]}"
    page = _import_page(request, area)
    return apply_upload(
        session, area.id, digest, form, apply, page, lambda p: f"{url}{back}&saved={p.change_count}"
    )
