"""A custodian enters a period's values on "my data for this period"; the KPI computed from them
changes on another browser's progress page and map without a reload. The entry page at desktop
and phone widths: its grids scroll inside their own box, never the page."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from app.models import (
    Agency,
    Area,
    CategoryOption,
    CategorySet,
    DataItem,
    DataItemCategorySet,
    OrgUnit,
)
from app.services import plans, shared_data
from app.services.audit import Actor
from app.services.plan_tree import current_plans
from tests.browser.conftest import (
    axe_problems,
    follow,
    open_page,
    shoot,
    sign_in,
    unexpected_problems,
)

AREA = "/areas/mae-hong-son"
PERIOD = "AY2568"
LANGUAGES = ("ไทย", "ปกาเกอะญอ", "ไทใหญ่", "ม้ง", "ลีซู", "ลาหู่", "อาข่า", "ลัวะ")


@pytest.fixture(scope="module")
def reading(browser_db, server: str) -> dict:  # noqa: ANN001
    """Two schools of Mae Hong Son, pupils who read fluently and pupils tested per school (kept
    by one agency), and a KPI computed as their ratio × 100; made in the server's database."""
    engine = create_engine(f"sqlite:///{browser_db}")
    actor = Actor.process("browser-test")
    with Session(engine, expire_on_commit=False) as session:
        area = session.exec(select(Area).where(Area.slug == "mae-hong-son")).one()
        agency = session.exec(
            select(Agency).where(Agency.area_id == area.id).order_by(Agency.id)
        ).first()
        schools = [
            OrgUnit(area_id=area.id, kind="school", name=name, code=code)
            for name, code in (
                ("โรงเรียนบ้านห้วยผึ้ง", "1058990001"),
                ("โรงเรียนบ้านนาปู่ป้อม", "1058990002"),
            )
        ]
        session.add_all(schools)
        items = [
            DataItem(
                area_id=area.id,
                name=name,
                measure="คน",
                period_type="academic_year",
                reported_by="school",
                custodian_agency_id=agency.id,
            )
            for name in ("นักเรียน ป.3 ที่อ่านคล่อง (ทดสอบ)", "นักเรียน ป.3 ที่ได้รับการประเมิน (ทดสอบ)")
        ]
        session.add_all(items)
        by_language = DataItem(
            area_id=area.id,
            name="นักเรียน ป.3 จำแนกตามภาษาแม่ (ทดสอบ)",
            measure="คน",
            period_type="academic_year",
            reported_by="school",
            custodian_agency_id=agency.id,
        )
        languages = CategorySet(area_id=area.id, code="mother_tongue_test", name_th="ภาษาแม่")
        session.add_all([by_language, languages])
        session.flush()
        for pos, name in enumerate(LANGUAGES):
            session.add(
                CategoryOption(set_id=languages.id, code=f"l{pos}", name_th=name, position=pos)
            )
        session.add(DataItemCategorySet(data_item_id=by_language.id, set_id=languages.id))
        session.commit()
        plan = current_plans(session, [area.id])[area.id]
        kpi = plans.create_element(
            session,
            actor=actor,
            plan=plan,
            kind="kpis",
            element_in={
                "code": "KPI-DATA",
                "name": "ร้อยละนักเรียน ป.3 อ่านคล่อง (คำนวณจากข้อมูล)",
                "kind": "percentage",
                "period_type": "academic_year",
            },
        )
        ratio = {"method": "ratio", "numerator": items[0].id, "denominator": items[1].id}
        computation = shared_data.check_computation(session, area, kpi, {**ratio, "scale": 100})
        shared_data.set_computation(
            session, actor=actor, area=area, plan=plan, kpi=kpi, computation=computation
        )
        session.commit()
        ids = {
            "agency": agency.id,
            "kpi": kpi.id,
            "items": [i.id for i in items],
            "by_language": by_language.id,
            "schools": [s.id for s in schools],
        }
    engine.dispose()
    return ids


