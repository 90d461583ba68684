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
                // inside a closed <details> (not its summary): hidden, though Chromium may still
                // give it a zero-height box
                const closed = e.closest('details:not([open])');
                if (closed && !e.closest('summary')) continue;
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
        if path == "/":
            shoot(phone, "phone-home")


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


def _one_line(page: Page, selector: str) -> list[str]:
    """Labels under `selector` whose text is broken over more than one line."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter(e => {
            if (!e.getClientRects().length) return false;
            const range = document.createRange();
            range.selectNodeContents(e);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            return tops.size > 1;
        }).map(e => e.textContent.trim())""",
        selector,
    )


def test_the_header_folds_into_a_menu_on_a_phone(phone: Page) -> None:
    phone.goto(phone.base_url + "/areas/krabi")
    header = phone.locator("header.topbar")
    assert header.bounding_box()["height"] <= 64
    # the header and the area's tabs together leave most of the 812 px for the page
    assert phone.locator(".area-nav").bounding_box()["y"] + 50 <= 120
    main_menu = phone.get_by_role("navigation", name="เมนูหลัก")
    expect(main_menu).to_be_hidden()
    shoot(phone, "phone-header-closed")

    phone.get_by_text("เมนู", exact=True).click()
    expect(main_menu).to_be_visible()
    assert _phone_problems(phone) == []
    assert _one_line(phone, ".topbar nav a, .area-nav a") == []
    expect(main_menu.get_by_role("link", name="ตัวชี้วัดกลาง")).to_be_visible()
    shoot(phone, "phone-header-open")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Escape")
    expect(main_menu).to_be_hidden()
    expect(header.locator("summary")).to_be_focused()


def test_the_phone_menu_opens_without_javascript(browser, server: str) -> None:  # noqa: ANN001
    from tests.browser.conftest import PHONE, open_page, sign_in

    page = open_page(browser, server, PHONE, java_script_enabled=False)
    sign_in(page)
    page.goto(page.base_url + "/")
    menu = page.get_by_role("navigation", name="เมนูหลัก")
    expect(menu).to_be_hidden()
    page.get_by_text("เมนู", exact=True).click()
    expect(menu).to_be_visible()
    page.context.close()


def test_the_menu_is_always_open_on_a_wide_screen(admin_page: Page) -> None:
    admin_page.goto(admin_page.base_url + "/areas/krabi")
    expect(admin_page.locator("header.topbar summary")).to_be_hidden()
    expect(admin_page.get_by_role("navigation", name="เมนูหลัก")).to_be_visible()
    assert admin_page.locator("header.topbar").bounding_box()["height"] <= 64
    assert _one_line(admin_page, ".topbar nav a, .area-nav a") == []
