"""The common-indicator library, one indicator compared across areas, and the KPIs mapped to
nothing. Everyone signed in reads them (for the areas they may read); administrators and
reviewers keep the library with plain forms: post, then see the page again (303), or the form
again with its messages and the input kept (422)."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.db import SessionDep, release
from app.i18n import N_, thai_today
from app.models import KPI, Area, CommonIndicator
from app.services import indicators
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, ValidationFailed
from app.services.reference import areas_by_ids, group_areas
from app.templating import render
from app.web.auth import SignedIn, require
from app.web.forms import Form, field_int, field_text

router = APIRouter(prefix="/indicators")
LibraryEditor = Annotated[Principal, Depends(require(indicators.LIBRARY_PERMISSION))]

FIELDS = {  # form field -> the most it takes (the schema then says what is too long)
    "code": 60,
    "name_th": 400,
    "name_en": 400,
    "definition": 5000,
    "unit": 100,
    "kind": 40,
    "direction": 20,
    "period_type": 40,
    "data_source": 3000,
    "needs_count": 10,
    "theme_id": 20,
    "aspect_id": 20,
}
DONE = {
    "created": N_("The indicator was added to the library."),
    "updated": N_("The indicator was saved."),
    "retired": N_(
        "The indicator was retired: the KPIs that measure it keep it; no new KPI can pick it."
    ),
    "reactivated": N_("The indicator is active again: KPIs can pick it."),
}


def readable_areas(session: Session, principal: Principal) -> list[Area]:
    """The areas this person may read, in Thai dictionary order (every area: None)."""
    ids = principal.area_ids(Permission.read)
    return group_areas(session, None) if ids is None else areas_by_ids(session, ids)


def load_indicator(indicator_code: str, session: SessionDep, _who: SignedIn) -> CommonIndicator:
    indicator = indicators.get_indicator(session, indicator_code)
    release(session)
    return indicator


ShownIndicator = Annotated[CommonIndicator, Depends(load_indicator)]


def _values(form: Any) -> dict[str, str]:
    return {name: field_text(form, name, limit) for name, limit in FIELDS.items()}


# ---- the library ----------------------------------------------------------------------------


def _library_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    status_code: int = 200,
    editing: CommonIndicator | None = None,
    **extra: Any,
) -> Response:
    ids = principal.area_ids(Permission.read)
    done = request.query_params.get("done")
    ctx = {
        "rows": indicators.library(session, ids),
        "vocab": indicators.vocabulary(session),
        "can_edit": indicators.can_edit_library(principal),
        "editing": editing,
        "edit_values": indicators.current_values(editing) if editing else {},
        "edit_errors": {},
        "values": {"direction": "higher"},
        "errors": {},
        "done": Msg(DONE[done]) if done in DONE else None,
        "done_code": request.query_params.get("code"),
        "conflict": None,
        **extra,
    }
    return render(request, "indicators/library.html", ctx, status_code=status_code)


def _back(request: Request, done: str, indicator: CommonIndicator) -> Response:
    query = urlencode({"done": done, "code": indicator.code})
    url = request.url_for("indicators").path + f"?{query}#indicator-{indicator.code}"
    return RedirectResponse(url, status_code=303)


@router.get("", name="indicators")
def library_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    code = request.query_params.get("edit")
    editing = None
    if code and indicators.can_edit_library(principal):
        editing = indicators.get_indicator(session, code)
    return _library_page(request, session, principal, editing=editing)


@router.post("", name="indicator_create")
def indicator_create(
    request: Request, session: SessionDep, editor: LibraryEditor, form: Form
) -> Response:
    values = _values(form)
    try:
        row = indicators.create_indicator(session, actor=editor.actor, indicator_in=values)
    except ValidationFailed as exc:
        session.rollback()
        return _library_page(
            request, session, editor, status_code=422, values=values, errors=exc.errors
        )
    return _back(request, "created", row)


@router.post("/{indicator_code}", name="indicator_update")
def indicator_update(
    request: Request,
    session: SessionDep,
    editor: LibraryEditor,
    indicator: ShownIndicator,
    form: Form,
) -> Response:
    values = _values(form)
    try:
        indicators.update_indicator(
            session,
            actor=editor.actor,
            indicator=indicator,
            indicator_in=values,
            expected_version=field_int(form, "version"),
        )
    except ValidationFailed as exc:
        session.rollback()
        return _library_page(
            request,
            session,
            editor,
            status_code=422,
            editing=indicator,
            edit_values=values,
            edit_errors=exc.errors,
        )
    except Conflict as exc:
        session.rollback()
        fresh = indicators.get_indicator(session, indicator.code)
        return _library_page(
            request,
            session,
            editor,
            status_code=409,
            editing=fresh,
            edit_values=values,
            conflict=_differences(exc, values),
        )
    return _back(request, "updated", indicator)


def _differences(exc: Conflict, values: dict[str, str]) -> dict[str, Any]:
    """What is saved now where it differs from what the person typed."""
    saved = exc.current or {}
    typed = {**values, "needs_count": values.get("needs_count") in ("on", "1", "true")}
    differ = {
        name: saved.get(name)
        for name in FIELDS
        if name != "code" and str(saved.get(name) or "") != str(typed.get(name) or "")
    }
    return {"message": exc.message, "saved": differ}


@router.post("/{indicator_code}/active", name="indicator_active")
def indicator_active(
    request: Request,
    session: SessionDep,
    editor: LibraryEditor,
    indicator: ShownIndicator,
    form: Form,
) -> Response:
    wanted = form.get("active")
    if wanted not in ("0", "1"):
        problem = Msg(N_("Choose whether to retire or reactivate the indicator."))
        return _library_page(request, session, editor, status_code=422, problem=problem)
    change = indicators.reactivate if wanted == "1" else indicators.retire
    try:
        change(
            session,
            actor=editor.actor,
            indicator=indicator,
            expected_version=field_int(form, "version"),
        )
    except Conflict as exc:
        session.rollback()
        return _library_page(request, session, editor, status_code=409, problem=exc.message)
    return _back(request, "reactivated" if wanted == "1" else "retired", indicator)


# ---- KPIs mapped to nothing (before /{indicator_code}: "unmapped" is a reserved code) -------


@router.get("/unmapped", name="indicators_unmapped")
def unmapped_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    areas = readable_areas(session, principal)
    pairs = indicators.unmapped_kpis(session, areas)
    groups: dict[int, tuple[Area, list[KPI]]] = {}
    for area, kpi in pairs:
        groups.setdefault(area.id, (area, []))[1].append(kpi)
    ctx = {
        "groups": list(groups.values()),
        "count": len(pairs),
        "candidates": _candidates(indicators.active_indicators(session)),
        "can_edit": {a.id for a in areas if principal.can(Permission.edit, a.id)},
    }
    return render(request, "indicators/unmapped.html", ctx)


def _candidates(active: list[CommonIndicator]) -> dict[tuple[str, str], list[CommonIndicator]]:
    """Indicators a KPI could map to, by (kind, period type): those are the ones it must match."""
    found: dict[tuple[str, str], list[CommonIndicator]] = {}
    for indicator in active:
        found.setdefault((indicator.kind, indicator.period_type), []).append(indicator)
    return found


# ---- one indicator across areas -------------------------------------------------------------


@router.get("/{indicator_code}", name="indicator")
def indicator_page(
    request: Request, session: SessionDep, principal: SignedIn, indicator: ShownIndicator
) -> Response:
    areas = readable_areas(session, principal)
    ctx = {
        "indicator": indicator,
        "comparison": indicators.comparison(session, indicator, areas, thai_today()),
        "vocab": indicators.vocabulary(session),
        "can_edit": indicators.can_edit_library(principal),
        "can_edit_areas": {a.id for a in areas if principal.can(Permission.edit, a.id)},
    }
    return render(request, "indicators/indicator.html", ctx)
