"""The administrators' reference-data pages: areas with their status history, agencies, the
DOE framework and the strategy themes, as an administrator uses them (Thai first)."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import Agency, AuditEvent, DOEItem
from app.services import reference_admin as ref
from app.services.reference import current_framework
from tests import factories as f
from tests.conftest import QueryCounter
from tests.reference_reset import reference_reset  # noqa: F401

pytestmark = pytest.mark.usefixtures("reference_reset")

KHON_KAEN = {
    "name_th": "ขอนแก่น",
    "name_en": "Khon Kaen",
    "slug": "khon-kaen",
    "iso_code": "TH-40",
    "programme": "area_based_education",
    "cohort": "2567",
    "pilot_schools": "25",
    "status": "designated",
    "changed_on": "9/5/2567",
    "instrument": "ราชกิจจานุเบกษา 9 พ.ค. 2567",
}


def _events(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_the_admin_menu_leads_to_each_reference_page(client: TestClient) -> None:
    home = client.get("/").text
    assert 'href="/admin/areas"' in home
    areas = client.get("/admin/areas").text
    for path in ("/admin/users", "/admin/agencies", "/admin/doe", "/admin/themes"):
        assert f'href="{path}"' in areas
        assert client.get(path).status_code == 200
    assert "พื้นที่นวัตกรรมการศึกษา" in areas and "มติคณะรัฐมนตรี 29 พ.ย. 2565" in areas


def test_khon_kaen_is_added_as_an_area_of_another_programme_and_shown_under_it(
    client: TestClient, session: Session
) -> None:
    made = client.post("/admin/areas", data=KHON_KAEN, follow_redirects=False)
    assert made.status_code == 303
    page = client.get(made.headers["location"]).text
    assert "ขอนแก่น" in page and "ราชกิจจานุเบกษา 9 พ.ค. 2567" in page
    assert "9 พ.ค. 2567" in page  # the date in B.E.
    home = client.get("/").text
    innovation, other = (
        home.index('id="programme-innovation_area"'),
        home.index('id="programme-area_based_education"'),
    )
    assert innovation < other < home.index('id="area-khon-kaen"')
    assert "การจัดการศึกษาเชิงพื้นที่" in home
    assert client.get("/areas/khon-kaen").status_code == 200
    review = client.get("/review?group=all").text
    assert "ขอนแก่น" in review


def test_bad_input_comes_back_422_beside_the_field_with_the_input_kept(
    client: TestClient, session: Session
) -> None:
    before = _events(session)
    page = client.post("/admin/areas", data={**KHON_KAEN, "slug": "krabi", "changed_on": "ไม่ใช่วัน"})
    assert page.status_code == 422
    assert 'id="new-area-slug-error"' in page.text and 'id="new-area-changed_on-error"' in page.text
    assert 'value="ขอนแก่น"' in page.text
    assert _events(session) == before


def test_the_status_history_lists_changes_by_date_and_the_latest_is_current(
    client: TestClient, session: Session
) -> None:
    krabi = f.area(session, "krabi")
    url = f"/admin/areas/{krabi.id}/status"
    client.post(
        url, data={"status": "withdrawn", "changed_on": "1/3/2569", "instrument": "มติ ครม."}
    )
    page = client.post(
        url, data={"status": "prospective", "changed_on": "1/1/2562", "instrument": ""}
    ).text
    history = page[page.index('id="status-history"') : page.index('id="details"')]
    statuses = re.findall(r"<li id=\"status-\d+\"><strong>([^<]+)</strong>", history)
    assert statuses == ["อยู่ระหว่างเตรียมการ", "ดำเนินการอยู่", "ถอนตัว"]  # by date, not by entry
    [current] = re.findall(r"<strong>([^<]+)</strong>[^\n]*class=\"badge\"", history)
    assert current == "ถอนตัว"  # the latest is the current status
    session.refresh(krabi)
    assert krabi.status == "withdrawn"


def test_deleting_an_agency_that_plans_name_is_refused_with_the_list(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session, "krabi")
    esa = f.agency(session, "krabi")
    f.make_kpi(session, plan, lead_agency_id=esa.id)
    f.make_action(session, plan, partner_ids=[esa.id])
    before = _events(session)
    page = client.post(f"/admin/agencies/{esa.id}/delete")
    assert page.status_code == 409
    refused = page.text[page.text.index('id="refused"') :]
    assert "ตัวชี้วัด" in refused and "1 รายการ" in refused
    assert session.get(Agency, esa.id) is not None and _events(session) == before


def test_a_second_primary_esa_office_is_added_to_a_province(
    client: TestClient, session: Session
) -> None:
    krabi = f.area(session, "krabi")
    esa = f.agency(session, "krabi")
    data = {
        "area_id": str(krabi.id),
        "code": "esa-primary-2",
        "name_th": "สำนักงานเขตพื้นที่การศึกษาประถมศึกษากระบี่ เขต 2",
        "type_id": str(esa.type_id),
    }
    page = client.post("/admin/agencies", data=data)
    assert page.status_code == 200 and "ประถมศึกษากระบี่ เขต 2" in page.text
    again = client.post("/admin/agencies", data=data)
    assert again.status_code == 422 and 'id="new-agency-code-error"' in again.text


def test_unverified_items_are_marked_for_plan_readers_until_an_admin_confirms_them(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session, "krabi")
    lp1 = f.doe_item(session, "LP1")
    f.make(session, plan, "doe", text="เด็กกระบี่อ่านออกเขียนได้", item_ids=[lp1.id])
    overview = client.get("/areas/krabi").text
    assert "ยังไม่ได้ตรวจสอบ" in overview
    picker = client.get("/areas/krabi/plan/doe/new", headers={"HX-Request": "true"}).text
    items = ref.framework_view(session, current_framework(session)).items.values()
    assert picker.count("ยังไม่ได้ตรวจสอบ</span>") == sum(map(len, items))  # each item
    page = client.post(f"/admin/doe/items/{lp1.id}/confirm").text
    assert "ยืนยันโดย" in page
    session.refresh(lp1)
    assert lp1.confirmed_at is not None
    overview = client.get("/areas/krabi").text
    section = overview[
        overview.index('id="section-doe"') : overview.index(
            "</section>", overview.index('id="section-doe"')
        )
    ]
    assert "ยังไม่ได้ตรวจสอบ" not in section


def test_a_cited_doe_item_of_a_draft_is_not_deleted_and_the_plans_are_named(
    client: TestClient, session: Session
) -> None:
    draft = ref.new_version(session, actor=f.ACTOR, framework=current_framework(session))
    client.post(f"/admin/doe/{draft.id}/current")
    plan = f.make_plan(session, "krabi", title="แผนกระบี่ 2567")
    item = session.exec(
        select(DOEItem).where(DOEItem.code == "IC2").order_by(DOEItem.id.desc())
    ).first()
    f.make(session, plan, "doe", text="เด็กกระบี่ใช้ดิจิทัลเป็น", item_ids=[item.id])
    page = client.post(f"/admin/doe/items/{item.id}/delete")
    assert page.status_code == 409 and "แผนกระบี่ 2567 (กระบี่)" in page.text


def test_a_used_theme_is_kept_and_an_unused_one_goes(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session, "krabi")
    used = f.theme(session)
    f.make_kra(session, plan, theme_id=used.id)
    page = client.post(f"/admin/themes/{used.id}/delete")
    assert page.status_code == 409 and "1 รายการ" in page.text
    added = client.post(
        "/admin/themes", data={"code": "digital", "name_th": "ดิจิทัล", "name_en": "Digital"}
    )
    assert added.status_code == 200 and "ดิจิทัล" in added.text
    theme = ref.list_themes(session)[-1]
    assert client.post(f"/admin/themes/{theme.id}/delete").status_code == 200
    assert theme.code not in [t.code for t in ref.list_themes(session)]


def test_the_reference_pages_read_the_same_queries_with_more_agencies_and_areas(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    pages = ["/admin/areas", "/admin/agencies", "/admin/doe", "/admin/themes"]
    krabi = f.area(session, "krabi")

    def counts() -> list[int]:
        out = []
        for page in pages:
            count_queries.count = 0
            assert client.get(page).status_code == 200
            out.append(count_queries.count)
        return out

    small = counts()
    esa = f.agency(session, "krabi")
    for n in range(5):
        session.add(
            Agency(
                area_id=krabi.id, code=f"school-{n}", name_th=f"โรงเรียน {n}", type_id=esa.type_id
            )
        )
        ref.add_status_change(
            session,
            actor=f.ACTOR,
            area=krabi,
            status_in={"status": "active", "changed_on": f"2025-0{n + 1}-01", "instrument": ""},
        )
    session.commit()
    assert counts() == small


def test_each_form_on_a_page_keeps_its_own_input_and_messages(
    client: TestClient, session: Session
) -> None:
    krabi = f.area(session, "krabi")
    page = client.post(
        f"/admin/areas/{krabi.id}/status",
        data={"status": "withdrawn", "changed_on": "วันไหนก็ได้", "instrument": "มติ ครม."},
    )
    assert page.status_code == 422
    assert 'id="status-changed_on-error"' in page.text and 'value="มติ ครม."' in page.text
    assert f'id="area-{krabi.id}-name_th" name="name_th" type="text" value="กระบี่"' in page.text
    draft = ref.new_version(session, actor=f.ACTOR, framework=current_framework(session))
    doe = client.get(f"/admin/doe/{draft.id}").text
    item = ref.framework_view(session, draft).items
    first = next(iter(item.values()))[0]
    assert f'id="item-{first.id}-name_th" name="name_th" type="text" value="{first.name_th}"' in doe
