"""Hostile workbooks, built here so the tests and benchmarks/spreadsheet_bombs.py need no files:
each is a real .xlsx (made by openpyxl, with a "Progress" sheet and its header) with one part
replaced by what an attacker would write. Sizes are parameters: the tests use small ones, the
benchmark the sizes of the attacks that were reported."""

import io
import zipfile
from collections.abc import Callable, Iterator

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
STYLES = "xl/styles.xml"
HEADER = ("KPI code", "KPI", "Unit", "Period code", "Period", "Actual value", "Target")
RELS = "xl/_rels/workbook.xml.rels"
TYPES = "[Content_Types].xml"
STRINGS_REL = (
    b'<Relationship Id="rId9" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org'
    b'/officeDocument/2006/relationships/sharedStrings"/>'
)
STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/>'
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _base() -> dict[str, bytes]:
    book = Workbook()
    book.active.title = "Progress"
    book.active.append(HEADER)
    out = io.BytesIO()
    book.save(out)
    archive = zipfile.ZipFile(out)
    return {name: archive.read(name) for name in archive.namelist()}


def _header_row() -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{title}</t></is></c>'
        for i, title in enumerate(HEADER)
    )
    return f'<row r="1">{cells}</row>'


SHEET_END = b"</sheetData></worksheet>"


def _sheet(rows: Iterator[str]) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'.encode()
    yield b'<dimension ref="A1:XFD1048576"/><sheetData>'
    yield _header_row().encode()
    for row in rows:
        yield row.encode()


Part = tuple[Callable[[], Iterator[bytes]], bytes]  # the content, streamed; its closing tags


def build(replace: dict[str, Part], target_bytes: int | None = None) -> bytes:
    """The base workbook with parts replaced by streamed content. With `target_bytes`, an
    endless stream is cut (and its XML closed) once the packed file reaches that size."""
    parts = _base()
    if STRINGS in replace:  # openpyxl writes inline strings: declare the part
        parts[RELS] = parts[RELS].replace(b"</Relationships>", STRINGS_REL + b"</Relationships>")
        parts[TYPES] = parts[TYPES].replace(b"</Types>", STRINGS_TYPE + b"</Types>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            if name not in replace:
                archive.writestr(name, data)
        for name, (produce, closing) in replace.items():
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in produce():
                    part.write(chunk)
                    if target_bytes and out.tell() >= target_bytes:
                        break
                part.write(closing)
    return out.getvalue()


def _until(limit: int | None) -> Iterator[int]:
    n = 2
    while limit is None or n <= limit:
        yield n
        n += 1


def empty_rows(
    target_bytes: int | None = None, rows: int | None = None, compact: bool = False
) -> bytes:
    """Row after row of empty, styled cells under a declared size of the whole sheet: what kept
    a worker busy. `compact` rows (`<row/>`, numbered by position) pack a thousand to one."""

    def sheet() -> Iterator[bytes]:
        if compact:
            return _sheet("<row/>" for _ in _until(rows))
        return _sheet(
            f'<row r="{n}" spans="1:9">'
            + "".join(f'<c r="{c}{n}" s="0"/>' for c in "ABCDEFGHI")
            + "</row>"
            for n in _until(rows)
        )

    return build({SHEET: (sheet, SHEET_END)}, target_bytes)


def shared_strings(target_bytes: int | None = None, strings: int | None = None) -> bytes:
    """A shared-strings part of the same short string again and again: parsed in full, and
    held in memory string by string, when the workbook is opened, before any row is read."""

    def part() -> Iterator[bytes]:
        yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode()
        text = "A" * 20
        for _ in _until(strings):
            yield f"<si><t>{text}</t></si>".encode()

    return build({STRINGS: (part, b"</sst>")}, target_bytes)


def deep_row() -> bytes:
    """One row numbered 1,048,576 (the last Excel allows) and nothing before it but the header."""
    last = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>KPI1</t></is></c></row>'
    return build({SHEET: (lambda: _sheet(iter([last])), SHEET_END)})


def wide_row(cells: int = 16384) -> bytes:
    """One row with a cell in every column Excel allows."""

    def sheet() -> Iterator[bytes]:
        row = "".join(f'<c r="{get_column_letter(i)}2"/>' for i in range(1, cells + 1))
        return _sheet(iter([f'<row r="2">{row}</row>']))

    return build({SHEET: (sheet, SHEET_END)})


def malformed() -> bytes:
    """Sheet XML cut off in the middle of a cell."""
    cut = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c'.encode()
    return build({SHEET: (lambda: iter([cut]), b"")})


def entities() -> bytes:
    """The "billion laughs": a shared-strings part whose DTD defines nested entities."""
    laughs = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{laughs}]>'
        f'<sst xmlns="{MAIN}"><si><t>&a9;</t></si></sst>'
    )
    return build({STRINGS: (lambda: iter([doc.encode()]), b"")})


def styles(formats: int = 240_000) -> bytes:
    """A style sheet of many cell formats, each a little different so that it packs less
    tightly than 100:1: openpyxl builds an object for each when it opens the workbook."""

    def part() -> Iterator[bytes]:
        yield (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
            '<fonts count="1"><font/></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            f'<cellXfs count="{formats}">'
        ).encode()
        for i in range(formats):
            yield (
                f'<xf numFmtId="{(i * 7919) % 50}" fontId="0" fillId="0" borderId="0" xfId="0">'
                f'<alignment horizontal="left" indent="{i % 7}"/></xf>'
            ).encode()

    return build({STYLES: (part, b"</cellXfs></styleSheet>")})
