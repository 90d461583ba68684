"""Spreadsheets: an exported file imports back as a no-op; a malformed one is reported row by row
and writes nothing; a good one is written in one transaction with its audit trail."""

import io
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlmodel import Session, func, select

from app.models import KPI, AuditEvent, KPITarget, Measurement, Plan, ReviewRound
from app.services import progress, spreadsheets
from app.services.progress import progress_view
from tests import factories as f

ACTOR = f.ACTOR


def _plan_with_values(session: Session) -> tuple[Plan, KPI, KPI]:
    plan = f.make_plan(session)
    reading = f.make_kpi(session, plan)  # percentage per academic year, AY2566..AY2570
    schools = f.make_kpi(
        session,
        plan,
        "KPI2",
        name="จำนวนโรงเรียนนำร่องที่ใช้หลักสูตรฐานสมรรถนะ",
        kind="count",
        unit="โรงเรียน",
        aggregation="running_sum",
        baseline_value="0",
        target_value="40",
    )
    for kpi, period, cell, value in (
        (reading, "AY2566", "actual", str(96998.2 / 1646)),  # a long fraction, as a roll-up gives
        (reading, "AY2567", "actual", "66"),
        (reading, "AY2567", "target", "67"),
        (schools, "AY2566", "actual", "8"),
        (schools, "AY2567", "actual", "12"),
    ):
        progress.save_cell(
            session, actor=ACTOR, plan=plan, kpi_id=kpi.id, period=period, cell=cell, text=value
        )
    m = progress.measurement_of(session, reading.id, "AY2567")
    assert m is not None
    m.note, m.n_measured = "สอบทั้งเขต ยกเว้นโรงเรียนขนาดเล็ก 3 แห่ง", 1830
    session.add(m)
    session.add(ReviewRound(area_id=plan.area_id, period="AY2566", state="approved"))
    session.commit()
    return plan, reading, schools


def _state(session: Session) -> tuple[list[Any], list[Any], int]:
    measurements = session.exec(
        select(
            Measurement.kpi_id,
            Measurement.period,
            Measurement.value,
            Measurement.n_measured,
            Measurement.note,
            Measurement.version,
        ).order_by(Measurement.id)
    ).all()
    targets = session.exec(select(KPITarget.kpi_id, KPITarget.period, KPITarget.value)).all()
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    return list(measurements), sorted(targets), events


def _view(session: Session) -> progress.ProgressView:
    return progress_view(session, f.area(session, "krabi"))


def _import(
    session: Session, data: bytes, name: str = "progress.xlsx"
) -> spreadsheets.ImportPreview:
    return spreadsheets.apply_import(
        session, actor=ACTOR, view=_view(session), data=data, filename=name
    )


