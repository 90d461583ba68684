"""The outcome map: the plan's chain DOE → vision → KRAs → KPIs → actions as a layered Plotly
figure. Pure: the caller passes the plan's elements, their statuses, links and translated names;
`map_data` lays the chain out and finds its gaps, `map_figure` draws it as a plain dict that
static/js/charts.js hands to Plotly.

Layers are columns, left to right. Within a column the elements are ordered by the mean position
of what they link to on the left (a barycentre pass), so links cross as little as a plain sort
allows. Many-to-many links stay visible: one action feeding three KPIs draws three lines.

Boundary partners (outcome mapping), when given, stand in a column of their own beyond the
actions: the plan does not link them to its elements, so they have no lines. Each shows its
progress markers' levels at the map's period and is marked by the highest rung it reached.
"""

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.charts import FONT, STATUS_COLOURS, plotly_text
from app.models.enums import ActionStatus, KPIStatus

LAYERS = ("doe", "vision", "kra", "kpi", "action")
PARTNER_LAYER = "partner"
RUNGS = ("expect", "like", "love")  # progress marker levels, bottom rung first
# A partner's highest rung reached: a shape and a shade each, "none" an open hexagon.
PARTNER_STYLES = {
    "none": ("hexagon-open", "#8b95a5"),
    "expect": ("triangle-up", "#a05195"),
    "like": ("hexagram", "#7a3f9a"),
    "love": ("star-diamond", "#4b2a85"),
}
ACTION_COLOURS = {
    ActionStatus.not_started: "#8b95a5",
    ActionStatus.on_track: "#1b7f3b",
    ActionStatus.delayed: "#b7791f",
    ActionStatus.done: "#0b5d7a",
    ActionStatus.dropped: "#c3c9d4",
}
# Shapes as well as colours, so a status reads on a grey projector and for colour-blind eyes.
STATUS_SYMBOLS = {
    KPIStatus.on_track: "circle",
    KPIStatus.at_risk: "diamond",
    KPIStatus.off_track: "square",
    KPIStatus.no_data: "circle-open",
}
ACTION_SYMBOLS = {
    ActionStatus.not_started: "triangle-right-open",
    ActionStatus.on_track: "triangle-right",
    ActionStatus.delayed: "diamond",
    ActionStatus.done: "star",
    ActionStatus.dropped: "x-thin-open",
}
CHAIN_COLOUR = "#1e3a8a"  # DOE statements and the vision: no status of their own
GAP_COLOUR = "#b42318"
EDGE_COLOUR = "#9aa3b2"
CHANGE_COLOURS = {"added": "#1b7f3b", "changed": "#b7791f", "removed": "#b42318"}
LABEL_CHARS = 34
ROW_PX = 38


@dataclass(frozen=True)
class Element:
    """One plan element as the map needs it."""

    id: int
    code: str
    title: str
    links: tuple[int, ...] = ()  # ids in the layer to its left it serves (DOE: national items)
    status: str | None = None  # KPI status or action status
    detail: str = ""  # a line for the hover box: the figure against its target, say
    url: str | None = None
    extra_links: tuple[int, ...] = ()  # an action's KRAs (drawn when it serves no KPI)
    levels: tuple[tuple[str, int, int], ...] = ()  # a partner's (rung, reached, active)


@dataclass(frozen=True)
class PlanChain:
    """The plan's elements by layer, with ids linking each to the layer on its left."""

    doe: Sequence[Element]
    vision: str
    kras: Sequence[Element]  # links: national DOE item ids
    kpis: Sequence[Element]  # links: KRA ids
    actions: Sequence[Element]  # links: KPI ids; extra_links: KRA ids
    vision_url: str | None = None
    partners: Sequence[Element] = ()  # status: highest rung reached; detail: the rated period


@dataclass(frozen=True)
class Node:
    key: str  # "kpi:12"
    layer: str
    code: str
    title: str
    status: str | None
    detail: str
    url: str | None
    gap: str | None = None  # "no_action", "no_kpi", "unlinked", "no_kra"
    change: str | None = None  # "added", "changed", "removed" in a compare view
    x: int = 0
    y: float = 0.0
    levels: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class MapData:
    nodes: list[Node]
    edges: list[tuple[str, str]]  # node keys, left to right
    rows: int  # the tallest column

    def gaps(self) -> list[Node]:
        return [n for n in self.nodes if n.gap]

    def layer(self, name: str) -> list[Node]:
        return sorted((n for n in self.nodes if n.layer == name), key=lambda n: -n.y)

    def layers(self) -> tuple[str, ...]:
        """The columns drawn, left to right: the partners' only when there are partners."""
        if any(n.layer == PARTNER_LAYER for n in self.nodes):
            return (*LAYERS, PARTNER_LAYER)
        return LAYERS


