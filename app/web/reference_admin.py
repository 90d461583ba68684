"""Reference data for administrators: areas, agencies, the DOE framework, strategy themes.

Plain forms like the people pages: post, then show the page again (422 with the messages
beside the fields and the input kept; 409 with the list of what depends on the row)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import SessionDep
from app.labels import label
from app.models import Area
from app.schemas import AREA_STATUSES, PROGRAMMES
from app.services import public as portal
from app.services import reference_admin as ref
from app.services.errors import Conflict, Msg, ValidationFailed
from app.templating import env, render
from app.web.admin import Admin
from app.web.forms import Form, field_int, field_text, see_other

router = APIRouter(prefix="/admin")

AREA_FIELDS = ("slug", "iso_code", "name_th", "name_en", "cohort", "programme", "pilot_schools")
STATUS_FIELDS = ("status", "changed_on", "instrument")


def options_for(vocabulary: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """Choices for a select: the given values of a vocabulary, in the reader's language."""
    return [(value, label(vocabulary, value)) for value in values]


env.globals.update(options_for=options_for, entity_of=lambda t: ref.TABLE_ENTITY.get(t, t))


def _values(form: FormData, names: tuple[str, ...], limit: int = 400) -> dict[str, str]:
    return {name: field_text(form, name, limit) for name in names}


def _problem(exc: Conflict) -> dict[str, Any]:
    """What a refused change shows: the message, and the dependants when it is `InUse`."""
    return {"problem": exc.message, "in_use": getattr(exc, "dependants", [])}


# ---- areas ------------------------------------------------------------------------------------


def _areas_page(
    request: Request, session: SessionDep, *, status_code: int = 200, **extra: Any
) -> Response:
    areas = ref.list_areas(session)
    ctx = {
        "areas": areas,
        "history": ref.status_history(session, [a.id for a in areas]),
        "programmes": PROGRAMMES,
        "statuses": AREA_STATUSES,
        "values": {"programme": "innovation_area", "status": "designated"},
        "errors": {},
        "prefix": "new-area",
        **extra,
    }
    return render(request, "admin/areas.html", ctx, status_code=status_code)


@router.get("/areas", name="admin_areas")
def areas(request: Request, session: SessionDep, _admin: Admin) -> Response:
    return _areas_page(request, session)


@router.post("/areas", name="admin_area_create")
def area_create(request: Request, session: SessionDep, admin: Admin, form: Form) -> Response:
    values = _values(form, AREA_FIELDS + STATUS_FIELDS)
    try:
        area = ref.create_area(session, actor=admin.actor, area_in=values)
    except ValidationFailed as exc:
        return _areas_page(request, session, status_code=422, values=values, errors=exc.errors)
    return see_other(request, "admin_area", area_id=str(area.id))


def _area_page(
    request: Request, session: SessionDep, area: Area, *, status_code: int = 200, **extra: Any
) -> Response:
    values = {name: getattr(area, name) for name in AREA_FIELDS}
    ctx = {
        "area": area,
        "history": ref.status_history(session, [area.id])[area.id],
        "programmes": PROGRAMMES,
        "statuses": AREA_STATUSES,
        "values": values,
        "errors": {},
        "status_values": {},
        "status_errors": {},
        "portal_errors": {},
        "prefix": f"area-{area.id}",
        **extra,
    }
    return render(request, "admin/area.html", ctx, status_code=status_code)


@router.get("/areas/{area_id:id}", name="admin_area")
def area_detail(request: Request, area_id: int, session: SessionDep, _admin: Admin) -> Response:
    return _area_page(request, session, ref.get_area(session, area_id))


