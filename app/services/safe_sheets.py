"""Workbooks that can hurt neither the server that reads them nor the person who opens them.

Reading: an uploaded .xlsx is a zip of XML parts, so a small file can unpack to gigabytes or
declare a million rows. Before openpyxl sees it, `check_package` reads only the zip's directory
(members, sizes, ratios), then streams every XML part once through defusedxml's SAX parser
(no DTD, no entities), counting elements (those outside cell data more strictly), nesting,
rows and columns, and stopping at the first limit passed. openpyxl itself parses with
defusedxml when it is installed (`openpyxl.DEFUSEDXML`).

Writing: text that a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first)
goes out as plain text, and characters an .xlsx cannot hold are dropped, so an export never
fails on old rows and never attacks its reader.
"""

import io
import re
import zipfile
from typing import Any
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from app.i18n import N_
from app.services.errors import Msg

MAX_BYTES = 5 * 1024 * 1024  # the uploaded file
MAX_MEMBERS = 100  # parts in the zip (a workbook from Excel has about 15)
MAX_MEMBER_BYTES = 32 * 1024 * 1024  # one part, unpacked
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # all parts, unpacked
MAX_RATIO = 100  # unpacked : packed, for a part over RATIO_FLOOR bytes unpacked
RATIO_FLOOR = 1024 * 1024
MAX_ELEMENTS = 500_000  # XML elements in one part
# elements outside cell data (rows of sheetData, strings of the shared-strings table): openpyxl
# builds an object for each (styles, names, merged cells, ...), which costs far more than a cell
MAX_STRUCTURE = 10_000
CELL_DATA = ("sheetData", "si")
MAX_DEPTH = 64  # XML nesting
MAX_ROWS = 5000  # rows under the header
MAX_ROW_NUMBER = MAX_ROWS + 1  # no row of any sheet below this one
MAX_COLUMNS = 50  # no cell right of column AX
REQUIRED = ("[Content_Types].xml", "xl/workbook.xml")
CHUNK = 64 * 1024

NOT_A_WORKBOOK = N_("This file is not an Excel workbook (.xlsx).")
TOO_BIG = N_("The file is larger than 5 MB.")
TOO_MANY_PARTS = N_("The workbook has more than %(max)s parts; save it again as a plain .xlsx.")
UNPACKS_TOO_BIG = N_(
    "The workbook unpacks to more than %(max)s MB, or one part of it is packed suspiciously "
    "tightly; it was not read."
)
TOO_COMPLEX = N_("A part of the workbook is too large or too deeply nested to read safely.")
UNSAFE_XML = N_("The workbook contains XML declarations that are not allowed (DTD or entities).")
TOO_MANY_ROWS = N_(
    "A sheet goes on below row %(last)s: a workbook may hold at most %(max)s rows under the header."
)
TOO_MANY_COLUMNS = N_(
    "A sheet has cells beyond column %(max)s: delete the columns the import does not use."
)


class Refused(Exception):
    """A workbook not read, with the reason to show beside the upload field."""

    def __init__(self, msg: Msg) -> None:
        super().__init__(msg.msgid)
        self.msg = msg


# ---- reading --------------------------------------------------------------------------------


