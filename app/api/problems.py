"""The plan's problem tree as JSON: `GET /api/v1/areas/{slug}/problems`."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.v1 import AUTH_RESPONSES
from app.db import SessionDep
from app.services import problems
from app.services.problems import NodeView, TreeView
from app.templating import translate
from app.web.auth import ReadArea
from app.web.deps import ReadPlan

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
