"""The results chain map: the plan's chain DOE → vision → KRAs → KPIs → actions as a layered Plotly
figure. Pure: the caller passes the plan's elements, their statuses, links and translated names;
`map_data` lays the chain out and finds its gaps, `map_figure` draws it as a plain dict that
static/js/charts.js hands to Plotly.

Layers are columns, left to right. Within a column the elements are ordered by the mean position
of what they link to on the left (a barycentre pass), so links cross as little as a plain sort
allows. Many-to-many links stay visible: one action feeding three KPIs draws three lines.

Boundary partners (outcome mapping), when given, stand in a column of their own beyond the
actions: the plan does not link them to its elements, so they have no lines. Each shows its
progress markers' levels at the map's period and is marked by the highest rung it reached.

The plan's problems (its problem tree's top level), when given, stand in a column left of the
desired outcomes, each linked to the DOE statements and KRAs it (or a cause under it) motivates.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.charts import FONT, plotly_text
from app.linebreak import text_width, wrap
from app.models.enums import ActionStatus, KPIStatus

LAYERS = ("doe", "vision", "kra", "kpi", "action")
PARTNER_LAYER = "partner"
PROBLEM_LAYER = "problem"
PROBLEM_COLOUR = "#b3412e"
RUNGS = ("expect", "like", "love")  # progress marker levels, bottom rung first
# A partner's highest rung reached: a shape and a shade each, "none" an open hexagon.
PARTNER_STYLES = {
    "none": ("hexagon-open", "#8b95a5"),
    "expect": ("triangle-up", "#a05195"),
    "like": ("hexagram", "#7a3f9a"),
    "love": ("star-diamond", "#4b2a85"),
}
# A colour-blind safe palette (after Paul Tol's "vibrant"): blue, orange and magenta stay apart
# for every common kind of colour blindness, each at least 4:1 on white; grey for no status. The
# shape is the first cue, the colour the second, and each family has shapes of its own: a KPI
# at risk is a diamond, an action delayed an hourglass.
ON_TRACK, AT_RISK, OFF_TRACK, DONE, GREY = "#0077bb", "#c75a14", "#cc2266", "#00877a", "#6b7280"
KPI_COLOURS = {
    KPIStatus.on_track: ON_TRACK,
    KPIStatus.at_risk: AT_RISK,
    KPIStatus.off_track: OFF_TRACK,
    KPIStatus.no_data: GREY,
}
STATUS_SYMBOLS = {
    KPIStatus.on_track: "circle",
    KPIStatus.at_risk: "diamond",
    KPIStatus.off_track: "square",
    KPIStatus.no_data: "circle-open",
}
ACTION_COLOURS = {
    ActionStatus.not_started: GREY,
    ActionStatus.on_track: ON_TRACK,
    ActionStatus.delayed: AT_RISK,
    ActionStatus.done: DONE,
    ActionStatus.dropped: GREY,
}
ACTION_SYMBOLS = {
    ActionStatus.not_started: "triangle-right-open",
    ActionStatus.on_track: "triangle-right",
    ActionStatus.delayed: "hourglass",
    ActionStatus.done: "star",
    ActionStatus.dropped: "x-thin-open",
}
CHAIN_COLOUR = "#1e3a8a"  # DOE statements and the vision: no status of their own
GAP_COLOUR = "#b42318"
EDGE_COLOUR = "#9aa3b2"
# Rings: a gap's is a red circle; a comparison's a shape of its own per kind of change.
CHANGE_STYLES = {
    "added": ("square-open", ON_TRACK),
    "changed": ("diamond-open", AT_RISK),
    "removed": ("x-open", GAP_COLOUR),
}


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
    problems: Sequence[Element] = ()  # links: KRA ids; extra_links: national DOE item ids


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

    def children(self, key: str, layer: str) -> list[Node]:
        """The elements of `layer` that `key` links to on its right, in the map's order."""
        linked = {b for a, b in self.edges if a == key}
        return [n for n in self.layer(layer) if n.key in linked]

    def orphans(self, layer: str) -> list[Node]:
        """The elements of `layer` nothing on their left links to (a KPI under no KRA, an
        action serving nothing): a list by the chain shows them apart."""
        linked = {b for _a, b in self.edges}
        return [n for n in self.layer(layer) if n.key not in linked]

    def layers(self) -> tuple[str, ...]:
        """The columns drawn, left to right: the problems' and the partners' only when there
        are some."""
        present = {n.layer for n in self.nodes}
        return _layers(PROBLEM_LAYER in present, PARTNER_LAYER in present)


