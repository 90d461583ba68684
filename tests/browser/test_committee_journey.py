"""Krabi's secretary (an editor of the area) reaches the committee from the home page, adds the
chair, records a meeting whose resolution adopts a plan version, and follows the resolution to
the version's page, which shows the resolution back; the committee pages fit a phone."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import follow, shoot, sign_in
from tests.browser.test_phone import _phone_problems

CHAIR = "นายประธาน กระบี่ (สาธิต)"
TITLE = "การประชุมคณะกรรมการ ครั้งที่ 3/2568"
VERSION = "ฉบับที่ 2 หลังทบทวนปีการศึกษา 2566"


def test_a_secretary_records_a_meeting_whose_resolution_adopts_a_version(page: Page) -> None:
    sign_in(page, "editor.krabi@example.go.th")
    page.goto(page.base_url + "/")
    follow(page, page.locator("main a", has_text="กระบี่").first)
    follow(page, page.locator("nav.area-nav a", has_text="คณะกรรมการ"))
    expect(page.locator("h1")).to_contain_text("คณะกรรมการ")

    form = page.locator("#member-new")
    form.locator("input[name=name]").fill(CHAIR)
    form.locator("input[name=title]").fill("รองผู้ว่าราชการจังหวัดกระบี่")
    form.locator("select[name=role]").select_option("chair")
    follow(page, form.get_by_role("button", name="เพิ่มกรรมการ"))
    expect(page.locator("table.committee-members tbody tr").first).to_contain_text(CHAIR)

    follow(page, page.locator("nav.learning-tabs a", has_text="การประชุม"))
    form = page.locator("#meeting-new")
    follow(page, form.get_by_role("button", name="บันทึกการประชุม"))  # no date, no title
    expect(page.locator("#meeting-new-title-error")).to_be_visible()
    form = page.locator("#meeting-new")
    form.locator("input[name=held_on]").fill("20/1/2568")
    form.locator("input[name=title]").fill(TITLE)
    form.locator("textarea[name=agenda]").fill("เรื่องแจ้งเพื่อทราบ\nรับรองแผนฉบับที่ 2")
    form.locator("label.check", has_text=CHAIR).click()
    follow(page, form.get_by_role("button", name="บันทึกการประชุม"))
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator("main .lead")).to_contain_text("20 ม.ค. 2568")
    expect(page.locator("ul.attendance")).to_contain_text(CHAIR)

    form = page.locator("#resolution-new")
    form.locator("textarea[name=text]").fill("ที่ประชุมมีมติรับรองแผนขับเคลื่อน ฉบับที่ 2")
    cite = form.locator("select[name=cite]").first
    cite.select_option(label=VERSION)
    form.locator("select[name=cite_kind]").first.select_option("adopt")
    follow(page, form.get_by_role("button", name="บันทึกมติ"))
    resolution = page.locator("li.resolution").first
    expect(resolution).to_contain_text("มติที่ 1")
    expect(resolution.locator(".citations")).to_contain_text("รับรอง")
    shoot(page, "committee-meeting")

    follow(page, resolution.locator(".citations a", has_text=VERSION))
    expect(page.locator("h1")).to_have_text(VERSION)
    back = page.locator(".decided-by")
    expect(back).to_contain_text("ตัดสินโดยมติที่ 1 ของการประชุมวันที่ 20 ม.ค. 2568")
    follow(page, back.locator("a"))
    expect(page.locator("h1")).to_have_text(TITLE)


def test_the_committee_pages_fit_a_phone(phone: Page) -> None:
    for path in ("/areas/mae-hong-son/committee", "/areas/mae-hong-son/meetings"):
        phone.goto(phone.base_url + path)
        for summary in phone.locator("main details > summary").all():
            summary.click()  # the forms too
        assert _phone_problems(phone) == [], path
    shoot(phone, "phone-committee-meetings")
    follow(phone, phone.locator("li.card h3 a", has_text="ครั้งที่ 1/2567"))
    expect(phone.locator("li.resolution").first).to_contain_text("มติที่ 1")
    assert _phone_problems(phone) == [], phone.url
    shoot(phone, "phone-committee-meeting")
