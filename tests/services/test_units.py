"""The units registry's service rules: the import preview's status per row, loops refused
whether made by the file alone or with the stored tree, all or nothing, and codes as stored."""

import io
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import AuditEvent, OrgUnit
from app.services import units
from tests import factories as f


def _book(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Units"  # the English title is read as well as the Thai one
    sheet.append(["Code", "Name", "Kind", "Parent unit code"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _unit(session: Session, **values: Any) -> OrgUnit:
    return units.create_unit(
        session, actor=f.ACTOR, area=f.area(session, "krabi"), unit_in={"kind": "school", **values}
    )


def test_codes_are_kept_as_text_with_thai_digits_and_spaces_normalised() -> None:
    assert units.normal_code(" ๑๐๘๑ ๐๑๐๐๐๑ ") == "1081 010001"
    assert units.normal_code(1081010001.0) == "1081010001"
    assert units.normal_code("   ") is None


def test_the_preview_gives_each_row_its_status(session: Session) -> None:
    esa = _unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    _unit(session, name="โรงเรียนเดิม", code="1081010001", parent_id=esa.id)
    _unit(session, name="โรงเรียนที่ไม่เปลี่ยน", code="1081010002", parent_id=esa.id)
    data = _book(
        [
            ["1081010001", "โรงเรียนเดิม", "district", "8101"],  # its kind changes
            ["1081010002", "โรงเรียนที่ไม่เปลี่ยน", "Pilot school", "สพป.กระบี่"],  # by name
            ["1081010003", "โรงเรียนใหม่", "school", "8101"],
            ["1081010004", "โรงเรียนผิด", "ห้องสมุด", ""],
        ]
    )
    preview = units.preview_units(session, f.area(session, "krabi"), data, "u.xlsx")
    assert [r.status for r in preview.rows] == ["changed", "unchanged", "new", "error"]
    assert preview.rows[0].changes == [("kind", "school", "district")]
    assert list(preview.rows[3].errors) == ["kind"]
    assert not preview.ok


def test_an_import_that_puts_a_stored_unit_under_its_own_child_is_refused(
    session: Session,
) -> None:
    top = _unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    _unit(session, name="โรงเรียนลูก", code="1081010001", parent_id=top.id)
    data = _book([["8101", "สพป.กระบี่", "esa_office", "1081010001"]])
    area = f.area(session, "krabi")
    preview = units.preview_units(session, area, data, "u.xlsx")
    assert preview.rows[0].errors["parent"].msgid == units.CYCLE
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    applied = units.apply_units(session, actor=f.ACTOR, area=area, data=data, filename="u.xlsx")
    session.rollback()
    assert not applied.applied
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
    session.refresh(top)
    assert top.parent_id is None


def test_one_bad_row_stores_none_of_the_good_ones(session: Session) -> None:
    data = _book(
        [
            ["81", "จังหวัดกระบี่", "province", ""],
            ["8101", "สพป.กระบี่", "esa_office", "81"],
            ["1081010001", "", "school", "8101"],  # no name
        ]
    )
    area = f.area(session, "krabi")
    preview = units.apply_units(session, actor=f.ACTOR, area=area, data=data, filename="u.xlsx")
    session.rollback()
    assert not preview.applied and preview.error_count == 1
    assert session.exec(select(func.count()).select_from(OrgUnit)).one() == 0


def test_an_applied_import_records_one_event_per_unit_with_its_parent(session: Session) -> None:
    data = _book([["81", "จังหวัดกระบี่", "province", ""], ["8101", "สพป.กระบี่", "esa_office", "81"]])
    area = f.area(session, "krabi")
    preview = units.apply_units(session, actor=f.ACTOR, area=area, data=data, filename="u.xlsx")
    assert preview.applied and preview.change_count == 2
    rows = {u.code: u for u in session.exec(select(OrgUnit)).all()}
    assert rows["8101"].parent_id == rows["81"].id
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "org_unit")).all()
    assert len(events) == 2 and all(e.reason == "นำเข้าจาก u.xlsx" for e in events)


def test_an_official_list_gives_codes_to_units_typed_without_them(session: Session) -> None:
    typed = _unit(session, name="โรงเรียนบ้านคลองยาง")  # added on a KPI's page, no code
    data = _book([["1081010001", "โรงเรียนบ้านคลองยาง", "school", ""]])
    area = f.area(session, "krabi")
    preview = units.apply_units(session, actor=f.ACTOR, area=area, data=data, filename="u.xlsx")
    assert preview.applied and [r.status for r in preview.rows] == ["changed"]
    session.refresh(typed)
    assert typed.code == "1081010001"
    assert session.exec(select(func.count()).select_from(OrgUnit)).one() == 1


def test_an_import_may_not_put_two_units_of_one_name_under_one_parent(session: Session) -> None:
    esa = _unit(session, kind="esa_office", name="สพป.กระบี่", code="8101")
    _unit(session, name="โรงเรียนบ้านใหม่", code="1081010001", parent_id=esa.id)
    data = _book(
        [
            ["1081010002", "โรงเรียนบ้านใหม่", "school", "8101"],  # beside the stored one
            ["1081010003", "โรงเรียนบ้านใหม่", "school", ""],  # at the top: allowed
        ]
    )
    preview = units.preview_units(session, f.area(session, "krabi"), data, "u.xlsx")
    assert preview.rows[0].errors["name"].msgid == units.NAME_TAKEN
    assert preview.rows[1].status == "new"
