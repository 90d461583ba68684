"""When the venue's internet drops, the session ends or a proxy fails: a message, text kept."""

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import expect_problem, sign_in

TEXT = "เด็กกระบี่อ่านออกเขียนได้และรักการอ่าน"


def _open_doe_form(page: Page) -> object:
    page.goto(page.base_url + "/areas/krabi/plan")
    page.locator("#section-doe button.add").click()
    form = page.locator("#section-doe .new-form form")
    form.locator("textarea[name=text]").fill(TEXT)
    return form


def test_offline_save_says_so_and_keeps_the_text(page: Page) -> None:
    sign_in(page)
    form = _open_doe_form(page)
    count = page.locator("#section-doe li.element").count()
    page.context.set_offline(True)
    expect_problem(page, "console: htmx:sendError")  # htmx logs the failed request
    expect_problem(page, "console: htmx:afterRequest")
    form.get_by_role("button", name="บันทึก").click()
    notice = page.locator("#flash .flash-message")
    expect(notice).to_contain_text("ไม่สามารถเชื่อมต่อเซิร์ฟเวอร์ได้")
    expect(notice).to_be_focused()
    expect(form.locator("textarea[name=text]")).to_have_value(TEXT)

    page.context.set_offline(False)
    notice.get_by_role("button", name="ปิด").click()
    expect(notice).to_have_count(0)
    form.get_by_role("button", name="บันทึก").click()
    expect(page.locator("#section-doe li.element")).to_have_count(count + 1)
    expect(page.locator("#section-doe li.element:focus")).to_contain_text(TEXT)


def test_a_save_after_signing_out_elsewhere_keeps_the_text(page: Page) -> None:
    sign_in(page, "editor.krabi@example.go.th")
    form = _open_doe_form(page)
    session = next(c for c in page.context.cookies() if c["name"] == "phonlap_session")
    page.context.clear_cookies(name="phonlap_session")
    form.get_by_role("button", name="บันทึก").click()
    notice = page.locator("#flash .flash-message")
    expect(notice).to_contain_text("เข้าสู่ระบบอีกครั้งในแท็บใหม่")
    expect(notice).to_be_focused()
    expect(form.locator("textarea[name=text]")).to_have_value(TEXT)

    page.context.add_cookies([session])  # signed in again (in the other tab)
    form.get_by_role("button", name="บันทึก").click()
    expect(page.locator("#section-doe li.element:focus")).to_contain_text(TEXT)


def test_a_proxy_error_is_not_swapped_over_the_form(page: Page) -> None:
    sign_in(page)
    form = _open_doe_form(page)

    def bad_gateway(route: Route) -> None:
        route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")

    page.route("**/areas/krabi/plan/doe", bad_gateway)
    expect_problem(page, "502 ")
    form.get_by_role("button", name="บันทึก").click()
    expect(page.locator("#flash .flash-message")).to_contain_text("ยังไม่มีการบันทึกข้อมูล")
    expect(page.locator("body")).not_to_contain_text("Bad Gateway")
    expect(form.locator("textarea[name=text]")).to_have_value(TEXT)
