"""axe-core on every main page and on the editor's states: no serious or critical violation."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_problems, follow, sign_in


def _kpi_form_with_an_error(page: Page) -> None:
    section = page.locator("#section-kpis")
    section.locator("button.add").click()
    form = section.locator(".new-form form")
    form.locator("input[name=baseline_value]").fill("ดีมาก")
    form.get_by_role("button", name="บันทึก").click()
    expect(form.locator("[aria-invalid=true]").first).to_be_visible()


def _edit_and_confirm_delete(page: Page) -> None:
    page.locator("#section-kras .element").first.get_by_role("button", name="แก้ไข").click()
    expect(page.locator("#section-kras form")).to_be_visible()
    page.locator("#section-actions .element").first.get_by_role("button", name="ลบ").click()
    expect(page.locator("#section-actions .confirming")).to_be_visible()
    page.get_by_role("button", name="แก้ไขชื่อแผนและปี").click()
    page.get_by_role("button", name="แก้ไขวิสัยทัศน์").click()
    expect(page.locator("form#plan-vision")).to_be_visible()


def _english(page: Page) -> None:
    follow(page, page.get_by_role("button", name="English"))
    expect(page.locator("html")).to_have_attribute("lang", "en")


def _kpi_values_with_an_error(page: Page) -> None:
    follow(page, page.locator("a.kpi-link", has_text="KPI3"))
    form = page.locator("details.period[open] form")
    form.locator("input[name$='-value']").first.fill("ดี")
    follow(page, form.get_by_role("button", name="บันทึก"))
    expect(page.locator("details.period[open] [aria-invalid=true]").first).to_be_visible()


def _map_drawn(page: Page) -> None:
    expect(page.locator(".chart.map.drawn").first).to_be_visible()


def _kpi_board(page: Page) -> None:
    _map_drawn(page)
    page.keyboard.press("n")
    expect(page.locator("#present-board")).to_be_visible()


def _open_a_workshop(page: Page) -> None:
    page.locator("input[name=title]").fill("World Café รอบที่ 1")
    follow(page, page.locator("form.form button.primary"))
    expect(page.locator(".join-code")).to_be_visible()


def _join_as_a_guest(page: Page) -> None:
    _open_a_workshop(page)
    code = page.locator(".join-code").inner_text().split()[-1]
    page.goto(page.base_url + "/join")
    page.locator("#join-code").fill(code.lower())
    follow(page, page.locator("form.guest-form button.primary"))
    page.locator("input[name=display_name]").fill("ครูสมศรี")
    follow(page, page.locator("form.guest-form button.primary"))
    page.locator("input[name=kind][value=resource]").check()
    page.locator("textarea[name=text]").fill("ห้องสมุดชุมชน")  # without its dimension
    page.locator("form.contribute button[type=submit]").click()
    expect(page.locator("#guest-dimension-error")).to_be_visible()


def _indicator_form_with_an_error(page: Page) -> None:
    form = page.locator("#new-indicator form")
    form.locator("input[name=code]").fill("O-NET คณิต")
    follow(page, form.get_by_role("button", name="เพิ่ม"))
    expect(page.locator("#new-indicator [aria-invalid=true]").first).to_be_visible()


def _comparison_drawn(page: Page) -> None:
    expect(page.locator(".comparison .chart.drawn")).to_be_visible()


def _comment_without_text(page: Page) -> None:
    follow(page, page.locator("#comment-new button[type=submit]"))
    expect(page.locator("#comment-new-body-error")).to_be_visible()


def _partner_forms_open_with_an_error(page: Page) -> None:
    section = page.locator("section.partner").first
    section.locator(".partner-tools details.tool > summary").first.click()
    section.locator("details.add-marker > summary").click()
    section.locator("details.add-marker button[type=submit]").click()  # no text
    first = page.locator("section.partner").first
    expect(first.locator("details.add-marker [aria-invalid=true]")).to_be_visible()
    first.locator(".marker-tools details.tool > summary").first.click()


def _rating_sheet_with_an_error(page: Page) -> None:
    follow(page, page.locator(".partner-tools a.button").first)
    page.locator("form.rating-sheet input[name^=note-]").first.fill("ยังไม่ได้เลือกระดับ")
    follow(page, page.locator("form.rating-sheet button[type=submit]"))
    expect(page.locator("form.rating-sheet [aria-invalid=true]").first).to_be_visible()


def _open_the_first_version(page: Page) -> None:
    page.locator("table.versions tbody th a").first.click()
    page.wait_for_selector("h1")


def _outcome_form_with_an_error(page: Page) -> None:
    page.locator("#outcome-new-box > summary").click()
    page.locator("#outcome-new-who").fill("ครูโรงเรียนบ้านคลองม่วง")  # no date, no change
    follow(page, page.locator("#outcome-new button[type=submit]"))
    expect(page.locator("#outcome-new-observed_on-error")).to_be_visible()


def _edit_an_outcome(page: Page) -> None:
    follow(page, page.locator("ol.outcomes h3 a").first)
    page.locator("details.edit-record > summary").click()
    page.locator("details.delete-record > summary").click()
    expect(page.locator("#outcome-edit")).to_be_visible()


def _principle_edit_with_an_error(page: Page) -> None:
    principle = page.locator("li.principle").first
    principle.locator("details.edit-record > summary").click()
    principle.locator("textarea[name=statement]").fill("")
    principle.locator("form.principle-form button[type=submit]").click()
    expect(page.locator("li.principle [aria-invalid=true]").first).to_be_visible()


def _resource_form_with_an_error(page: Page) -> None:
    page.locator("#resource-new-box > summary").click()
    page.locator("#resource-new-name").fill("ห้องสมุดชุมชน")  # without its dimension
    follow(page, page.locator("#resource-new-box button[type=submit]"))
    expect(page.locator("#resource-new-dimension-error")).to_be_visible()


def _resource_edit_and_delete_open(page: Page) -> None:
    entries = page.locator("li.resource")
    entries.nth(0).get_by_role("link", name="แก้ไข").click()
    expect(page.locator("#inventory li.editing form")).to_be_visible()
    page.locator("li.resource").nth(1).get_by_role("link", name="ลบ").click()
    expect(page.locator("#inventory li.confirming")).to_be_visible()


def _data_item_edit_and_delete_open(page: Page) -> None:
    rows = page.locator("table.data-catalogue tbody tr")
    rows.nth(0).get_by_role("link", name="แก้ไข").click()
    expect(page.locator("table.data-catalogue tr.editing form")).to_be_visible()
    page.locator("table.data-catalogue tbody tr:not(.editing)").nth(0).get_by_role(
        "link", name="ลบ"
    ).click()
    expect(page.locator("table.data-catalogue tr.confirming")).to_be_visible()


def _reflection_form_with_an_error(page: Page) -> None:
    page.locator("details.new-reflection > summary").click()
    follow(page, page.locator("#reflection-new button[type=submit]"))  # no title
    expect(page.locator("#reflection-new-title-error")).to_be_visible()


def _reflection_edit_open(page: Page) -> None:
    follow(page, page.locator("ol.reflection-list h3 a").first)
    follow(page, page.locator(".reflection-tools a.button").first)  # edit
    expect(page.locator("#reflection-edit")).to_be_visible()


def _question_edit_with_an_error(page: Page) -> None:
    question = page.locator("#questions-open li.question").first
    question.locator("details.question-edit > summary").click()
    question.locator("select[name=state]").select_option("answered")  # without an answer
    follow(page, question.locator("form.form button[type=submit]"))
    expect(page.locator("li.question [aria-invalid=true]").first).to_be_visible()


def _an_agency_history(page: Page) -> None:
    """The history of an agency loaded with the reference data: no change recorded yet."""
    follow(page, page.locator("#section-agencies a.button", has_text="ประวัติ").first)
    expect(page.locator("main p.empty")).to_be_visible()


PAGES: dict[str, tuple[str, Callable[[Page], None] | None]] = {
    "home": ("/", None),
    "overview": ("/areas/phuket", None),
    "overview in English": ("/areas/phuket", _english),
    "editor": ("/areas/phuket/plan", None),
    "editor, form with an error": ("/areas/phuket/plan", _kpi_form_with_an_error),
    "editor, forms and a delete question open": ("/areas/phuket/plan", _edit_and_confirm_delete),
    "editor of an area with no plan": ("/areas/sa-kaeo/plan", None),
    "area history": ("/areas/krabi/history", None),
    "element history": ("/areas/krabi/history/kpi/1", None),
    "a KPI's values, with an error": ("/areas/krabi/progress", _kpi_values_with_an_error),
    "spreadsheet import": ("/areas/krabi/progress/import", None),
    "account": ("/account", None),
    "people": ("/admin/users", None),
    "a person": ("/admin/users/1", None),
    "not found": ("/areas/atlantis", None),
    "outcome map": ("/areas/krabi/map", _map_drawn),
    "outcome map, unknown period": ("/areas/krabi/map?period=AY2400", _map_drawn),
    "outcome map compared between two dates": (
        "/areas/krabi/map/compare?since=2020-01-01",
        _map_drawn,
    ),
    "outcome map of an area with no plan": ("/areas/sa-kaeo/map", None),
    "an agency's history, nothing recorded yet": ("/areas/krabi/plan", _an_agency_history),
    "present: the map": ("/areas/krabi/present", _map_drawn),
    "present: the KPI board": ("/areas/krabi/present", _kpi_board),
    "workshop sessions": ("/areas/krabi/workshops", None),
    "a workshop board": ("/areas/krabi/workshops", _open_a_workshop),
    "join a workshop": ("/join", None),
    "cross-area review": ("/review", None),
    "cross-area review, themes by budget": ("/review?heat=theme&measure=budget&year=AY25", None),
    "comments": ("/areas/krabi/comments", None),
    "comments, form with an error": ("/areas/krabi/comments", _comment_without_text),
    "boundary partners": ("/areas/krabi/partners", None),
    "boundary partners, forms open, one with an error": (
        "/areas/krabi/partners",
        _partner_forms_open_with_an_error,
    ),
    "rating a semester, with an error": ("/areas/krabi/partners", _rating_sheet_with_an_error),
    "news": ("/news", None),
    "common indicators": ("/indicators", None),
    "common indicators, form with an error": ("/indicators", _indicator_form_with_an_error),
    "an indicator compared across areas": ("/indicators/p1-reading-good", _comparison_drawn),
    "KPIs mapped to no indicator": ("/indicators/unmapped", None),
    "a guest's page, with an error": ("/areas/krabi/workshops", _join_as_a_guest),
    "provincial brief": ("/areas/krabi/brief?period=AY2567", None),
    "provincial brief, unknown year": ("/areas/krabi/brief?period=AY2400", None),
    "briefs of the review's areas": ("/review/briefs", None),
    "annual summary": ("/review/annual?year=AY2567", None),
    "reflections": ("/areas/krabi/reflections", None),
    "reflections, form with an error": ("/areas/krabi/reflections", _reflection_form_with_an_error),
    "a reflection": ("/areas/krabi/reflections/1", None),
    "a reflection, edit form open": ("/areas/krabi/reflections", _reflection_edit_open),
    "change proposals": ("/areas/krabi/proposals", None),
    "learning questions": ("/areas/krabi/questions", None),
    "learning questions, edit with an error": (
        "/areas/krabi/questions",
        _question_edit_with_an_error,
    ),
    "emergent outcomes": ("/areas/krabi/outcomes", None),
    "emergent outcomes, a bad filter": ("/areas/krabi/outcomes?effect=neutral", None),
    "emergent outcomes, form with an error": ("/areas/krabi/outcomes", _outcome_form_with_an_error),
    "an emergent outcome, edit and delete open": ("/areas/krabi/outcomes", _edit_an_outcome),
    "guiding principles": ("/areas/krabi/principles", None),
    "guiding principles, edit with an error": (
        "/areas/phuket/principles",
        _principle_edit_with_an_error,
    ),
    "learning and adaptation": ("/areas/krabi/learning", None),
    "timeline": ("/areas/krabi/timeline", None),
    "timeline, a bad filter": ("/areas/krabi/timeline?since=yesterday", None),
    "plan versions": ("/areas/krabi/versions", None),
    "two plan versions compared": ("/areas/krabi/versions/compare", None),
    "a plan version": ("/areas/krabi/versions", _open_the_first_version),
    "resources": ("/areas/krabi/resources", None),
    "resources, form with an error": ("/areas/krabi/resources", _resource_form_with_an_error),
    "resources, edit and delete open": ("/areas/krabi/resources", _resource_edit_and_delete_open),
    "data catalogue": ("/areas/krabi/data", None),
    "data catalogue, edit and delete open": ("/areas/krabi/data", _data_item_edit_and_delete_open),
}


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violation(page: Page, name: str) -> None:
    path, then = PAGES[name]
    sign_in(page)
    page.goto(page.base_url + path)
    if then:
        then(page)
    assert axe_problems(page) == []


def test_sign_in_page_has_no_serious_accessibility_violation(page: Page) -> None:
    page.goto(page.base_url + "/login")
    page.locator("input[name=email]").fill("someone@example.go.th")
    page.locator("input[name=password]").fill("wrong")
    page.locator("form.form button[type=submit]").click()
    expect(page.locator("#login-notice")).to_be_visible()
    assert axe_problems(page) == []
