"""Emergent outcomes (outcome harvesting) and guiding principles.

Pages: the harvest (`outcomes`, filtered by the URL, with the form that records an outcome),
one outcome (`outcome`, with its edit form and delete question) and the guiding principles
(`principles`). Forms are plain POST forms that redirect (303), so they work without JavaScript;
with htmx the edit forms send PUT and get back the fragment that changed. Bad input comes back
with 422, the message beside its field and the input kept; a stale version with 409.
"""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import SessionDep
from app.display import parse_date
from app.i18n import N_, format_date, gettext
from app.inputs import parse_id
from app.labels import label
from app.models import Area, EmergentOutcome
from app.services import outcomes
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, ValidationFailed
from app.services.outcomes import CRITERIA, LINK_FIELDS, OutcomeIn, PlanChoices, PrincipleIn
from app.templating import env, is_htmx, render
from app.web.auth import CurrentPrincipal, ReadArea, ReflectArea
from app.web.forms import Form, field_int, field_text, see_other

router = APIRouter(prefix="/areas/{slug}")

FILTERS = ("substantiation", "effect", "planned", "kra", "action")
NEW_OUTCOME = {"substantiation": "draft", "positive": "positive", "planned": "unplanned"}


# ---- emergent outcomes ----------------------------------------------------------------------


def _outcome_form(form: FormData) -> dict[str, Any]:
    """The posted outcome as typed (ticked ids as lists)."""
    return {
        name: form.getlist(name) if name in LINK_FIELDS else field_text(form, name, 5000)
        for name in OutcomeIn.model_fields
    }


def shown(values: dict[str, Any]) -> dict[str, Any]:
    """Stored values as the form shows them: the two yes/no fields as their radio words."""
    out = dict(values)
    for name, words in (
        ("positive", ("positive", "negative")),
        ("planned", ("planned", "unplanned")),
    ):
        if isinstance(out.get(name), bool):
            out[name] = words[0] if out[name] else words[1]
    return out


def outcome_value(name: str, value: Any, choices: PlanChoices) -> str:
    """A stored or typed value as a person reads it (the conflict panel's two versions)."""
    if value in (None, "", []):
        return "—"
    if name == "observed_on":
        day = value if isinstance(value, date) else parse_date(str(value))
        return format_date(day) if day else str(value)
    if name == "substantiation":
        return label("substantiation", str(value))
    if name in ("positive", "planned"):
        return outcome_word(str(shown({name: value})[name]))
    names = {
        "action_ids": {i: a.code for i, a in choices.action_names.items()},
        "kra_ids": {i: k.code for i, k in choices.kra_names.items()},
        "doe_item_ids": {i: d.code for i, d in choices.items.items()},
    }
    if name in names:
        ids = [i for i in map(parse_id, value) if i is not None]
        return ", ".join(names[name].get(i, f"#{i}") for i in ids)
    return str(value)


WORDS = {
    "positive": N_("Positive change"),
    "negative": N_("Negative change"),
    "planned": N_("Planned change"),
    "unplanned": N_("Unplanned change"),
}


def outcome_word(word: str) -> str:
    """The tag of a radio word (positive, unplanned…)."""
    return gettext(WORDS[word]) if word in WORDS else word


def kra_options(choices: PlanChoices) -> list[tuple[int, str]]:
    return [(k.id, f"{k.code} · {k.title}") for k in choices.kras if k.id is not None]


def action_options(choices: PlanChoices) -> list[tuple[int, str]]:
    return [(a.id, f"{a.code} · {a.title}") for a in choices.actions if a.id is not None]


env.globals.update(
    kra_options=kra_options,
    action_options=action_options,
    outcome_value=outcome_value,
    outcome_word=outcome_word,
    outcome_shown=shown,
    principle_values=outcomes.principle_values,
)


def _harvest_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    status_code: int = 200,
) -> Response:
    choices = outcomes.plan_choices(session, area)
    typed = {name: request.query_params.get(name, "")[:60] for name in FILTERS}
    filters, refused = outcomes.parse_filters(typed, choices)
    ctx = {
        "area": area,
        "view": outcomes.harvest(session, area, filters, choices),
        "choices": choices,
        "filter_values": {**filters.query(), **typed},
        "filter_errors": refused,
        "values": values or NEW_OUTCOME,
        "errors": errors or {},
        "can_reflect": principal.can(Permission.reflect, area.id),
    }
    if refused and status_code == 200:
        status_code = 422
    return render(request, "outcomes/list.html", ctx, status_code=status_code)


