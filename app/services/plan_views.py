"""Read models for plan pages: a whole plan with its names and checks, in fixed queries."""

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from app.i18n import thai_sort_key
from app.models import Area, DataItem, KPIDataItem, Plan
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
    data_items: dict[int, DataItem] = field(default_factory=dict)  # the area's catalogue
    kpi_data_items: dict[int, list[int]] = field(default_factory=dict)  # KPI -> data items

    @property
    def data_item_choices(self) -> list[tuple[int, str]]:
        """The KPI form's picker: the area's data items in Thai dictionary order."""
        items = sorted(self.data_items.values(), key=lambda i: (thai_sort_key(i.name), i.id))
        return [(i.id, i.name) for i in items]

    def data_item_choices_for(self, period_type: str) -> list[tuple[int, str]]:
        """The items a KPI of this period type may be computed from."""
        return [
            (i, name)
            for i, name in self.data_item_choices
            if self.data_items[i].period_type == period_type
        ]

    def cited_data_items(self, kpi_id: int) -> list[DataItem]:
        ids = self.kpi_data_items.get(kpi_id, [])
        items = [self.data_items[i] for i in ids if i in self.data_items]
        return sorted(items, key=lambda i: (thai_sort_key(i.name), i.id))

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
    catalogues = _data_items(session, [a.id for a in areas])
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
        items, cited = catalogues.get(area.id, ({}, {}))
        kpi_ids = {k.id for k in tree.kpis} if tree else set()
        views[area.id].data_items = items
        views[area.id].kpi_data_items = {k: ids for k, ids in cited.items() if k in kpi_ids}
    return views


def _data_items(
    session: Session, area_ids: list[int]
) -> dict[int, tuple[dict[int, DataItem], dict[int, list[int]]]]:
    """Each area's data catalogue and which KPIs cite its items, in one query."""
    rows = session.exec(
        select(DataItem, KPIDataItem.kpi_id)
        .outerjoin(KPIDataItem, col(KPIDataItem.data_item_id) == DataItem.id)
        .where(col(DataItem.area_id).in_(area_ids))
        .order_by(DataItem.id)
    ).all()
    found: dict[int, tuple[dict[int, DataItem], dict[int, list[int]]]] = {}
    for item, kpi_id in rows:
        items, cited = found.setdefault(item.area_id, ({}, {}))
        items[item.id] = item
        if kpi_id is not None:
            cited.setdefault(kpi_id, []).append(item.id)
    return found
