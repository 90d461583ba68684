"""Spreadsheets of an area's progress: template, import (preview, then confirm), exports.

The uploaded workbook waits in the database between the preview and the confirmation (any worker
or host may take the confirmation); the confirmation reads it again against the database as it is then, so nothing seen in an old
preview is written blindly.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.db import SessionDep
from app.i18n import N_, thai_today
from app.services import scope
from app.services import spreadsheets as sheets
from app.services.access import Principal
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.progress import progress_view
from app.services.spreadsheets import ImportPreview
from app.templating import render
from app.web.auth import CurrentPrincipal, ReadArea, ScopedEditArea
from app.web.deps import ScopedEditPlan
from app.web.forms import Form

router = APIRouter(prefix="/areas/{slug}/progress")
Page = Callable[..., Response]  # an import page: page(preview, digest=, problem=, status_code=)


def download(body: bytes | str, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)


def file_stem(slug: str, what: str) -> str:
    return f"phonlap-{slug}-{what}-{thai_today().isoformat()}"


@router.get("/template.xlsx", name="progress_template")
def template(area: ScopedEditArea, plan: ScopedEditPlan, session: SessionDep) -> Response:
    body = sheets.template_workbook(progress_view(session, area))
    return download(body, sheets.XLSX_TYPE, file_stem(area.slug, "template") + ".xlsx")


@router.get("/export.xlsx", name="progress_export")
def export_xlsx(area: ReadArea, session: SessionDep) -> Response:
    view = progress_view(session, area)
    body = sheets.export_workbook(view, sheets.checkin_rows(view))
    return download(body, sheets.XLSX_TYPE, file_stem(area.slug, "progress") + ".xlsx")


@router.get("/export/{table}.csv", name="progress_export_csv")
def export_csv(table: str, area: ReadArea, session: SessionDep) -> Response:
    if table not in sheets.CSV_TABLES:
        raise NotFound(table)
    body = sheets.export_csv(progress_view(session, area), table)
    return download(body, "text/csv; charset=utf-8", file_stem(area.slug, table) + ".csv")


def import_page(
    request: Request,
    template: str,
    ctx: dict[str, Any],
    preview: Any,
    *,
    digest: str = "",
    problem: Msg | None = None,
    status_code: int = 200,
) -> Response:
    """An import page (templates/_import.html): the upload form, or a preview of `preview`
    with its confirmation under `digest`."""
    ctx = {**ctx, "preview": preview, "digest": digest, "problem": problem}
    return render(request, template, ctx, status_code=status_code)


def _page(request: Request, area: Any) -> Page:
    return partial(import_page, request, "progress/import.html", {"area": area})


@router.get("/import", name="progress_import")
def import_form(request: Request, area: ScopedEditArea, plan: ScopedEditPlan) -> Response:
    return _page(request, area)(None)


def _editable(session: Session, principal: Principal, view: Any) -> set[int] | None:
    """The KPIs an agency-scoped editor may import values for (None: any, a full editor)."""
    if principal.edit_scope(view.area.id) is None:
        return None
    return scope.editable(session, principal, view.area.id, "kpi", view.kpis)


# ---- every workbook import: an upload checked into a preview, then confirmed -----------------
# (progress here; data values, units and the data catalogue in their own modules)

CHOOSE = N_("Choose the filled-in workbook (.xlsx) to upload.")
GONE = N_("That upload is no longer waiting: please upload the file again.")


def preview_upload(
    session: SessionDep,
    area_id: int,
    form: Any,
    preview_of: Callable[[bytes, str], Any],
    page: Page,
) -> Response:
    """Check the uploaded workbook into a preview; a good one with changes waits in the
    database under its digest for the confirmation."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return page(None, problem=Msg(CHOOSE), status_code=422)
    data = upload.file.read(sheets.MAX_BYTES + 1)
    preview = preview_of(data, upload.filename)
    held = preview.ok and preview.change_count
    digest = sheets.hold_import(session, area_id=area_id, data=data) if held else ""
    return page(preview, digest=digest, status_code=200 if preview.ok else 422)


def apply_upload(
    session: SessionDep,
    area_id: int,
    digest: str,
    form: Any,
    apply: Callable[[bytes, str], Any],
    page: Page,
    done: Callable[[Any], str],
) -> Response:
    """Write the waiting workbook, checked again against the database as it is now; then go
    to `done(preview)`. Refused, it keeps waiting; a value changed meanwhile is a 409."""
    filename = str(form.get("filename", ""))[:255] or "upload.xlsx"
    data = sheets.take_held(session, area_id, digest)
    if data is None:
        return page(None, problem=Msg(GONE), status_code=422)
    try:
        preview = apply(data, filename)
    except (Conflict, ValidationFailed) as exc:  # a value changed while it was being written
        session.rollback()
        message = exc.message if isinstance(exc, Conflict) else next(iter(exc.errors.values()))
        return page(ImportPreview(filename, problems=[message]), status_code=409)
    if not preview.applied:
        session.rollback()  # it keeps waiting
        return page(preview, status_code=422)
    return Response(status_code=303, headers={"Location": done(preview)})


@router.post("/import", name="progress_import_preview")
def import_preview(
    request: Request,
    area: ScopedEditArea,
    plan: ScopedEditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    def preview_of(data: bytes, name: str) -> ImportPreview:
        view = progress_view(session, area)
        return sheets.preview_import(view, data, name, _editable(session, principal, view))

    return preview_upload(session, area.id, form, preview_of, _page(request, area))


@router.post("/import/{digest}", name="progress_import_apply")
def import_apply(
    request: Request,
    digest: str,
    area: ScopedEditArea,
    plan: ScopedEditPlan,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    def apply(data: bytes, filename: str) -> ImportPreview:
        view = progress_view(session, area)
        editable = _editable(session, principal, view)
        return sheets.apply_import(
            session,
            actor=principal.actor,
            view=view,
            data=data,
            filename=filename,
            editable=editable,
        )

    url = request.url_for("progress", slug=area.slug).path
    return apply_upload(
        session,
        area.id,
        digest,
        form,
        apply,
        _page(request, area),
        lambda preview: f"{url}?imported={preview.change_count}",
    )