def _layers(problems: bool, partners: bool) -> tuple[str, ...]:
    return (
        *((PROBLEM_LAYER,) if problems else ()),
        *LAYERS,
        *((PARTNER_LAYER,) if partners else ()),
    )


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

    layers = _layers(bool(chain.problems), bool(chain.partners))
    columns: dict[str, list[Node]] = {layer: [] for layer in layers}
    for problem in chain.problems:
        columns[PROBLEM_LAYER].append(_node(PROBLEM_LAYER, problem, None, changes))
        items = set(problem.extra_links)
        edges += [
            (f"problem:{problem.id}", f"doe:{s.id}") for s in chain.doe if items & set(s.links)
        ]
        edges += [(f"problem:{problem.id}", f"kra:{i}") for i in problem.links if i in kra_ids]
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


@dataclass(frozen=True)
class Scale:
    """The map's sizes in pixels: on a page the figure is drawn at exactly this width, on a
    projector scaled to the screen (so `width` there is the 1920 px screen it is laid out for)."""

    width: int
    font: int  # labels
    line: int  # a label's line
    mark: int
    gap: int  # between two elements of a column
    max_lines: int  # a label longer than this many lines ends in …
    fixed: bool  # a page's figure keeps its size; a projector's fills the screen


PAGE = Scale(width=1160, font=13, line=18, mark=15, gap=12, max_lines=5, fixed=True)
PROJECTOR = Scale(width=1880, font=18, line=24, mark=22, gap=6, max_lines=2, fixed=False)
GUTTER = 40  # px between a column's labels and the next column's marks: where links run
# Columns share the width by these weights: the plan's own elements get the room.
WEIGHTS = {
    PROBLEM_LAYER: 0.9,
    "doe": 0.9,
    "vision": 0.85,
    "kra": 1.05,
    "kpi": 1.1,
    "action": 1.1,
    PARTNER_LAYER: 0.9,
}
TOP, SIDE = 84, 8  # px above the plot (the column headings, under the mode bar) and beside it


@dataclass(frozen=True)
class Spot:
    """Where a node is drawn: its mark's centre, its label's lines and the box they take."""

    x: float
    y: float
    lines: tuple[str, ...]
    height: float


