"""A common indicator compared across areas: Plotly draws one line per area under the strict
CSP, the table beside it links each value to that area's KPI, and an area's own editor sees
only their area's line."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_problems, follow, shoot, sign_in

P1_READING = "ร้อยละของนักเรียนชั้น ป.1 ที่มีผลการประเมินการอ่านออกเสียงและการอ่านรู้เรื่อง (RT) ระดับดีขึ้นไป"


def test_the_comparison_chart_draws_one_line_per_area(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/indicators")
    follow(page, page.get_by_role("link", name=P1_READING))
    chart = page.locator(".comparison .chart")
    expect(chart).to_have_class(re.compile(r"\bdrawn\b"))
    assert chart.locator("svg.main-svg").count() >= 1
    legend = chart.locator(".legendtext").all_text_contents()
    assert {"กระบี่", "ภูเก็ต", "แม่ฮ่องสอน"} <= set(legend)  # Mae Hong Son's KPI1 is computed
    assert chart.locator(".scatterlayer .trace").count() == len(legend)
    assert chart.locator(".scatterlayer .point").count() > len(legend)  # values over time
    rows = page.locator("table.comparison-table tbody tr")
    expect(rows.filter(has_text="แม่ฮ่องสอน")).to_have_count(1)
    assert rows.count() == len(legend)  # a line per area with values
    assert axe_problems(page) == []
    shoot(page, "indicator-comparison", full_page=True)
    first = rows.first.locator("td a").first
    value = first.inner_text()
    follow(page, first)
    expect(page).to_have_url(re.compile(r"/areas/[a-z-]+/progress/kpis/\d+#period-AY\d{4}$"))
    assert value in page.locator("main").inner_text()


def test_an_areas_editor_sees_only_their_areas_line(page: Page) -> None:
    sign_in(page, "editor.krabi@example.go.th")
    page.goto(page.base_url + "/indicators/p1-reading-good")
    chart = page.locator(".comparison .chart")
    expect(chart).to_have_class(re.compile(r"\bdrawn\b"))
    assert chart.locator(".scatterlayer .trace").count() == 1
    expect(page.locator("table.comparison-table tbody th")).to_contain_text(["กระบี่"])
    assert "ภูเก็ต" not in page.locator("main").inner_text()
