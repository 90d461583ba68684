"""Krabi's editor adds a progress marker for the parents, rates a semester for all of their
markers at once, and sees the semester on the parents' ladder and on the outcome map."""

import json
import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import follow, full_loads, sign_in
from tests.browser.test_phone import _phone_problems

PARENTS = "ผู้ปกครอง"
MARKER = "ผู้ปกครองพาลูกไปห้องสมุดประชาชนเดือนละครั้ง"


def test_an_editor_rates_a_semester_and_sees_it_on_the_ladder(page: Page) -> None:
    sign_in(page, "editor.krabi@example.go.th")
    page.goto(page.base_url + "/areas/krabi/partners")
    section = page.locator(
        "section.partner", has=page.get_by_role("heading", name=PARENTS, exact=True)
    )
    expect(section.locator(".chart.drawn")).to_be_visible()  # the demo's ladder, drawn
    section_id = section.get_attribute("id")

    loads = full_loads(page)
    section.locator("details.add-marker > summary").click()
    form = section.locator("details.add-marker form")
    form.locator("select[name=level]").select_option("like")
    form.locator("button[type=submit]").click()  # no text: the form comes back, in place
    section = page.locator(f"#{section_id}")
    expect(section.locator("details.add-marker [aria-invalid=true]")).to_be_visible()
    section.locator("details.add-marker textarea[name=text]").fill(MARKER)
    section.locator("details.add-marker button[type=submit]").click()
    expect(section.locator(".rung-like li.marker", has_text=MARKER)).to_be_visible()
    expect(section.locator(".chart.drawn")).to_be_visible()  # redrawn after the swap
    assert loads == []

    follow(page, section.locator(".partner-tools a.button"))
    page.locator("#rating-period").select_option("AY2569-S1")
    follow(page, page.locator("form.filters button[type=submit]"))
    expect(page.locator("h2", has_text="ภาคเรียนที่ 1/2569")).to_be_visible()
    selects = page.locator("form.rating-sheet select[name^=rating-]")
    count = selects.count()
    assert count >= 6  # every active marker of the parents, the new one too
    expect(page.locator("form.rating-sheet fieldset", has_text=MARKER)).to_be_visible()
    for i in range(count):
        selects.nth(i).select_option("high" if i % 2 == 0 else "medium")
    page.locator("form.rating-sheet input[name^=note-]").first.fill("ผู้ปกครองมาประชุมครบทุกห้อง")
    follow(page, page.locator("form.rating-sheet button[type=submit]"))

    assert page.url.endswith(f"#{section_id}")
    expect(page.locator(".notice")).to_be_visible()
    section = page.locator(f"#{section_id}")
    expect(section.locator(".chart.drawn")).to_be_visible()
    figure = json.loads(section.locator(".chart").get_attribute("data-figure"))
    assert figure["data"][0]["x"][-1] == "ภาคเรียนที่ 1/2569"
    section.locator("details.chart-table > summary").click()
    last = section.locator("details.chart-table tbody tr").last
    expect(last).to_contain_text("ภาคเรียนที่ 1/2569")
    expect(section.locator("li.marker", has_text=MARKER).locator(".rating-meter")).to_have_class(
        re.compile(r"rating-(high|medium)")
    )

    page.goto(page.base_url + "/areas/krabi/map")
    expect(page.locator(".chart.map.drawn")).to_be_visible()
    expect(page.locator("#map-partners")).to_be_checked()
    page.locator("details.map-list > summary").click()
    expect(page.locator("details.map-list li", has_text=PARENTS)).to_be_visible()


def test_the_partners_and_a_rating_sheet_fit_a_phone(phone: Page) -> None:
    phone.goto(phone.base_url + "/areas/krabi/partners")
    expect(phone.locator("section.partner .chart.drawn").first).to_be_visible()
    for summary in phone.locator("section.partner").first.locator("details > summary").all():
        summary.click()  # every form and table of the first partner open
    assert _phone_problems(phone) == []
    follow(phone, phone.locator(".partner-tools a.button").first)
    assert _phone_problems(phone) == []