class Layout:
    """Columns (sized by WEIGHTS), each holding its layer's marks, with each label wrapped
    beside its mark within the column. A column is stacked top to bottom in its order, each element
    as near as its room allows to the mean height of what it links to on the left."""

    def __init__(self, data: MapData, names: dict[str, str], scale: Scale) -> None:
        self.scale = scale
        self.layers = data.layers()
        unit = (scale.width - 2 * SIDE) / sum(WEIGHTS[layer] for layer in self.layers)
        self.starts: dict[str, float] = {}
        self.ends: dict[str, float] = {}
        left = 0.0
        for layer in self.layers:
            self.starts[layer], left = left, left + WEIGHTS[layer] * unit
            self.ends[layer] = left
        self.ring = (scale.mark + 12) / 2 + 2  # the widest ring's radius, with its stroke
        self.spots: dict[str, Spot] = {}
        parents: dict[str, list[str]] = defaultdict(list)
        for a, b in data.edges:
            parents[b].append(a)
        order = ("kra", "vision", "doe", "kpi", "action", PARTNER_LAYER, PROBLEM_LAYER)
        for layer in (name for name in order if name in self.layers):
            self._place(data.layer(layer), names, parents)
        self.height = max((s.y + s.height / 2 for s in self.spots.values()), default=0)

    def mark_x(self, layer: str) -> float:
        return self.starts[layer] + self.ring

    def label_x(self, layer: str) -> float:
        return self.mark_x(layer) + self.ring + 2

    def port_x(self, layer: str) -> float:
        """Where links leave a column: right of its widest label."""
        return self.ends[layer] - GUTTER + 8

    def label_width(self, layer: str) -> float:
        end = self.ends[layer] - (12 if layer == self.layers[-1] else GUTTER)
        return end - self.label_x(layer)

    def _place(
        self, column: list[Node], names: dict[str, str], parents: dict[str, list[str]]
    ) -> None:
        scale = self.scale
        boxes = [(n, _label_lines(n, names, self.label_width(n.layer), scale)) for n in column]
        heights = [max(len(lines) * scale.line, 2 * self.ring) for _n, lines in boxes]
        wanted: list[float | None] = []
        for node, _lines in boxes:
            linked = [self.spots[k].y for k in parents.get(node.key, ()) if k in self.spots]
            if node.layer == "vision":
                linked = [s.y for k, s in self.spots.items() if k.startswith("kra:")]
            if node.layer == PROBLEM_LAYER:  # beside what it motivates, on its right
                motivated = [b for b, ps in parents.items() if node.key in ps]
                linked = [self.spots[k].y for k in motivated if k in self.spots]
            wanted.append(sum(linked) / len(linked) if linked else None)
        if column and column[0].layer == "doe":  # around the vision, which they all feed
            vision = self.spots.get("vision:0")
            total = sum(heights) + scale.gap * (len(heights) - 1)
            top = max(0.0, (vision.y if vision else 0) - total / 2)
            wanted = [None] * len(column)
            wanted[0] = top + heights[0] / 2
        bottom = -scale.gap
        for (node, lines), height, centre in zip(boxes, heights, wanted, strict=True):
            top = max(bottom + scale.gap, (centre - height / 2) if centre is not None else 0)
            self.spots[node.key] = Spot(
                self.mark_x(node.layer), top + height / 2, tuple(lines), height
            )
            bottom = top + height


def _label_lines(node: Node, names: dict[str, str], width: float, scale: Scale) -> list[str]:
    """The label beside a mark, in lines that fit its column: code and full title (cut with …
    only past `max_lines`); a partner's levels on a line of their own."""
    if node.layer == PARTNER_LAYER:
        name = wrap(node.title, width, scale.font, max(1, scale.max_lines - 2))
        return [*name, *wrap(_levels(node, names), width, scale.font, 2)]
    text = f"{node.code} {node.title}".strip() if node.code else node.title
    lines = scale.max_lines + (3 if node.layer == "vision" else 0)  # it stands alone
    return wrap(text, width, scale.font, lines)


