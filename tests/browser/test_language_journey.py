"""Thai → English → Thai: the switch keeps the page, the choice holds across pages."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import follow, shoot, sign_in


def test_switch_language_and_back(page: Page) -> None:
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.locator("main")).to_contain_text("รุ่น 2565")  # cohort in the Buddhist Era
    expect(page.locator("main")).to_contain_text("ประกาศเมื่อ 29 พ.ย. 2565")
    expect(page.get_by_role("button", name="ไทย")).to_have_attribute("aria-pressed", "true")

    follow(page, page.get_by_role("button", name="English"))
    expect(page).to_have_url(page.base_url + "/areas/phuket")  # the same page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main")).to_contain_text("Cohort 2022")  # Gregorian years in English
    expect(page.locator("main")).to_contain_text("designated 29 Nov 2022")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("link", name="Edit the plan")).to_be_visible()
    # what the committee wrote stays in Thai: only the interface changes
    expect(page.locator("main")).to_contain_text("แผนขับเคลื่อนพื้นที่นวัตกรรมการศึกษาจังหวัดภูเก็ต")
    shoot(page, "overview-phuket-en")

    # the choice holds on the next page, including its htmx fragments
    follow(page, page.get_by_role("link", name="Edit the plan"))
    expect(page.locator("#h-kpis")).to_contain_text("Shared KPIs")
    page.locator("#section-kpis button.add").click()
    expect(page.locator("#section-kpis .new-form")).to_contain_text("Baseline")

    follow(page, page.get_by_role("button", name="ไทย"))
    expect(page).to_have_url(page.base_url + "/areas/phuket/plan")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.locator("#h-kpis")).to_contain_text("ตัวชี้วัดร่วม")
    page.goto(page.base_url + "/")
    expect(page.locator("h1")).to_have_text("พื้นที่นวัตกรรมการศึกษา")