def test_values_entered_change_the_computed_kpi_live_on_progress_and_map(
    browser, server: str, reading: dict
) -> None:  # noqa: ANN001
    watcher = open_page(browser, server, {"width": 1280, "height": 800})
    map_tab = watcher.context.new_page()
    editor = open_page(browser, server, {"width": 1280, "height": 800})
    kpi, (readers, tested), (one, two) = reading["kpi"], reading["items"], reading["schools"]
    cell = watcher.locator(f"#cell-{kpi}-{PERIOD}-actual")
    try:
        sign_in(watcher)
        sign_in(editor)
        watcher.goto(server + AREA + "/progress")
        expect(watcher.locator("html")).to_have_attribute("data-live-state", "on")
        expect(cell).to_have_value("")
        watcher.evaluate("window.sameDocument = true")  # gone if the page reloads
        map_tab.goto(server + AREA + f"/map?period={PERIOD}")
        expect(map_tab.locator("html")).to_have_attribute("data-live-state", "on")
        map_kpi = map_tab.locator("#map-view .map-list li", has_text="KPI-DATA")
        expect(map_kpi).to_have_count(1)
        map_tab.evaluate("window.sameDocument = true")

        editor.goto(server + AREA + "/data")
        editor.get_by_role("link", name="ข้อมูลของฉันในรอบนี้").click()
        editor.locator("#entry-agency").select_option(str(reading["agency"]))
        editor.locator("#entry-period").select_option(PERIOD)
        editor.get_by_role("button", name="แสดง").click()
        expect(editor.locator("h2.entry-period")).to_have_text("ปีการศึกษา 2568")
        for item, unit, value in (
            (readers, one, "๓๐"),
            (readers, two, "45"),
            (tested, one, "50"),
            (tested, two, "50"),
        ):
            editor.locator(f"#v-{item}-{unit}-0").fill(value)
        editor.locator("#entry-source").fill("แบบประเมินการอ่าน ก.ค. 2568")
        shoot(editor, "data-entry-filled-1280")
        editor.get_by_role("button", name="บันทึกค่าทั้งหมด").click()
        expect(editor.get_by_role("status").filter(has_text="บันทึกแล้ว")).to_be_visible()
        expect(editor.locator(f"#v-{readers}-{one}-0")).to_have_value("30")

        # (30 + 45) / (50 + 50) × 100, on the other browser's pages, without a reload
        expect(cell).to_have_value("75")
        expect(map_tab.locator("#map-view .map-list li", has_text="KPI-DATA")).to_contain_text("75")
        assert watcher.evaluate("window.sameDocument") is True
        assert map_tab.evaluate("window.sameDocument") is True
    finally:
        problems = unexpected_problems(watcher) + unexpected_problems(editor)
        watcher.context.close()
        editor.context.close()
    assert problems == []


def test_the_entry_page_fits_a_phone_and_its_grids_scroll_in_their_box(
    browser, server: str, reading: dict
) -> None:  # noqa: ANN001
    phone = open_page(browser, server, {"width": 390, "height": 844})
    try:
        sign_in(phone)
        phone.goto(server + AREA + f"/data/entry?agency={reading['agency']}&period={PERIOD}")
        expect(phone.locator(".data-entry-grid").first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        first = phone.locator(f"#v-{reading['items'][0]}-{reading['schools'][0]}-0")
        assert first.get_attribute("inputmode") == "decimal"
        box = first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        # eight languages do not fit: their grid scrolls sideways in its box, the page does not
        wide = phone.locator(f"#entry-item-{reading['by_language']} .entry-wrap")
        expect(wide.locator("thead th")).to_have_count(1 + len(LANGUAGES))
        assert wide.evaluate("el => el.scrollWidth > el.clientWidth")
        last = phone.locator(f"#v-{reading['by_language']}-{reading['schools'][0]}-7")
        last.focus()
        box = last.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shoot(phone, "data-entry-390", full_page=True)
        desktop = open_page(browser, server, {"width": 1280, "height": 800})
        sign_in(desktop)
        desktop.goto(server + AREA + f"/data/entry?agency={reading['agency']}&period={PERIOD}")
        shoot(desktop, "data-entry-1280", full_page=True)
        assert axe_problems(desktop) == []
        # a word where a number goes: the page again, the message beside it, nothing saved
        bad = f"v-{reading['by_language']}-{reading['schools'][1]}-2"
        desktop.locator(f"#{bad}").fill("สิบสอง")
        follow(desktop, desktop.get_by_role("button", name="บันทึกค่าทั้งหมด"))
        expect(desktop.locator(f"#{bad}")).to_have_attribute("aria-invalid", "true")
        expect(desktop.locator(f"#{bad}-error")).to_be_visible()
        expect(desktop.locator(f"#{bad}")).to_have_value("สิบสอง")
        assert axe_problems(desktop) == []
        shoot(desktop, "data-entry-error-1280", full_page=True)
        desktop.goto(server + AREA + f"/data/{reading['items'][0]}/values")
        expect(desktop.locator("table.data-values-table").first).to_be_visible()
        assert axe_problems(desktop) == []
        desktop.context.close()
    finally:
        problems = unexpected_problems(phone)
        phone.context.close()
    assert problems == []
