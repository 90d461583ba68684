"""Reflections (What? So what? Now what?), what their Now-what lines became, change proposals and
learning questions.

Every form is a plain POST that redirects (303) when it worked and comes back with 422, the
message beside the field and the input kept, when it did not. Turning a Now-what line into
something also answers htmx with just that line. Reading needs ReadArea; every write ReflectArea
(editors, facilitators, administrators), and the pages show forms only to them.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import SessionDep
from app.display import parse_date
from app.i18n import format_date, thai_today
from app.models import Area
from app.models.de import ProposalState
from app.periods import period_label
from app.services import committee, reflections
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, ValidationFailed
from app.templating import env, is_htmx, render
from app.web.auth import CurrentPrincipal, ReadArea, ReflectArea
from app.web.forms import Form, field_int, field_text, redirect

router = APIRouter(prefix="/areas/{slug}")

TEXT_LIMIT = 20_000  # read this much, so the schema can say how long a too-long text is
REFLECTION_FIELDS = ("held_on", "title", "participants", "period", "what", "so_what", "now_what")
QUESTION_FIELDS = (
    "question",
    "state",
    "answer",
    "evidence",
    "answered_on",
    "answer_reflection_id",
)
TARGET_PAGES = {  # a follow-up's target type -> (route, anchor prefix)
    "action": ("progress", "action-progress"),
    "change_proposal": ("proposals", "proposal"),
    "learning_question": ("questions", "question"),
}


def element_url(request: Request, area: Area, entity_type: str, entity_id: int) -> str:
    """Where a plan element is shown: a KRA on the overview, a KPI's page, an action's card."""
    if entity_type == "kpi":
        return request.url_for("progress_kpi", slug=area.slug, kpi_id=entity_id).path
    if entity_type == "action":
        return request.url_for("progress", slug=area.slug).path + f"#action-progress-{entity_id}"
    return request.url_for("area_overview", slug=area.slug).path + f"#kra-{entity_id}"


def target_url(request: Request, area: Area, target_type: str, target_id: int) -> str:
    route, anchor = TARGET_PAGES[target_type]
    return request.url_for(route, slug=area.slug).path + f"#{anchor}-{target_id}"


def reflection_url(request: Request, area: Area, reflection_id: int) -> str:
    return request.url_for("reflection", slug=area.slug, reflection_id=reflection_id).path


env.globals.update(
    reflection_element_url=element_url,
    reflection_target_url=target_url,
    reflection_url=reflection_url,
    reflection_figure_label=reflections.figure_label,
    first_line=reflections.first_line,
    display_date=parse_date,
)


# ---- reflections ----------------------------------------------------------------------------


def _reflection_values(form: FormData, *, new: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: field_text(form, name, TEXT_LIMIT) for name in REFLECTION_FIELDS
    }
    if new:
        values["elements"] = [v for v in form.getlist("elements") if isinstance(v, str)][:500]
    else:
        del values["period"]
    return values


def _list_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Msg] | None = None,
    status_code: int = 200,
) -> Response:
    choices = reflections.plan_choices(session, area)
    ctx = {
        "area": area,
        "summaries": reflections.reflection_list(session, area),
        "choices": choices,
        "period_options": [(p, period_label(p)) for p in choices.periods],
        "can_reflect": principal.can(Permission.reflect, area.id),
        "values": values or {"held_on": thai_today().isoformat()},
        "errors": errors or {},
    }
    return render(request, "reflections/list.html", ctx, status_code=status_code)


@router.get("/reflections", name="reflections")
def reflection_list(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _list_page(request, session, area, principal)


@router.post("/reflections", name="reflection_create")
def reflection_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = _reflection_values(form, new=True)
    try:
        row = reflections.create_reflection(
            session, actor=principal.actor, area=area, reflection_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        return _list_page(
            request, session, area, principal, values=values, errors=exc.errors, status_code=422
        )
    return redirect(reflection_url(request, area, row.id))


def _page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    reflection_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    detail = reflections.reflection_detail(session, area, reflection_id)
    row = detail.reflection
    ctx = {
        "area": area,
        "detail": detail,
        "reflection": row,
        "can_reflect": principal.can(Permission.reflect, area.id),
        "editing": False,
        "values": reflections.edit_values(session, row),
        "errors": {},
        "line_errors": {},
        "line_values": {},
        "turned": None,
        **extra,
    }
    return render(request, "reflections/page.html", ctx, status_code=status_code)


@router.get("/reflections/{reflection_id:id}", name="reflection")
def reflection_page(
    request: Request,
    reflection_id: int,
    area: ReadArea,
    session: SessionDep,
    principal: CurrentPrincipal,
    edit: bool = False,
    turned: int | None = None,
) -> Response:
    editing = edit and principal.can(Permission.reflect, area.id)
    return _page(request, session, area, principal, reflection_id, editing=editing, turned=turned)


@router.put("/reflections/{reflection_id:id}", name="reflection_update")
@router.post("/reflections/{reflection_id:id}", name="reflection_update_form")
def reflection_update(
    request: Request,
    reflection_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Edit a reflection (PUT; POST from a page without JavaScript). Its figures stay frozen."""
    values = _reflection_values(form, new=False)
    try:
        reflections.update_reflection(
            session,
            actor=principal.actor,
            area=area,
            reflection_id=reflection_id,
            reflection_in=values,
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"__all__": exc.message}
        return _page(
            request,
            session,
            area,
            principal,
            reflection_id,
            editing=True,
            values=values,
            errors=errors,
            status_code=exc.status_code,
        )
    return redirect(reflection_url(request, area, reflection_id))


