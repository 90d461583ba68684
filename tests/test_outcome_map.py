"""The outcome map's figure, built from plain plan data: layout, many-to-many links, status
colours and shapes, gaps, comparison marks, labels."""

import json
import unicodedata
from dataclasses import replace

import pytest

from app.linebreak import has_thai_dictionary, text_width, wrap
from app.models.enums import ActionStatus, KPIStatus
from app.outcome_map import (
    ACTION_SYMBOLS,
    GAP_COLOUR,
    KPI_COLOURS,
    PAGE,
    STATUS_SYMBOLS,
    Element,
    PlanChain,
    kra_summary,
    map_data,
    map_figure,
)

NAMES = {
    **{k: k.upper() for k in ("doe", "vision", "kra", "kpi", "action", "chain", "gap")},
    **{k: k for k in ("added", "changed", "removed")},
    **{f"gap_{k}": f"gap {k}" for k in ("no_kpi", "no_action", "unlinked")},
    **{s.value: f"kpi {s.value}" for s in KPIStatus},
    **{
        f"action_{s}": f"action {s}"
        for s in ("not_started", "on_track", "delayed", "done", "dropped")
    },
}


def chain() -> PlanChain:
    """Two KRAs; KPI 11 serves both; action 21 feeds KPIs 11 and 12; KPI 13 has no action;
    action 23 is tied to nothing; KRA 3 has no KPI."""
    return PlanChain(
        doe=[Element(1, "", "ผู้เรียนอ่านออกเขียนได้", links=(100,))],
        vision="กระบี่เป็นพื้นที่นวัตกรรม",
        kras=[
            Element(1, "KRA1", "การอ่าน", links=(100,)),
            Element(2, "KRA2", "ครู"),
            Element(3, "KRA3", "ไม่มีตัวชี้วัด"),
        ],
        kpis=[
            Element(11, "KPI1", "ร้อยละอ่านออก", links=(1, 2), status="off_track", url="/k/11"),
            Element(12, "KPI2", "ครูผ่านอบรม", links=(2,), status="on_track", url="/k/12"),
            Element(13, "KPI3", "<b>ไม่มีโครงการ</b>", links=(1,), status="no_data"),
        ],
        actions=[
            Element(21, "ACT1", "อบรมครู", links=(11, 12), status="on_track"),
            Element(22, "ACT2", "ห้องสมุด", extra_links=(2,), status="delayed"),
            Element(23, "ACT3", "ยังไม่ผูก", status="not_started"),
        ],
    )


def test_many_to_many_links_are_drawn_once_each() -> None:
    data = map_data(chain())
    edges = set(data.edges)
    assert {("kra:1", "kpi:11"), ("kra:2", "kpi:11")} <= edges  # one KPI, two KRAs
    assert {("kpi:11", "action:21"), ("kpi:12", "action:21")} <= edges  # one action, two KPIs
    assert ("kra:2", "action:22") in edges  # an action serving a KRA straight
    assert ("doe:1", "vision:0") in edges and ("vision:0", "kra:3") in edges
    assert len(edges) == len(data.edges)


def test_layers_are_columns_and_gaps_are_found() -> None:
    data = map_data(chain())
    columns = {n.key: n.x for n in data.nodes}
    assert columns["doe:1"] == 0 and columns["vision:0"] == 1 and columns["kra:1"] == 2
    assert columns["kpi:11"] == 3 and columns["action:21"] == 4
    assert {n.key: n.gap for n in data.gaps()} == {
        "kra:3": "no_kpi",
        "kpi:13": "no_action",
        "action:23": "unlinked",
    }
    # each column is centred and its elements are evenly spaced
    kras = sorted(n.y for n in data.nodes if n.layer == "kra")
    assert kras[1] - kras[0] == kras[2] - kras[1] == 1


def test_a_kra_takes_its_worst_kpi_status() -> None:
    data = map_data(chain())
    status = {n.key: n.status for n in data.nodes}
    assert status["kra:1"] == "off_track"  # KPI1 off track, KPI3 no data
    assert status["kra:2"] == "off_track"
    assert status["kra:3"] == "no_data"
    assert kra_summary(["on_track", "at_risk", None]) == "at_risk"
    assert kra_summary([]) == "no_data"


def _labels(figure: dict) -> dict[str, dict]:
    """The elements' labels (annotations with an address or a title), by their first word."""
    notes = figure["layout"]["annotations"]
    return {n["text"].split(" ")[0]: n for n in notes if "hovertext" in n}


