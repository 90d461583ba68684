"""The plan's problem tree (`/areas/{slug}/problems`): problems, their causes and root causes,
drawn as nested cards, each with its evidence and what it motivates; the checks beside it.

Everyone who reads the area sees the tree; editors (EditArea) add, change, move and delete
nodes with plain POST forms: a write that went well redirects (303) to the node on the page;
bad input shows the page again with the message beside the field and the input kept (422); a
stale version or a delete that would take causes with it, 409 with the form kept.
"""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.db import SessionDep
from app.i18n import N_
from app.models import Area
from app.services import problems, records
from app.services.access import Permission, Principal
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.templating import render
from app.web.auth import CurrentPrincipal, EditArea, ReadArea
from app.web.forms import Form, field_int, field_text

router = APIRouter(prefix="/areas/{slug}")

TEXT_FIELDS = {"text": 2500, "affected_groups": 2500, "note": 5000, "urls": 5000}
DONE = {
    "created": N_("The problem tree was saved."),
    "updated": N_("The node was saved."),
    "moved": N_("The node was moved, with its causes."),
    "deleted": N_("The node was deleted."),
}


def _values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: field_text(form, name, n) for name, n in TEXT_FIELDS.items()}
    for link in problems.LINKS:
        values[link.field] = [v for v in form.getlist(link.field) if isinstance(v, str)][:500]
    return values


def _plan(session: Session, area: Area):  # noqa: ANN202
    plan = records.current_plan(session, area)
    if plan is None:
        raise NotFound(f"{area.slug}/plan")
    return plan


def _page(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    *,
    status_code: int = 200,
    forms: dict[str, Any] | None = None,
) -> Response:
    plan = records.current_plan(session, area)
    can_edit = plan is not None and principal.can(Permission.edit, area.id)
    done = request.query_params.get("done")
    ctx_view = problems.tree_view(session, plan) if plan else None
    ctx = {
        "area": area,
        "plan": plan,
        "view": ctx_view,
        "choices": problems.choices(session, plan) if can_edit else {},
        "can_edit": can_edit,
        "parent_choices": _parent_choices(ctx_view) if can_edit and ctx_view else [],
        "forms": forms or {},
        "done": Msg(DONE[done]) if done in DONE else None,
    }
    return render(request, "problems/page.html", ctx, status_code=status_code)


def _parent_choices(view: problems.TreeView) -> list[tuple[int, str]]:
    """Every node, indented by depth, as a place to move a node to."""
    return [(n.node.id, f"{'— ' * n.depth}{n.node.text[:80]}") for n in view.nodes()]


def _back(request: Request, area: Area, done: str, node_id: int | None = None) -> Response:
    url = request.url_for("problems", slug=area.slug).path
    anchor = f"#problem-node-{node_id}" if node_id else ""
    return RedirectResponse(f"{url}?{urlencode({'done': done})}{anchor}", 303)


def _failed(
    request: Request,
    session: Session,
    area: Area,
    principal: Principal,
    key: str,
    values: dict[str, Any],
    error: ValidationFailed | Conflict,
) -> Response:
    session.rollback()
    errors = error.errors if isinstance(error, ValidationFailed) else {"form": error.message}
    forms = {key: {"values": values, "errors": errors}}
    return _page(request, session, area, principal, status_code=error.status_code, forms=forms)


@router.get("/problems", name="problems")
def problems_page(
    request: Request, area: ReadArea, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return _page(request, session, area, principal)


@router.post("/problems", name="problem_create")
def problem_create(
    request: Request, area: EditArea, session: SessionDep, form: Form, principal: CurrentPrincipal
) -> Response:
    """A problem, or a cause when the form names its parent."""
    plan = _plan(session, area)
    values = _values(form)
    parent_id = field_int(form, "parent_id")
    key = f"add-{parent_id}" if parent_id else "add-problem"
    try:
        node = problems.create_node(
            session, actor=principal.actor, plan=plan, node_in=values, parent_id=parent_id
        )
    except ValidationFailed as exc:
        return _failed(request, session, area, principal, key, values, exc)
    return _back(request, area, "created", node.id)


@router.post("/problems/{node_id:id}", name="problem_update")
def problem_update(
    request: Request,
    node_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    plan = _plan(session, area)
    values = _values(form)
    try:
        problems.update_node(
            session,
            actor=principal.actor,
            plan=plan,
            node_id=node_id,
            node_in=values,
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        return _failed(request, session, area, principal, f"edit-{node_id}", values, exc)
    return _back(request, area, "updated", node_id)


@router.post("/problems/{node_id:id}/move", name="problem_move")
def problem_move(
    request: Request,
    node_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    plan = _plan(session, area)
    values = {"parent_id": field_text(form, "parent_id", 20)}
    try:
        problems.move_node(
            session,
            actor=principal.actor,
            plan=plan,
            node_id=node_id,
            move_in=values,
            expected_version=field_int(form, "version"),
        )
    except (ValidationFailed, Conflict) as exc:
        return _failed(request, session, area, principal, f"move-{node_id}", values, exc)
    return _back(request, area, "moved", node_id)


@router.post("/problems/{node_id:id}/delete", name="problem_delete")
def problem_delete(
    request: Request,
    node_id: int,
    area: EditArea,
    session: SessionDep,
    form: Form,
    principal: CurrentPrincipal,
) -> Response:
    plan = _plan(session, area)
    try:
        problems.delete_node(
            session,
            actor=principal.actor,
            plan=plan,
            node_id=node_id,
            force=field_text(form, "confirm", 10) == "1",
            expected_version=field_int(form, "version"),
        )
    except Conflict as exc:
        return _failed(request, session, area, principal, f"delete-{node_id}", {}, exc)
    return _back(request, area, "deleted")
