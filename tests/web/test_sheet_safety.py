"""Spreadsheets that cannot hurt the server or their readers: hostile uploads are refused with
a 422 beside the upload field and nothing is kept; text that looks like a formula leaves every
export as literal text; a control character in an old row breaks no export."""

import csv
import io
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import Session, func, select

from app.models import KPI, ActionUpdate, Area, AuditEvent, DataItem, Measurement
from app.services import progress, resources
from tests import bombs
from tests import factories as f

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINK = '=HYPERLINK("http://x","y")'
NOTE = "@SUM(1)"

BOMBS: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty rows": (lambda: bombs.empty_rows(rows=5002), "เลยแถวที่ 5001"),
    "compact empty rows": (
        lambda: bombs.empty_rows(rows=200_000, compact=True),
        "บีบอัดแน่นผิดปกติ",
    ),
    "shared strings": (lambda: bombs.shared_strings(strings=40_000), "บีบอัดแน่นผิดปกติ"),
    "row 1,048,576": (bombs.deep_row, "เลยแถวที่ 5001"),
    "every column": (bombs.wide_row, "เลยคอลัมน์ AX"),
    "malformed XML": (bombs.malformed, "ไม่ใช่สมุดงาน Excel"),
    "billion laughs": (bombs.entities, "DTD หรือ entity"),
    "styles": (lambda: bombs.styles(6000), "ซ้อนกันลึกเกินกว่าจะอ่านได้อย่างปลอดภัย"),
}


def _kept_uploads() -> list[Path]:
    folder = Path(os.environ["PHONLAP_VAR_DIR"]) / "imports"
    return list(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("kind", list(BOMBS))
def test_a_hostile_workbook_is_refused_beside_the_upload_field_and_nothing_is_kept(
    client: TestClient, session: Session, kind: str
) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    make, message = BOMBS[kind]
    response = client.post(
        "/areas/krabi/progress/import", files={"file": ("progress.xlsx", make(), XLSX)}
    )
    assert response.status_code == 422
    beside = response.text.split('id="import-file-error"')[1].split("</p>")[0]
    assert message in beside
    assert 'aria-describedby="import-file-error"' in response.text
    assert session.exec(select(Measurement)).all() == []
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
    assert _kept_uploads() == []


def _hostile_plan(session: Session) -> None:
    """A KPI named like a formula with a value and a note like one; a check-in and a data item
    that start like formulas too."""
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan, name=LINK)
    action = f.make_action(session, plan, title="+cmd|' /C calc'!A0")
    progress.save_measurement(
        session,
        actor=f.ACTOR,
        plan=plan,
        kpi_id=kpi.id,
        period="AY2567",
        details_in={"value": "66", "note": NOTE},
    )
    progress.add_action_update(
        session,
        actor=f.ACTOR,
        plan=plan,
        action_id=action.id,
        update_in={"on_date": date(2024, 8, 1), "status": "on_track", "what_changed": "-1 โรงเรียน"},
    )
    resources.create_data_item(
        session,
        actor=f.ACTOR,
        area=f.area(session),
        item_in={"name": "=1+1", "frequency": "yearly", "access": "open"},
    )


def _cell(book_bytes: bytes, sheet: int | str, value: str):  # noqa: ANN202
    book = load_workbook(io.BytesIO(book_bytes))
    found = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
    for row in found.iter_rows():
        for cell in row:
            if cell.value == value:
                return cell
    raise AssertionError(f"{value!r} not in sheet {sheet}")


def _literal(book_bytes: bytes, sheet: int | str, value: str) -> None:
    cell = _cell(book_bytes, sheet, value)
    assert cell.data_type == "s" and cell.quotePrefix, (sheet, value)


def test_text_that_looks_like_a_formula_leaves_every_export_as_literal_text(
    client: TestClient, session: Session
) -> None:
    _hostile_plan(session)
    export = client.get("/areas/krabi/progress/export.xlsx").content
    _literal(export, "ความก้าวหน้า", LINK)
    _literal(export, "ความก้าวหน้า", NOTE)
    _literal(export, "แผน", LINK)
    _literal(export, "แผน", "+cmd|' /C calc'!A0")
    _literal(export, "รายงานความคืบหน้ากิจกรรม", "-1 โรงเรียน")
    assert _cell(export, "ความก้าวหน้า", 66).data_type == "n"  # a number stays a number
    assert _cell(export, "ความก้าวหน้า", "KPI1").quotePrefix is False  # plain text untouched
    _literal(client.get("/areas/krabi/progress/template.xlsx").content, 0, LINK)
    _literal(client.get("/areas/krabi/data.xlsx").content, 0, "=1+1")
    _literal(client.get("/review/export.xlsx?group=all").content, "Krabi", LINK)
    _literal(client.get("/review/annual.xlsx?year=AY2567&group=all").content, 1, LINK)

    progress_csv = client.get("/areas/krabi/progress/export/progress.csv").content
    rows = list(csv.reader(io.StringIO(progress_csv.decode("utf-8-sig"))))
    mine = next(r for r in rows if r[3] == "AY2567")
    assert mine[1] == "'" + LINK and mine[5] == "66.0" and mine[8] == "'" + NOTE
    plan_csv = client.get("/areas/krabi/progress/export/plan.csv").content.decode("utf-8-sig")
    assert "\"'+cmd|' /C calc'!A0\"" in plan_csv or "'+cmd|' /C calc'!A0" in plan_csv
    checkins = client.get("/areas/krabi/progress/export/checkins.csv").content.decode()
    assert ",'-1 โรงเรียน," in checkins


@pytest.fixture
def krabi_renamed(session: Session) -> Iterator[Callable[[str], None]]:
    """Rename Krabi's English name (reference data, which the tests' clean-up keeps) and put
    it back afterwards."""
    original = f.area(session, "krabi").name_en

    def rename(name: str) -> None:
        session.exec(update(Area).where(Area.slug == "krabi").values(name_en=name))

    yield rename
    session.rollback()
    rename(original)
    session.commit()


def test_a_control_character_in_an_old_row_breaks_no_export(
    client: TestClient, session: Session, krabi_renamed: Callable[[str], None]
) -> None:
    _hostile_plan(session)
    # old rows, written before input refused control characters (PostgreSQL cannot hold NUL)
    bad = "\x00" if session.get_bind().dialect.name == "sqlite" else "\x0b"
    for model, column in (
        (KPI, KPI.name),
        (Measurement, Measurement.note),
        (ActionUpdate, ActionUpdate.what_changed),
        (DataItem, DataItem.name),
    ):
        session.exec(update(model).values({column: f"ก่อน{bad}หลัง"}))
    krabi_renamed(f"Kra{bad}bi")
    session.commit()
    for url, sheet in (
        ("/areas/krabi/progress/export.xlsx", 0),
        ("/areas/krabi/data.xlsx", 0),
        ("/review/export.xlsx?group=all", "Kra bi"),
        ("/review/annual.xlsx?year=AY2567&group=all", 1),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _cell(response.content, sheet, "ก่อนหลัง").data_type == "s"
    checkins = client.get("/areas/krabi/progress/export/checkins.csv")
    assert checkins.status_code == 200 and "ก่อนหลัง" in checkins.text
