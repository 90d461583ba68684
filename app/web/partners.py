"""Outcome mapping: boundary partners, their progress markers and the markers' ratings per period
(`/areas/{slug}/partners`).

Everyone who reads the area sees the partners, their markers with the latest ratings and each
partner's ladder chart; those who may reflect (ReflectArea) keep them. Every write is a plain
POST form: without htmx it redirects (303) to the partner on the page, or shows the page again
with the message beside the field and the input kept (422). Forms inside a partner's section
carry htmx attributes and get that section back instead. A semester's ratings are entered on
their own page, all the partner's active markers at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app import charts
from app.db import SessionDep
from app.i18n import N_, gettext
from app.inputs import parse_id
from app.labels import label
from app.models import Area, BoundaryPartner
from app.periods import period_label
from app.services import partners
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, ValidationFailed
from app.services.partners import LEVELS, PartnersView, PartnerView
from app.templating import env, is_htmx, render
from app.web.auth import CurrentPrincipal, ReadArea, ReflectArea
from app.web.forms import Form, field_int, field_text

router = APIRouter(prefix="/areas/{slug}")

PARTNER_FIELDS = {"name": 400, "description": 5000, "outcome_challenge": 5000}
MARKER_FIELDS = {"level": 20, "text": 2500, "added_period": 30}
DONE = {
    "created": N_("The boundary partner was added."),
    "updated": N_("The boundary partner was saved."),
    "deleted": N_("The boundary partner was deleted, with its markers and their ratings."),
    "marker": N_("The progress marker was saved."),
    "rated": N_("The ratings were saved."),
    "unchanged": N_("Nothing changed: the ratings were as saved before."),
}
HOVER = N_("%(reached)s of %(active)s markers rated medium or high")


def ladder_chart(pv: PartnerView) -> dict[str, Any] | None:
    """The partner's ladder as a Plotly figure (None before its first rating)."""
    if not pv.steps:
        return None
    rows = [
        charts.LadderRow(
            label("marker_level", level.value),
            [s.rung(level.value).reached for s in pv.steps],
            [s.rung(level.value).active for s in pv.steps],
        )
        for level in LEVELS
    ]
    labels = [period_label(s.period) for s in pv.steps]
    return charts.ladder_figure(labels, rows, gettext(HOVER))


def period_choices(periods: list[str]) -> list[tuple[str, str]]:
    return [(code, period_label(code)) for code in periods]


env.globals.update(partner_ladder_chart=ladder_chart, partner_period_choices=period_choices)


def _values(form: FormData, fields: dict[str, int]) -> dict[str, str]:
    return {name: field_text(form, name, limit) for name, limit in fields.items()}


def _anchor(partner_id: int | None) -> str:
    return f"#boundary-partner-{partner_id}" if partner_id else ""


def _back(request: Request, area: Area, done: str, partner_id: int | None = None) -> Response:
    url = request.url_for("partners", slug=area.slug).path
    return RedirectResponse(f"{url}?{urlencode({'done': done})}{_anchor(partner_id)}", 303)


def _ctx(
    request: Request, session: Session, area: Area, principal: Principal, **extra: Any
) -> dict[str, Any]:
    done = request.query_params.get("done")
    return {
        "area": area,
        "view": partners.partners_view(session, area),
        "can_reflect": principal.can(Permission.reflect, area.id),
        "forms": {},
        "done": Msg(DONE[done]) if done in DONE else None,
        **extra,
    }


def _page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    ctx = _ctx(request, session, area, principal, **extra)
    return render(request, "partners/page.html", ctx, status_code=status_code)


def _answer(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    partner_id: int,
    *,
    form_key: str | None = None,
    values: dict[str, Any] | None = None,
    error: ValidationFailed | Conflict | None = None,
) -> Response:
    """After a write inside a partner's section: that section (htmx) or the page (303 when it
    went well; 422 or 409 with the form kept when not)."""
    if error is None and not is_htmx(request):
        return _back(request, area, "marker" if form_key else "updated", partner_id)
    forms = {}
    if error is not None:
        session.rollback()
        errors = error.errors if isinstance(error, ValidationFailed) else {"form": error.message}
        forms[form_key] = {"values": values or {}, "errors": errors}
    status = error.status_code if error is not None else 200
    ctx = _ctx(request, session, area, principal, forms=forms)
    if not is_htmx(request):
        return render(request, "partners/page.html", ctx, status_code=status)
    view: PartnersView = ctx["view"]
    ctx["pv"] = view.partner(partner_id)
    return render(request, "partners/_partner.html", ctx, status_code=status)


