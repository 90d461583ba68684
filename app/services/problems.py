"""The plan's problem tree (the workshop's second step): problems, their causes and root causes
to any depth, each node with its evidence (the area's data items, uploaded files, web addresses,
a note), the DOE items and KRAs it motivates and the actions that address it.

A top-level node is a problem; a node under another is a cause; a cause with no causes of its
own is a root cause. Every write validates, writes, records one audit event (entity type
`problem_node`) in the same transaction, commits, then publishes `plan.changed`.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from app.i18n import N_
from app.models import (
    Action,
    DataItem,
    DOEAspect,
    DOEFramework,
    DOEItem,
    EvidenceFile,
    KeyResultArea,
    Plan,
    ProblemNode,
    ProblemNodeAction,
    ProblemNodeDataItem,
    ProblemNodeDOEItem,
    ProblemNodeFile,
    ProblemNodeKRA,
)
from app.models.enums import AuditOp
from app.schemas import Ids, InputModel, OptionalId, Text, fail
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.plans import _finish
from app.services.validation import validate

ENTITY = "problem_node"
CYCLE = N_("A node cannot move under itself or under one of its own causes.")
PICK = N_("Pick from the list.")
BAD_URL = N_("Enter one web address a line, each starting with http:// or https://.")
HAS_CAUSES = N_("This node has %(count)s causes under it; confirm to delete them all.")
NO_KRA_PROBLEM = N_("%(code)s answers no problem: no problem or cause in the tree motivates it.")
NO_ACTION = N_("Root cause “%(text)s” is addressed by no action.")


def _urls(value: Any) -> str:
    lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
    if any(not re.match(r"^https?://\S+$", line) for line in lines):
        raise fail(BAD_URL)
    return "\n".join(lines)


Urls = Annotated[str, BeforeValidator(_urls), Field(max_length=4000)]


class ProblemNodeIn(InputModel):
    text: Text = Field(min_length=1, max_length=2000)
    affected_groups: Text = Field(default="", max_length=2000)
    note: Text = Field(default="", max_length=4000)
    urls: Urls = ""
    kra_ids: Ids = []
    doe_item_ids: Ids = []
    action_ids: Ids = []
    data_item_ids: Ids = []
    file_ids: Ids = []


class MoveIn(InputModel):
    parent_id: OptionalId = None  # empty: a problem at the top


@dataclass(frozen=True)
class Link:
    field: str
    table: type[SQLModel]
    other: str


LINKS = (
    Link("kra_ids", ProblemNodeKRA, "kra_id"),
    Link("doe_item_ids", ProblemNodeDOEItem, "item_id"),
    Link("action_ids", ProblemNodeAction, "action_id"),
    Link("data_item_ids", ProblemNodeDataItem, "data_item_id"),
    Link("file_ids", ProblemNodeFile, "file_id"),
)


@dataclass
class NodeView:
    node: ProblemNode
    depth: int
    children: list["NodeView"] = field(default_factory=list)
    links: dict[str, list[int]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.depth == 0:
            return "problem"
        return "cause" if self.children else "root_cause"

    def walk(self) -> list["NodeView"]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass
class Check:
    kind: str  # "kra_without_problem" or "root_cause_without_action"
    message: Msg
    target_id: int


@dataclass
class TreeView:
    roots: list[NodeView]
    kras: dict[int, KeyResultArea]
    actions: dict[int, Action]
    doe_items: dict[int, DOEItem]
    data_items: dict[int, DataItem]
    files: dict[int, EvidenceFile]
    checks: list[Check]

    def nodes(self) -> list[NodeView]:
        return [n for root in self.roots for n in root.walk()]


# ---- reading --------------------------------------------------------------------------------


def plan_nodes(session: Session, plan: Plan) -> list[ProblemNode]:
    query = select(ProblemNode).where(ProblemNode.plan_id == plan.id)
    return list(session.exec(query.order_by(ProblemNode.position, ProblemNode.id)).all())


def links_by_node(session: Session, node_ids: list[int]) -> dict[str, dict[int, list[int]]]:
    """Every link of the nodes, one query per link table."""
    out: dict[str, dict[int, list[int]]] = {}
    for link in LINKS:
        by_node: dict[int, list[int]] = defaultdict(list)
        if node_ids:
            rows = session.exec(
                select(link.table.node_id, getattr(link.table, link.other)).where(
                    col(link.table.node_id).in_(node_ids)
                )
            ).all()
            for node_id, other in rows:
                by_node[node_id].append(other)
        out[link.field] = {k: sorted(v) for k, v in by_node.items()}
    return out


def build(nodes: list[ProblemNode], links: dict[str, dict[int, list[int]]]) -> list[NodeView]:
    """The nodes as a forest, children in position order (nodes come sorted by position)."""
    children: dict[int | None, list[ProblemNode]] = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)

    def grow(node: ProblemNode, depth: int) -> NodeView:
        view = NodeView(node, depth, links={f: links[f].get(node.id, []) for f in links})
        view.children = [grow(c, depth + 1) for c in children.get(node.id, [])]
        return view

    return [grow(n, 0) for n in children.get(None, [])]


def _by_id(session: Session, model: type[SQLModel], ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {r.id: r for r in session.exec(select(model).where(col(model.id).in_(ids))).all()}


def tree_view(session: Session, plan: Plan) -> TreeView:
    """The tree with everything it links to, in a fixed number of queries."""
    nodes = plan_nodes(session, plan)
    links = links_by_node(session, [n.id for n in nodes])
    roots = build(nodes, links)

    def linked(name: str) -> set[int]:
        return {i for ids in links[name].values() for i in ids}

    kras = {
        k.id: k
        for k in session.exec(
            select(KeyResultArea)
            .where(KeyResultArea.plan_id == plan.id)
            .order_by(KeyResultArea.position, KeyResultArea.id)
        ).all()
    }
    view = TreeView(
        roots=roots,
        kras=kras,
        actions=_by_id(session, Action, linked("action_ids")),
        doe_items=_by_id(session, DOEItem, linked("doe_item_ids")),
        data_items=_by_id(session, DataItem, linked("data_item_ids")),
        files=_by_id(session, EvidenceFile, linked("file_ids")),
        checks=[],
    )
    view.checks = checks_of(view)
    return view


def checks_of(view: TreeView) -> list[Check]:
    """A KRA that no node motivates; a root cause that no action addresses."""
    nodes = view.nodes()
    motivated = {k for n in nodes for k in n.links.get("kra_ids", [])}
    out = [
        Check("kra_without_problem", Msg(NO_KRA_PROBLEM, {"code": kra.code}), kra.id)
        for kra in view.kras.values()
        if kra.id not in motivated
    ]
    out.extend(
        Check("root_cause_without_action", Msg(NO_ACTION, {"text": n.node.text}), n.node.id)
        for n in nodes
        if n.kind == "root_cause" and not n.links.get("action_ids")
    )
    return out


def get_node(session: Session, plan: Plan, node_id: int) -> ProblemNode:
    node = session.get(ProblemNode, node_id)
    if node is None or node.plan_id != plan.id:
        raise NotFound(f"{ENTITY}/{node_id}")
    return node


def node_values(session: Session, node: ProblemNode) -> dict[str, Any]:
    """The node as its input schema sees it (for an edit form and a conflict)."""
    out = {name: getattr(node, name) for name in ProblemNodeIn.model_fields if hasattr(node, name)}
    links = links_by_node(session, [node.id])
    out.update({name: by_node.get(node.id, []) for name, by_node in links.items()})
    return out


def choices(session: Session, plan: Plan) -> dict[str, list[tuple[int, str]]]:
    """What a node may link to: the plan's KRAs and actions, current DOE items, the area's data
    items and files."""
    kras = session.exec(
        select(KeyResultArea)
        .where(KeyResultArea.plan_id == plan.id)
        .order_by(KeyResultArea.position)
    ).all()
    actions = session.exec(
        select(Action).where(Action.plan_id == plan.id).order_by(Action.position)
    ).all()
    items = session.exec(
        select(DOEItem, DOEAspect)
        .join(DOEAspect, DOEAspect.id == DOEItem.aspect_id)
        .join(DOEFramework, DOEFramework.id == DOEAspect.framework_id)
        .where(col(DOEFramework.is_current).is_(True))
        .order_by(DOEAspect.position, DOEItem.position)
    ).all()
    data = session.exec(
        select(DataItem).where(DataItem.area_id == plan.area_id).order_by(DataItem.position)
    ).all()
    files = session.exec(
        select(EvidenceFile).where(EvidenceFile.area_id == plan.area_id).order_by(EvidenceFile.id)
    ).all()
    return {
        "kra_ids": [(k.id, f"{k.code} {k.title}") for k in kras],
        "doe_item_ids": [(i.id, f"{a.code}{i.code} {i.name_th}") for i, a in items],
        "action_ids": [(a.id, f"{a.code} {a.title}") for a in actions],
        "data_item_ids": [(d.id, d.name) for d in data],
        "file_ids": [(f.id, f.filename) for f in files],
    }


# ---- writing --------------------------------------------------------------------------------


def _allowed(session: Session, plan: Plan, name: str) -> set[int]:
    if name == "kra_ids":
        query = select(KeyResultArea.id).where(KeyResultArea.plan_id == plan.id)
    elif name == "action_ids":
        query = select(Action.id).where(Action.plan_id == plan.id)
    elif name == "doe_item_ids":
        query = (
            select(DOEItem.id)
            .join(DOEAspect, DOEAspect.id == DOEItem.aspect_id)
            .join(DOEFramework, DOEFramework.id == DOEAspect.framework_id)
            .where(col(DOEFramework.is_current).is_(True))
        )
    elif name == "data_item_ids":
        query = select(DataItem.id).where(DataItem.area_id == plan.area_id)
    else:
        query = select(EvidenceFile.id).where(EvidenceFile.area_id == plan.area_id)
    return set(session.exec(query).all())


def _check_links(session: Session, plan: Plan, data: ProblemNodeIn) -> None:
    errors = {
        link.field: Msg(PICK)
        for link in LINKS
        if getattr(data, link.field)
        and set(getattr(data, link.field)) - _allowed(session, plan, link.field)
    }
    if errors:
        raise ValidationFailed(errors)


def _write_links(session: Session, node_id: int, data: ProblemNodeIn, replace: bool) -> dict:
    written = {}
    for link in LINKS:
        if replace:
            session.exec(sql_delete(link.table).where(link.table.node_id == node_id))
        ids = sorted(set(getattr(data, link.field)))
        for other in ids:
            session.add(link.table(node_id=node_id, **{link.other: other}))
        written[link.field] = ids
    session.flush()
    return written


def _columns(data: ProblemNodeIn) -> dict[str, Any]:
    return data.model_dump(exclude={link.field for link in LINKS})


def _check_version(session: Session, node: ProblemNode, expected: int | None) -> None:
    if expected is not None and expected != node.version:
        raise _conflict(session, node)


def _conflict(session: Session, node: ProblemNode) -> Conflict:
    return Conflict(
        Msg(audit.STALE), current={"version": node.version, **node_values(session, node)}
    )


def _next_position(session: Session, plan: Plan, parent_id: int | None) -> int:
    query = select(func.max(ProblemNode.position)).where(
        ProblemNode.plan_id == plan.id, ProblemNode.parent_id == parent_id
    )
    current = session.exec(query).one()
    return 0 if current is None else current + 1


def _snap(node: ProblemNode, **extra: Any) -> dict[str, Any]:
    """The node for the audit trail; its parent as `cause_of` (the history names the node)."""
    snapshot = audit.snapshot(node, **extra)
    snapshot["cause_of"] = snapshot.pop("parent_id", None)
    return snapshot


def create_node(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    node_in: dict[str, Any],
    parent_id: int | None = None,
    reason: str | None = None,
) -> ProblemNode:
    """A problem (no parent) or a cause under `parent_id`, last among its siblings; `reason`
    says where it came from (a workshop session's contribution)."""
    data = validate(ProblemNodeIn, node_in)
    if parent_id is not None:
        get_node(session, plan, parent_id)
    _check_links(session, plan, data)
    node = ProblemNode(plan_id=plan.id, parent_id=parent_id, **_columns(data))
    node.position = _next_position(session, plan, parent_id)
    session.add(node)
    session.flush()
    links = _write_links(session, node.id, data, replace=False)
    _finish(
        session,
        actor=actor,
        plan=plan,
        entity_type=ENTITY,
        entity_id=node.id,
        op=AuditOp.create,
        after=_snap(node, **links),
        reason=reason,
    )
    return node


def update_node(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    node_id: int,
    node_in: dict[str, Any],
    expected_version: int | None = None,
) -> ProblemNode:
    node = get_node(session, plan, node_id)
    _check_version(session, node, expected_version)
    data = validate(ProblemNodeIn, node_in)
    _check_links(session, plan, data)
    current = node_values(session, node)
    before = _snap(node, **{k: v for k, v in current.items() if k.endswith("_ids")})
    with audit.lost_race(session, node, lambda: _conflict(session, node)):
        for name, value in _columns(data).items():
            setattr(node, name, value)
        node.version += 1
        session.add(node)
        links = _write_links(session, node.id, data, replace=True)
        _finish(
            session,
            actor=actor,
            plan=plan,
            entity_type=ENTITY,
            entity_id=node.id,
            op=AuditOp.update,
            before=before,
            after=_snap(node, **links),
        )
    return node


def descendants(session: Session, plan: Plan, node_id: int) -> list[int]:
    """The ids under the node, at any depth (one query for the plan's nodes)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for node_id_, parent_id in session.exec(
        select(ProblemNode.id, ProblemNode.parent_id).where(ProblemNode.plan_id == plan.id)
    ).all():
        children[parent_id].append(node_id_)
    out: list[int] = []
    stack = list(children.get(node_id, []))
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children.get(current, []))
    return out


def move_node(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    node_id: int,
    move_in: dict[str, Any],
    expected_version: int | None = None,
) -> ProblemNode:
    """Put the node (with its causes) under another parent, or at the top; never under itself
    or one of its descendants."""
    node = get_node(session, plan, node_id)
    _check_version(session, node, expected_version)
    parent_id = validate(MoveIn, move_in).parent_id
    if parent_id is not None:
        try:
            get_node(session, plan, parent_id)
        except NotFound:
            raise ValidationFailed({"parent_id": Msg(PICK)}) from None
        if parent_id == node.id or parent_id in descendants(session, plan, node.id):
            raise ValidationFailed({"parent_id": Msg(CYCLE)})
    if parent_id == node.parent_id:
        return node
    before = {"cause_of": node.parent_id, "position": node.position}
    with audit.lost_race(session, node, lambda: _conflict(session, node)):
        node.parent_id = parent_id
        node.position = _next_position(session, plan, parent_id)
        node.version += 1
        session.add(node)
        _finish(
            session,
            actor=actor,
            plan=plan,
            entity_type=ENTITY,
            entity_id=node.id,
            op=AuditOp.update,
            before=before,
            after={"cause_of": node.parent_id, "position": node.position},
        )
    return node


def delete_node(
    session: Session,
    *,
    actor: audit.Actor,
    plan: Plan,
    node_id: int,
    force: bool = False,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Delete a node; one with causes under it only with `force` (they go with it)."""
    node = get_node(session, plan, node_id)
    _check_version(session, node, expected_version)
    under = descendants(session, plan, node.id)
    if under and not force:
        raise Conflict(Msg(HAS_CAUSES, {"count": len(under)}), current={"descendants": under})
    links = links_by_node(session, [node.id])
    rows = session.exec(select(ProblemNode).where(col(ProblemNode.id).in_([node.id, *under]))).all()
    before = _snap(
        node,
        **{name: by_node.get(node.id, []) for name, by_node in links.items()},
        subtree=[r.text for r in sorted(rows, key=lambda r: r.id) if r.id != node.id],
    )
    with audit.lost_race(session, node, lambda: _conflict(session, node)):
        session.exec(sql_delete(ProblemNode).where(col(ProblemNode.id).in_(under)))
        session.delete(node)
        _finish(
            session,
            actor=actor,
            plan=plan,
            entity_type=ENTITY,
            entity_id=node_id,
            op=AuditOp.delete,
            before=before,
        )
    return before