def kra_summary(statuses: Iterable[str | None]) -> str:
    """A KRA's colour: its worst KPI status among those with data; no data when none has any."""
    found = {s for s in statuses if s and s != KPIStatus.no_data}
    for status in (KPIStatus.off_track, KPIStatus.at_risk, KPIStatus.on_track):
        if status in found:
            return status.value
    return KPIStatus.no_data.value


def map_data(chain: PlanChain, changes: dict[str, str] | None = None) -> MapData:
    """Lay out the chain and mark its gaps: a KRA no KPI measures, a KPI no action serves, an
    action tied to nothing. `changes` (node key -> added/changed/removed) marks a comparison."""
    changes = changes or {}
    kra_ids = {k.id for k in chain.kras}
    kpi_ids = {k.id for k in chain.kpis}
    kra_kpis: dict[int, list[int]] = defaultdict(list)
    for kpi in chain.kpis:
        for kra_id in kpi.links:
            if kra_id in kra_ids:
                kra_kpis[kra_id].append(kpi.id)
    kpi_actions: dict[int, list[int]] = defaultdict(list)
    for action in chain.actions:
        for kpi_id in action.links:
            if kpi_id in kpi_ids:
                kpi_actions[kpi_id].append(action.id)
    kpi_status = {k.id: k.status for k in chain.kpis}

    edges: list[tuple[str, str]] = []
    # DOE statements meet KRAs through the national items both are tagged with.
    doe_rank: dict[int, float] = {}
    kra_order = {k.id: i for i, k in enumerate(chain.kras)}
    for statement in chain.doe:
        served = [k for k in chain.kras if set(k.links) & set(statement.links)]
        doe_rank[statement.id] = _mean([kra_order[k.id] for k in served], len(chain.kras))
    kpi_rank = {
        k.id: _mean([kra_order[i] for i in k.links if i in kra_order], len(chain.kras))
        for k in chain.kpis
    }
    kpi_order = {
        kpi.id: i for i, kpi in enumerate(sorted(chain.kpis, key=lambda k: kpi_rank[k.id]))
    }
    action_rank = {}
    for a in chain.actions:
        through_kpis = [kpi_order[i] for i in a.links if i in kpi_order]
        through_kras = [
            kra_order[i] * max(len(chain.kpis), 1) / max(len(chain.kras), 1)
            for i in a.extra_links
            if i in kra_order
        ]
        action_rank[a.id] = _mean(through_kpis or through_kras, len(chain.kpis))

    layers = (*LAYERS, PARTNER_LAYER) if chain.partners else LAYERS
    columns: dict[str, list[Node]] = {layer: [] for layer in layers}
    for s in sorted(chain.doe, key=lambda s: doe_rank[s.id]):
        columns["doe"].append(_node("doe", s, None, changes))
        edges.append((f"doe:{s.id}", "vision:0"))
    vision = Element(0, "", chain.vision, url=chain.vision_url)
    columns["vision"].append(_node("vision", vision, None, changes))
    for kra in chain.kras:
        status = kra_summary(kpi_status[i] for i in kra_kpis.get(kra.id, ()))
        gap = None if kra_kpis.get(kra.id) else "no_kpi"
        columns["kra"].append(_node("kra", kra, gap, changes, status=status))
        edges.append(("vision:0", f"kra:{kra.id}"))
    for kpi in sorted(chain.kpis, key=lambda k: kpi_rank[k.id]):
        gap = None if kpi_actions.get(kpi.id) else "no_action"
        columns["kpi"].append(_node("kpi", kpi, gap, changes))
        edges += [(f"kra:{i}", f"kpi:{kpi.id}") for i in kpi.links if i in kra_ids]
    for action in sorted(chain.actions, key=lambda a: action_rank[a.id]):
        to_kpis = [i for i in action.links if i in kpi_ids]
        to_kras = [i for i in action.extra_links if i in kra_ids]
        gap = None if to_kpis or to_kras else "unlinked"
        columns["action"].append(_node("action", action, gap, changes))
        edges += [(f"kpi:{i}", f"action:{action.id}") for i in to_kpis]
        if not to_kpis:  # served straight from its KRAs
            edges += [(f"kra:{i}", f"action:{action.id}") for i in to_kras]
    for partner in chain.partners:
        columns[PARTNER_LAYER].append(_node(PARTNER_LAYER, partner, None, changes))

    rows = max(len(c) for c in columns.values())
    nodes = []
    for x, layer in enumerate(layers):
        column = columns[layer]
        # partners are few and their labels take two lines: spread them out (up to 2.5 rows)
        step = min(2.5, rows / len(column)) if layer == PARTNER_LAYER else 1.0
        for i, node in enumerate(column):
            y = (rows - 1) / 2 + ((len(column) - 1) / 2 - i) * step  # centred, top to bottom
            nodes.append(_place(node, x, y))
    return MapData(nodes, edges, rows)


