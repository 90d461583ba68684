"""Read models for the results chain map: the plan now or as it stood at a moment (rebuilt from the
audit trail), each KPI's status at a chosen period, and what changed between two moments.

The period slider steps through every period of the plan's KPIs that had begun, in time order.
At a chosen period a KPI shows its status for that period when it is of the same kind; a KPI
counted by another kind of period shows its latest own period that had ended by then (a yearly
KPI under a semester's step shows the last whole year).

With `partners`, the map also carries the area's boundary partners (outcome mapping), each with
its progress markers' levels at the chosen period (see `partners.marks_at`).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from app.i18n import N_, THAI_TZ, format_number, gettext, thai_today
from app.models import (
    KPI,
    Action,
    Area,
    AuditEvent,
    DOEStatement,
    KeyResultArea,
    Measurement,
    Plan,
    ProblemNode,
)
from app.models.enums import AuditOp, KPIStatus
from app.outcome_map import Element, MapData, PlanChain, map_data
from app.periods import period_label, period_span, sort_key
from app.services import partners as outcome_partners
from app.services.errors import Msg
from app.services.partners import PartnerMark
from app.services.plan_tree import PlanTree, load_tree
from app.services.progress import KPIProgress, kpi_row, kpi_rows, rule_of
from app.status import Judgement, Trend, trend

Link = Callable[[str, int], str | None]  # (layer, id) -> the element's page
DefaultPeriod = Callable[[dict[int, KPIProgress], list[str]], str | None]

# Audit entity types that make up the chain, with their model and link fields.
CHAIN_TYPES: dict[str, tuple[type[SQLModel], dict[str, str]]] = {
    "doe_statement": (DOEStatement, {"item_ids": "doe_items"}),
    "problem_node": (
        ProblemNode,
        {"kra_ids": "node_kras", "action_ids": "node_actions", "doe_item_ids": "node_items"},
    ),
    "kra": (KeyResultArea, {"doe_item_ids": "kra_items"}),
    "kpi": (KPI, {"kra_ids": "kpi_kras", "co_owner_ids": "kpi_co_owners"}),
    "action": (
        Action,
        {"kpi_ids": "action_kpis", "kra_ids": "action_kras", "partner_ids": "action_partners"},
    ),
}
TREE_LISTS = {
    "doe_statement": "doe",
    "problem_node": "problem_nodes",
    "kra": "kras",
    "kpi": "kpis",
}
PROGRESS_TYPES = ("measurement", "kpi_target")
# Columns that are bookkeeping, not content, when comparing two states of an element.
BOOKKEEPING = frozenset({"version", "position", "created_at", "plan_id", "id", "is_demo"})
UNKNOWN_PERIOD = N_("There is no such period in this plan. Choose one of: %(codes)s.")
NO_PERIODS = N_(
    "The plan had no periods on that date (it was entered later): leave out as_of or choose a later date."
)


@dataclass
class MapView:
    area: Area
    plan: Plan
    tree: PlanTree
    rows: dict[int, KPIProgress]  # KPI id -> its progress
    periods: list[str]  # the slider's steps, in time order
    period: str | None
    data: MapData
    as_of: date | None = None
    statuses: dict[int, Judgement | None] = field(default_factory=dict)
    unknown: str | None = None  # a period code asked for that the plan does not have
    partners: list[PartnerMark] | None = None  # None: the partners' layer is not shown

    @property
    def step(self) -> int:
        return self.periods.index(self.period) if self.period in self.periods else 0


@dataclass(frozen=True)
class Difference:
    key: str  # node key, as on the map
    layer: str
    label: str
    change: str  # added, removed, changed
    fields: list[tuple[str, Any, Any]]  # (field, before, after) for a change


# ---- periods --------------------------------------------------------------------------------


def slider_periods(rows: dict[int, KPIProgress], today: date) -> list[str]:
    found = {p for row in rows.values() for p in row.periods}
    begun = [p for p in found if period_span(p).starts_on <= today]
    return sorted(begun, key=sort_key)


def latest_with_data(rows: dict[int, KPIProgress], periods: list[str]) -> str | None:
    """The newest step for which some KPI has a value of its own; otherwise the newest step."""
    for period in reversed(periods):
        if any(period in row.actuals for row in rows.values()):
            return period
    return periods[-1] if periods else None


def best_covered(rows: dict[int, KPIProgress], periods: list[str]) -> str | None:
    """The projector's first step: the newest one at which most KPIs (more than half) have a
    figure, so that one fresh value does not turn most cards into "no data"; failing that, the
    newest step with the most KPIs that have one; with no figure at all, the newest step."""
    if not periods:
        return None
    counts = {p: sum(1 for row in rows.values() if has_figure_at(row, p)) for p in periods}
    for period in reversed(periods):
        if counts[period] * 2 > len(rows):
            return period
    most = max(counts.values())
    return next(p for p in reversed(periods) if counts[p] == most)


def own_period_at(row: KPIProgress, period: str) -> str | None:
    """The KPI's own period that the map shows at step `period`: the same one when the KPI is
    counted by it, else its latest own period that had ended by then."""
    if period in row.judgements:
        return period
    ends = period_span(period).ends_on
    done = [p for p in row.periods if period_span(p).ends_on <= ends]
    return done[-1] if done else None


def status_at(row: KPIProgress, period: str) -> Judgement | None:
    own = own_period_at(row, period)
    return row.judgements[own] if own else None


def has_figure_at(row: KPIProgress, period: str) -> bool:
    judgement = status_at(row, period)
    return judgement is not None and judgement.figure is not None


def trend_at(row: KPIProgress, period: str) -> Trend | None:
    """The trend up to the period the map shows, and only when the KPI has a figure there: a
    card never says "no data" and "improving" at once, nor shows a later period's trend."""
    own = own_period_at(row, period)
    if own is None or row.judgements[own].figure is None:
        return None
    shown = row.periods[: row.periods.index(own) + 1]
    found = trend([row.judgements[p].figure for p in shown], rule_of(row.kpi))
    return None if found.direction == "unknown" else found


