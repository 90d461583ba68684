"""Plotly figures as plain dicts, from the progress read model's figures. Pure: no database, no
web; the caller passes translated names in. static/js/charts.js draws them."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.models.enums import KPIStatus
from app.periods import parse_period

STATUS_COLOURS = {  # the grid's status marks
    KPIStatus.on_track: "#1b7f3b",
    KPIStatus.at_risk: "#b7791f",
    KPIStatus.off_track: "#b42318",
    KPIStatus.no_data: "#c3c9d4",
}
ACTUAL, TARGET, BASELINE = "#0b5d7a", "#6b7280", "#9a5b00"
# A computed KPI's groups (girls, boys; Hmong, Karen…), thinner than the area's line; Paul Tol's
# "muted" scheme, told apart by colour-blind readers, then repeated with another dash.
GROUP_COLOURS = ("#cc6677", "#332288", "#117733", "#88ccee", "#999933", "#aa4499", "#44aa99")
FONT = {"family": "Sarabun, sans-serif", "size": 14, "color": "#1f2937"}
# No mode bar: its buttons would sit inside the chart's role="img" (nested interactive controls),
# and zooming a dozen points adds nothing the table does not give.
CONFIG = {"displayModeBar": False, "responsive": True}


def plotly_text(text: str) -> str:
    """Text from people as Plotly shows it: literally.

    Plotly reads a subset of HTML in every text it draws (labels, hover boxes, legend names,
    axis titles and ticks, annotations): `<a href>` becomes a link, `<b>` bold. It splits text
    at tags first and only then turns the entities `&lt;`, `&gt;` and `&amp;` into characters,
    so with these three escaped no tag can be made, and the characters still show. Markup of
    our own (`<br>` between lines) goes around escaped text, never through this."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Series:
    """One KPI over its periods, as the chart and its table show it."""

    labels: list[str]  # period labels, in time order
    figures: list[float | None]  # after the aggregation rule
    targets: list[float | None]
    baseline: float | None
    unit: str
    groups: Sequence[tuple[str, list[float | None]]] = ()  # a computed KPI's groups: name, values


def kpi_figure(series: Series, names: dict[str, str]) -> dict[str, Any]:
    """Actual against target, with the baseline as a line: is the curve turning?"""
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": names["target"],
            "x": series.labels,
            "y": series.targets,
            "line": {"color": TARGET, "dash": "dash", "width": 2},
            "marker": {"size": 6},
            "connectgaps": True,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": names["actual"],
            "x": series.labels,
            "y": series.figures,
            "line": {"color": ACTUAL, "width": 3},
            "marker": {"size": 9},
            "connectgaps": False,
        },
    ]
    for index, (name, values) in enumerate(series.groups):
        colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
        dash = "solid" if index < len(GROUP_COLOURS) else "dashdot"
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": plotly_text(name),
                "x": series.labels,
                "y": values,
                "line": {"color": colour, "width": 1.5, "dash": dash},
                "marker": {"size": 6},
                "connectgaps": False,
            }
        )
    if series.baseline is not None:
        data.insert(
            0,
            {
                "type": "scatter",
                "mode": "lines",
                "name": names["baseline"],
                "x": series.labels,
                "y": [series.baseline] * len(series.labels),
                "line": {"color": BASELINE, "dash": "dot", "width": 2},
                "hoverinfo": "skip",
            },
        )
    return {"data": data, "layout": _layout(plotly_text(series.unit)), "config": CONFIG}


def status_figure(
    labels: Sequence[str], counts: dict[KPIStatus, list[int]], names: dict[KPIStatus, str]
) -> dict[str, Any]:
    """How many KPIs are in each status, per year, stacked: the whole distribution."""
    data = [
        {
            "type": "bar",
            "name": names[status],
            "x": list(labels),
            "y": counts[status],
            "marker": {"color": STATUS_COLOURS[status]},
        }
        for status in KPIStatus
    ]
    layout = _layout("")
    layout["barmode"] = "stack"
    layout["yaxis"]["dtick"] = 1
    return {"data": data, "layout": layout, "config": CONFIG}


def _layout(y_title: str) -> dict[str, Any]:
    return {
        "font": FONT,
        "height": 320,
        "margin": {"l": 56, "r": 16, "t": 40, "b": 16},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "xaxis": {"type": "category", "fixedrange": True, "automargin": True},
        "yaxis": {
            "title": {"text": y_title},
            "fixedrange": True,
            "zeroline": False,
            "automargin": True,
        },
        "hovermode": "x unified",
    }


