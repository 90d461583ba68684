"""Signing in, two editors saving the same KPI, and the history that keeps both."""

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PASSWORD, sign_in


def test_sign_in_is_required_and_a_wrong_password_says_so(page: Page) -> None:
    page.goto(page.base_url + "/areas/krabi")
    expect(page).to_have_url(page.base_url + "/login?next=/areas/krabi")
    page.locator("input[name=email]").fill("editor.krabi@example.go.th")
    page.locator("input[name=password]").fill("not the password")
    page.locator("form.form button[type=submit]").click()
    expect(page.locator("#login-notice")).to_contain_text("อีเมลหรือรหัสผ่านไม่ถูกต้อง")
    expect(page.locator("input[name=email]")).to_have_value("editor.krabi@example.go.th")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(page.base_url + "/areas/krabi")  # back where they were going
    expect(page.get_by_role("button", name="ออกจากระบบ")).to_be_visible()
    page.get_by_role("button", name="ออกจากระบบ").click()
    expect(page).to_have_url(page.base_url + "/login")


def test_a_stale_save_shows_both_values_and_the_history_keeps_both(
    browser: Browser, page: Page
) -> None:
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH").new_page()
    other.base_url = page.base_url
    sign_in(page)
    sign_in(other, "editor.krabi@example.go.th")
    for p in (page, other):
        p.goto(p.base_url + "/areas/krabi/plan")
        p.locator("#section-kpis .element").first.get_by_role("button", name="แก้ไข").click()
        expect(p.locator("#section-kpis form input[name=name]")).to_be_visible()
    other.locator("#section-kpis form input[name=name]").fill(
        "กรอบหลักสูตรท้องถิ่นผ่านความเห็นชอบ (ฉบับคณะกรรมการ)"
    )
    other.locator("#section-kpis form button.primary").click()
    expect(other.locator("#section-kpis form")).to_have_count(0)

    page.locator("#section-kpis form input[name=name]").fill(
        "กรอบหลักสูตรท้องถิ่นผ่านความเห็นชอบ (ฉบับผู้ดูแล)"
    )
    page.locator("#section-kpis form button.primary").click()
    conflict = page.locator("#section-kpis .conflict")
    expect(conflict).to_contain_text("(ฉบับคณะกรรมการ)")
    expect(conflict).to_contain_text("(ฉบับผู้ดูแล)")
    expect(page.locator("#section-kpis form input[name=name]")).to_have_value(
        "กรอบหลักสูตรท้องถิ่นผ่านความเห็นชอบ (ฉบับผู้ดูแล)"
    )
    page.get_by_role("button", name="บันทึกของฉันทับ").click()
    expect(page.locator("#section-kpis form")).to_have_count(0)

    page.locator("#section-kpis .element").first.get_by_role("link", name="ประวัติ").click()
    entries = page.locator(".history-entry")
    expect(entries.nth(0)).to_contain_text("(ฉบับผู้ดูแล)")
    expect(entries.nth(1)).to_contain_text("(ฉบับคณะกรรมการ)")
    expect(entries.nth(1)).to_contain_text("editor.krabi")
    other.context.close()