def unknown_period(view: "MapView") -> dict[str, Msg]:
    """The message for a period code the map was asked for but the plan does not have."""
    if not view.periods:
        return {"period": Msg(NO_PERIODS)}
    return {"period": Msg(UNKNOWN_PERIOD, {"codes": ", ".join(view.periods)})}


# ---- the map --------------------------------------------------------------------------------


def map_view(
    session: Session,
    area: Area,
    plan: Plan,
    link: Link,
    *,
    period: str | None = None,
    as_of: date | None = None,
    today: date | None = None,
    partners: bool = False,
    problems: bool = False,
    default: DefaultPeriod = latest_with_data,
) -> MapView:
    """The map at `period` (the newest step with data when None), of the plan now or, with
    `as_of`, as it stood at the end of that day. A period the plan does not have is shown as
    the default one, with `unknown` set to the code asked for (see `unknown_period`). With
    `partners`, the boundary partners' column too (their ratings as they are now); with
    `problems`, the problem tree's problems left of the desired outcomes."""
    loaded = outcome_partners.load(session, area) if partners else None
    if as_of is not None:
        state = state_at(session, area, plan, end_of(as_of))
        rows = state.rows(as_of)
        return _assemble(
            area,
            plan,
            link,
            state.tree,
            rows,
            as_of,
            period,
            as_of,
            loaded=loaded,
            default=default,
            problems=problems,
        )
    today = today or thai_today()
    tree = load_tree(session, plan, area)
    rows = kpi_rows(session, plan, tree.kpis, today)
    return _assemble(
        area,
        plan,
        link,
        tree,
        rows,
        today,
        period,
        None,
        loaded=loaded,
        default=default,
        problems=problems,
    )


def _assemble(
    area: Area,
    plan: Plan,
    link: Link,
    tree: PlanTree,
    rows: dict[int, KPIProgress],
    today: date,
    period: str | None,
    as_of: date | None,
    extra: PlanTree | None = None,
    marks: dict[str, str] | None = None,
    loaded: outcome_partners.Loaded | None = None,
    default: DefaultPeriod = latest_with_data,
    problems: bool = False,
) -> MapView:
    periods = slider_periods(rows, today)
    unknown = period if period is not None and period not in periods else None
    if period is None or unknown:
        period = default(rows, periods)
    statuses = {kpi_id: status_at(row, period) if period else None for kpi_id, row in rows.items()}
    chain = chain_of(tree, statuses, link, extra)
    partner_marks = None
    if loaded is not None:
        partner_marks = outcome_partners.marks_at(loaded, period)
        chain = replace(chain, partners=partner_elements(partner_marks, link))
    if problems:
        chain = replace(chain, problems=problem_elements(tree, link))
    data = map_data(chain, marks)
    return MapView(
        area, plan, tree, rows, periods, period, data, as_of, statuses, unknown, partner_marks
    )


def partner_elements(marks: list[PartnerMark], link: Link) -> list[Element]:
    """The partners' column: each marked by its highest rung, its levels and rated period."""
    return [
        Element(
            m.partner.id,
            "",
            m.partner.name,
            status=m.rung,
            detail=period_label(m.step.period) if m.step else "",
            url=link("partner", m.partner.id),
            levels=tuple((r.level, r.reached, r.active) for r in m.step.rungs) if m.step else (),
        )
        for m in marks
    ]