def check_package(data: bytes) -> None:
    """Refuse a file, before anything parses it, unless it is a plain and modest .xlsx."""
    if len(data) > MAX_BYTES:
        raise Refused(Msg(TOO_BIG))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused(Msg(NOT_A_WORKBOOK)) from exc
    _check_members(members)
    for member in members:
        if _is_xml(archive, member):
            _scan(archive, member)


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    names = [m.filename for m in members]
    if any(required not in names for required in REQUIRED) or len(set(names)) != len(names):
        raise Refused(Msg(NOT_A_WORKBOOK))
    if len(members) > MAX_MEMBERS:
        raise Refused(Msg(TOO_MANY_PARTS, {"max": MAX_MEMBERS}))
    if any(m.flag_bits & 0x1 for m in members):  # encrypted
        raise Refused(Msg(NOT_A_WORKBOOK))
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES or any(_too_tight(m) for m in members):
        raise Refused(Msg(UNPACKS_TOO_BIG, {"max": MAX_UNPACKED_BYTES // (1024 * 1024)}))


def _too_tight(member: zipfile.ZipInfo) -> bool:
    if member.file_size > MAX_MEMBER_BYTES:
        return True
    return member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(
        member.compress_size, 1
    )


def _is_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Parts named .xml or .rels, and any other part that starts like XML (openpyxl finds
    parts through the package's relationships, whatever their names)."""
    if member.filename.endswith((".xml", ".rels")):
        return True
    try:
        with archive.open(member) as stream:
            start = stream.read(64)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise Refused(Msg(NOT_A_WORKBOOK)) from exc
    return start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _scan(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """Stream one part through a SAX parser that allows no DTD and no entities, counting
    elements, nesting, rows and cells, and stop at the first limit passed."""
    parser = make_parser()
    parser.forbid_dtd = True
    parser.setContentHandler(_Counter())
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(CHUNK):
                parser.feed(chunk)
        parser.close()
    except DefusedXmlException as exc:
        raise Refused(Msg(UNSAFE_XML)) from exc
    except SAXException as exc:
        # Excel writes the VML of cell comments loosely; openpyxl does not read it here
        if not member.filename.endswith(".vml"):
            raise Refused(Msg(NOT_A_WORKBOOK)) from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        # a broken deflate stream, a bad CRC
        raise Refused(Msg(NOT_A_WORKBOOK)) from exc


class _Counter(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.elements = self.depth = self.structure = 0
        self.data_depth = 0  # the depth of the sheetData or shared string being read, if any
        self.rows = self.row = 0  # rows seen; the current row's number, as openpyxl counts
        self.cells = 0  # cells in the current row

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 (SAX's name)
        self.depth += 1
        self.elements += 1
        tag = name.rpartition(":")[2]
        if not self.data_depth:
            if tag in CELL_DATA:
                self.data_depth = self.depth
            else:
                self.structure += 1
        too_many = self.elements > MAX_ELEMENTS or self.structure > MAX_STRUCTURE
        if too_many or self.depth > MAX_DEPTH:
            raise Refused(Msg(TOO_COMPLEX))
        if tag == "row":
            self._row(attrs.get("r"))
        elif tag == "c" and self.rows:
            self._cell(attrs.get("r"))

    def endElement(self, name: str) -> None:  # noqa: N802
        if self.depth == self.data_depth:
            self.data_depth = 0
        self.depth -= 1

    def _row(self, number: str | None) -> None:
        self.row = _whole_number(number) if number else self.row + 1
        self.rows += 1
        self.cells = 0
        if self.row > MAX_ROW_NUMBER or self.rows > MAX_ROW_NUMBER:
            raise Refused(Msg(TOO_MANY_ROWS, {"last": MAX_ROW_NUMBER, "max": MAX_ROWS}))

    def _cell(self, reference: str | None) -> None:
        self.cells += 1
        column = self.cells
        if reference:
            try:
                column = column_index_from_string(coordinate_from_string(reference)[0])
            except ValueError as exc:
                raise Refused(Msg(NOT_A_WORKBOOK)) from exc
        if column > MAX_COLUMNS or self.cells > MAX_COLUMNS:
            raise Refused(Msg(TOO_MANY_COLUMNS, {"max": get_column_letter(MAX_COLUMNS)}))


def _whole_number(text: str) -> int:
    try:
        return int(float(text))
    except (ValueError, OverflowError) as exc:
        raise Refused(Msg(NOT_A_WORKBOOK)) from exc


# ---- writing --------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# openpyxl's list (C0 controls but tab, line feed and carriage return), and what XML 1.0
# cannot hold either: lone surrogates, U+FFFE and U+FFFF
UNWRITABLE = re.compile(ILLEGAL_CHARACTERS_RE.pattern + r"|[\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """The text without the characters an .xlsx cannot hold (NUL and the like)."""
    return UNWRITABLE.sub("", text)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def csv_value(value: Any) -> Any:
    """A CSV field: text that a spreadsheet would run as a formula gets the apostrophe prefix
    (OWASP's advice); numbers, including negative ones, stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = clean_text(value)
        return "'" + value if is_formula_like(value) else value
    return value


def write_cell(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Put a value in a cell; text is always text (quote-prefixed if it looks like a formula),
    never a formula, and holds no character that would make the file unwritable."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        text = clean_text(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        if is_formula_like(text):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell
