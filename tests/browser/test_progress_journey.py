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