def problem_elements(tree: PlanTree, link: Link) -> list[Element]:
    """The problems' column: each top-level problem, linked to the KRAs and national DOE items
    it or any cause under it motivates."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for node in tree.problem_nodes:
        children[node.parent_id].append(node.id)

    def under(node_id: int) -> list[int]:
        found = [node_id]
        for child in children.get(node_id, []):
            found += under(child)
        return found

    out = []
    for node in tree.problem_nodes:
        if node.parent_id is not None:
            continue
        subtree = under(node.id)
        kras = sorted({k for n in subtree for k in tree.node_kras.get(n, ())})
        items = sorted({i for n in subtree for i in tree.node_items.get(n, ())})
        out.append(
            Element(
                node.id,
                "",
                node.text,
                tuple(kras),
                url=link("problem", node.id),
                extra_links=tuple(items),
            )
        )
    return out


def chain_of(
    tree: PlanTree,
    statuses: dict[int, Judgement | None],
    link: Link,
    extra: PlanTree | None = None,
) -> PlanChain:
    """The map's input from a plan tree (plus, in a comparison, the elements `extra` holds that
    the tree no longer has)."""
    trees = [tree] if extra is None else [tree, extra]
    doe, kras, kpis, actions = {}, {}, {}, {}
    for t in trees:
        for s in t.doe:
            doe.setdefault(
                s.id,
                Element(s.id, "", s.text, tuple(t.doe_items.get(s.id, ())), url=link("doe", s.id)),
            )
        for k in t.kras:
            kras.setdefault(
                k.id,
                Element(
                    k.id, k.code, k.title, tuple(t.kra_items.get(k.id, ())), url=link("kra", k.id)
                ),
            )
        for k in t.kpis:
            judgement = statuses.get(k.id)
            kpis.setdefault(
                k.id,
                Element(
                    k.id,
                    k.code,
                    k.name,
                    tuple(t.kpi_kras.get(k.id, ())),
                    status=(judgement.status if judgement else KPIStatus.no_data).value,
                    detail=_figure_line(judgement, k),
                    url=link("kpi", k.id),
                ),
            )
        for a in t.actions:
            actions.setdefault(
                a.id,
                Element(
                    a.id,
                    a.code,
                    a.title,
                    tuple(t.action_kpis.get(a.id, ())),
                    status=a.status,
                    url=link("action", a.id),
                    extra_links=tuple(t.action_kras.get(a.id, ())),
                ),
            )
    return PlanChain(
        doe=list(doe.values()),
        vision=tree.plan.vision,
        kras=list(kras.values()),
        kpis=list(kpis.values()),
        actions=list(actions.values()),
        vision_url=link("vision", 0),
    )


COMPUTED_MARK = N_("computed from data")


def _figure_line(judgement: Judgement | None, kpi: KPI) -> str:
    """The KPI's figure against its target, marked when computed from the data catalogue."""
    mark = gettext(COMPUTED_MARK) if kpi.compute_method else ""
    if judgement is None or judgement.figure is None:
        return mark
    unit = f" {kpi.unit}" if kpi.unit else ""
    text = f"{format_number(round(judgement.figure, 2))}{unit}"
    if judgement.target is not None:
        text += f" / {format_number(round(judgement.target, 2))}{unit}"
    return f"{text} ({mark})" if mark else text


# ---- the plan at a moment, from the audit trail ---------------------------------------------


def end_of(day: date) -> datetime:
    """The last moment of a day on Thailand's wall clock."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=THAI_TZ)


@dataclass
class State:
    """The plan's elements and progress as the audit trail had them at a moment."""

    plan: Plan
    area: Area
    snapshots: dict[tuple[str, int], dict[str, Any]]  # (entity type, id) -> columns and links
    values: dict[tuple[int, str], float | None]  # (KPI id, period) -> value
    targets: dict[tuple[int, str], float]
    vision: str

    @cached_property
    def tree(self) -> PlanTree:  # built once, after the replay has filled the state
        plan = Plan.model_validate({**self.plan.model_dump(), "vision": self.vision})
        tree = PlanTree(plan=plan, area=self.area)
        by_type: dict[str, list[SQLModel]] = defaultdict(list)
        for (entity_type, _id), snap in self.snapshots.items():
            if entity_type not in CHAIN_TYPES:  # a kind of record the chain no longer holds
                continue
            model, links = CHAIN_TYPES[entity_type]
            if entity_type == "problem_node":  # the trail names the parent `cause_of`
                snap = {**snap, "parent_id": snap.get("cause_of")}
            row = model.model_validate({k: v for k, v in snap.items() if k in model.model_fields})
            by_type[entity_type].append(row)
            for link_field, attr in links.items():
                getattr(tree, attr)[row.id] = list(snap.get(link_field) or [])
        for entity_type, rows in by_type.items():
            rows.sort(key=lambda r: (r.position, r.id))
            if entity_type == "action":
                tree.actions = rows
            else:
                setattr(tree, TREE_LISTS[entity_type], rows)
        return tree

    def rows(self, today: date) -> dict[int, KPIProgress]:
        tree = self.tree
        actuals: dict[int, dict[str, Measurement]] = defaultdict(dict)
        for (kpi_id, period), value in self.values.items():
            actuals[kpi_id][period] = Measurement(kpi_id=kpi_id, period=period, value=value)
        targets: dict[int, dict[str, float]] = defaultdict(dict)
        for (kpi_id, period), value in self.targets.items():
            targets[kpi_id][period] = value
        return {k.id: kpi_row(self.plan, k, actuals[k.id], targets[k.id], today) for k in tree.kpis}