def _mean(values: list[int] | list[float], default: int) -> float:
    return sum(values) / len(values) if values else float(default)


def _node(
    layer: str, e: Element, gap: str | None, changes: dict[str, str], status: str | None = None
) -> Node:
    key = f"{layer}:{e.id}"
    status = status or e.status
    return Node(
        key, layer, e.code, e.title, status, e.detail, e.url, gap, changes.get(key), levels=e.levels
    )


def _place(node: Node, x: int, y: float) -> Node:
    return Node(**{**node.__dict__, "x": x, "y": y})


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """Cut a label to `limit` characters without splitting a Thai vowel or tone mark from its
    consonant."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and unicodedata.category(text[cut]) in ("Mn", "Mc"):
        cut -= 1
    return text[:cut].rstrip() + "…"


def map_figure(data: MapData, names: dict[str, str], *, big: bool = False) -> dict[str, Any]:
    """The Plotly figure. `names` holds the translated layer headings (doe, vision, kra, kpi,
    action), status names (by status value, and `action_<status>` for actions), gap reasons
    (`gap_<reason>`), change kinds and `gap`; with partners also `partner` (their heading),
    `partner_<rung>` (a rung reached, and `none`), `rung_<rung>` (the level's name),
    `partner_levels` (a template with %(expect)s, %(like)s and %(love)s), `level_line` (with
    %(level)s, %(reached)s and %(active)s) and `unrated`. `big` is for a projector: larger type
    and marks."""
    by_key = {n.key: n for n in data.nodes}
    layers = data.layers()
    font_size = 20 if big else 14
    mark = 22 if big else 15
    traces: list[dict[str, Any]] = [_edges(data, by_key)]
    groups: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for node in data.nodes:
        groups[_style_of(node)].append(node)
    for (family, status), nodes in sorted(groups.items(), key=lambda g: _legend_rank(*g[0])):
        traces.append(_marks(family, status, nodes, names, mark, font_size))
    for change in ("added", "changed", "removed"):
        marked = [n for n in data.nodes if n.change == change]
        if marked:
            traces.append(_ring(marked, CHANGE_COLOURS[change], names[change], mark + 12))
    gaps = data.gaps()
    if gaps:
        traces.append(_ring(gaps, GAP_COLOUR, names["gap"], mark + 8, dash=True))
    layout = {
        "font": {**FONT, "size": font_size},
        "margin": {"l": 8, "r": 40, "t": 56 if big else 44, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
        "xaxis": {
            "range": [-0.12, len(layers) + (0.4 if PARTNER_LAYER in layers else 0.05)],
            "visible": False,
            "fixedrange": True,
        },
        "yaxis": {"range": [-0.8, data.rows - 0.2], "visible": False, "fixedrange": True},
        "hovermode": "closest",
        "modebar": {"orientation": "v"},
        "hoverlabel": {"font": {"family": FONT["family"], "size": font_size}},
        "annotations": [
            {
                "text": names[layer],
                "x": x,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "xanchor": "left",
                "showarrow": False,
                "font": {"size": font_size + 2, "weight": "bold"},
            }
            for x, layer in enumerate(layers)
        ],
    }
    if not big:  # on a projector the map fills the screen instead
        layout["height"] = max(420, data.rows * ROW_PX + 110)
    return {"data": traces, "layout": layout, "config": _config(names, big)}


def _config(names: dict[str, str], big: bool) -> dict[str, Any]:
    """Plotly's own mode bar with only its download button (PNG); charts.js adds SVG. None on a
    projector: nothing there but the map."""
    if big:
        return {"displayModeBar": False, "responsive": True}
    return {
        "displayModeBar": True,
        "displaylogo": False,
        "responsive": True,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {
            "format": "png",
            "filename": names.get("filename", "outcome-map"),
            "scale": 2,
        },
    }


def _style_of(node: Node) -> tuple[str, str]:
    if node.layer == PARTNER_LAYER:
        return ("partner", node.status if node.status in PARTNER_STYLES else "none")
    if node.layer in ("doe", "vision"):
        return ("chain", "chain")
    if node.layer == "action":
        return ("action", node.status or ActionStatus.not_started.value)
    return ("kpi", node.status or KPIStatus.no_data.value)


def _legend_rank(family: str, status: str) -> tuple[int, int]:
    order = {"chain": 0, "kpi": 1, "action": 2, "partner": 3}[family]
    if family == "partner":
        return order, list(PARTNER_STYLES).index(status)
    values = [s.value for s in (KPIStatus if family == "kpi" else ActionStatus)]
    return order, values.index(status) if status in values else 0


def _marks(
    family: str,
    status: str,
    nodes: list[Node],
    names: dict[str, str],
    size: int,
    font_size: int,
) -> dict[str, Any]:
    if family == "chain":
        colour, symbol, name = CHAIN_COLOUR, "circle", names["chain"]
    elif family == "partner":
        symbol, colour = PARTNER_STYLES[status]
        name = names[f"partner_{status}"]
    elif family == "action":
        colour, symbol = ACTION_COLOURS[ActionStatus(status)], ACTION_SYMBOLS[ActionStatus(status)]
        name = names[f"action_{status}"]
    else:
        colour, symbol = STATUS_COLOURS[KPIStatus(status)], STATUS_SYMBOLS[KPIStatus(status)]
        name = names[status]
    return {
        "type": "scatter",
        "mode": "markers+text",
        "name": name,
        "x": [n.x for n in nodes],
        "y": [n.y for n in nodes],
        "text": [_label(n, names) for n in nodes],
        "textposition": "middle right",
        "textfont": {"size": font_size - 1},
        "hovertext": [_hover(n, names) for n in nodes],
        "hoverinfo": "text",
        "customdata": [n.url for n in nodes],
        "marker": {
            "size": size,
            "color": colour,
            "symbol": symbol,
            "line": {"color": colour, "width": 2},
        },
        "cliponaxis": False,
    }


def _label(node: Node, names: dict[str, str]) -> str:
    """The text beside a mark: plan text, escaped (people may type `<` in a title)."""
    if node.layer == PARTNER_LAYER:  # its name, and its levels under it
        name = plotly_text(shorten(node.title, LABEL_CHARS - 10))
        return f"{name}<br>{plotly_text(_levels(node, names))}"
    if node.layer == "vision":
        return plotly_text(shorten(node.title, LABEL_CHARS - 8))
    if node.code:
        title = shorten(node.title, LABEL_CHARS - len(node.code) - 10)
        return plotly_text(f"{node.code} {title}")
    return plotly_text(shorten(node.title, LABEL_CHARS - 10))


def _levels(node: Node, names: dict[str, str]) -> str:
    """'expect 2/3 · like 1/3 · love 0/2' (translated); 'not rated yet' before any rating."""
    if not node.detail:
        return names["unrated"]
    counts = {
        rung: f"{reached}/{active}" if active else "–" for rung, reached, active in node.levels
    }
    return names["partner_levels"] % {rung: counts.get(rung, "–") for rung in RUNGS}


def _partner_hover(node: Node, names: dict[str, str]) -> list[str]:
    lines = [node.title, names[f"partner_{_style_of(node)[1]}"]]
    if not node.detail:
        lines.append(names["unrated"])
    for rung, reached, active in node.levels if node.detail else ():
        params = {"level": names[f"rung_{rung}"], "reached": reached, "active": active}
        lines.append(names["level_line"] % params)
    if node.detail:
        lines.append(node.detail)
    return lines


def _hover(node: Node, names: dict[str, str]) -> str:
    """The hover box: plain lines, wrapped, then escaped, joined by our own line breaks."""
    if node.layer == PARTNER_LAYER:
        lines = _partner_hover(node, names)
    else:
        lines = [f"{node.code} {node.title}".strip()]
        if node.status and node.layer in ("kra", "kpi"):
            lines.append(names[node.status])
        elif node.status and node.layer == "action":
            lines.append(names[f"action_{node.status}"])
        if node.detail:
            lines.append(node.detail)
        if node.gap:
            lines.append(names[f"gap_{node.gap}"])
        if node.change:
            lines.append(names[node.change])
    return "<br>".join(plotly_text(part) for line in lines for part in _wrap(line))


def _wrap(line: str, width: int = 60) -> list[str]:
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


def _edges(data: MapData, by_key: dict[str, Node]) -> dict[str, Any]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in data.edges:
        if a in by_key and b in by_key:
            xs += [by_key[a].x, by_key[b].x, None]
            ys += [by_key[a].y, by_key[b].y, None]
    return {
        "type": "scatter",
        "mode": "lines",
        "x": xs,
        "y": ys,
        "line": {"color": EDGE_COLOUR, "width": 1.5},
        "hoverinfo": "skip",
        "showlegend": False,
    }


def _ring(nodes: list[Node], colour: str, name: str, size: int, dash: bool = False) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": [n.x for n in nodes],
        "y": [n.y for n in nodes],
        "hoverinfo": "skip",
        "marker": {
            "size": size,
            "color": "rgba(0,0,0,0)",
            "symbol": "circle-open-dot" if dash else "circle-open",
            "line": {"color": colour, "width": 3},
        },
    }