@router.get("/reflections/{reflection_id:id}/delete", name="reflection_confirm_delete")
def reflection_confirm_delete(
    request: Request, reflection_id: int, area: ReflectArea, session: SessionDep
) -> Response:
    detail = reflections.reflection_detail(session, area, reflection_id)
    ctx = {"area": area, "detail": detail, "reflection": detail.reflection}
    return render(request, "reflections/delete.html", ctx)


@router.post("/reflections/{reflection_id:id}/delete", name="reflection_delete")
def reflection_delete(
    request: Request,
    reflection_id: int,
    area: ReflectArea,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    reflections.delete_reflection(
        session, actor=principal.actor, area=area, reflection_id=reflection_id
    )
    return redirect(request.url_for("reflections", slug=area.slug).path + "?deleted=1")


@router.post("/reflections/{reflection_id:id}/follow-ups", name="reflection_follow_up")
def reflection_follow_up(
    request: Request,
    reflection_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Turn a Now-what line (`line`, its index) into a `kind` of record, in one step."""
    values = {
        "line": field_text(form, "line", 10),
        "kind": field_text(form, "kind", 20),
        "text": field_text(form, "text", TEXT_LIMIT),
    }
    index = field_int(form, "line")
    try:
        reflections.turn_line(
            session,
            actor=principal.actor,
            area=area,
            reflection_id=reflection_id,
            follow_up_in=values,
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        problem = exc.errors if isinstance(exc, ValidationFailed) else {"kind": exc.message}
        return _line_answer(
            request,
            session,
            area,
            principal,
            reflection_id,
            index,
            errors=problem,
            values=values,
            status_code=exc.status_code,
        )
    if is_htmx(request) and index is not None:
        return _line_answer(request, session, area, principal, reflection_id, index, turned=True)
    url = reflection_url(request, area, reflection_id)
    return redirect(f"{url}?turned={index}#now-what-line-{index}")


def _line_answer(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    reflection_id: int,
    index: int | None,
    *,
    errors: dict[str, Msg] | None = None,
    values: dict[str, Any] | None = None,
    turned: bool = False,
    status_code: int = 200,
) -> Response:
    """The line alone (htmx), else the whole page with the line's message."""
    key = index if index is not None else -1
    extra = {
        "line_errors": {key: errors} if errors else {},
        "line_values": {key: values} if values else {},
        "turned": index if turned else None,
    }
    if not is_htmx(request) or index is None:
        return _page(
            request, session, area, principal, reflection_id, status_code=status_code, **extra
        )
    detail = reflections.reflection_detail(session, area, reflection_id)
    line = next((li for li in detail.lines if li.index == index), None)
    if line is None:
        return _page(
            request, session, area, principal, reflection_id, status_code=status_code, **extra
        )
    ctx = {
        "area": area,
        "detail": detail,
        "reflection": detail.reflection,
        "line": line,
        "can_reflect": principal.can(Permission.reflect, area.id),
        **extra,
    }
    return render(request, "reflections/_line.html", ctx, status_code=status_code)


# ---- change proposals -----------------------------------------------------------------------


def _proposals_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    state: str | None,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    state = state if state in {s.value for s in ProposalState} else None
    view = reflections.proposals_view(session, area, state)
    ids = [p.id for p in view.rows]
    ctx = {
        "area": area,
        "view": view,
        "decided_by": committee.decisions_for(session, area, "change_proposal", ids),
        "state": state or "all",
        "can_reflect": principal.can(Permission.reflect, area.id),
        "values": {},
        "errors": {},
        "decision": None,  # (proposal id, values, errors) of a decision sent back
        "today": thai_today(),
        **extra,
    }
    return render(request, "reflections/proposals.html", ctx, status_code=status_code)


@router.get("/proposals", name="proposals")
def proposal_list(
    request: Request,
    area: ReadArea,
    session: SessionDep,
    principal: CurrentPrincipal,
    state: str | None = None,
) -> Response:
    return _proposals_page(request, session, area, principal, state)


@router.post("/proposals", name="proposal_create")
def proposal_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = {"text": field_text(form, "text", TEXT_LIMIT), "element": field_text(form, "element")}
    try:
        row = reflections.create_proposal(
            session, actor=principal.actor, area=area, proposal_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        return _proposals_page(
            request,
            session,
            area,
            principal,
            None,
            values=values,
            errors=exc.errors,
            status_code=422,
        )
    return redirect(target_url(request, area, "change_proposal", row.id))


@router.post("/proposals/{proposal_id:id}/decision", name="proposal_decide")
def proposal_decide(
    request: Request,
    proposal_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Adopt or decline (`decision`: adopt | decline, or `state`: adopted | declined)."""
    values = {
        "state": field_text(form, "decision", 20) or field_text(form, "state", 20),
        "decision_note": field_text(form, "decision_note", TEXT_LIMIT),
        "decided_on": field_text(form, "decided_on", 20),
    }
    try:
        reflections.decide(
            session, actor=principal.actor, area=area, proposal_id=proposal_id, decision_in=values
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"state": exc.message}
        return _proposals_page(
            request,
            session,
            area,
            principal,
            None,
            decision=(proposal_id, values, errors),
            status_code=exc.status_code,
        )
    return redirect(target_url(request, area, "change_proposal", proposal_id))


# ---- learning questions ---------------------------------------------------------------------


def _questions_page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    view = reflections.questions_view(session, area)
    ctx = {
        "area": area,
        "view": view,
        "reflection_options": [
            (r.id, f"{r.title} · {format_date(r.held_on)}") for r in view.reflections
        ],
        "can_reflect": principal.can(Permission.reflect, area.id),
        "values": {},
        "errors": {},
        "sent": None,  # (question id, values, errors) of an edit sent back
        "today": thai_today(),
        **extra,
    }
    return render(request, "reflections/questions.html", ctx, status_code=status_code)


@router.get("/questions", name="questions")
def question_list(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _questions_page(request, session, area, principal)


@router.post("/questions", name="question_create")
def question_create(
    request: Request,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    values = {"question": field_text(form, "question", TEXT_LIMIT)}
    try:
        row = reflections.create_question(
            session, actor=principal.actor, area=area, question_in=values
        )
    except ValidationFailed as exc:
        session.rollback()
        return _questions_page(
            request, session, area, principal, values=values, errors=exc.errors, status_code=422
        )
    return redirect(target_url(request, area, "learning_question", row.id))


@router.put("/questions/{question_id:id}", name="question_update")
@router.post("/questions/{question_id:id}", name="question_update_form")
def question_update(
    request: Request,
    question_id: int,
    area: ReflectArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    """Change or answer a question (PUT; POST from a page without JavaScript). Fields not sent
    keep their values; marking it answered needs an answer."""
    values = {name: field_text(form, name, TEXT_LIMIT) for name in QUESTION_FIELDS if name in form}
    try:
        reflections.update_question(
            session,
            actor=principal.actor,
            area=area,
            question_id=question_id,
            question_in=values,
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"question": exc.message}
        return _questions_page(
            request,
            session,
            area,
            principal,
            sent=(question_id, values, errors),
            status_code=exc.status_code,
        )
    return redirect(target_url(request, area, "learning_question", question_id))


@router.post("/questions/{question_id:id}/retire", name="question_retire")
def question_retire(
    request: Request,
    question_id: int,
    area: ReflectArea,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    reflections.retire_question(session, actor=principal.actor, area=area, question_id=question_id)
    return redirect(target_url(request, area, "learning_question", question_id))