def test_the_figure_colours_and_shapes_each_status_and_rings_the_gaps() -> None:
    figure = map_figure(map_data(chain()), NAMES)
    traces = {t.get("name"): t for t in figure["data"]}
    off = traces["kpi off_track"]
    assert off["marker"]["color"] == KPI_COLOURS[KPIStatus.off_track]
    assert off["marker"]["symbol"] == STATUS_SYMBOLS[KPIStatus.off_track]
    assert "/k/11" in off["customdata"]
    assert _labels(figure)["KPI1"]["text"] == "KPI1 ร้อยละอ่านออก"
    assert _labels(figure)["KPI1"]["url"] == "/k/11"
    # an open symbol's outline is drawn in the marker's colour: a transparent one drew nothing
    ring = traces["GAP"]["marker"]
    assert ring["color"] == GAP_COLOUR and ring["symbol"].endswith("-open")
    assert len(traces["GAP"]["x"]) == 3
    assert {"action on_track", "action delayed", "action not_started"} <= traces.keys()
    headings = [a["text"] for a in figure["layout"]["annotations"] if "hovertext" not in a]
    assert headings == ["DOE", "VISION", "KRA", "KPI", "ACTION"]
    assert figure["config"]["modeBarButtons"] == [["toImage"]]  # Plotly's PNG download
    json.dumps(figure)  # plain data, ready for the page and the API


def test_each_status_family_has_shapes_of_its_own() -> None:
    kpi_shapes = set(STATUS_SYMBOLS.values())
    action_shapes = set(ACTION_SYMBOLS.values())
    assert len(kpi_shapes) == len(KPIStatus) and len(action_shapes) == len(ActionStatus)
    assert not kpi_shapes & action_shapes  # "at risk" and "delayed" no longer look alike
    assert KPI_COLOURS[KPIStatus.on_track] != KPI_COLOURS[KPIStatus.off_track]


def test_plan_text_is_shown_as_text_not_markup() -> None:
    figure = map_figure(map_data(chain()), NAMES)
    hover = " ".join(h for t in figure["data"] for h in t.get("hovertext", []))
    assert "&lt;b&gt;ไม่มีโครงการ&lt;/b&gt;" in hover and "<b>ไม่มี" not in hover
    assert _labels(figure)["KPI3"]["text"] == "KPI3 &lt;b&gt;ไม่มีโครงการ&lt;/b&gt;"


def test_a_long_hover_line_is_wrapped_before_it_is_escaped() -> None:
    title = "ก" * 58 + "<a href='//e.example'>x</a>"  # the tag straddles the wrap at 60
    plan = replace(chain(), kras=[Element(1, "KRA1", title, links=(100,))])
    figure = map_figure(map_data(plan), NAMES)
    hover = next(h for t in figure["data"] for h in t.get("hovertext", []) if "KRA1" in h)
    assert "<a" not in hover and "&lt;a href='//e.example'&gt;x&lt;/a&gt;" in hover.replace(
        "<br>", ""
    )
    assert all(part.count("&") == part.count(";") for part in hover.split("<br>"))


def test_a_long_label_is_wrapped_whole_within_its_column_and_links_pass_beside_it() -> None:
    title = "ร้อยละของนักเรียนชั้นประถมศึกษาปีที่ 1 ที่อ่านออกเขียนได้ตามเกณฑ์"
    plan = replace(chain(), kpis=[Element(11, "KPI1", title, links=(1,), status="on_track")])
    figure = map_figure(map_data(plan), NAMES)
    label = _labels(figure)["KPI1"]
    lines = label["text"].split("<br>")
    assert len(lines) > 1 and "".join(lines).replace(" ", "") == f"KPI1{title}".replace(" ", "")
    assert "…" not in label["text"]  # whole: it fits in a few lines
    right = label["x"] + max(text_width(line, PAGE.font) for line in lines)
    edges = figure["data"][0]
    starts = [x for x, y in zip(edges["x"], edges["y"], strict=True) if y == label["y"]]
    assert starts and right < min(x for x in starts if x is not None and x > label["x"])
    assert figure["layout"]["width"] == PAGE.width  # drawn at the size it was laid out for


def test_labels_in_a_column_never_share_a_height() -> None:
    kras = [Element(i, f"KRA{i}", "ยุทธศาสตร์ " * (i % 4 + 1), links=(100,)) for i in range(30)]
    figure = map_figure(map_data(replace(chain(), kras=kras, kpis=[], actions=[])), NAMES)
    labels = sorted(
        (n for n in figure["layout"]["annotations"] if "hovertext" in n and "KRA" in n["text"]),
        key=lambda n: n["y"],
    )
    assert len(labels) == 30
    line = PAGE.line
    for above, below in zip(labels, labels[1:], strict=False):
        half = (above["text"].count("<br>") + 1 + below["text"].count("<br>") + 1) * line / 2
        assert below["y"] - above["y"] >= half


