"""The plan's problem tree as JSON: `GET /api/v1/areas/{slug}/problems`, and its nodes written
one at a time (`POST` a problem or a cause, `PATCH` and `DELETE` a node)."""

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.api.body import JSONObject, version_of
from app.api.v1 import AUTH_RESPONSES
from app.db import SessionDep
from app.i18n import N_
from app.models import ProblemNode
from app.services import problems
from app.services.errors import Msg, ValidationFailed
from app.services.problems import NodeView, TreeView
from app.templating import translate
from app.web.auth import CurrentPrincipal, ReadArea
from app.web.deps import EditPlan, ReadPlan

MOVE_APART = N_("A node moves with POST …/problems/{id}/move, not with PATCH.")

router = APIRouter(prefix="/api/v1", tags=["api"], responses=AUTH_RESPONSES)


class ProblemNodeOut(BaseModel):
    id: int
    kind: str  # "problem", "cause" or "root_cause"
    text: str
    affected_groups: str
    note: str
    urls: list[str]
    version: int
    kra_ids: list[int]
    doe_item_ids: list[int]
    action_ids: list[int]
    data_item_ids: list[int]
    file_ids: list[int]
    children: list["ProblemNodeOut"]


class ProblemCheckOut(BaseModel):
    kind: str  # "kra_without_problem" or "root_cause_without_action"
    target_id: int  # the KRA's id, or the root cause's
    message: str


class ProblemTreeOut(BaseModel):
    plan_id: int
    problems: list[ProblemNodeOut]
    checks: list[ProblemCheckOut]


def _node(nv: NodeView) -> ProblemNodeOut:
    n = nv.node
    return ProblemNodeOut(
        id=n.id,
        kind=nv.kind,
        text=n.text,
        affected_groups=n.affected_groups,
        note=n.note,
        urls=n.urls.splitlines(),
        version=n.version,
        children=[_node(c) for c in nv.children],
        **{link.field: nv.links.get(link.field, []) for link in problems.LINKS},
    )


def tree_json(plan_id: int, view: TreeView) -> ProblemTreeOut:
    return ProblemTreeOut(
        plan_id=plan_id,
        problems=[_node(r) for r in view.roots],
        checks=[
            ProblemCheckOut(kind=c.kind, target_id=c.target_id, message=translate(c.message))
            for c in view.checks
        ],
    )


@router.get("/areas/{slug}/problems", name="api_problems", response_model=ProblemTreeOut)
def read_problems(area: ReadArea, plan: ReadPlan, session: SessionDep) -> ProblemTreeOut:
    """The current plan's problem tree, nested: each problem with its causes to any depth (a
    cause with none of its own is a root cause), their links by id, and the tree's checks."""
    return tree_json(plan.id, problems.tree_view(session, plan))


def node_json(session: Session, node: ProblemNode) -> dict[str, Any]:
    """One node as written: its columns, its parent and its links by id."""
    values = problems.node_values(session, node)
    values["urls"] = node.urls.splitlines()
    return {"id": node.id, "parent_id": node.parent_id, **values, "version": node.version}


@router.post("/areas/{slug}/problems", name="api_problem_create", status_code=201)
def create_problem(
    plan: EditPlan, session: SessionDep, principal: CurrentPrincipal, body: JSONObject
) -> JSONResponse:
    """A problem, or with `parent_id` a cause under that node; `urls` one address a line or a
    list."""
    values = _urls_as_text(body)
    parent_id = values.pop("parent_id", None)
    if parent_id is not None and (isinstance(parent_id, bool) or not isinstance(parent_id, int)):
        parent_id = -1  # not a node of this plan: answered 404 like any other
    node = problems.create_node(
        session, actor=principal.actor, plan=plan, node_in=values, parent_id=parent_id
    )
    return JSONResponse(node_json(session, node), status_code=201)


@router.patch("/areas/{slug}/problems/{node_id:id}", name="api_problem_update")
def update_problem(
    node_id: int, plan: EditPlan, session: SessionDep, principal: CurrentPrincipal, body: JSONObject
) -> dict[str, Any]:
    """Fields left out keep their values; send `version` to refuse stale writes (409). A node
    moves with `POST …/move`, not here."""
    node = problems.get_node(session, plan, node_id)
    if "parent_id" in body:
        raise ValidationFailed({"parent_id": Msg(MOVE_APART)})
    values = {**problems.node_values(session, node), **_urls_as_text(body)}
    values.pop("version", None)
    node = problems.update_node(
        session,
        actor=principal.actor,
        plan=plan,
        node_id=node_id,
        node_in=values,
        expected_version=version_of(body),
    )
    return node_json(session, node)


@router.post("/areas/{slug}/problems/{node_id:id}/move", name="api_problem_move")
def move_problem(
    node_id: int, plan: EditPlan, session: SessionDep, principal: CurrentPrincipal, body: JSONObject
) -> dict[str, Any]:
    """Put the node, with its causes, under `parent_id` (null: a problem at the top); never
    under itself or one of its causes (422)."""
    node = problems.move_node(
        session,
        actor=principal.actor,
        plan=plan,
        node_id=node_id,
        move_in={"parent_id": body.get("parent_id")},
        expected_version=version_of(body),
    )
    return node_json(session, node)


def _urls_as_text(body: dict[str, Any]) -> dict[str, Any]:
    """`urls` may come as a list of addresses: stored one a line."""
    if isinstance(body.get("urls"), list):
        return {**body, "urls": "\n".join(map(str, body["urls"]))}
    return dict(body)


@router.delete("/areas/{slug}/problems/{node_id:id}", name="api_problem_delete", status_code=204)
def delete_problem(
    node_id: int,
    plan: EditPlan,
    session: SessionDep,
    principal: CurrentPrincipal,
    force: bool = Query(False, description="delete a node with causes, and its causes"),
) -> Response:
    """A node with causes under it is refused (409, listing them) unless force."""
    problems.delete_node(session, actor=principal.actor, plan=plan, node_id=node_id, force=force)
    return Response(status_code=204)
