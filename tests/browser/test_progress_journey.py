"""Progress values typed into the grid with the keyboard; statuses change as the cells save."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_problems, full_loads, shoot, sign_in

# Phuket KPI1: ร้อยละนักเรียน ป.1 อ่านได้ระดับดีขึ้นไป, baseline 64.2 (AY2565), target 75 (AY2569)


def _cell(page: Page, kpi: str, period: str, cell: str = "actual") -> object:
    row = page.locator("tbody.kpi-progress", has=page.locator(f"th .code:text-is('{kpi}')")).first
    return row.locator(f"input[id$='-{period}-{cell}']")


def test_enter_values_with_the_keyboard_and_see_statuses_change(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket/progress")
    loads = full_loads(page)
    expect(page.locator("h1")).to_contain_text("ความก้าวหน้าของภูเก็ต")
    shoot(page, "progress-phuket", full_page=True)

    kpi1 = page.locator("tbody.kpi-progress").first
    first = _cell(page, "KPI1", "AY2568")
    td = first.locator("xpath=..")
    expect(td).to_have_class(re.compile(r"\bstatus-at_risk\b"))  # seeded 69.1 against ≈72.3

    # type a better figure in Thai digits, Enter saves and moves down to the target line
    first.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("๗๓.๕")
    page.keyboard.press("Enter")
    expect(_cell(page, "KPI1", "AY2568", "target")).to_be_focused()
    expect(_cell(page, "KPI1", "AY2568").locator("xpath=..")).to_have_class(
        re.compile(r"\bstatus-on_track\b")
    )
    expect(_cell(page, "KPI1", "AY2568")).to_have_value("73.5")

    # ArrowUp back to the value, ArrowRight to the next period; refused text stays with a message
    page.keyboard.press("ArrowUp")
    expect(_cell(page, "KPI1", "AY2568")).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.press("ArrowRight")
    expect(_cell(page, "KPI1", "AY2569")).to_be_focused()
    page.keyboard.type("ดีมาก")
    page.keyboard.press("Tab")
    bad = _cell(page, "KPI1", "AY2569")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(bad).to_have_value("ดีมาก")
    expect(kpi1.locator(".error")).to_contain_text("โปรดระบุเป็นตัวเลข")
    assert not bad.evaluate("e => e === document.activeElement"), "the error stole the focus"

    # Escape undoes typing that was not saved
    bad.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    page.keyboard.press("Escape")
    expect(bad).to_have_value("ดีมาก")

    # a reload shows what was stored
    page.reload()
    expect(_cell(page, "KPI1", "AY2568")).to_have_value("73.5")
    expect(_cell(page, "KPI1", "AY2569")).to_have_value("")
    assert loads == [f"new document {page.url}", f"loaded {page.url}"]  # only the reload
    assert axe_problems(page) == []


def test_the_grid_fits_a_phone_by_scrolling_inside_its_table(phone: Page) -> None:
    from tests.browser.test_phone import _phone_problems

    phone.goto(phone.base_url + "/areas/krabi/progress")
    expect(phone.locator("table.grid").first).to_be_visible()
    assert _phone_problems(phone) == []
    shoot(phone, "phone-progress-krabi")


def test_a_check_in_on_an_action(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket/progress#actions-progress")
    action = page.locator("article.action-progress").first
    action.locator("details.checkin summary").click()
    form = action.locator("form")
    form.locator("select[name=status]").select_option("delayed")
    form.locator("input[name=percent_complete]").fill("๔๐")
    form.locator("textarea[name=what_changed]").fill("อบรมครูแกนนำแล้ว 2 รุ่น รุ่นที่ 3 เลื่อนเพราะน้ำท่วม")
    form.locator("input[name=evidence_url]").fill("ไม่มีลิงก์")
    form.get_by_role("button", name="บันทึก").click()
    action = page.locator("article.action-progress").first
    expect(action.locator("input[name=evidence_url]")).to_have_attribute("aria-invalid", "true")
    expect(action.locator("textarea[name=what_changed]")).to_have_value(
        "อบรมครูแกนนำแล้ว 2 รุ่น รุ่นที่ 3 เลื่อนเพราะน้ำท่วม"
    )
    action.locator("input[name=evidence_url]").fill("")
    action.get_by_role("button", name="บันทึก").click()
    notice = page.locator("article.action-progress").first.locator(".notice")
    expect(notice).to_have_text("บันทึกความคืบหน้าแล้ว")
    expect(notice).to_be_focused()
    expect(page.locator("article.action-progress").first.locator(".status")).to_have_text("ล่าช้า")
    shoot(page.locator("article.action-progress").first, "progress-check-in")


def test_a_slow_answer_never_blanks_a_value_saved_since(page: Page) -> None:
    """At 700 ms round trip: 44, Tab, 47, Enter. Both cells are on their way at once; each answer
    brings back the whole KPI row, and the first one (which knows only 44) must not blank 47."""
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket/progress")
    first, second = _cell(page, "KPI2", "AY2568"), _cell(page, "KPI2", "AY2569")
    expect(first).to_have_value("37.9")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "downloadThroughput": -1, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", {**conditions, "latency": 700})
    answers: list[int] = []
    page.on("response", lambda r: r.request.method == "PUT" and answers.append(r.status))

    first.click()
    page.keyboard.press("Control+A")
    with page.expect_response(lambda r: r.request.method == "PUT" and "AY2569" in r.url):
        page.keyboard.type("44")
        page.keyboard.press("Tab")
        expect(second).to_be_focused()
        page.keyboard.type("47")
        page.keyboard.press("Enter")
        assert answers == [], "the network answered before the test had typed both values"
    expect(_cell(page, "KPI2", "AY2569", "target")).to_be_focused()
    assert answers == [200, 200]
    # both answers are in: the screen shows what the server stored, each value with its status
    expect(second).to_have_value("47")
    expect(first).to_have_value("44")
    for cell in (first, second):
        expect(cell.locator("xpath=..")).not_to_have_class(re.compile(r"\bstatus-no_data\b"))
    cdp.send("Network.emulateNetworkConditions", {**conditions, "latency": 0})
    page.reload()
    expect(_cell(page, "KPI2", "AY2568")).to_have_value("44")
    expect(_cell(page, "KPI2", "AY2569")).to_have_value("47")


def test_the_kpi_column_and_period_header_stay_in_view_on_a_phone(phone: Page) -> None:
    phone.goto(phone.base_url + "/areas/phuket/progress")
    box = phone.locator(".grid-wrap").first
    box.scroll_into_view_if_needed()
    box.evaluate("w => { w.scrollLeft = 300; w.scrollTop = 250; }")
    geometry = box.evaluate(
        """w => {
            const b = w.getBoundingClientRect();
            const kpi = w.querySelector('th.kpi-name').getBoundingClientRect();
            const period = w.querySelector('thead th.period').getBoundingClientRect();
            return {width: w.clientWidth, scrolled: w.scrollLeft, kpiWidth: kpi.width,
                    kpiLeft: kpi.left - b.left, headTop: period.top - b.top};
        }"""
    )
    assert geometry["scrolled"] > 0, "the grid did not scroll sideways"
    assert geometry["kpiLeft"] == 0, "the KPI column scrolled away"
    assert geometry["headTop"] == 0, "the period header scrolled away"
    assert geometry["kpiWidth"] < 0.4 * geometry["width"], geometry
    shoot(phone, "phone-progress-grid-scrolled")
