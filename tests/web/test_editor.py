"""The plan editor's fragments: create, edit, validate, delete with confirmation, reorder."""

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import KPI, Action, KeyResultArea, Plan
from tests import factories as f

HX = {"HX-Request": "true"}


def test_editor_page_and_new_plan(client: TestClient, session: Session) -> None:
    page = client.get("/areas/trat/plan")
    assert page.status_code == 200 and "เริ่มจัดทำแผน" in page.text
    bad = client.post(
        "/areas/trat/plan", data={"title": "", "span_start_be": "2570", "span_end_be": "2566"}
    )
    assert bad.status_code == 422 and "จำเป็นต้องกรอกช่องนี้" in bad.text
    assert session.exec(select(func.count()).select_from(Plan)).one() == 0
    made = client.post(
        "/areas/trat/plan",
        data={"title": "แผนตราด", "span_start_be": "2566", "span_end_be": "2570"},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"].endswith("/areas/trat/plan")
    editor = client.get("/areas/trat/plan").text
    for step in (
        "ผลลัพธ์ที่พึงประสงค์ของการศึกษา (DOE)",
        "วิเคราะห์สภาพปัญหา",
        "วิสัยทัศน์",
        "ผลลัพธ์หลัก (KRA)",
        "ตัวชี้วัดร่วม",
        "แผนปฏิบัติการ (ACT)",
    ):
        assert step in editor


def test_create_returns_the_section_and_triggers_the_checks(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    new_form = client.get("/areas/krabi/plan/kras/new", headers=HX)
    assert 'value="KRA1"' in new_form.text and "<html" not in new_form.text
    response = client.post(
        "/areas/krabi/plan/kras",
        headers=HX,
        data={"code": "KRA1", "title": "ยกระดับการอ่าน", "theme_id": str(f.theme(session).id)},
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#section-kras"
    assert response.headers["HX-Trigger"] == "plan-changed"
    assert 'id="section-kras"' in response.text and "ยกระดับการอ่าน" in response.text
    kra = session.exec(select(KeyResultArea).where(KeyResultArea.plan_id == plan.id)).one()
    assert kra.title == "ยกระดับการอ่าน"
    checks = client.get("/areas/krabi/plan/checks", headers=HX).text
    assert "ผลลัพธ์หลัก KRA1 ยังไม่มีตัวชี้วัด" in checks


def test_invalid_form_comes_back_422_with_messages_and_input_kept(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)
    response = client.post(
        "/areas/krabi/plan/kpis",
        headers=HX,
        data={
            "code": "KPI1",
            "name": "ร้อยละเด็ก ป.1 อ่านคล่อง",
            "kind": "percentage",
            "period_type": "academic_year",
            "baseline_value": "ดี",
            "baseline_period": "FY2566",
        },
    )
    assert response.status_code == 422
    html = response.text
    assert "โปรดระบุเป็นตัวเลข" in html  # beside baseline_value
    assert "เช่น AY2566" in html  # beside baseline_period
    assert 'value="ดี"' in html and 'value="FY2566"' in html and "ร้อยละเด็ก ป.1 อ่านคล่อง" in html
    assert 'aria-invalid="true"' in html
    assert session.exec(select(func.count()).select_from(KPI)).one() == 0


def test_edit_form_update_returns_the_row(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    kpi = f.make_kpi(session, plan, kra_ids=[kra.id])
    form = client.get(f"/areas/krabi/plan/kpis/{kpi.id}/edit", headers=HX).text
    assert 'value="62.5"' in form and 'value="75"' in form and "checked" in form
    response = client.put(
        f"/areas/krabi/plan/kpis/{kpi.id}",
        headers=HX,
        data={
            "version": "1",
            "code": "KPI1",
            "name": "ร้อยละเด็กอ่านคล่อง",
            "kind": "percentage",
            "period_type": "academic_year",
            "baseline_value": "๖๐",
            "baseline_period": "AY2565",
            "target_value": "80",
            "target_period": "AY2570",
            "kra_ids": [str(kra.id)],
        },
    )
    assert response.status_code == 200 and f'id="kpi-{kpi.id}"' in response.text
    assert "ร้อยละเด็กอ่านคล่อง" in response.text
    session.expire_all()
    stored = session.get(KPI, kpi.id)
    assert (stored.baseline_value, stored.target_value, stored.version) == (60, 80, 2)


def test_stale_edit_gets_409_and_keeps_both_values(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan, title="เดิม")
    data = {"version": "1", "code": "KRA1"}
    assert (
        client.put(
            f"/areas/krabi/plan/kras/{kra.id}", headers=HX, data={**data, "title": "ของคนแรก"}
        ).status_code
        == 200
    )
    late = client.put(
        f"/areas/krabi/plan/kras/{kra.id}", headers=HX, data={**data, "title": "ของคนที่สอง"}
    )
    assert late.status_code == 409 and "ของคนที่สอง" in late.text
    session.expire_all()
    assert session.get(KeyResultArea, kra.id).title == "ของคนแรก"


def test_delete_asks_first_and_lists_what_will_be_unlinked(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    kpi = f.make_kpi(session, plan, kra_ids=[kra.id])
    f.make_action(session, plan, kpi_ids=[kpi.id])
    confirm = client.get(f"/areas/krabi/plan/kpis/{kpi.id}/delete", headers=HX).text
    assert "ยกเลิกการเชื่อมโยงกับ" in confirm and "KRA1" in confirm and "ACT1" in confirm
    assert session.get(KPI, kpi.id) is not None
    response = client.delete(f"/areas/krabi/plan/kpis/{kpi.id}", headers=HX)
    assert response.status_code == 200 and 'id="section-kpis"' in response.text
    kpi_id = kpi.id
    session.expunge_all()
    assert session.get(KPI, kpi_id) is None


def test_move_reorders_and_focuses_the_moved_button(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    f.make_action(session, plan, "ACT1")
    second = f.make_action(session, plan, "ACT2")
    response = client.post(
        f"/areas/krabi/plan/actions/{second.id}/move", headers=HX, data={"direction": "up"}
    )
    assert response.text.index("ACT2") < response.text.index("ACT1")
    assert "data-focus" in response.text
    codes = session.exec(
        select(Action.code).where(Action.plan_id == plan.id).order_by(Action.position)
    ).all()
    assert codes == ["ACT2", "ACT1"]


def test_another_areas_element_is_404_through_this_areas_url(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session, "krabi")
    phuket = f.make_plan(session, "phuket")
    kpi = f.make_kpi(session, phuket, name="ของภูเก็ต")
    for method, url in (
        ("get", f"/areas/krabi/plan/kpis/{kpi.id}/edit"),
        ("put", f"/areas/krabi/plan/kpis/{kpi.id}"),
        ("delete", f"/areas/krabi/plan/kpis/{kpi.id}"),
    ):
        response = client.request(method, url, headers=HX, data={"code": "X", "name": "แก้"})
        assert response.status_code == 404, (method, url)
    session.expire_all()
    assert session.get(KPI, kpi.id).name == "ของภูเก็ต"


def test_vision_is_edited_in_place(client: TestClient, session: Session) -> None:
    f.make_plan(session)
    form = client.get("/areas/krabi/plan/vision/edit", headers=HX)
    assert "<textarea" in form.text
    response = client.put(
        "/areas/krabi/plan/vision",
        headers=HX,
        data={"vision": "เด็กกระบี่ รู้รักษ์ถิ่น ก้าวทันโลก", "version": "1"},
    )
    assert response.status_code == 200 and "เด็กกระบี่ รู้รักษ์ถิ่น ก้าวทันโลก" in response.text
    assert response.headers["HX-Trigger"] == "plan-changed"


def test_plan_header_is_edited_in_place_and_keeps_the_vision(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session, vision="วิสัยทัศน์เดิม")
    form = client.get("/areas/krabi/plan/meta/edit", headers=HX).text
    assert 'value="2566"' in form
    bad = client.put(
        "/areas/krabi/plan/meta",
        headers=HX,
        data={
            "version": "1",
            "title": "แผนกระบี่",
            "span_start_be": "2570",
            "span_end_be": "2566",
            "status": "adopted",
        },
    )
    assert bad.status_code == 422 and "ปีสุดท้ายอยู่ก่อนปีเริ่มต้น" in bad.text
    ok = client.put(
        "/areas/krabi/plan/meta",
        headers=HX,
        data={
            "version": "1",
            "title": "แผนกระบี่",
            "span_start_be": "2567",
            "span_end_be": "2571",
            "status": "adopted",
        },
    )
    assert ok.status_code == 200 and "แผนกระบี่" in ok.text and "ประกาศใช้แล้ว" in ok.text
    session.expire_all()
    stored = session.get(Plan, plan.id)
    assert (stored.span_start_be, stored.status, stored.vision) == (2567, "adopted", "วิสัยทัศน์เดิม")
    assert client.get("/areas/krabi/plan/budget/edit", headers=HX).status_code == 404


def test_the_kpi_form_offers_the_plans_periods_in_be_and_folds_the_rare_fields(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)  # 2566-2570
    form = client.get("/areas/krabi/plan/kpis/new", headers=HX).text
    start = form.index('name="target_period"')
    target = form[start : form.index("</select>", start)]
    assert '<option value="AY2566">ปีการศึกษา 2566</option>' in target
    assert '<option value="FY2570-Q4">ปีงบประมาณ 2570 ไตรมาส 4</option>' in target
    assert "AY2565" not in target and "AY2571" not in target  # only the plan's years
    baseline = form[form.index('name="baseline_period"') : form.index('name="target_period"')]
    assert '<option value="AY2563">' in baseline and "AY2562" not in baseline
    assert '<input id="kpi-new-baseline_period"' not in form  # no code to type
    assert form.index("<legend>ค่าฐานและค่าเป้าหมาย</legend>") < form.index('name="target_period"')
    folded = form[form.index('<details class="form-section more-fields">') :]
    assert 'name="tolerance"' in folded and 'name="data_source"' in folded


def test_a_problem_in_a_folded_kpi_field_opens_its_section(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)
    response = client.post(
        "/areas/krabi/plan/kpis",
        headers=HX,
        data={
            "code": "KPI1",
            "name": "ร้อยละเด็กอ่านคล่อง",
            "kind": "percentage",
            "period_type": "academic_year",
            "tolerance": "-3",
        },
    )
    assert response.status_code == 422
    assert '<details class="form-section more-fields" open>' in response.text


def test_the_edit_form_selects_the_stored_periods(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)  # baseline AY2565, target AY2570
    form = client.get(f"/areas/krabi/plan/kpis/{kpi.id}/edit", headers=HX).text
    assert '<option value="AY2565" selected>ปีการศึกษา 2565</option>' in form
    assert '<option value="AY2570" selected>ปีการศึกษา 2570</option>' in form


def test_a_kpi_coded_kpi11_is_not_called_kpi_kpi11_in_the_checks(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan, code="KPI11")
    f.make_kpi(session, plan, code="7")
    client.cookies.set("phonlap_lang", "en")
    checks = client.get("/areas/krabi/plan/checks", headers=HX).text
    assert "No action serves KPI11." in checks and "No action serves KPI 7." in checks
    assert "KPI KPI11" not in checks


def test_action_dates_are_typed_and_shown_in_be_in_thai_and_picked_in_english(
    client: TestClient, session: Session
) -> None:
    from datetime import date

    from app.models import Action

    plan = f.make_plan(session)
    data = {"code": "ACT1", "title": "อบรมครูการอ่าน", "status": "not_started"}
    response = client.post(
        "/areas/krabi/plan/actions",
        headers=HX,
        data={**data, "start_on": "16/6/2566", "end_on": "๓๑/๓/๒๕๖๗"},
    )
    assert response.status_code == 200
    action = session.exec(select(Action).where(Action.plan_id == plan.id)).one()
    assert (action.start_on, action.end_on) == (date(2023, 6, 16), date(2024, 3, 31))
    form = client.get(f"/areas/krabi/plan/actions/{action.id}/edit", headers=HX).text
    assert 'type="date"' not in form and "mm/dd/yyyy" not in form
    assert 'placeholder="วว/ดด/ปปปป พ.ศ."' in form and 'value="16/6/2566"' in form
    bad = client.post(
        "/areas/krabi/plan/actions",
        headers=HX,
        data={**data, "code": "ACT2", "start_on": "31/2/2567"},
    )
    assert bad.status_code == 422 and 'value="31/2/2567"' in bad.text
    client.cookies.set("phonlap_lang", "en")
    english = client.get(f"/areas/krabi/plan/actions/{action.id}/edit", headers=HX).text
    assert 'type="date" value="2023-06-16"' in english