def map_figure(data: MapData, names: dict[str, str], *, big: bool = False) -> dict[str, Any]:
    """The Plotly figure. `names` holds the translated layer headings (doe, vision, kra, kpi,
    action), status names (by status value, and `action_<status>` for actions), gap reasons
    (`gap_<reason>`), change kinds and `gap`; with partners also `partner` (their heading),
    `partner_<rung>` (a rung reached, and `none`), `rung_<rung>` (the level's name),
    `partner_levels` (a template with %(expect)s, %(like)s and %(love)s), `level_line` (with
    %(level)s, %(reached)s and %(active)s) and `unrated`. `big` is for a projector: larger type
    and marks.

    Coordinates are pixels (y downwards): labels are wrapped to their column, and links run in
    the gutter between a column's labels and the next column's marks, never across a label."""
    scale = PROJECTOR if big else PAGE
    room = Layout(data, names, scale)
    by_key = {n.key: n for n in data.nodes}
    traces: list[dict[str, Any]] = _edges(data, by_key, room)
    groups: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for node in data.nodes:
        groups[_style_of(node)].append(node)
    for (family, status), nodes in sorted(groups.items(), key=lambda g: _legend_rank(*g[0])):
        traces.append(_marks(family, status, nodes, names, room))
    for change in ("added", "changed", "removed"):
        marked = [n for n in data.nodes if n.change == change]
        if marked:
            symbol, colour = CHANGE_STYLES[change]
            traces.append(_ring(marked, room, colour, names[change], scale.mark + 12, symbol))
    gaps = data.gaps()
    if gaps:
        traces.append(_ring(gaps, room, GAP_COLOUR, names["gap"], scale.mark + 6, "circle-open"))
    legend_rows = _legend_rows([t["name"] for t in traces if t.get("showlegend", True)], scale)
    bottom = legend_rows * (scale.font + 12) + 16
    plot_height = room.height + 4
    layout = {
        "font": {**FONT, "size": scale.font + 1},
        "margin": {"l": SIDE, "r": SIDE, "t": TOP if not big else 56, "b": bottom},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": True,
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 0,
            "yanchor": "top",
            "yref": "paper",
            "itemsizing": "constant",
        },
        "xaxis": {"range": [0, scale.width - 2 * SIDE], "visible": False, "fixedrange": True},
        "yaxis": {"range": [plot_height, -4], "visible": False, "fixedrange": True},
        "hovermode": "closest",
        "modebar": {"orientation": "h"},
        "hoverlabel": {"font": {"family": FONT["family"], "size": scale.font + 1}},
        "annotations": _headings(room, names) + _labels(data, room, names),
    }
    if scale.fixed:  # on a projector the map fills the screen instead
        layout["width"] = scale.width
        layout["height"] = plot_height + TOP + bottom
        layout["autosize"] = False
    return {"data": traces, "layout": layout, "config": _config(names, big)}


def _legend_rows(entries: list[str], scale: Scale) -> int:
    """How many rows Plotly's legend takes under the map (entries flow left to right)."""
    rows, used = 1, 0.0
    for name in entries:
        item = 46 + text_width(name, scale.font + 1)
        if used and used + item > scale.width - 2 * SIDE:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def _headings(room: Layout, names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "text": names[layer],
            "x": room.mark_x(layer) - room.scale.mark / 2,
            "y": 1,
            "xref": "x",
            "yref": "paper",
            "yanchor": "bottom",
            "xanchor": "left",
            "showarrow": False,
            "font": {"size": room.scale.font + 3, "weight": "bold"},
        }
        for layer in room.layers
    ]


def _labels(data: MapData, room: Layout, names: dict[str, str]) -> list[dict[str, Any]]:
    """Each element's label as an annotation beside its mark, its whole text on hover; `url`
    is ours (charts.js opens it when the label is clicked)."""
    return [
        {
            "text": "<br>".join(plotly_text(line) for line in room.spots[n.key].lines),
            "x": room.label_x(n.layer),
            "y": room.spots[n.key].y,
            "xref": "x",
            "yref": "y",
            "xanchor": "left",
            "yanchor": "middle",
            "align": "left",
            "showarrow": False,
            "font": {"size": room.scale.font},
            "hovertext": _hover(n, names),
            "captureevents": bool(n.url),
            "url": n.url,
        }
        for n in data.nodes
    ]


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
    if node.layer == PROBLEM_LAYER:
        return ("problem", "problem")
    if node.layer in ("doe", "vision"):
        return ("chain", "chain")
    if node.layer == "action":
        return ("action", node.status or ActionStatus.not_started.value)
    return ("kpi", node.status or KPIStatus.no_data.value)


def _legend_rank(family: str, status: str) -> tuple[int, int]:
    order = {"problem": -1, "chain": 0, "kpi": 1, "action": 2, "partner": 3}[family]
    if family == "problem":
        return order, 0
    if family == "partner":
        return order, list(PARTNER_STYLES).index(status)
    values = [s.value for s in (KPIStatus if family == "kpi" else ActionStatus)]
    return order, values.index(status) if status in values else 0


