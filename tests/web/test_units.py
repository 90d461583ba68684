"""The reporting units registry: the tree page, the add, edit and delete forms, the import of a
workbook of units (a preview, then all or nothing) and the export, and who may write."""

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from app import live
from app.models import AuditEvent, OrgUnit, PendingImport
from app.services import units
from app.services.errors import ValidationFailed
from tests import factories as f
from tests.conftest import sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _count(session: Session, model: type[SQLModel], *where: Any) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def make_unit(session: Session, slug: str = "krabi", **values: Any) -> OrgUnit:
    values = {"kind": "school", "name": "โรงเรียนบ้านเกาะลันตา", **values}
    return units.create_unit(session, actor=f.ACTOR, area=f.area(session, slug), unit_in=values)


def _book(
    rows: list[list[Any]], header: tuple[str, ...] = ("รหัส", "ชื่อ", "ประเภท", "รหัสหน่วยงานต้นสังกัด")
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "หน่วยรายงาน"
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, data: bytes, name: str = "units.xlsx") -> Any:
    return client.post("/areas/krabi/units/import", files={"file": (name, data, XLSX)})


def _digest(html: str) -> str:
    marker = 'action="/areas/krabi/units/import/'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


# ---- the page and its forms -----------------------------------------------------------------


def test_units_page_shows_the_tree_with_codes_and_kinds(
    client: TestClient, session: Session
) -> None:
    esa = make_unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    school = make_unit(session, name="โรงเรียนบ้านคลองยาง", code="1081010001", parent_id=esa.id)
    make_unit(session, kind="province", name="จังหวัดกระบี่")
    page = client.get("/areas/krabi/units")
    assert page.status_code == 200
    text = page.text
    # the province first (kinds in order), then the ESA office with its school under it
    assert text.index("จังหวัดกระบี่") < text.index("สพป.กระบี่") < text.index("บ้านคลองยาง")
    assert f'id="org-unit-{school.id}" class="depth-1"' in text
    assert "1081010001" in text and "โรงเรียนนำร่อง" in text  # code and kind
    assert 'href="/areas/krabi/units"' in text  # the area navigation's tab
    assert client.get("/areas/krabi/data").text.count('href="/areas/krabi/units"') >= 2


def test_add_a_unit_with_a_thai_digit_code_under_a_parent(
    client: TestClient, session: Session
) -> None:
    esa = make_unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    heard: list[dict] = []
    stop = live.broker.subscribe(lambda channel, event: heard.append(event))
    try:
        response = _add_school(client, esa)
    finally:
        stop()
    assert [e["type"] for e in heard] == ["progress.changed"]  # the KPI pages list units
    assert response.status_code == 303
    row = session.exec(select(OrgUnit).where(OrgUnit.name == "โรงเรียนอ่าวลึก")).one()
    assert (row.code, row.parent_id, row.kind) == ("1081010002", esa.id, "school")
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "org_unit", AuditEvent.entity_id == row.id
        )
    ).one()
    assert event.after["code"] == "1081010002"


def _add_school(client: TestClient, esa: OrgUnit) -> Any:
    return client.post(
        "/areas/krabi/units",
        data={
            "kind": "school",
            "name": " โรงเรียนอ่าวลึก ",
            "code": "๑๐๘๑๐๑๐๐๐๒",
            "parent_id": str(esa.id),
        },
        follow_redirects=False,
    )


def test_a_taken_code_is_refused_beside_the_field(client: TestClient, session: Session) -> None:
    make_unit(session, code="1081010001")
    before = _count(session, OrgUnit)
    response = client.post(
        "/areas/krabi/units", data={"kind": "school", "name": "โรงเรียนใหม่", "code": "1081010001"}
    )
    assert response.status_code == 422
    assert "รหัสนี้" in response.text or "already has that code" in response.text
    assert 'value="โรงเรียนใหม่"' in response.text
    assert _count(session, OrgUnit) == before