# ---- the page and the partners --------------------------------------------------------------


@router.get("/partners", name="partners")
def partners_page(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _page(request, session, area, principal)


@router.post("/partners", name="partner_create")
def partner_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _values(form, PARTNER_FIELDS)
    try:
        row = partners.create_partner(session, actor=principal.actor, area=area, partner_in=values)
    except ValidationFailed as exc:
        session.rollback()
        forms = {"partner-new": {"values": values, "errors": exc.errors}}
        return _page(request, session, area, principal, status_code=422, forms=forms)
    return _back(request, area, "created", row.id)


@router.post("/partners/{partner_id:id}", name="partner_update")
def partner_update(
    request: Request,
    partner_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _values(form, PARTNER_FIELDS)
    key = f"partner-{partner_id}"
    try:
        partners.update_partner(
            session,
            actor=principal.actor,
            area=area,
            partner_id=partner_id,
            partner_in=values,
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        return _answer(
            request, session, area, principal, partner_id, form_key=key, values=values, error=exc
        )
    return _answer(request, session, area, principal, partner_id)


@router.post("/partners/{partner_id:id}/delete", name="partner_delete")
def partner_delete(
    request: Request,
    partner_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    try:
        partners.delete_partner(
            session,
            actor=principal.actor,
            area=area,
            partner_id=partner_id,
            expected_version=field_int(form, "version"),
        )
    except Conflict as exc:
        return _answer(
            request,
            session,
            area,
            principal,
            partner_id,
            form_key=f"delete-{partner_id}",
            error=exc,
        )
    return _back(request, area, "deleted")


# ---- markers --------------------------------------------------------------------------------


def _partner(session: Session, area: Area, partner_id: int) -> BoundaryPartner:
    return partners.get_partner(session, area, partner_id)


@dataclass
class MarkerScope:
    """What every marker route works within: the request, its session, the area, the person."""

    request: Request
    session: Session
    area: Area
    principal: Principal


def marker_scope(
    request: Request, area: ReflectArea, session: SessionDep, principal: CurrentPrincipal
) -> MarkerScope:
    return MarkerScope(request, session, area, principal)


MarkerScopeDep = Annotated[MarkerScope, Depends(marker_scope)]


def _marker_write(
    s: MarkerScope,
    partner_id: int,
    key: str,
    values: dict[str, Any],
    write: Callable[[BoundaryPartner], Any],
) -> Response:
    """Run one write on a partner's markers and answer with its section (or the page)."""
    partner = _partner(s.session, s.area, partner_id)
    try:
        write(partner)
    except (ValidationFailed, Conflict) as exc:
        return _answer(
            s.request,
            s.session,
            s.area,
            s.principal,
            partner_id,
            form_key=key,
            values=values,
            error=exc,
        )
    return _answer(s.request, s.session, s.area, s.principal, partner_id, form_key=key)


@router.post("/partners/{partner_id:id}/markers", name="marker_create")
def marker_create(partner_id: int, s: MarkerScopeDep, form: Form) -> Response:
    values = _values(form, MARKER_FIELDS)
    return _marker_write(
        s,
        partner_id,
        f"marker-new-{partner_id}",
        values,
        lambda partner: partners.add_marker(
            s.session, actor=s.principal.actor, area=s.area, partner=partner, marker_in=values
        ),
    )


@router.post("/partners/{partner_id:id}/markers/{marker_id:id}", name="marker_update")
def marker_update(partner_id: int, marker_id: int, s: MarkerScopeDep, form: Form) -> Response:
    values = {"text": field_text(form, "text", 2500)}
    return _marker_write(
        s,
        partner_id,
        f"marker-{marker_id}",
        values,
        lambda partner: partners.update_marker_text(
            s.session,
            actor=s.principal.actor,
            area=s.area,
            partner=partner,
            marker_id=marker_id,
            marker_in=values,
            expected_version=field_int(form, "version"),
        ),
    )


@router.post("/partners/{partner_id:id}/markers/{marker_id:id}/retire", name="marker_retire")
def marker_retire(partner_id: int, marker_id: int, s: MarkerScopeDep, form: Form) -> Response:
    values = {"retired_period": field_text(form, "retired_period", 30)}
    return _marker_write(
        s,
        partner_id,
        f"retire-{marker_id}",
        values,
        lambda partner: partners.retire_marker(
            s.session,
            actor=s.principal.actor,
            area=s.area,
            partner=partner,
            marker_id=marker_id,
            retire_in=values,
            expected_version=field_int(form, "version"),
        ),
    )


@router.post("/partners/{partner_id:id}/markers/{marker_id:id}/reinstate", name="marker_reinstate")
def marker_reinstate(partner_id: int, marker_id: int, s: MarkerScopeDep, form: Form) -> Response:
    return _marker_write(
        s,
        partner_id,
        f"reinstate-{marker_id}",
        {},
        lambda partner: partners.reinstate_marker(
            s.session,
            actor=s.principal.actor,
            area=s.area,
            partner=partner,
            marker_id=marker_id,
            expected_version=field_int(form, "version"),
        ),
    )


# ---- a semester's ratings -------------------------------------------------------------------


def _ratings_in(form: FormData) -> dict[int, dict[str, str]]:
    """{marker id: {"rating": …, "note": …}} from the fields rating-<id> and note-<id>."""
    found: dict[int, dict[str, str]] = {}
    for key in form:
        kind, _, marker_id = key.partition("-")
        if kind in ("rating", "note") and parse_id(marker_id) is not None:
            found.setdefault(int(marker_id), {})[kind] = field_text(form, key, 2500)
    return found


def _sheet_values(
    sheet: partners.RatingSheet, typed: dict[int, dict[str, str]] | None
) -> dict[str, str]:
    """The form's fields (rating-<id>, note-<id>): as typed, else as saved for the period."""
    if typed is not None:
        return {f"{k}-{i}": v for i, fields in typed.items() for k, v in fields.items()}
    values = {}
    for marker_id, row in sheet.current.items():
        values[f"rating-{marker_id}"] = row.rating
        values[f"note-{marker_id}"] = row.note
    return values


def _sheet_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    partner: BoundaryPartner,
    period: str | None,
    *,
    typed: dict[int, dict[str, str]] | None = None,
    errors: dict[str, Msg] | None = None,
    status_code: int = 200,
) -> Response:
    """The rating sheet; a period that cannot be rated shows the newest one, with the message
    beside the period field (and what was typed for it dropped)."""
    errors = dict(errors or {})
    try:
        sheet = partners.rating_sheet(session, area, partner, period)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        sheet = partners.rating_sheet(session, area, partner, None)
        status_code, typed = 422, None
    shown = {m.id for m in sheet.markers}
    ctx = {
        "area": area,
        "partner": partner,
        "sheet": sheet,
        "values": _sheet_values(sheet, typed),
        "errors": errors,
        # messages about markers the sheet does not show (retired, or not yet added)
        "other_errors": [
            message
            for key, message in errors.items()
            if key == "form" or key != "period" and int(key.rpartition("-")[2]) not in shown
        ],
        "can_reflect": principal.can(Permission.reflect, area.id),
    }
    return render(request, "partners/ratings.html", ctx, status_code=status_code)


@router.get("/partners/{partner_id:id}/ratings", name="partner_ratings")
def ratings_page(
    request: Request,
    partner_id: int,
    area: ReadArea,
    session: SessionDep,
    principal: CurrentPrincipal,
    period: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    """The ratings of one semester: a form for those who may reflect, a table for the others."""
    partner = _partner(session, area, partner_id)
    return _sheet_page(request, session, area, principal, partner, (period or "").strip() or None)


@router.post("/partners/{partner_id:id}/ratings", name="partner_ratings_save")
def ratings_save(
    request: Request,
    partner_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    partner = _partner(session, area, partner_id)
    period = field_text(form, "period", 30).strip()
    typed = _ratings_in(form)
    try:
        changed = partners.save_ratings(
            session,
            actor=principal.actor,
            area=area,
            partner=partner,
            period=period,
            ratings_in=typed,
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"form": exc.message}
        return _sheet_page(
            request,
            session,
            area,
            principal,
            partner,
            period,
            typed=typed,
            errors=errors,
            status_code=exc.status_code,
        )
    return _back(request, area, "rated" if changed else "unchanged", partner.id)
