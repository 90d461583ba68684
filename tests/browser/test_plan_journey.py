"""Build a plan from empty in the browser: DOE → vision → KRA → KPI → action in the editor, then
the problems on the problem tree's page, reached from the editor's step 2."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import full_loads, open_page, shoot, sign_in, unexpected_problems


def _add(page: Page, kind: str) -> object:
    section = page.locator(f"#section-{kind}")
    section.locator("button.add").click()
    form = section.locator(".new-form form")
    expect(form).to_be_visible()
    return form


def _check(form, text: str) -> None:  # noqa: ANN001
    form.locator("label.check", has_text=text).locator("input").check()


def test_build_a_plan_from_empty_without_a_reload(admin_page: Page) -> None:
    page = admin_page
    page.goto(page.base_url + "/areas/trat/plan")
    loads = full_loads(page)
    page.get_by_role("button", name="เริ่มจัดทำแผน").click()
    expect(page.locator("#section-doe")).to_be_visible()

    form = _add(page, "doe")
    expect(form.locator("textarea[name=text]")).to_be_focused()
    form.locator("textarea[name=text]").fill("เด็กตราดอ่านออก เขียนได้ คิดเป็น")
    _check(form, "LP1")
    form.get_by_role("button", name="บันทึก").click()
    expect(page.locator("#section-doe .element")).to_contain_text("เด็กตราดอ่านออก")

    page.get_by_role("button", name="เขียนวิสัยทัศน์").click()
    page.locator("#plan-vision textarea").fill("ตราดเมืองแห่งการเรียนรู้")
    page.locator("#plan-vision").get_by_role("button", name="บันทึก").click()
    expect(page.locator("blockquote.vision")).to_have_text("ตราดเมืองแห่งการเรียนรู้")

    form = _add(page, "kras")
    form.locator("input[name=title]").fill("ผู้เรียนมีทักษะการอ่าน")
    _check(form, "LP1")
    form.get_by_role("button", name="บันทึก").click()
    expect(page.locator("#section-kras .element")).to_contain_text("KRA1")

    form = _add(page, "kpis")
    form.locator("input[name=name]").fill("ร้อยละนักเรียน ป.1 อ่านออก")
    form.locator("select[name=kind]").select_option("percentage")
    form.locator("select[name=period_type]").select_option("academic_year")
    form.locator("input[name=baseline_value]").fill("๖๒.๕")
    form.locator("select[name=baseline_period]").select_option("AY2565")
    form.locator("input[name=target_value]").fill("75%")
    form.locator("select[name=target_period]").select_option("AY2570")
    _check(form, "KRA1")
    form.get_by_role("button", name="บันทึก").click()
    expect(page.locator("#section-kpis .element")).to_contain_text("62.5")

    form = _add(page, "actions")
    form.locator("input[name=title]").fill("อบรมครูสอนอ่านแบบแจกลูก")
    form.locator("input[name=budget_thb]").fill("250,000")
    _check(form, "KPI1")
    _check(form, "KRA1")
    form.get_by_role("button", name="บันทึก").click()
    expect(page.locator("#section-actions .element")).to_contain_text("250,000 บาท")

    assert loads == [], loads

    # step 2: the problem tree, on its own page
    page.locator("#section-problems").get_by_role("link", name="แผนผังต้นไม้ปัญหา").click()
    expect(page).to_have_url(re.compile(r"/areas/trat/problems"))
    form = page.locator("#new-problem form")
    form.locator("textarea[name=text]").fill("นักเรียน ป.1 อ่านไม่คล่อง")
    _check(form, "KRA1")
    _check(form, "ACT1")
    form.get_by_role("button", name="เพิ่มปัญหา").click()
    expect(page.locator(".pt-node.pt-problem")).to_contain_text("อ่านไม่คล่อง")
    page.goto(page.base_url + "/areas/trat/plan")
    expect(page.locator("#section-problems")).to_contain_text("นักเรียน ป.1 อ่านไม่คล่อง")
    expect(page.locator("#plan-checks")).to_contain_text("ไม่พบช่องว่าง")
    shoot(page, "editor-trat-built", full_page=True)


def test_a_validation_error_shows_beside_the_field_and_keeps_the_text(admin_page: Page) -> None:
    page = admin_page
    page.goto(page.base_url + "/areas/phuket/plan")
    form = _add(page, "kpis")
    form.locator("input[name=name]").fill("ร้อยละครูที่ผ่านการอบรม")
    form.locator("input[name=baseline_value]").fill("ดีมาก")
    form.locator("select[name=baseline_period]").select_option("AY2565")
    form.get_by_role("button", name="บันทึก").click()
    field = page.locator("#section-kpis .new-form input[name=baseline_value]")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("ดีมาก")
    expect(field).to_be_focused()
    expect(page.locator("#section-kpis .new-form .error")).to_contain_text(
        re.compile("โปรดระบุเป็นตัวเลข")
    )
    expect(page.locator("#section-kpis .new-form input[name=name]")).to_have_value(
        "ร้อยละครูที่ผ่านการอบรม"
    )


def _rendered_width(page: Page, text: str, font: str = "16px Sarabun") -> float:
    return page.evaluate(
        """([text, font]) => {
            const s = document.createElement('span');
            s.style.font = font; s.style.position = 'absolute'; s.textContent = text;
            document.body.appendChild(s);
            const w = s.getBoundingClientRect().width; s.remove(); return w; }""",
        [text, font],
    )


def test_overview_in_thai_renders_with_the_thai_font(browser, server: str) -> None:  # noqa: ANN001
    page = open_page(browser, server, {"width": 1280, "height": 720})
    sign_in(page)
    page.goto(page.base_url + "/areas/phuket")
    expect(page.locator("h1")).to_contain_text("ภูเก็ต")
    page.evaluate("document.fonts.ready")
    # the page's own font is Sarabun, served from static/, and it has loaded for Thai text
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("Sarabun")
    assert page.evaluate("document.fonts.check('16px Sarabun', 'ภูเก็ต')")
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.family.includes('Sarabun') && f.status === 'loaded').length"
    )
    assert loaded >= 1
    # Thai rendered with real glyphs: a tofu box per code point would make this far wider,
    # and stacked vowels and tone marks (ื ้ ั ่) take no width of their own
    width = _rendered_width(page, "พื้นที่นวัตกรรมการศึกษา")
    assert 120 < width < 220, width
    assert abs(_rendered_width(page, "ที่") - _rendered_width(page, "ท")) < 0.5
    shoot(page, "overview-phuket-th-1280x720")
    page.context.close()
    assert unexpected_problems(page) == []