@router.post("/areas/{area_id:id}", name="admin_area_update")
def area_update(
    request: Request, area_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    area = ref.get_area(session, area_id)
    values = _values(form, AREA_FIELDS)
    try:
        ref.update_area(session, actor=admin.actor, area=area, area_in=values)
    except ValidationFailed as exc:
        session.rollback()
        return _area_page(request, session, area, status_code=422, values=values, errors=exc.errors)
    return _area_page(request, session, area, saved=Msg("Saved."))


@router.post("/areas/{area_id:id}/status", name="admin_area_status")
def area_status(
    request: Request, area_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    area = ref.get_area(session, area_id)
    values = _values(form, STATUS_FIELDS)
    try:
        ref.add_status_change(session, actor=admin.actor, area=area, status_in=values)
    except ValidationFailed as exc:
        return _area_page(
            request,
            session,
            area,
            status_code=422,
            status_values=values,
            status_errors=exc.errors,
        )
    return _area_page(request, session, area, saved=Msg("The status change was recorded."))


@router.post("/areas/{area_id:id}/public", name="admin_area_public")
def area_public(
    request: Request, area_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    """Open the area's public portal (`public=1`, with `confirm`) or close it (`public=0`)."""
    area = ref.get_area(session, area_id)
    # an unticked box sends nothing: leave it out rather than send "" (not a yes or no)
    values = {n: v for n in ("public", "confirm") if (v := field_text(form, n, 10))}
    try:
        portal.set_portal(session, actor=admin.actor, area=area, portal_in=values)
    except ValidationFailed as exc:
        return _area_page(request, session, area, status_code=422, portal_errors=exc.errors)
    saved = (
        Msg("The public portal is open.")
        if area.public_since
        else Msg("The public portal is closed.")
    )
    return _area_page(request, session, area, saved=saved)


# ---- agencies ---------------------------------------------------------------------------------

AGENCY_FIELDS = ("area_id", "code", "name_th", "name_en", "type_id", "position")


def _agency_ctx(session: SessionDep) -> dict[str, Any]:
    areas = ref.list_areas(session)
    return {
        "areas": {a.id: a for a in areas},
        "types": {t.id: t for t in ref.agency_types(session)},
    }


def _agencies_page(
    request: Request, session: SessionDep, *, status_code: int = 200, **extra: Any
) -> Response:
    ctx = {
        **_agency_ctx(session),
        "agencies": ref.list_agencies(session),
        "values": {},
        "errors": {},
        "prefix": "new-agency",
        **extra,
    }
    return render(request, "admin/agencies.html", ctx, status_code=status_code)


@router.get("/agencies", name="admin_agencies")
def agencies(request: Request, session: SessionDep, _admin: Admin) -> Response:
    return _agencies_page(request, session)


@router.post("/agencies", name="admin_agency_create")
def agency_create(request: Request, session: SessionDep, admin: Admin, form: Form) -> Response:
    values = _values(form, AGENCY_FIELDS)
    try:
        ref.create_agency(session, actor=admin.actor, agency_in=values)
    except ValidationFailed as exc:
        return _agencies_page(request, session, status_code=422, values=values, errors=exc.errors)
    return _agencies_page(request, session, saved=Msg("The agency was added."))


def _agency_page(
    request: Request, session: SessionDep, agency_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    agency = ref.get_agency(session, agency_id)
    ctx = {
        **_agency_ctx(session),
        "agency": agency,
        "values": {name: getattr(agency, name) for name in AGENCY_FIELDS},
        "errors": {},
        "prefix": f"agency-{agency.id}",
        **extra,
    }
    return render(request, "admin/agency.html", ctx, status_code=status_code)


@router.get("/agencies/{agency_id:id}", name="admin_agency")
def agency_detail(request: Request, agency_id: int, session: SessionDep, _admin: Admin) -> Response:
    return _agency_page(request, session, agency_id)


@router.post("/agencies/{agency_id:id}", name="admin_agency_update")
def agency_update(
    request: Request, agency_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    agency = ref.get_agency(session, agency_id)
    values = _values(form, AGENCY_FIELDS)
    try:
        ref.update_agency(
            session,
            actor=admin.actor,
            agency=agency,
            agency_in=values,
            version=field_int(form, "version") or 0,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _agency_page(
            request, session, agency_id, status_code=422, values=values, errors=exc.errors
        )
    except Conflict as exc:
        session.rollback()
        return _agency_page(
            request, session, agency_id, status_code=409, values=values, **_problem(exc)
        )
    return _agency_page(request, session, agency_id, saved=Msg("Saved."))


@router.post("/agencies/{agency_id:id}/delete", name="admin_agency_delete")
def agency_delete(request: Request, agency_id: int, session: SessionDep, admin: Admin) -> Response:
    agency = ref.get_agency(session, agency_id)
    try:
        ref.delete_agency(session, actor=admin.actor, agency=agency)
    except Conflict as exc:
        return _agency_page(request, session, agency_id, status_code=409, **_problem(exc))
    return _agencies_page(request, session, saved=Msg("The agency was deleted."))


# ---- strategy themes --------------------------------------------------------------------------


def _themes_page(
    request: Request, session: SessionDep, *, status_code: int = 200, **extra: Any
) -> Response:
    ctx = {
        "themes": ref.list_themes(session),
        "values": {},
        "errors": {},
        "edit_id": None,
        "prefix": "new-theme",
        **extra,
    }
    return render(request, "admin/themes.html", ctx, status_code=status_code)


@router.get("/themes", name="admin_themes")
def themes(request: Request, session: SessionDep, _admin: Admin) -> Response:
    return _themes_page(request, session)


@router.post("/themes", name="admin_theme_create")
def theme_create(request: Request, session: SessionDep, admin: Admin, form: Form) -> Response:
    values = _values(form, ("code", "name_th", "name_en"))
    try:
        ref.create_theme(session, actor=admin.actor, theme_in=values)
    except ValidationFailed as exc:
        return _themes_page(request, session, status_code=422, values=values, errors=exc.errors)
    return _themes_page(request, session, saved=Msg("The theme was added."))


@router.post("/themes/{theme_id:id}", name="admin_theme_update")
def theme_update(
    request: Request, theme_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    theme = ref.get_theme(session, theme_id)
    values = _values(form, ("name_th", "name_en"))
    try:
        ref.rename_theme(session, actor=admin.actor, theme=theme, theme_in=values)
    except ValidationFailed as exc:
        return _themes_page(
            request,
            session,
            status_code=422,
            edit_id=theme.id,
            edit_values=values,
            edit_errors=exc.errors,
        )
    return _themes_page(request, session, saved=Msg("Saved."))


@router.post("/themes/{theme_id:id}/move", name="admin_theme_move")
def theme_move(
    request: Request, theme_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    theme = ref.get_theme(session, theme_id)
    step = -1 if form.get("direction") == "up" else 1
    ref.move_theme(session, actor=admin.actor, theme=theme, step=step)
    return _themes_page(request, session, saved=Msg("Saved."))


@router.post("/themes/{theme_id:id}/delete", name="admin_theme_delete")
def theme_delete(request: Request, theme_id: int, session: SessionDep, admin: Admin) -> Response:
    theme = ref.get_theme(session, theme_id)
    try:
        ref.delete_theme(session, actor=admin.actor, theme=theme)
    except Conflict as exc:
        return _themes_page(request, session, status_code=409, **_problem(exc))
    return _themes_page(request, session, saved=Msg("The theme was deleted."))


# ---- the DOE framework ------------------------------------------------------------------------


def _doe_page(
    request: Request,
    session: SessionDep,
    framework_id: int | None,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    frameworks = ref.list_frameworks(session)
    shown = next((f for f in frameworks if f.id == framework_id), None)
    if shown is None and framework_id is not None:
        shown = ref.get_framework(session, framework_id)  # 404
    if shown is None:
        shown = next((f for f in frameworks if f.is_current), frameworks[0] if frameworks else None)
    ctx = {
        "frameworks": frameworks,
        "view": ref.framework_view(session, shown) if shown else None,
        "values": {},
        "errors": {},
        "form_for": None,  # which add/edit form the values and errors belong to
        "prefix": "doe",
        **extra,
    }
    return render(request, "admin/doe.html", ctx, status_code=status_code)


def _doe_write(
    request: Request,
    session: Session,
    framework_id: int,
    write: Callable[[], Any],
    *,
    saved: Msg,
    form: tuple[str, dict[str, Any]] | None = None,
) -> Response:
    """Run a change of the DOE framework and show its version again: `saved` said when it went
    through; refused, the form (`form`: which one, with its input) open with the message beside
    the field (422), or what stands in the way (409)."""
    try:
        write()
    except ValidationFailed as exc:
        session.rollback()
        form_for, values = form or ("", {})
        return _doe_page(
            request,
            session,
            framework_id,
            status_code=422,
            values=values,
            errors=exc.errors,
            form_for=form_for,
        )
    except Conflict as exc:
        session.rollback()
        return _doe_page(request, session, framework_id, status_code=409, **_problem(exc))
    return _doe_page(request, session, framework_id, saved=saved)


@router.get("/doe", name="admin_doe")
def doe(request: Request, session: SessionDep, _admin: Admin) -> Response:
    return _doe_page(request, session, None)


@router.get("/doe/{framework_id:id}", name="admin_doe_version")
def doe_version(
    request: Request, framework_id: int, session: SessionDep, _admin: Admin
) -> Response:
    return _doe_page(request, session, framework_id)


@router.post("/doe/{framework_id:id}/copy", name="admin_doe_copy")
def doe_copy(request: Request, framework_id: int, session: SessionDep, admin: Admin) -> Response:
    framework = ref.get_framework(session, framework_id)
    copy = ref.new_version(session, actor=admin.actor, framework=framework)
    return see_other(request, "admin_doe_version", framework_id=str(copy.id))


@router.post("/doe/{framework_id:id}/current", name="admin_doe_current")
def doe_current(request: Request, framework_id: int, session: SessionDep, admin: Admin) -> Response:
    framework = ref.get_framework(session, framework_id)
    return _doe_write(
        request,
        session,
        framework_id,
        lambda: ref.make_current(session, actor=admin.actor, framework=framework),
        saved=Msg("This version is now current."),
    )


@router.post("/doe/{framework_id:id}/aspects", name="admin_doe_aspect_create")
def doe_aspect_create(
    request: Request, framework_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    framework = ref.get_framework(session, framework_id)
    values = _values(form, ("code", "name_th", "name_en"))
    return _doe_write(
        request,
        session,
        framework_id,
        lambda: ref.add_aspect(session, actor=admin.actor, framework=framework, aspect_in=values),
        saved=Msg("The aspect was added."),
        form=("aspect", values),
    )


@router.post("/doe/aspects/{aspect_id:id}/items", name="admin_doe_item_create")
def doe_item_create(
    request: Request, aspect_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    aspect = ref.get_aspect(session, aspect_id)
    values = _values(form, ("code", "name_th", "name_en"))
    return _doe_write(
        request,
        session,
        aspect.framework_id,
        lambda: ref.add_item(session, actor=admin.actor, aspect=aspect, item_in=values),
        saved=Msg("The item was added."),
        form=(f"aspect-{aspect.id}", values),
    )


@router.post("/doe/items/{item_id:id}", name="admin_doe_item_update")
def doe_item_update(
    request: Request, item_id: int, session: SessionDep, admin: Admin, form: Form
) -> Response:
    item = ref.get_item(session, item_id)
    framework_id = ref.get_aspect(session, item.aspect_id).framework_id
    values = _values(form, ("code", "name_th", "name_en"))
    return _doe_write(
        request,
        session,
        framework_id,
        lambda: ref.update_item(session, actor=admin.actor, item=item, item_in=values),
        saved=Msg("Saved."),
        form=(f"item-{item.id}", values),
    )


@router.post("/doe/items/{item_id:id}/delete", name="admin_doe_item_delete")
def doe_item_delete(request: Request, item_id: int, session: SessionDep, admin: Admin) -> Response:
    item = ref.get_item(session, item_id)
    framework_id = ref.get_aspect(session, item.aspect_id).framework_id
    return _doe_write(
        request,
        session,
        framework_id,
        lambda: ref.delete_item(session, actor=admin.actor, item=item),
        saved=Msg("The item was deleted."),
    )


@router.post("/doe/items/{item_id:id}/confirm", name="admin_doe_item_confirm")
def doe_item_confirm(request: Request, item_id: int, session: SessionDep, admin: Admin) -> Response:
    item = ref.get_item(session, item_id)
    framework_id = ref.get_aspect(session, item.aspect_id).framework_id
    ref.confirm_item(session, actor=admin.actor, item=item)
    return _doe_page(
        request, session, framework_id, saved=Msg("Confirmed against the official text.")
    )