@router.get("/outcomes", name="outcomes")
def outcome_list(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _harvest_page(request, session, area, principal)


@router.post("/outcomes", name="outcome_create")
def outcome_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _outcome_form(form)
    try:
        row = outcomes.create_outcome(session, actor=principal.actor, area=area, outcome_in=values)
    except ValidationFailed as exc:
        session.rollback()
        return _harvest_page(
            request, session, area, principal, values=values, errors=exc.errors, status_code=422
        )
    return see_other(request, "outcomes", f"emergent-outcome-{row.id}", slug=area.slug)


def _outcome_ctx(
    session: Session,
    area: Area,
    principal: Principal,
    outcome: EmergentOutcome,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    conflict: Conflict | None = None,
) -> dict[str, Any]:
    stored = outcomes.outcome_values(session, outcome)
    return {
        "area": area,
        "outcome": outcome,
        "links": {name: stored[name] for name in LINK_FIELDS},
        "choices": outcomes.plan_choices(session, area),
        "values": shown(values if values is not None else stored),
        "errors": errors or {},
        "conflict": conflict,
        "theirs": shown(conflict.current or {}) if conflict else {},
        "can_reflect": principal.can(Permission.reflect, area.id),
    }


def _outcome_page(request: Request, ctx: dict[str, Any], status_code: int = 200) -> Response:
    template = "outcomes/_main.html" if is_htmx(request) else "outcomes/detail.html"
    return render(request, template, ctx, status_code=status_code)


@router.get("/outcomes/{outcome_id:id}", name="outcome")
def outcome_page(
    request: Request,
    outcome_id: int,
    area: ReadArea,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    outcome = outcomes.get_outcome(session, area, outcome_id)
    return _outcome_page(request, _outcome_ctx(session, area, principal, outcome))


# Two routes, not one with two methods: each method needs its own OpenAPI operation id.
@router.put("/outcomes/{outcome_id:id}", name="outcome_update")
@router.post("/outcomes/{outcome_id:id}", name="outcome_save")
def outcome_update(
    request: Request,
    outcome_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """PUT from htmx (answers with the record), POST from a plain form (redirects)."""
    outcomes.get_outcome(session, area, outcome_id)
    values = _outcome_form(form)
    try:
        row = outcomes.update_outcome(
            session,
            actor=principal.actor,
            area=area,
            outcome_id=outcome_id,
            outcome_in=values,
            expected_version=field_int(form, "version"),
        )
    except ValidationFailed as exc:
        session.rollback()
        outcome = outcomes.get_outcome(session, area, outcome_id)
        ctx = _outcome_ctx(session, area, principal, outcome, values=values, errors=exc.errors)
        return _outcome_page(request, ctx, 422)
    except Conflict as exc:
        session.rollback()
        outcome = outcomes.get_outcome(session, area, outcome_id)
        ctx = _outcome_ctx(session, area, principal, outcome, values=values, conflict=exc)
        return _outcome_page(request, ctx, 409)
    if is_htmx(request):
        ctx = _outcome_ctx(session, area, principal, row)
        return render(request, "outcomes/_main.html", {**ctx, "saved": True})
    return see_other(request, "outcome", slug=area.slug, outcome_id=row.id)


@router.post("/outcomes/{outcome_id:id}/delete", name="outcome_delete")
def outcome_delete(
    request: Request,
    outcome_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    outcomes.delete_outcome(
        session,
        actor=principal.actor,
        area=area,
        outcome_id=outcome_id,
        expected_version=field_int(form, "version"),
    )
    return see_other(request, "outcomes", slug=area.slug)


# ---- guiding principles ---------------------------------------------------------------------


def _principle_form(form: FormData) -> dict[str, Any]:
    return {name: field_text(form, name, 5000) for name in PrincipleIn.model_fields}


def _principles_page(
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
        "principles": outcomes.principles(session, area),
        "criteria": CRITERIA,
        "values": {},
        "errors": {},
        "edit_values": {},
        "edit_errors": {},
        "can_reflect": principal.can(Permission.reflect, area.id),
        **extra,
    }
    return render(request, "principles/list.html", ctx, status_code=status_code)


@router.get("/principles", name="principles")
def principle_list(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _principles_page(request, session, area, principal)


@router.post("/principles", name="principle_create")
def principle_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _principle_form(form)
    try:
        row = outcomes.create_principle(
            session, actor=principal.actor, area=area, principle_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        return _principles_page(
            request, session, area, principal, values=values, errors=exc.errors, status_code=422
        )
    return see_other(request, "principles", f"guiding-principle-{row.id}", slug=area.slug)


@router.put("/principles/{principle_id:id}", name="principle_update")
@router.post("/principles/{principle_id:id}", name="principle_save")
def principle_update(
    request: Request,
    principle_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """PUT from htmx (answers with the principle's card), POST from a plain form."""
    outcomes.get_principle(session, area, principle_id)
    values = _principle_form(form)
    problem: dict[str, Any] = {}
    try:
        row = outcomes.update_principle(
            session,
            actor=principal.actor,
            area=area,
            principle_id=principle_id,
            principle_in=values,
            expected_version=field_int(form, "version"),
        )
    except ValidationFailed as exc:
        problem = {"errors": exc.errors, "status_code": 422}
    except Conflict as exc:
        problem = {"conflict": exc, "status_code": 409}
    if problem:
        session.rollback()
        row = outcomes.get_principle(session, area, principle_id)
    if not is_htmx(request):
        if not problem:
            return see_other(request, "principles", f"guiding-principle-{row.id}", slug=area.slug)
        return _principles_page(
            request,
            session,
            area,
            principal,
            status_code=problem["status_code"],
            edit_values={row.id: values},
            edit_errors={row.id: problem.get("errors", {})},
            edit_conflict={row.id: problem.get("conflict")},
        )
    ctx = {
        "area": area,
        "p": row,
        "criteria": CRITERIA,
        "can_reflect": principal.can(Permission.reflect, area.id),
        "edit_values": {row.id: values} if problem else {},
        "edit_errors": {row.id: problem.get("errors", {})},
        "edit_conflict": {row.id: problem.get("conflict")},
    }
    return render(
        request, "principles/_principle.html", ctx, status_code=problem.get("status_code", 200)
    )


@router.post("/principles/{principle_id:id}/delete", name="principle_delete")
def principle_delete(
    request: Request,
    principle_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    outcomes.delete_principle(
        session,
        actor=principal.actor,
        area=area,
        principle_id=principle_id,
        expected_version=field_int(form, "version"),
    )
    return see_other(request, "principles", slug=area.slug)
