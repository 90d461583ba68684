"""The limits of an uploaded workbook sit where they are said to (README, the template's
instructions), a wrong declared sheet size costs nothing and hides nothing, and openpyxl parses
through defusedxml."""

import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from app.services import safe_sheets, spreadsheets
from app.services.progress import progress_view
from app.services.safe_sheets import MAX_COLUMNS, MAX_ROWS, Refused
from tests import bombs
from tests import factories as f


def test_openpyxl_reads_workbooks_through_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True


def _refusal(data: bytes) -> str | None:
    try:
        safe_sheets.check_package(data)
    except Refused as refused:
        return refused.msg.msgid
    return None


def test_the_row_and_column_limits_are_where_the_instructions_say() -> None:
    assert _refusal(bombs.empty_rows(rows=MAX_ROWS + 1)) is None
    assert _refusal(bombs.empty_rows(rows=MAX_ROWS + 2)) == safe_sheets.TOO_MANY_ROWS
    assert _refusal(bombs.wide_row(MAX_COLUMNS)) is None
    assert _refusal(bombs.wide_row(MAX_COLUMNS + 1)) == safe_sheets.TOO_MANY_COLUMNS


def test_the_loose_vml_excel_writes_for_cell_comments_does_not_refuse_a_workbook() -> None:
    vml = b"<xml><v:shape><x:ClientData><br></x:ClientData></v:shape></xml>"
    loose = bombs.build({"xl/drawings/vmlDrawing1.vml": (lambda: iter([vml]), b"")})
    assert _refusal(loose) is None
    broken = bombs.build({"xl/drawings/drawing1.xml": (lambda: iter([vml]), b"")})
    assert _refusal(broken) == safe_sheets.NOT_A_WORKBOOK


def test_a_file_over_the_size_limit_or_not_a_zip_is_refused_unread() -> None:
    assert _refusal(b"PK" + b"\0" * safe_sheets.MAX_BYTES) == safe_sheets.TOO_BIG
    assert _refusal(b"PK\x03\x04 not really") == safe_sheets.NOT_A_WORKBOOK
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:  # a zip, but not a workbook
        archive.writestr("notes.txt", "hello")
    assert _refusal(out.getvalue()) == safe_sheets.NOT_A_WORKBOOK


def test_a_workbook_of_too_many_parts_is_refused_unread() -> None:
    source = zipfile.ZipFile(io.BytesIO(bombs.build({})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        for n in range(safe_sheets.MAX_MEMBERS):
            archive.writestr(f"xl/media/image{n}.png", b"\x89PNG")
    assert _refusal(out.getvalue()) == safe_sheets.TOO_MANY_PARTS


@pytest.mark.parametrize("declared", ["A1:XFD1048576", "A1:B1"])
def test_a_wrong_declared_sheet_size_neither_costs_nor_hides_rows(
    session: Session, declared: str
) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)
    view = progress_view(session, f.area(session, "krabi"))
    book = load_workbook(io.BytesIO(spreadsheets.template_workbook(view)))
    book.active.cell(2, 6).value = 61
    book.active.cell(3, 6).value = 62
    out = io.BytesIO()
    book.save(out)
    source = zipfile.ZipFile(out)
    rewritten = io.BytesIO()
    with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            part = source.read(name)
            if name == bombs.SHEET:
                part = re.sub(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{declared}"'.encode(), part
                )
            archive.writestr(name, part)
    preview = spreadsheets.preview_import(view, rewritten.getvalue(), "x.xlsx")
    assert preview.ok and preview.change_count == 2


def test_the_template_states_the_limits(session: Session) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)
    data = spreadsheets.template_workbook(progress_view(session, f.area(session, "krabi")))
    lines = [c.value for (c,) in load_workbook(io.BytesIO(data))["วิธีกรอก"].iter_rows()]
    limits = next(line for line in lines if line.startswith("ข้อจำกัด"))
    assert "5 MB" in limits and "5,000 แถว" in limits and "50 คอลัมน์ (A ถึง AX)" in limits
