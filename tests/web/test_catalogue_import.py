"""The data catalogue in bulk: a province's item list imported from a workbook (a preview, new
and changed rows by name, errors named by row, all or nothing) and the export read back as a
no-op."""

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from app.models import AuditEvent, DataItem, DataItemCategorySet, PendingImport
from app.services import resources
from tests import factories as f

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = (
    "รายการข้อมูล",
    "รายละเอียด",
    "หน่วยนับ",
    "หน่วยงานเจ้าของข้อมูล",
    "ระบบต้นทาง",
    "ความถี่",
    "ประเภทช่วงเวลา",
    "ผู้รายงาน",
    "กำหนดส่ง (วัน)",
    "การจำแนกกลุ่ม (รหัส)",
    "สิทธิ์การเข้าใช้งาน",
)


def _count(session: Session, model: type[SQLModel], *where: Any) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _book(rows: list[list[Any]], sheet_title: str = "บัญชีข้อมูล") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, data: bytes) -> Any:
    return client.post("/areas/krabi/data/import", files={"file": ("catalogue.xlsx", data, XLSX)})


def _apply(client: TestClient, html: str) -> Any:
    marker = 'action="/areas/krabi/data/import/'
    start = html.index(marker) + len(marker)
    digest = html[start : html.index('"', start)]
    return client.post(
        f"/areas/krabi/data/import/{digest}",
        data={"filename": "catalogue.xlsx"},
        follow_redirects=False,
    )


def test_import_adds_new_items_changes_matched_ones_then_the_export_is_a_no_op(
    client: TestClient, session: Session
) -> None:
    area = f.area(session, "krabi")
    stored = resources.create_data_item(
        session, actor=f.ACTOR, area=area, item_in={"name": "จำนวนครู", "measure": "คน"}
    )
    social = f.agency(session, "krabi", "social-dev")
    data = _book(
        [
            [
                "จำนวนครู",
                "",
                "คน",
                "esa-primary-1",
                "DMC",
                "รายปี",
                "ปีการศึกษา",
                "โรงเรียนนำร่อง",
                60,
                "",
                "เปิดอยู่",
            ],
            [
                "เด็กนอกระบบรายตำบล",
                "อายุ 6–15 ปี",
                "คน",
                social.name_th,
                "ทะเบียน พมจ.",
                "monthly",
                "fiscal_year",
                "",
                "๓๐",
                "sex, ethnic_language",
                "restricted",
            ],
        ]
    )
    preview = _upload(client, data)
    assert preview.status_code == 200, preview.text
    assert "ใหม่ 1 แถว เปลี่ยนแปลง 1 แถว" in preview.text
    assert _count(session, DataItem) == 1  # nothing yet
    applied = _apply(client, preview.text)
    assert applied.status_code == 303
    session.refresh(stored)
    assert (stored.period_type, stored.reported_by, stored.due_days, stored.access) == (
        "academic_year", "school", 60, "open",
    )  # fmt: skip
    child = session.exec(select(DataItem).where(DataItem.name == "เด็กนอกระบบรายตำบล")).one()
    assert child.custodian_agency_id == social.id and child.due_days == 30
    assert _count(session, DataItemCategorySet, DataItemCategorySet.data_item_id == child.id) == 2
    assert _count(session, AuditEvent, AuditEvent.entity_type == "data_item") == 3
    imported = session.exec(
        select(AuditEvent.reason)
        .where(AuditEvent.entity_type == "data_item")
        .order_by(AuditEvent.id)
    ).all()
    assert imported[0] is None and all(r and r.startswith("นำเข้าจาก") for r in imported[1:])
    export = client.get("/areas/krabi/data.xlsx")
    again = _upload(client, export.content)
    assert again.status_code == 200
    assert "ไม่มีสิ่งใดต้องนำเข้า" in again.text
    assert 'action="/areas/krabi/data/import/' not in again.text


def test_bad_rows_are_named_by_row_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    data = _book(
        [
            ["จำนวนครู", "", "คน", "", "", "รายปี", "", "", 90, "", ""],
            ["จำนวนครู", "", "", "", "", "", "", "", 90, "", ""],  # the same name again
            ["จำนวนห้องเรียน", "", "", "กรมที่ไม่มีอยู่", "", "ทุกวัน", "", "หมู่บ้าน", 999, "island", ""],
        ]
    )
    response = _upload(client, data)
    assert response.status_code == 422
    text = response.text
    assert "แถว 2 มีรายการข้อมูลชื่อเดียวกันนี้" in text
    assert "กรมที่ไม่มีอยู่" in text  # the unknown custodian, on row 4
    assert "island" in text  # no such breakdown in Krabi
    assert _count(session, DataItem) == 0
    assert _count(session, PendingImport) == 0


def test_a_workbook_without_the_catalogue_sheet_is_refused(
    client: TestClient, session: Session
) -> None:
    response = _upload(client, _book([["จำนวนครู"]], sheet_title="Sheet1"))
    assert response.status_code == 422
    assert "บัญชีข้อมูล" in response.text
    assert _count(session, DataItem) == 0


def test_an_editor_of_another_area_cannot_import(app_client: Any, session: Session) -> None:
    from tests.conftest import sign_in

    client = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    response = _upload(client, _book([["จำนวนครู"]]))
    assert response.status_code == 403