def state_at(session: Session, area: Area, plan: Plan, moment: datetime) -> State:
    """Replay the area's audit trail up to `moment`: one query, in the order things happened."""
    types = [*CHAIN_TYPES, *PROGRESS_TYPES, "plan"]
    events = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.area_id == area.id,
            col(AuditEvent.entity_type).in_(types),
            col(AuditEvent.at) < moment.astimezone(UTC),  # stored in UTC (SQLite: naive)
        )
        .order_by(col(AuditEvent.id))
    ).all()
    state = State(plan, area, {}, {}, {}, vision="")
    for event in events:
        _apply(state, event)
    return state


def _apply(state: State, event: AuditEvent) -> None:
    after = event.after if event.op != AuditOp.delete.value else None
    snap = after or event.before or {}
    if event.entity_type == "plan":
        if after and after.get("id", state.plan.id) == state.plan.id:
            state.vision = after.get("vision", state.vision) or ""
        return
    if event.entity_type == "measurement":
        key = (snap.get("kpi_id"), snap.get("period"))
        if after:
            state.values[key] = after.get("value")
        else:
            state.values.pop(key, None)
        return
    if event.entity_type == "kpi_target":
        key = (snap.get("kpi_id") or event.entity_id, snap.get("period"))
        if after and after.get("value") is not None:
            state.targets[key] = after["value"]
        else:
            state.targets.pop(key, None)
        return
    if snap.get("plan_id") not in (None, state.plan.id) or event.entity_id is None:
        return
    key = (event.entity_type, event.entity_id)
    if after:
        state.snapshots[key] = {**state.snapshots.get(key, {}), **after, "id": event.entity_id}
    else:
        state.snapshots.pop(key, None)


# ---- comparing two moments ------------------------------------------------------------------

NODE_LAYERS = {
    "doe_statement": "doe",
    "problem_node": "problem",
    "kra": "kra",
    "kpi": "kpi",
    "action": "action",
}


def compare(before: State, after: State) -> list[Difference]:
    """What was added, removed or changed between two states, in the chain's order."""
    found = []
    for key in sorted(set(before.snapshots) | set(after.snapshots), key=_chain_order):
        old, new = before.snapshots.get(key), after.snapshots.get(key)
        entity_type, element_id = key
        layer = NODE_LAYERS.get(entity_type, entity_type)
        snap = new or old or {}
        label = label_of(entity_type, snap)
        if old is None:
            found.append(Difference(f"{layer}:{element_id}", layer, label, "added", []))
        elif new is None:
            found.append(Difference(f"{layer}:{element_id}", layer, label, "removed", []))
        else:
            fields = [
                (name, old.get(name), new.get(name))
                for name in dict.fromkeys([*old, *new])
                if name not in BOOKKEEPING and _differs(old.get(name), new.get(name))
            ]
            if fields:
                found.append(Difference(f"{layer}:{element_id}", layer, label, "changed", fields))
    if before.vision != after.vision:
        fields = [("vision", before.vision, after.vision)]
        found.insert(0, Difference("vision:0", "vision", "", "changed", fields))
    return found


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) != sorted(map(str, b))
    return (a or None) != (b or None)


def _chain_order(key: tuple[str, int]) -> tuple[int, int]:
    order = list(CHAIN_TYPES)
    return (order.index(key[0]) if key[0] in order else len(order)), key[1]


def label_of(entity_type: str, snap: dict[str, Any]) -> str:
    text = snap.get("title") or snap.get("name") or snap.get("text") or snap.get("problem") or ""
    code = snap.get("code") or ""
    return f"{code} {text}".strip()


def compare_view(
    session: Session, area: Area, plan: Plan, link: Link, since: date, until: date
) -> tuple[MapView, list[Difference]]:
    """The map as it stood at the end of `until`, with what was removed since `since` drawn in
    and each added, removed or changed element marked."""
    old = state_at(session, area, plan, end_of(since))
    new = state_at(session, area, plan, end_of(until))
    differences = compare(old, new)
    marks = {d.key: d.change for d in differences}
    view = _assemble(
        area, plan, link, new.tree, new.rows(until), until, None, until, old.tree, marks
    )
    return view, differences
