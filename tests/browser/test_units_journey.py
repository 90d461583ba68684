"""The reporting units registry and the data catalogue's breakdowns in a browser: an editor
builds a small tree of units through the form, the tree reads parent → children, and both pages
fit a desktop (1280×800) and a phone (390×844)."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_problems, follow, open_page, shoot, sign_in
from tests.browser.test_phone import _phone_problems

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _add_unit(page: Page, kind: str, name: str, code: str = "", parent: str = "") -> None:
    box = page.locator("#org-unit-new-box")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    page.select_option("#org-unit-new-kind", kind)
    page.fill("#org-unit-new-name", name)
    page.fill("#org-unit-new-code", code)
    if parent:
        page.select_option("#org-unit-new-parent_id", label=parent)
    follow(page, box.locator("button[type=submit]"))


def test_an_editor_builds_a_tree_of_units_that_reads_well_on_desktop_and_phone(
    browser,
    server: str,  # noqa: ANN001
) -> None:
    page = open_page(browser, server, DESKTOP)
    sign_in(page)
    page.goto(server + "/areas/krabi/units")
    _add_unit(page, "province", "จังหวัดกระบี่ (ทดสอบ)", "81")
    _add_unit(page, "esa_office", "สพป.กระบี่ (ทดสอบ)", "8101", parent="จังหวัดกระบี่ (ทดสอบ) (81)")
    _add_unit(
        page,
        "school",
        "โรงเรียนบ้านเกาะลันตาน้อย (ทดสอบ)",
        "๑๐๘๑๐๑๐๐๕๕",
        parent="\u00a0\u00a0สพป.กระบี่ (ทดสอบ) (8101)",
    )
    school = page.locator("tr", has_text="โรงเรียนบ้านเกาะลันตาน้อย (ทดสอบ)")
    expect(school).to_have_class("depth-2")
    expect(school.locator("td.code")).to_have_text("1081010055")
    rows = page.locator("table.unit-tree tbody th[scope=row]").all_inner_texts()
    ours = [r for r in rows if "(ทดสอบ)" in r]
    assert [r.split("(ทดสอบ)")[0].strip("└ ").strip() for r in ours] == [
        "จังหวัดกระบี่",
        "สพป.กระบี่",
        "โรงเรียนบ้านเกาะลันตาน้อย",
    ]
    page.locator("#org-unit-new-box summary").click()
    assert axe_problems(page) == []
    shoot(page, "units-desktop", full_page=True)
    page.goto(server + "/areas/krabi/data")
    expect(page.locator("#h-breakdowns")).to_be_visible()
    expect(page.locator("#breakdowns")).to_contain_text("กะเหรี่ยง")
    # Krabi's own breakdown, with a code refused first (the message beside the field)
    page.locator("#category-set-new-box summary").click()
    page.fill("#set-new-code", "Island")
    page.fill("#set-new-name_th", "ที่ตั้งโรงเรียน (ทดสอบ)")
    follow(page, page.locator("#category-set-new-box button[type=submit]"))
    expect(page.locator("#set-new-code-error")).to_be_visible()
    assert axe_problems(page) == []
    page.fill("#set-new-code", "island_test")
    follow(page, page.locator("#category-set-new-box button[type=submit]"))
    own = page.locator(".category-set", has_text="ที่ตั้งโรงเรียน (ทดสอบ)")
    own.locator("input[name=code]").fill("island")
    own.locator("input[name=name_th]").first.fill("เกาะ")
    follow(page, own.get_by_role("button", name="เพิ่มตัวเลือก"))
    expect(page.locator(".category-set", has_text="ที่ตั้งโรงเรียน (ทดสอบ)")).to_contain_text("เกาะ")
    assert axe_problems(page) == []
    shoot(page, "data-desktop", full_page=True)
    page.context.close()

    phone = open_page(browser, server, PHONE)
    sign_in(phone)
    for path, name in (("/areas/krabi/units", "units-phone"), ("/areas/krabi/data", "data-phone")):
        phone.goto(server + path)
        for box in phone.locator("details.add-box").all():
            box.locator("summary").click()
        assert _phone_problems(phone) == [], path
        shoot(phone, name, full_page=True)
    phone.context.close()