def year_of(period: str) -> int:
    """The Buddhist-Era year a period belongs to (AY2567-S1 -> 2567)."""
    parsed = parse_period(period)
    assert parsed is not None, period
    return parsed.year_be


def yearly_statuses(
    kpis: Iterable[dict[str, KPIStatus]], years: Sequence[int]
) -> dict[KPIStatus, list[int]]:
    """Per year, how many KPIs stand in each status: a KPI counts with its last period of the
    year that has a status other than no data (otherwise as no data)."""
    counts = {status: [0] * len(years) for status in KPIStatus}
    for statuses in kpis:  # period -> status, in time order
        for index, year in enumerate(years):
            known = [
                s for p, s in statuses.items() if year_of(p) == year and s != KPIStatus.no_data
            ]
            counts[known[-1] if known else KPIStatus.no_data][index] += 1
    return counts


# ---- a common indicator across areas ---------------------------------------------------------

# Okabe-Ito: told apart with the common colour-vision deficiencies; markers differ too, for a
# grey projector or a black-and-white print.
AREA_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
AREA_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross")


@dataclass(frozen=True)
class Line:
    """One area's values of a common indicator over the compared periods."""

    name: str  # the area, as the legend shows it
    values: list[float | None]  # one per period label; None: no value then
    hover: list[str] | None = None  # e.g. how many were tested, per period


def indicator_figure(labels: Sequence[str], lines: Sequence[Line], y_title: str) -> dict[str, Any]:
    """One line per area, the periods along the bottom, the unit (and direction) up the side."""
    data = []
    for index, line in enumerate(lines):
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": plotly_text(line.name),
            "x": list(labels),
            "y": line.values,
            "line": {"color": AREA_COLOURS[index % len(AREA_COLOURS)], "width": 3},
            "marker": {"size": 9, "symbol": AREA_SYMBOLS[index % len(AREA_SYMBOLS)]},
            "connectgaps": False,
        }
        if line.hover is not None:
            trace["text"] = [plotly_text(text) for text in line.hover]
        data.append(trace)
    return {"data": data, "layout": _layout(plotly_text(y_title)), "config": CONFIG}


# ---- outcome mapping: a boundary partner's ladder of progress markers -----------------------

RUNG_COLOURS = ("#0072b2", "#009e73", "#d55e00")  # expect, like, love to see (Okabe-Ito)


@dataclass(frozen=True)
class LadderRow:
    """One rung of a partner's ladder over the periods: how many of its active markers were
    rated medium or high, out of how many were active (0 active: nothing to show then)."""

    name: str  # the level, as the axis shows it
    reached: list[int]  # one per period label
    active: list[int]


def ladder_figure(labels: Sequence[str], rows: Sequence[LadderRow], hover: str) -> dict[str, Any]:
    """The ladder: periods along the bottom, the rungs up the side (expect at the bottom, love
    at the top). Each cell is a square that grows with the share of the rung's markers rated
    medium or high, labelled "2/3"; an open square: none yet. `hover` is a translated template
    with %(reached)s and %(active)s."""
    data = []
    for index, row in enumerate(rows):
        cells = [
            (label, reached, active)
            for label, reached, active in zip(labels, row.reached, row.active, strict=True)
            if active
        ]
        colour = RUNG_COLOURS[index % len(RUNG_COLOURS)]
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": row.name,
                "x": [c[0] for c in cells],
                "y": [row.name] * len(cells),
                "text": [f"{c[1]}/{c[2]}" for c in cells],
                "textposition": "top center",
                "hovertext": [
                    f"{row.name} · {c[0]}<br>{hover % {'reached': c[1], 'active': c[2]}}"
                    for c in cells
                ],
                "hoverinfo": "text",
                "marker": {
                    "size": [14 + round(26 * c[1] / c[2]) for c in cells],
                    "symbol": ["square" if c[1] else "square-open" for c in cells],
                    "color": colour,
                    "line": {"color": colour, "width": 2},
                },
                "cliponaxis": False,
            }
        )
    layout = _layout("")
    layout.update({"height": 300, "showlegend": False, "hovermode": "closest"})
    layout["margin"] = {"l": 16, "r": 16, "t": 16, "b": 16}
    layout["yaxis"].update(
        {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [row.name for row in rows],
            "range": [-0.5, len(rows) - 0.15],  # room for the top rung's labels
        }
    )
    layout["xaxis"]["categoryorder"] = "array"
    layout["xaxis"]["categoryarray"] = list(labels)
    return {"data": data, "layout": layout, "config": CONFIG}