def test_two_racing_inserts_of_one_code_give_a_message_not_a_500(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_unit(session, code="1081010001")
    # the other writer's unit was not there when this one checked: only the database sees it
    monkeypatch.setattr(units, "_check", lambda units_, data, unit_id: {})
    with pytest.raises(ValidationFailed) as caught:
        make_unit(session, name="โรงเรียนอื่น", code="1081010001")
    assert caught.value.errors["code"].msgid == units.CODE_TAKEN
    assert _count(session, OrgUnit, OrgUnit.code == "1081010001") == 1


def test_a_parent_in_another_area_or_under_the_unit_is_refused(session: Session) -> None:
    phuket_esa = make_unit(session, "phuket", kind="esa_office", name="สพป.ภูเก็ต")
    with pytest.raises(ValidationFailed) as caught:
        make_unit(session, parent_id=phuket_esa.id)
    assert "parent_id" in caught.value.errors
    top = make_unit(session, kind="esa_office", name="สพป.กระบี่")
    middle = make_unit(session, kind="district", name="อำเภอเกาะลันตา", parent_id=top.id)
    area = f.area(session, "krabi")
    for parent in (middle, top):  # under its own child, or itself
        with pytest.raises(ValidationFailed) as caught:
            units.update_unit(
                session,
                actor=f.ACTOR,
                area=area,
                unit_id=top.id,
                unit_in={"kind": "esa_office", "name": "สพป.กระบี่", "parent_id": parent.id},
            )
        assert caught.value.errors["parent_id"].msgid == units.CYCLE
        session.rollback()


def test_edit_form_round_trip(client: TestClient, session: Session) -> None:
    unit = make_unit(session, code="1081010001")
    page = client.get(f"/areas/krabi/units/{unit.id}/edit")
    assert page.status_code == 200 and 'value="1081010001"' in page.text
    response = client.post(
        f"/areas/krabi/units/{unit.id}",
        data={"kind": "school", "name": "โรงเรียนบ้านเกาะลันตาใหญ่", "code": "1081010009"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session.refresh(unit)
    assert (unit.name, unit.code) == ("โรงเรียนบ้านเกาะลันตาใหญ่", "1081010009")


def test_delete_asks_first_when_values_would_go(client: TestClient, session: Session) -> None:
    plan = f.make_full_plan(session, "krabi", kras=1)
    unit = make_unit(session)
    from app.models import KPI, Measurement, UnitMeasurement

    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id)).first()
    m = Measurement(kpi_id=kpi.id, period="AY2566", value=50)
    session.add(m)
    session.flush()
    session.add(UnitMeasurement(measurement_id=m.id, unit_id=unit.id, value=50))
    session.commit()
    confirm = client.get(f"/areas/krabi/units/{unit.id}/delete")
    assert "1 ค่า" in confirm.text or "1 value" in confirm.text
    refused = client.post(f"/areas/krabi/units/{unit.id}/delete")
    assert refused.status_code == 409
    assert session.get(OrgUnit, unit.id) is not None
    done = client.post(
        f"/areas/krabi/units/{unit.id}/delete", data={"confirm": "1"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert _count(session, OrgUnit, OrgUnit.id == unit.id) == 0
    assert _count(session, UnitMeasurement) == 0


def test_a_viewer_cannot_add_a_unit(app_client: Any, session: Session) -> None:
    client = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    assert client.get("/areas/krabi/units").status_code == 200
    response = client.post("/areas/krabi/units", data={"kind": "school", "name": "x"})
    assert response.status_code == 403
    assert _count(session, OrgUnit) == 0


# ---- import and export ----------------------------------------------------------------------


def test_import_preview_shows_new_changed_unchanged_and_errors_and_saves_nothing(
    client: TestClient, session: Session
) -> None:
    esa = make_unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    make_unit(session, name="โรงเรียนเดิม", code="1081010001", parent_id=esa.id)
    data = _book(
        [
            ["8101", "สพป.กระบี่", "สำนักงานเขตพื้นที่การศึกษา", None],
            ["1081010001", "โรงเรียนเดิมชื่อใหม่", "โรงเรียนนำร่อง", "8101"],
            ["1081010002", "โรงเรียนใหม่", "school", "9999"],
            ["1081010003", "", "ห้องสมุด", None],
        ]
    )
    before = _count(session, OrgUnit)
    response = _upload(client, data)
    assert response.status_code == 422
    text = response.text
    assert "9999" in text  # the unknown parent, named on its row
    assert text.count('class="error"') >= 3  # parent, name, kind
    assert _count(session, OrgUnit) == before
    assert _count(session, PendingImport) == 0


def test_import_confirm_applies_all_then_a_re_import_of_the_export_is_a_no_op(
    client: TestClient, session: Session
) -> None:
    make_unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    data = _book(
        [
            ["1081010001", "โรงเรียนบ้านเกาะกลาง", "โรงเรียนนำร่อง", "8101"],
            ["๑๐๘๑๐๑๐๐๐๒", "โรงเรียนบ้านทุ่ง", "school", "1081010001"],
            [None, "อำเภอเกาะลันตา", "อำเภอ", "8101"],
        ]
    )
    preview = _upload(client, data)
    assert preview.status_code == 200, preview.text
    applied = client.post(
        f"/areas/krabi/units/import/{_digest(preview.text)}",
        data={"filename": "units.xlsx"},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    rows = {u.name: u for u in session.exec(select(OrgUnit)).all()}
    assert rows["โรงเรียนบ้านทุ่ง"].parent_id == rows["โรงเรียนบ้านเกาะกลาง"].id
    assert rows["อำเภอเกาะลันตา"].code is None and rows["อำเภอเกาะลันตา"].kind == "district"
    export = client.get("/areas/krabi/units.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert [c.value for c in sheet[1]][:4] == ["รหัส", "ชื่อ", "ประเภท", "รหัสหน่วยงานต้นสังกัด"]
    again = _upload(client, export.content, "export.xlsx")
    assert again.status_code == 200
    assert "ไม่มีสิ่งใดต้องนำเข้า" in again.text
    assert 'action="/areas/krabi/units/import/' not in again.text


def test_an_import_that_would_make_a_loop_is_refused(client: TestClient, session: Session) -> None:
    data = _book(
        [
            ["A1", "หน่วย ก", "district", "B1"],
            ["B1", "หน่วย ข", "district", "A1"],
        ]
    )
    response = _upload(client, data)
    assert response.status_code == 422
    assert _count(session, OrgUnit) == 0


def test_a_units_history_names_its_parent(client: TestClient, session: Session) -> None:
    esa = make_unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    school = make_unit(session, name="โรงเรียนบ้านคลองยาง")
    units.update_unit(
        session,
        actor=f.ACTOR,
        area=f.area(session, "krabi"),
        unit_id=school.id,
        unit_in={"kind": "school", "name": "โรงเรียนบ้านคลองยาง", "parent_id": esa.id},
    )
    page = client.get(f"/areas/krabi/history/org_unit/{school.id}")
    assert page.status_code == 200
    assert "หน่วยงานต้นสังกัด" in page.text and "สพป.กระบี่" in page.text


def test_a_unit_loaded_without_a_recorded_change_has_a_history_page(
    client: TestClient, session: Session
) -> None:
    """The demo loads units straight into the table: the units page's history link must not
    answer 404 (the persona crawl follows it), and another area's unit stays hidden."""
    krabi, phuket = f.area(session, "krabi"), f.area(session, "phuket")
    loaded = OrgUnit(area_id=krabi.id, kind="school", name="โรงเรียนบ้านคลองหิน (สาธิต)")
    other = OrgUnit(area_id=phuket.id, kind="school", name="โรงเรียนบ้านกะทู้ (สาธิต)")
    session.add_all([loaded, other])
    session.commit()
    page = client.get(f"/areas/krabi/history/org_unit/{loaded.id}")
    assert page.status_code == 200 and "โรงเรียนบ้านคลองหิน (สาธิต)" in page.text
    assert client.get(f"/areas/krabi/history/org_unit/{other.id}").status_code == 404
