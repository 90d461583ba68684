"""Load whole plans in a fixed number of queries, however large they are (no lazy loading)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, func, literal, union_all
from sqlmodel import Session, SQLModel, col, select

from app.models import (
    KPI,
    KPIKRA,
    Action,
    ActionKPI,
    ActionKRA,
    ActionPartner,
    Area,
    DOEStatement,
    DOEStatementItem,
    KeyResultArea,
    KPICoOwner,
    KRADOEItem,
    Plan,
    ProblemNode,
    ProblemNodeAction,
    ProblemNodeDOEItem,
    ProblemNodeKRA,
)

Links = dict[int, list[int]]


@dataclass
class PlanTree:
    plan: Plan
    area: Area
    doe: list[DOEStatement] = field(default_factory=list)
    kras: list[KeyResultArea] = field(default_factory=list)
    kpis: list[KPI] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    doe_items: Links = field(default_factory=dict)  # statement -> national items
    kra_items: Links = field(default_factory=dict)  # KRA -> national items
    kpi_kras: Links = field(default_factory=dict)
    kpi_co_owners: Links = field(default_factory=dict)
    action_kpis: Links = field(default_factory=dict)
    action_kras: Links = field(default_factory=dict)
    action_partners: Links = field(default_factory=dict)
    problem_nodes: list[ProblemNode] = field(default_factory=list)  # the problem tree
    node_kras: Links = field(default_factory=dict)  # problem node -> KRAs it motivates
    node_actions: Links = field(default_factory=dict)  # problem node -> actions addressing it
    node_items: Links = field(default_factory=dict)  # problem node -> national DOE items

    @property
    def problems(self) -> list[ProblemNode]:
        """The problem tree's top-level nodes (the problems), in order."""
        return [n for n in self.problem_nodes if n.parent_id is None]

    def causes_of(self, node_id: int | None) -> list[ProblemNode]:
        """The nodes directly under a node (its causes), in order."""
        return [n for n in self.problem_nodes if n.parent_id == node_id]

    @property
    def kra_kpis(self) -> Links:
        return _invert(self.kpi_kras)

    @property
    def kpi_actions(self) -> Links:
        return _invert(self.action_kpis)

    @property
    def kra_actions(self) -> Links:
        return _invert(self.action_kras)

    def kpis_by_id(self) -> dict[int, KPI]:
        return {k.id: k for k in self.kpis}

    def kras_by_id(self) -> dict[int, KeyResultArea]:
        return {k.id: k for k in self.kras}

    def actions_by_id(self) -> dict[int, Action]:
        return {a.id: a for a in self.actions}


def _invert(links: Links) -> Links:
    inverted: dict[int, list[int]] = defaultdict(list)
    for owner, targets in links.items():
        for target in targets:
            inverted[target].append(owner)
    return dict(inverted)


def current_plan_ids(area_ids: Iterable[int] | None = None) -> Select:
    """The ids of each area's newest plan (an area may later hold plans for successive
    spans), as a subquery; every area when `area_ids` is None."""
    query = select(func.max(Plan.id)).group_by(Plan.area_id)
    if area_ids is not None:
        query = query.where(col(Plan.area_id).in_(list(area_ids)))
    return query


def current_plans(session: Session, area_ids: Iterable[int]) -> dict[int, Plan]:
    """Each area's current plan, by area id."""
    plans = session.exec(select(Plan).where(col(Plan.id).in_(current_plan_ids(area_ids)))).all()
    return {plan.area_id: plan for plan in plans}


def load_trees(session: Session, plans: list[Plan], areas: dict[int, Area]) -> dict[int, PlanTree]:
    trees = {p.id: PlanTree(plan=p, area=areas[p.area_id]) for p in plans}
    ids = list(trees)
    if not ids:
        return trees
    for attr, model in (
        ("doe", DOEStatement),
        ("kras", KeyResultArea),
        ("kpis", KPI),
        ("actions", Action),
        ("problem_nodes", ProblemNode),
    ):
        for row in _rows(session, model, ids):
            getattr(trees[row.plan_id], attr).append(row)
    _attach(session, trees, "doe_items", DOEStatementItem, DOEStatement, "statement_id", "item_id")
    _attach(session, trees, "kra_items", KRADOEItem, KeyResultArea, "kra_id", "item_id")
    _attach(session, trees, "kpi_kras", KPIKRA, KPI, "kpi_id", "kra_id")
    _attach(session, trees, "kpi_co_owners", KPICoOwner, KPI, "kpi_id", "agency_id")
    _attach(session, trees, "action_kpis", ActionKPI, Action, "action_id", "kpi_id")
    _attach(session, trees, "action_kras", ActionKRA, Action, "action_id", "kra_id")
    _attach(session, trees, "action_partners", ActionPartner, Action, "action_id", "agency_id")
    _attach_node_links(session, trees)
    return trees


def load_tree(session: Session, plan: Plan, area: Area) -> PlanTree:
    return load_trees(session, [plan], {area.id: area})[plan.id]


def _rows(session: Session, model: type[SQLModel], plan_ids: list[int]) -> list:
    query = select(model).where(col(model.plan_id).in_(plan_ids))
    return list(session.exec(query.order_by(model.position, model.id)).all())


NODE_LINKS = (
    ("node_kras", ProblemNodeKRA, "kra_id"),
    ("node_actions", ProblemNodeAction, "action_id"),
    ("node_items", ProblemNodeDOEItem, "item_id"),
)


def _attach_node_links(session: Session, trees: dict[int, PlanTree]) -> None:
    """The problem tree's links (KRAs, actions, DOE items) in one query for all three."""
    parts = [
        select(
            ProblemNode.plan_id,
            link.node_id,
            literal(attr).label("attr"),
            getattr(link, target).label("target"),
        )
        .join(ProblemNode, ProblemNode.id == link.node_id)
        .where(col(ProblemNode.plan_id).in_(list(trees)))
        for attr, link, target in NODE_LINKS
    ]
    for plan_id, node_id, attr, target_id in session.exec(union_all(*parts)).all():
        getattr(trees[plan_id], attr).setdefault(node_id, []).append(target_id)
    for tree in trees.values():
        for attr, _link, _target in NODE_LINKS:
            for targets in getattr(tree, attr).values():
                targets.sort()


def _attach(
    session: Session,
    trees: dict[int, PlanTree],
    attr: str,
    link: type[SQLModel],
    owner: type[SQLModel],
    owner_col: str,
    target_col: str,
) -> None:
    query = (
        select(owner.plan_id, getattr(link, owner_col), getattr(link, target_col))
        .join(owner, owner.id == getattr(link, owner_col))
        .where(col(owner.plan_id).in_(list(trees)))
    )
    for plan_id, owner_id, target_id in session.exec(query).all():
        getattr(trees[plan_id], attr).setdefault(owner_id, []).append(target_id)
    for tree in trees.values():
        for targets in getattr(tree, attr).values():
            targets.sort()
