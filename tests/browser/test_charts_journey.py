"""Charts drawn by Plotly under the strict CSP, with their tables; and a spreadsheet round trip:
download the template, change a value, upload, read the preview, confirm."""

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_problems, follow, shoot, sign_in


def test_charts_are_drawn_with_their_tables(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/krabi/progress")
    follow(page, page.get_by_role("link", name="แผนภูมิ", exact=True))
    expect(page.locator("h1")).to_have_text("แผนภูมิความก้าวหน้าของกระบี่")
    charts = page.locator(".chart")
    expect(page.locator(".chart.drawn").first).to_be_visible()
    count = charts.count()
    assert count > 10
    expect(page.locator(".chart.drawn")).to_have_count(count)
    # every chart is a real Plotly SVG, not an empty box
    assert page.locator(".chart svg.main-svg").count() >= count
    assert page.locator(".chart .barlayer .point path").count() > 0  # the KRA status bars
    assert page.locator(".chart .scatterlayer .trace").count() >= 2 * (count - 4)
    legend = page.locator(".chart").first.locator(".legendtext").all_text_contents()
    assert "เป็นไปตามแผน" in legend and "ไม่มีข้อมูล" in legend

    first = page.locator("details.chart-table").first
    first.locator("summary").click()
    expect(first.locator("table")).to_be_visible()
    expect(first.locator("tbody th").first).to_have_text("2566")
    assert axe_problems(page) == []
    shoot(page, "charts-krabi")


def test_charts_fit_a_phone(phone: Page) -> None:
    phone.goto(phone.base_url + "/areas/phuket/progress/charts")
    expect(phone.locator(".chart.drawn").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(phone, "phone-charts-phuket")


def test_a_spreadsheet_round_trip(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/krabi/progress/import")
    with page.expect_download() as download:
        page.get_by_role("link", name="ดาวน์โหลดแบบฟอร์ม (.xlsx)").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = book["ความก้าวหน้า"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "KPI2" and r[5].value)
    row[5].value = row[5].value + 1  # one more pilot school
    changed = f"{row[0].value} {row[3].value}"
    out = io.BytesIO()
    book.save(out)

    page.locator("input[type=file]").set_input_files(
        files=[
            {"name": "กระบี่.xlsx", "mimeType": "application/octet-stream", "buffer": out.getvalue()}
        ]
    )
    follow(page, page.get_by_role("button", name="ตรวจไฟล์"))
    expect(page.locator(".notice")).to_contain_text("1 รายการเปลี่ยนแปลง")
    expect(page.locator("table.preview tbody tr")).to_have_count(1)
    assert axe_problems(page) == []
    shoot(page, "import-preview", full_page=True)
    follow(page, page.get_by_role("button", name="บันทึก 1 รายการเปลี่ยนแปลง"))
    expect(page.locator(".notice").first).to_have_text("นำเข้าแล้ว บันทึก 1 รายการเปลี่ยนแปลง")
    kpi, period = changed.split()
    cell = page.locator("tbody.kpi-progress", has=page.locator(f"th .code:text-is('{kpi}')"))
    expect(cell.locator(f"input[id$='-{period}-actual']")).to_have_value(str(row[5].value))


def test_the_review_fetches_plotly_only_when_its_chart_comes_near(admin_page: Page) -> None:
    fetched: list[str] = []
    admin_page.on("request", lambda r: "plotly-basic" in r.url and fetched.append(r.url))
    admin_page.goto(admin_page.base_url + "/review")
    admin_page.wait_for_load_state("load")
    chart = admin_page.locator(".comparison .chart")
    expect(chart).not_to_have_class(re.compile(r"\bdrawn\b"))
    assert [u for u in fetched if u.split("?")[0].endswith(".js")] == []
    chart.scroll_into_view_if_needed()
    expect(admin_page.locator(".comparison .chart.drawn")).to_be_visible()
    assert len([u for u in fetched if u.split("?")[0].endswith(".js")]) == 1
