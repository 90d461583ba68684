"""At 375 px wide: no sideways page scroll, and every control is at least 44 px high."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import shoot

# Controls a finger has to hit. Links inside a sentence are exempt (as in WCAG 2.5.8); a checkbox
# is hit through its label, which is what is measured.
CONTROLS = (
    "button, select, textarea, summary, label.check,"
    " input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
    " a[href]:not(p a):not(.skip)"
)


def _phone_problems(page: Page) -> list[str]:
    return page.evaluate(
        """(selector) => {
            const problems = [];
            const root = document.documentElement;
            if (root.scrollWidth > root.clientWidth) {
                const wide = [...document.body.querySelectorAll('*')]
                    .filter(e => e.getBoundingClientRect().right > root.clientWidth + 0.5
                                 && !e.closest('.table-wrap'))
                    .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + e.className);
                problems.push(`page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}` +
                              ` (${wide.join(', ')})`);
            }
            for (const e of document.querySelectorAll(selector)) {
                const box = e.getBoundingClientRect();
                if (!e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') continue;
                if (box.height < 44) {
                    const name = (e.getAttribute('aria-label') || e.textContent || e.name || '')
                        .trim().replace(/\\s+/g, ' ').slice(0, 30);
                    problems.push(`${e.tagName.toLowerCase()} "${name}" is ${box.height.toFixed(0)} px high`);
                }
            }
            return problems;
        }""",
        CONTROLS,
    )


def test_overview_fits_a_phone(phone: Page) -> None:
    phone.goto(phone.base_url + "/areas/phuket")
    assert _phone_problems(phone) == []
    shoot(phone, "phone-overview-phuket")


def test_home_and_history_fit_a_phone(phone: Page) -> None:
    for path in ("/", "/areas/krabi/history", "/account"):
        phone.goto(phone.base_url + path)
        assert _phone_problems(phone) == [], path


def test_editor_fits_a_phone_with_its_forms_open(phone: Page) -> None:
    phone.goto(phone.base_url + "/areas/phuket/plan")
    assert _phone_problems(phone) == []
    shoot(phone, "phone-editor-phuket")
    # a KPI form (the widest), an element being edited and a delete question, all open at once
    phone.locator("#section-kpis button.add").click()
    form = phone.locator("#section-kpis .new-form form")
    expect(form).to_be_visible()
    form.locator("input[name=baseline_value]").fill("ดีมาก")
    form.get_by_role("button", name="บันทึก").click()
    expect(form.locator("[aria-invalid=true]").first).to_be_visible()
    phone.locator("#section-actions .element").first.get_by_role("button", name="แก้ไข").click()
    expect(phone.locator("#section-actions form")).to_be_visible()
    phone.locator("#section-kras .element").first.get_by_role("button", name="ลบ").click()
    expect(phone.locator("#section-kras .confirming")).to_be_visible()
    assert _phone_problems(phone) == []
    form.scroll_into_view_if_needed()
    shoot(phone, "phone-editor-kpi-form-error")
