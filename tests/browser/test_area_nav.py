"""The area navigation as a person sees it: one row of tabs under the header, the current page
marked; on a phone the row scrolls sideways (never the page), with the current tab in view and
no Thai word broken inside a tab."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, open_page, shoot, sign_in, unexpected_problems

TABS_JS = """() => [...document.querySelectorAll('.area-nav a')].map(a => {
    const box = a.getBoundingClientRect();
    return {text: a.textContent, current: a.getAttribute('aria-current'), top: box.top,
            left: box.left, right: box.right, height: box.height,
            lines: a.getClientRects().length};
})"""


def test_the_area_navigation_is_one_row_with_the_current_page_marked(admin_page: Page) -> None:
    page = admin_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(page.base_url + "/areas/krabi/progress")
    nav = page.get_by_role("navigation", name="หน้าของพื้นที่กระบี่")
    expect(nav).to_be_visible()
    expect(nav.locator("[aria-current=page]")).to_have_text("ความก้าวหน้า")
    tabs = page.evaluate(TABS_JS)
    assert [t["text"] for t in tabs] == [
        "ภาพรวม",
        "แก้ไขแผน",
        "ปัญหา",
        "ความก้าวหน้า",
        "หน่วยรายงาน",
        "แผนภาพห่วงโซ่ผลลัพธ์",
        "นำเสนอ",
        "เวทีประชุม",
        "การเรียนรู้",
        "เส้นเวลา",
        "คณะกรรมการ",
        "ประวัติ",
    ]
    assert len({round(t["top"]) for t in tabs}) == 1  # one row at 1280 px
    assert all(t["height"] >= 44 for t in tabs)
    shoot(page, "area-nav-desktop-krabi-progress")
    nav.get_by_role("link", name="แผนภาพห่วงโซ่ผลลัพธ์").click()
    page.wait_for_url("**/areas/krabi/map")
    expect(nav.locator("[aria-current=page]")).to_have_text("แผนภาพห่วงโซ่ผลลัพธ์")


def test_on_a_phone_the_row_scrolls_sideways_and_shows_the_current_tab(
    browser, server: str
) -> None:  # noqa: ANN001
    page = open_page(browser, server, PHONE)
    sign_in(page, "editor.krabi@example.go.th")
    page.goto(page.base_url + "/areas/krabi/history")
    tabs = page.evaluate(TABS_JS)
    assert [t["text"] for t in tabs][-1] == "ประวัติ" and "เวทีประชุม" not in str(tabs)
    assert len({round(t["top"]) for t in tabs}) == 1  # one row, not three
    assert all(t["lines"] == 1 and 44 <= t["height"] < 60 for t in tabs), tabs  # no word broken
    current = next(t for t in tabs if t["current"] == "page")
    assert current["text"] == "ประวัติ" and current["left"] >= 0 and current["right"] <= 375
    width = page.evaluate("[document.documentElement.scrollWidth, window.scrollY]")
    assert width == [375, 0]  # the page itself neither scrolls sideways nor moved down
    shoot(page, "area-nav-phone-krabi-history")
    page.goto(page.base_url + "/areas/krabi")
    first = page.evaluate(TABS_JS)[0]
    assert first["current"] == "page" and first["left"] >= 0
    shoot(page, "area-nav-phone-krabi-overview")
    page.context.close()
    assert unexpected_problems(page) == []
