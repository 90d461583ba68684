"""Chart figures: pure dicts that say what the grid says."""

from app import charts
from app.models.enums import KPIStatus

NAMES = {"actual": "ผลที่ได้", "target": "เป้าหมาย", "baseline": "ค่าฐาน"}


def test_a_kpi_chart_has_baseline_target_and_actual_in_period_order() -> None:
    series = charts.Series(
        labels=["ปีการศึกษา 2566", "ปีการศึกษา 2567", "ปีการศึกษา 2568"],
        figures=[64.0, None, 69.8],
        targets=[65.0, 67.5, 70.0],
        baseline=62.5,
        unit="ร้อยละ",
    )
    figure = charts.kpi_figure(series, NAMES)
    baseline, target, actual = figure["data"]
    assert [t["name"] for t in figure["data"]] == ["ค่าฐาน", "เป้าหมาย", "ผลที่ได้"]
    assert baseline["y"] == [62.5, 62.5, 62.5]
    assert target["y"] == [65.0, 67.5, 70.0] and actual["y"] == [64.0, None, 69.8]
    assert actual["connectgaps"] is False  # a missing period shows as a gap, not a made-up line
    assert figure["layout"]["yaxis"]["title"]["text"] == "ร้อยละ"
    assert figure["config"]["displayModeBar"] is False


def test_a_kpi_without_baseline_has_no_baseline_line() -> None:
    series = charts.Series(["2567"], [1.0], [1.0], None, "")
    assert [t["name"] for t in charts.kpi_figure(series, NAMES)["data"]] == ["เป้าหมาย", "ผลที่ได้"]


def test_yearly_statuses_take_each_kpis_last_known_status_of_the_year() -> None:
    semesters = {
        "AY2567-S1": KPIStatus.off_track,
        "AY2567-S2": KPIStatus.on_track,
        "AY2568-S1": KPIStatus.at_risk,
        "AY2568-S2": KPIStatus.no_data,
    }
    yearly = {"FY2567": KPIStatus.off_track, "FY2568": KPIStatus.no_data}
    counts = charts.yearly_statuses([semesters, yearly], [2567, 2568])
    assert counts[KPIStatus.on_track] == [1, 0]
    assert counts[KPIStatus.off_track] == [1, 0]
    assert counts[KPIStatus.at_risk] == [0, 1]
    assert counts[KPIStatus.no_data] == [0, 1]
    names = {s: s.value for s in KPIStatus}
    figure = charts.status_figure(["2567", "2568"], counts, names)
    assert figure["layout"]["barmode"] == "stack"
    bars = {t["name"]: t for t in figure["data"]}
    assert bars["on_track"]["y"] == [1, 0]
    assert bars["off_track"]["marker"]["color"] == charts.STATUS_COLOURS[KPIStatus.off_track]


def test_text_from_people_reaches_plotly_escaped_and_our_markup_stays() -> None:
    assert charts.plotly_text("<a href='//e.example'>R&D</a>") == (
        "&lt;a href='//e.example'&gt;R&amp;D&lt;/a&gt;"
    )
    series = charts.Series(["2567"], [1.0], [1.0], None, "<b>คน</b>")
    kpi = charts.kpi_figure(series, NAMES)
    assert kpi["layout"]["yaxis"]["title"]["text"] == "&lt;b&gt;คน&lt;/b&gt;"
    lines = [charts.Line("<i>ตราด</i>", [1.0], ["<b>30</b> measured"])]
    compared = charts.indicator_figure(["2567"], lines, "<sup>%</sup>")
    (trace,) = compared["data"]
    assert trace["name"] == "&lt;i&gt;ตราด&lt;/i&gt;"
    assert trace["text"] == ["&lt;b&gt;30&lt;/b&gt; measured"]
    assert compared["layout"]["yaxis"]["title"]["text"] == "&lt;sup&gt;%&lt;/sup&gt;"