def _marks(
    family: str, status: str, nodes: list[Node], names: dict[str, str], room: Layout
) -> dict[str, Any]:
    """One legend entry: the marks of one status (its labels are annotations)."""
    if family == "chain":
        colour, symbol, name = CHAIN_COLOUR, "circle", names["chain"]
    elif family == "problem":
        colour, symbol, name = PROBLEM_COLOUR, "square", names["problem"]
    elif family == "partner":
        symbol, colour = PARTNER_STYLES[status]
        name = names[f"partner_{status}"]
    elif family == "action":
        colour, symbol = ACTION_COLOURS[ActionStatus(status)], ACTION_SYMBOLS[ActionStatus(status)]
        name = names[f"action_{status}"]
    else:
        colour, symbol = KPI_COLOURS[KPIStatus(status)], STATUS_SYMBOLS[KPIStatus(status)]
        name = names[status]
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": [room.spots[n.key].x for n in nodes],
        "y": [room.spots[n.key].y for n in nodes],
        "hovertext": [_hover(n, names) for n in nodes],
        "hoverinfo": "text",
        "customdata": [n.url for n in nodes],
        "marker": {
            "size": room.scale.mark,
            "color": colour,
            "symbol": symbol,
            "line": {"color": colour, "width": 2},
        },
        "cliponaxis": False,
    }


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


def _edges(data: MapData, by_key: dict[str, Node], room: Layout) -> list[dict[str, Any]]:
    """The links: from the right of a column's labels, curving through the gutter, to the
    next column's mark. A link that skips the KPIs (an action serving only KRAs) runs round
    under the KPI column, dotted, instead of across its labels."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    skip_xs: list[float | None] = []
    skip_ys: list[float | None] = []
    kpis = [s for key, s in room.spots.items() if key.startswith("kpi:")]
    below = max((s.y + s.height / 2 for s in kpis), default=0.0) + room.scale.gap
    for a, b in data.edges:
        if a not in by_key or b not in by_key:
            continue
        start, end = room.spots[a], room.spots[b]
        x0, x1 = room.port_x(by_key[a].layer), end.x - room.scale.mark / 2
        if by_key[a].layer == PROBLEM_LAYER and by_key[b].layer != "doe":
            # a problem → KRA link passes the DOE and vision columns: dotted, straight across
            skip_xs += [x0, x1, None]
            skip_ys += [start.y, end.y, None]
        elif room.layers.index(by_key[b].layer) - room.layers.index(by_key[a].layer) == 1:
            reach = (x1 - x0) * 0.4
            xs += [x0, x0 + reach, x1 - reach, x1, None]
            ys += [start.y, start.y, end.y, end.y, None]
        else:  # KRA → action, round the bottom of the KPI column
            turn = room.port_x("kpi")
            skip_xs += [x0, x0 + 8, x0 + 8, turn, turn, x1, None]
            skip_ys += [start.y, start.y, below, below, end.y, end.y, None]
    line = {"color": EDGE_COLOUR, "width": 1.5}
    edges = {"type": "scatter", "mode": "lines", "hoverinfo": "skip", "showlegend": False}
    traces = [{**edges, "x": xs, "y": ys, "line": {**line, "shape": "spline", "smoothing": 1}}]
    if skip_xs:
        traces.append({**edges, "x": skip_xs, "y": skip_ys, "line": {**line, "dash": "dot"}})
    return traces


def _ring(
    nodes: list[Node], room: Layout, colour: str, name: str, size: int, symbol: str
) -> dict[str, Any]:
    """Rings round marks. An open symbol draws its outline in the marker's colour (with a
    transparent colour, as before, nothing showed)."""
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": [room.spots[n.key].x for n in nodes],
        "y": [room.spots[n.key].y for n in nodes],
        "hoverinfo": "skip",
        "marker": {"size": size, "color": colour, "symbol": symbol, "line": {"width": 3}},
        "cliponaxis": False,
    }
