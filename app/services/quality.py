"""Plan-quality checks and completeness. Pure functions of a loaded PlanTree."""

from dataclasses import dataclass

from app.services.errors import Msg
from app.services.plan_tree import PlanTree

STEPS = ("doe", "problems", "vision", "kras", "kpis", "actions")


@dataclass(frozen=True)
class Finding:
    check: str  # stable code, e.g. "kpi_no_target"
    kind: str  # element kind the finding points at: "kpis", "kras", ...
    element_id: int
    label: str  # the element's code or text, for display
    message: Msg


def _called(word: str, code: str) -> str:
    """'KPI11' as it is, '7' as 'KPI 7': a code that already starts with its word gets no second
    one ("No action serves KPI KPI11")."""
    return code if code.upper().startswith(word) else f"{word} {code}"


def completeness(tree: PlanTree) -> dict[str, bool]:
    return {
        "doe": bool(tree.doe),
        "problems": bool(tree.problem_nodes),
        "vision": bool(tree.plan.vision.strip()),
        "kras": bool(tree.kras),
        "kpis": bool(tree.kpis),
        "actions": bool(tree.actions),
    }


def completeness_ratio(tree: PlanTree | None) -> float:
    if tree is None:
        return 0.0
    done = completeness(tree)
    return sum(done.values()) / len(done)


def findings(tree: PlanTree, item_codes: dict[int, str] | None = None) -> list[Finding]:
    return [
        *_kpi_findings(tree),
        *_action_findings(tree),
        *_kra_findings(tree),
        *_doe_findings(tree, item_codes or {}),
        *_problem_findings(tree),
    ]


def _kpi_findings(tree: PlanTree) -> list[Finding]:
    out = []
    served = tree.kpi_actions
    for kpi in tree.kpis:
        if kpi.baseline_value is None:
            out.append(
                Finding(
                    "kpi_no_baseline",
                    "kpis",
                    kpi.id,
                    kpi.code,
                    Msg("%(kpi)s has no baseline.", {"kpi": _called("KPI", kpi.code)}),
                )
            )
        if kpi.target_value is None:
            out.append(
                Finding(
                    "kpi_no_target",
                    "kpis",
                    kpi.id,
                    kpi.code,
                    Msg("%(kpi)s has no target.", {"kpi": _called("KPI", kpi.code)}),
                )
            )
        if not served.get(kpi.id):
            out.append(
                Finding(
                    "kpi_no_action",
                    "kpis",
                    kpi.id,
                    kpi.code,
                    Msg("No action serves %(kpi)s.", {"kpi": _called("KPI", kpi.code)}),
                )
            )
        if not tree.kpi_kras.get(kpi.id):
            out.append(
                Finding(
                    "kpi_no_kra",
                    "kpis",
                    kpi.id,
                    kpi.code,
                    Msg("%(kpi)s serves no KRA.", {"kpi": _called("KPI", kpi.code)}),
                )
            )
    return out


def _action_findings(tree: PlanTree) -> list[Finding]:
    return [
        Finding(
            "action_no_kpi",
            "actions",
            a.id,
            a.code,
            Msg("Action %(code)s is linked to no KPI.", {"code": a.code}),
        )
        for a in tree.actions
        if not tree.action_kpis.get(a.id)
    ]


def _kra_findings(tree: PlanTree) -> list[Finding]:
    with_kpis = tree.kra_kpis
    return [
        Finding(
            "kra_no_kpi",
            "kras",
            k.id,
            k.code,
            Msg("%(kra)s has no KPI.", {"kra": _called("KRA", k.code)}),
        )
        for k in tree.kras
        if not with_kpis.get(k.id)
    ]


def _doe_findings(tree: PlanTree, item_codes: dict[int, str]) -> list[Finding]:
    """National DOE items the province chose (tagged on its statements) that no KRA addresses."""
    addressed = {item for items in tree.kra_items.values() for item in items}
    out = []
    seen: set[int] = set()
    for statement in tree.doe:
        for item_id in tree.doe_items.get(statement.id, []):
            if item_id not in addressed and item_id not in seen:
                seen.add(item_id)
                code = item_codes.get(item_id, str(item_id))
                out.append(
                    Finding(
                        "doe_item_no_kra",
                        "doe",
                        statement.id,
                        code,
                        Msg("DOE item %(item)s is addressed by no KRA.", {"item": code}),
                    )
                )
    return out


def _problem_findings(tree: PlanTree) -> list[Finding]:
    """Once the plan has a problem tree: KRAs that answer no problem (no node motivates them),
    and root causes (causes with no causes under them) that no action addresses. A plan without
    a tree shows its problems step as not done instead."""
    if not tree.problem_nodes:
        return []
    motivated = {kra for kras in tree.node_kras.values() for kra in kras}
    out = [
        Finding(
            "kra_no_problem",
            "kras",
            k.id,
            k.code,
            Msg("%(kra)s answers no problem.", {"kra": _called("KRA", k.code)}),
        )
        for k in tree.kras
        if k.id not in motivated
    ]
    parents = {n.parent_id for n in tree.problem_nodes}
    out.extend(
        Finding(
            "root_cause_no_action",
            "problem_nodes",
            n.id,
            n.text,
            Msg("Root cause “%(text)s” is addressed by no action.", {"text": _short(n.text)}),
        )
        for n in tree.problem_nodes
        if n.parent_id is not None and n.id not in parents and not tree.node_actions.get(n.id)
    )
    return out


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