def test_a_comparison_rings_added_changed_and_removed_elements() -> None:
    marks = {"kpi:12": "added", "kra:1": "changed", "action:23": "removed"}
    figure = map_figure(map_data(chain(), marks), NAMES)
    rings = {t["name"]: t for t in figure["data"] if t.get("hoverinfo") == "skip" and "name" in t}
    assert len(rings["added"]["x"]) == len(rings["changed"]["x"]) == len(rings["removed"]["x"]) == 1
    symbols = {rings[c]["marker"]["symbol"] for c in ("added", "changed", "removed")}
    assert len(symbols) == 3 and all(s.endswith("-open") for s in symbols)


def test_a_projector_figure_has_bigger_type_and_no_mode_bar() -> None:
    big = map_figure(map_data(chain()), NAMES, big=True)
    small = map_figure(map_data(chain()), NAMES)
    assert big["layout"]["font"]["size"] > small["layout"]["font"]["size"]
    assert big["config"]["displayModeBar"] is False and "height" not in big["layout"]


def test_a_very_long_label_is_cut_after_its_last_line_without_splitting_thai_marks() -> None:
    text = "ร้อยละของนักเรียนชั้นประถมศึกษาปีที่ 1 ที่อ่านออกเขียนได้ " * 6
    for width in range(60, 200, 7):
        lines = wrap(text, width, 13, 3)
        assert len(lines) == 3 and lines[-1].endswith("…")
        assert all(text_width(line, 13) <= width for line in lines)
        assert "".join(lines)[:-1].replace(" ", "") in text.replace(" ", "")
        # never ends on a consonant whose vowel or tone mark was cut away
        cut = text.replace(" ", "").index(lines[-1][:-1].replace(" ", "")) + len(
            lines[-1][:-1].replace(" ", "")
        )
        assert unicodedata.category(text.replace(" ", "")[cut]) not in ("Mn", "Mc"), lines
    assert wrap("สั้น", 100, 13) == ["สั้น"]


@pytest.mark.skipif(
    not has_thai_dictionary(), reason="libthai (Pango's Thai word breaker) is missing"
)
def test_thai_lines_break_between_words() -> None:
    words = ["ร้อยละ", "ของ", "นักเรียน", "ชั้น", "ประถม", "ศึกษา", "ปี", "ที่", "อ่าน", "ออก"]
    words += ["เขียน", "ได้"]
    ends = {sum(len(w) for w in words[: i + 1]) for i in range(len(words))}
    lines = wrap("".join(words), 80, 13)
    assert len(lines) > 2
    assert all(sum(len(line) for line in lines[: i + 1]) in ends for i in range(len(lines)))


def test_boundary_partners_stand_in_a_column_of_their_own_with_their_levels() -> None:
    levels = (("expect", 2, 2), ("like", 1, 3), ("love", 0, 2))
    partners = [
        Element(7, "", "ครูโรงเรียนนำร่อง", status="expect", detail="ภาคเรียนที่ 2/2567", levels=levels),
        Element(8, "", "อบต. <เกาะลันตา>", status="none"),  # never rated
    ]
    data = map_data(replace(chain(), partners=partners))
    assert data.layers()[-1] == "partner" and map_data(chain()).layers()[-1] == "action"
    column = data.layer("partner")
    assert [n.key for n in column] == ["partner:7", "partner:8"] and {n.x for n in column} == {5}
    assert not [e for e in data.edges if "partner" in e[0] or "partner" in e[1]]  # no links
    names = {
        **NAMES,
        "partner": "PARTNERS",
        "partner_none": "no rung",
        "partner_expect": "reached expect",
        "partner_levels": "E %(expect)s L %(like)s V %(love)s",
        "level_line": "%(level)s %(reached)s/%(active)s",
        "unrated": "unrated",
        **{f"rung_{r}": r for r in ("expect", "like", "love")},
    }
    figure = map_figure(data, names)
    traces = {t.get("name"): t for t in figure["data"]}
    labels = {n["text"].split("<br>")[0]: n["text"] for n in figure["layout"]["annotations"]}
    assert labels["ครูโรงเรียนนำร่อง"] == "ครูโรงเรียนนำร่อง<br>E 2/2 L 1/3 V 0/2"
    assert "like 1/3" in traces["reached expect"]["hovertext"][0]
    assert labels["อบต. &lt;เกาะลันตา&gt;"] == "อบต. &lt;เกาะลันตา&gt;<br>unrated"
    assert traces["no rung"]["marker"]["symbol"] == "hexagon-open"
    headings = [n["text"] for n in figure["layout"]["annotations"] if "hovertext" not in n]
    assert headings[-1] == "PARTNERS"
