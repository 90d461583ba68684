"""Forms that help: the KPI form in sections with its rare fields folded and periods picked in
B.E., action dates typed in B.E., locked grid cells, and a visible marker on every fold."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, shoot, sign_in


def _markers(page: Page) -> list[tuple[str, bool, str]]:
    """(summary text, open, the marker drawn before it) for every visible summary."""
    return page.eval_on_selector_all(
        "details > summary",
        """els => els.filter(e => e.offsetParent !== null).map(e => [
            e.textContent.trim().slice(0, 40), e.parentElement.open,
            getComputedStyle(e, '::before').content])""",
    )


def test_every_fold_shows_whether_it_is_open(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket/progress/charts")
    markers = _markers(page)
    assert markers, "the charts page has folded tables"
    for text, is_open, marker in markers:
        assert marker not in ("none", "normal", '""'), f"no marker on {text!r}"
        if not is_open:
            assert marker == '"▸"', text
    fold = page.locator("main details > summary").first  # not the header menu (phones only)
    fold.click()
    assert _markers(page)[0][2] in ('"▾"', '"−"')


def test_the_kpi_form_folds_rare_fields_and_picks_periods_in_be(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket/plan")
    page.locator("#section-kpis").get_by_role("button", name="แก้ไข").first.click()
    form = page.locator("li.editing form")
    expect(form.locator("legend", has_text="ค่าฐานและค่าเป้าหมาย")).to_be_visible()
    expect(form.locator("[name=tolerance]")).to_be_hidden()  # folded
    target = form.locator("select[name=target_period]")
    expect(target.locator("option:checked")).to_have_text("ปีการศึกษา 2569")
    form.screenshot(path=str(ARTIFACTS / "kpi-form-sections.png"))
    form.locator("details.more-fields > summary").click()
    expect(form.locator("[name=tolerance]")).to_be_visible()
    form.screenshot(path=str(ARTIFACTS / "kpi-form-unfolded.png"))


def test_action_dates_are_typed_in_be_not_mm_dd_yyyy(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket/plan")
    page.locator("#section-actions").get_by_role("button", name="แก้ไข").first.click()
    start = page.locator("li.editing [name=start_on]")
    expect(start).to_have_attribute("type", "text")
    expect(start).to_have_attribute("placeholder", "วว/ดด/ปปปป พ.ศ.")
    page.locator("li.editing form").screenshot(path=str(ARTIFACTS / "action-form-be-dates.png"))


def test_grid_cells_of_periods_not_begun_are_locked(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket/progress")
    locked = page.locator("td.cell.locked input").first
    expect(locked).to_have_attribute("readonly", "")
    expect(locked).to_have_attribute("title", "ช่วงเวลานี้ยังไม่เริ่ม ตอนนี้กำหนดได้เฉพาะเป้าหมาย")
    locked.scroll_into_view_if_needed()
    shoot(page, "progress-locked-cells")


def test_the_home_says_what_needs_the_editor_now(page: Page) -> None:
    sign_in(page, "editor.krabi@example.go.th")
    page.goto(page.base_url + "/")
    agenda = page.locator("section.agenda")
    expect(agenda.locator("h2")).to_have_text("สิ่งที่รอคุณอยู่")
    shoot(page, "home-editor-krabi", full_page=True)
