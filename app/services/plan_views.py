"""Read models for plan pages: a whole plan with its names and checks, in fixed queries."""

from dataclasses import dataclass

from sqlmodel import Session

from app.models import Area, Plan
from app.services import quality
from app.services.plan_tree import PlanTree, current_plans, load_trees
from app.services.reference import Reference, load_reference


@dataclass
class PlanView:
    area: Area
    plan: Plan | None
    tree: PlanTree | None
    ref: Reference
    findings: list[quality.Finding]
    steps: dict[str, bool]

    @property
    def completeness(self) -> float:
        return quality.completeness_ratio(self.tree)


def plan_view(session: Session, area: Area) -> PlanView:
    return plan_views(session, [area])[area.id]


def plan_views(session: Session, areas: list[Area]) -> dict[int, PlanView]:
    """Views for many areas at once; the query count does not grow with areas or plan size."""
    plans = current_plans(session, [a.id for a in areas])
    trees = load_trees(session, list(plans.values()), {a.id: a for a in areas})
    ref = load_reference(session, [a.id for a in areas])
    codes = {item_id: item.code for item_id, item in ref.items.items()}
    views = {}
    for area in areas:
        plan = plans.get(area.id)
        tree = trees.get(plan.id) if plan else None
        views[area.id] = PlanView(
            area=area,
            plan=plan,
            tree=tree,
            ref=ref,
            findings=quality.findings(tree, codes) if tree else [],
            steps=quality.completeness(tree) if tree else dict.fromkeys(quality.STEPS, False),
        )
    return views
