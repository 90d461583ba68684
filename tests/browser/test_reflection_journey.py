"""Krabi's editor records a reflection, turns a Now-what line into an action in one step (the
line swaps in place), follows the link to the action's card and back to the reflection; the
learning pages fit a phone."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import follow, full_loads, shoot, sign_in
from tests.browser.test_phone import _phone_problems

TITLE = "สะท้อนผลกลางปีการศึกษา 2569 ด้านการอ่าน"
LINE = "ตั้งชมรมผู้ปกครองอ่านนิทานร่วมกับเด็ก ป.1 บนเกาะลันตา"


def test_a_reflection_line_becomes_an_action_linked_both_ways(page: Page) -> None:
    sign_in(page, "editor.krabi@example.go.th")
    page.goto(page.base_url + "/areas/krabi/reflections")
    page.locator("details.new-reflection > summary").click()
    form = page.locator("#reflection-new")
    follow(page, form.get_by_role("button", name=re.compile("Record|บันทึก")))  # no title yet
    expect(page.locator("#reflection-new-title-error")).to_be_visible()
    form = page.locator("#reflection-new")
    form.locator("input[name=title]").fill(TITLE)
    form.locator("label.check", has_text="KPI4").click()
    form.locator("textarea[name=what]").fill("นักเรียน ป.1 อ่านได้ระดับดีขึ้นไปร้อยละ 69.8")
    form.locator("textarea[name=so_what]").fill("โรงเรียนบนเกาะยังต้องการผู้ช่วยอ่าน")
    form.locator("textarea[name=now_what]").fill(f"{LINE}\nติดตามผลการอ่านรายเดือน")
    follow(page, form.get_by_role("button", name=re.compile("Record|บันทึก")))
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator("table.figures", has_text="KPI4")).to_be_visible()

    loads = full_loads(page)
    line = page.locator("#now-what-line-0")
    line.locator("select[name=kind]").select_option("action")
    line.locator("button[type=submit]").click()
    became = page.locator("#now-what-line-0 .became a")
    expect(became).to_contain_text(LINE)
    assert loads == []  # swapped in place by htmx
    assert page.locator("#now-what-line-1 form.turn-form").is_visible()
    reflection_url = page.url.split("?")[0]

    follow(page, became)
    card = page.locator("article.action-progress", has_text=LINE)
    expect(card).to_be_visible()
    back = card.locator(".origin a")
    expect(back).to_contain_text(TITLE)
    follow(page, back)
    assert page.url.split("?")[0] == reflection_url
    expect(page.locator("#now-what-line-0 .became")).to_contain_text(LINE)


def test_the_learning_pages_fit_a_phone(phone: Page) -> None:
    for path in (
        "/areas/krabi/reflections",
        "/areas/krabi/reflections/1",
        "/areas/krabi/proposals",
        "/areas/krabi/questions",
    ):
        phone.goto(phone.base_url + path)
        for summary in phone.locator("main details > summary").all():
            summary.click()  # the forms too
        assert _phone_problems(phone) == [], path
    shoot(phone, "phone-learning-questions")