def _edit(data: bytes, edit: Any) -> bytes:
    book = load_workbook(io.BytesIO(data))
    edit(book["ความก้าวหน้า"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row_of(sheet: Any, kpi: str, period: str) -> int:
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == kpi and row[3].value == period:
            return row[0].row
    raise AssertionError(f"no row {kpi} {period}")


def test_an_exported_workbook_imported_unchanged_changes_nothing(session: Session) -> None:
    _plan_with_values(session)
    before = _state(session)
    exported = spreadsheets.export_workbook(_view(session), [])
    result = _import(session, exported)
    assert result.ok and result.applied and result.change_count == 0
    assert len(result.rows) == 10  # 2 KPIs × 5 academic years, the locked year included
    assert _state(session) == before  # no value, version or audit event more


def test_the_template_holds_open_periods_with_stored_values_and_imports_as_a_no_op(
    session: Session,
) -> None:
    _plan_with_values(session)
    before = _state(session)
    data = spreadsheets.template_workbook(_view(session))
    sheet = load_workbook(io.BytesIO(data))["ความก้าวหน้า"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["รหัสตัวชี้วัด", "ตัวชี้วัด", "หน่วยนับ", "รหัสช่วงเวลา"]
    periods = {row[3].value for row in sheet.iter_rows(min_row=2)}
    assert "AY2566" not in periods and "AY2567" in periods  # the approved year is left out
    row = _row_of(sheet, "KPI1", "AY2567")
    assert sheet.cell(row, 6).value == 66 and sheet.cell(row, 7).value == 67
    assert sheet.cell(row, 8).value == 1830 and sheet.cell(row, 9).value.startswith("สอบทั้งเขต")
    assert _import(session, data).change_count == 0
    assert _state(session) == before


def test_a_filled_template_is_written_in_one_go_with_its_audit_trail(session: Session) -> None:
    plan, reading, schools = _plan_with_values(session)

    def fill(sheet: Any) -> None:
        sheet.cell(_row_of(sheet, "KPI1", "AY2568"), 6).value = "๗๐.๕"  # Thai digits, as text
        percent = sheet.cell(_row_of(sheet, "KPI1", "AY2569"), 6)
        percent.value, percent.number_format = 0.72, "0%"  # a cell formatted as 72%
        sheet.cell(_row_of(sheet, "KPI1", "AY2570"), 7).value = 75.5  # a future target
        sheet.cell(_row_of(sheet, "KPI2", "AY2567"), 6).value = None  # cleared

    data = _edit(spreadsheets.template_workbook(_view(session)), fill)
    preview = spreadsheets.preview_import(_view(session), data, "กระบี่.xlsx")
    assert preview.ok and preview.change_count == 4
    result = _import(session, data, "กระบี่.xlsx")
    assert result.applied
    values = dict(
        session.exec(
            select(Measurement.period, Measurement.value).where(Measurement.kpi_id == reading.id)
        ).all()
    )
    assert values == {"AY2566": 96998.2 / 1646, "AY2567": 66, "AY2568": 70.5, "AY2569": 72}
    assert session.get(KPITarget, (reading.id, "AY2570")).value == 75.5
    assert progress.measurement_of(session, schools.id, "AY2567") is None
    reasons = session.exec(
        select(AuditEvent.reason).where(AuditEvent.reason.like("%กระบี่.xlsx%"))  # type: ignore[union-attr]
    ).all()
    assert len(reasons) == 4


def _bad_book() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Progress"  # the English name is recognised too
    sheet.append(["KPI code", "Period code", "Actual value", "Target", "Note", "Number measured"])
    sheet.append(["KPI1", "AY2568", 71, None, None])  # fine on its own
    sheet.append(["KPI9", "AY2568", 50, None, None])  # unknown KPI
    sheet.append(["KPI1", "AY2569", "N/A", None, None])  # text in a number cell
    sheet.append(["KPI1", "AY2568", 72, None, None])  # duplicate of row 2
    sheet.append(["KPI1", "AY2566", 65, None, None])  # approved, locked year
    sheet.append(["KPI2", "FY2567", 3, None, None])  # not this KPI's kind of period
    sheet.append(["KPI1", "AY2570", 80, None, None])  # has not begun
    sheet.append(["KPI1", "AY2567", None, None, "หมายเหตุที่ไม่มีค่า"])  # a note with no value
    sheet.append(["KPI2", "AY2567", 12, None, None, -3])  # a negative number measured
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_malformed_workbook_is_reported_row_by_row_and_writes_nothing(session: Session) -> None:
    _plan_with_values(session)
    before = _state(session)
    result = _import(session, _bad_book())
    assert not result.applied
    problems = {row.number: dict(row.errors) for row in result.rows if row.errors}
    assert set(problems) == {3, 4, 5, 6, 7, 8, 9, 10}
    assert set(problems[3]) == {"kpi"} and problems[3]["kpi"].params == {"code": "KPI9"}
    assert set(problems[4]) == {"actual"} and "number" in problems[4]["actual"].msgid
    assert problems[5]["period"].params == {"row": 2}
    assert "locked" in problems[6]["actual"].msgid
    assert "period code" in problems[7]["period"].msgid
    assert "not begun" in problems[8]["actual"].msgid
    assert "needs a value" in problems[9]["actual"].msgid
    assert set(problems[10]) == {"n_measured"}  # the KPI page's own rule (MeasurementIn)
    assert result.error_count == 8
    session.rollback()
    assert _state(session) == before  # row 2 was fine, but nothing at all was written


def test_a_workbook_without_the_progress_sheet_or_its_columns_is_refused(session: Session) -> None:
    _plan_with_values(session)
    book = Workbook()
    book.active.title = "Sheet1"
    out = io.BytesIO()
    book.save(out)
    result = spreadsheets.preview_import(_view(session), out.getvalue(), "x.xlsx")
    assert not result.ok and result.problems[0].params["found"] == "Sheet1"

    book.active.title = "ความก้าวหน้า"
    book.active.append(["KPI", "ค่า"])
    out = io.BytesIO()
    book.save(out)
    result = spreadsheets.preview_import(_view(session), out.getvalue(), "x.xlsx")
    assert result.problems[0].params == {"column": "รหัสตัวชี้วัด"}

    junk = spreadsheets.preview_import(_view(session), b"%PDF-1.7 not a workbook", "x.xlsx")
    assert "not an Excel workbook" in junk.problems[0].msgid


def test_csv_exports_carry_thai_text_with_a_byte_order_mark(session: Session) -> None:
    _plan_with_values(session)
    view = _view(session)
    values = spreadsheets.export_csv(view, "progress")
    assert values.startswith("\ufeffรหัสตัวชี้วัด,")
    assert "KPI1,ร้อยละนักเรียน ป.1 อ่านออก (KPI1),,AY2567,ปีการศึกษา 2567,66.0,67.0,1830," in values
    plan = spreadsheets.export_csv(view, "plan")
    assert "จำนวนโรงเรียนนำร่องที่ใช้หลักสูตรฐานสมรรถนะ" in plan


def test_a_computed_kpis_value_in_a_workbook_is_refused_but_its_target_is_taken(
    session: Session,
) -> None:
    plan, reading, _schools = _plan_with_values(session)
    kpi = session.get(KPI, reading.id)
    kpi.compute_method = "item"  # computed from the data catalogue (shared_data)
    session.add(kpi)
    session.commit()

    def fill(sheet: Any) -> None:
        sheet.cell(_row_of(sheet, "KPI1", "AY2568"), 6).value = 70
        sheet.cell(_row_of(sheet, "KPI1", "AY2570"), 7).value = 80

    data = _edit(spreadsheets.template_workbook(_view(session)), fill)
    preview = spreadsheets.preview_import(_view(session), data, "กระบี่.xlsx")
    assert not preview.ok
    errors = [r.errors for r in preview.rows if r.errors]
    assert [list(e) for e in errors] == [["actual"]]
    assert errors[0]["actual"].msgid == progress.COMPUTED
