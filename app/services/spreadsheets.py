"""Spreadsheets: the progress template, its import (a preview first, then all or nothing), and
the exports of a plan and its progress as .xlsx and CSV.

The progress sheet has one row per KPI and period. Its headers and sheet name are written in
the reader's language and recognised in either, so a file filled in Thai imports in English.
An unchanged row changes nothing, so an exported file imports back as a no-op; a blank value
cell clears the stored value, as in the grid.
"""

import csv
import hashlib
import io
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app.i18n import LOCALES, N_, gettext, translations
from app.labels import label
from app.models import KPI, PendingImport, Plan
from app.models.base import utcnow
from app.periods import period_label
from app.schemas import MeasurementIn
from app.services import audit, safe_sheets
from app.services.errors import Msg, ValidationFailed
from app.services.plan_tree import PlanTree
from app.services.progress import (
    COMPUTED,
    NEEDS_VALUE,
    ROLLED_UP,
    KPIProgress,
    PeriodWrite,
    ProgressView,
    finish,
    lock_of,
    open_problem,
    parse_value,
    period_problem,
    write_many,
)
from app.services.safe_sheets import MAX_BYTES, MAX_COLUMNS, MAX_ROWS
from app.services.validation import validate

log = logging.getLogger(__name__)
PENDING_FOR = timedelta(days=1)  # how long an uploaded workbook waits for its confirmation

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # message id
    width: int
    info: bool = False  # shown for the reader, ignored on import
    number_format: str | None = None  # e.g. "#,##0" for baht


PROGRESS_SHEET = N_("Progress")
PROGRESS_COLUMNS = (
    Column("kpi", N_("KPI code"), 12),
    Column("kpi_name", N_("KPI"), 48, info=True),
    Column("unit", N_("Unit"), 12, info=True),
    Column("period", N_("Period code"), 14),
    Column("period_label", N_("Period"), 22, info=True),
    Column("actual", N_("Actual value"), 14),
    Column("target", N_("Target"), 12),
    Column("n_measured", N_("Number measured"), 16),
    Column("note", N_("Note"), 40),
)
VALUE_COLUMNS = ("actual", "target", "n_measured", "note")


# ---- rows out -------------------------------------------------------------------------------


def progress_rows(
    view: ProgressView, keep: Callable[[str], bool] = lambda period: True
) -> list[dict[str, Any]]:
    """One row per KPI (in plan order) and period, with what is stored."""
    rows = []
    for row in view.kpis.values():
        for period in row.periods:
            if keep(period):
                rows.append(_progress_row(row, period))
    return rows


def _progress_row(row: KPIProgress, period: str) -> dict[str, Any]:
    m = row.actuals.get(period)
    return {
        "kpi": row.kpi.code,
        "kpi_name": row.kpi.name,
        "unit": row.kpi.unit,
        "period": period,
        "period_label": period_label(period),
        "actual": m.value if m else None,
        "target": row.targets.get(period),
        "n_measured": m.n_measured if m else None,
        "note": m.note if m else "",
    }


def open_periods(view: ProgressView) -> Callable[[str], bool]:
    """The periods a template offers: those of the plan not locked by a review round."""
    return lambda period: lock_of(view.rounds.values(), period) is None


def template_workbook(view: ProgressView) -> bytes:
    """The area's progress template: KPIs × open periods, with what is stored filled in."""
    book = Workbook()
    _progress_sheet(book.active, progress_rows(view, open_periods(view)))
    _instructions_sheet(book.create_sheet(gettext("How to fill in")))
    return save_workbook(book)


def export_workbook(view: ProgressView, updates: list[dict[str, Any]]) -> bytes:
    """The plan and all its progress: the progress sheet (importable), the plan, check-ins."""
    book = Workbook()
    _progress_sheet(book.active, progress_rows(view))
    table_sheet(book.create_sheet(gettext("Plan")), PLAN_COLUMNS, plan_rows(view))
    table_sheet(book.create_sheet(gettext("Check-ins")), CHECKIN_COLUMNS, updates)
    return save_workbook(book)


def _progress_sheet(sheet: Any, rows: list[dict[str, Any]]) -> None:
    sheet.title = gettext(PROGRESS_SHEET)
    table_sheet(sheet, PROGRESS_COLUMNS, rows)
    grey = PatternFill("solid", fgColor="EEEEEE")
    for column_index, column in enumerate(PROGRESS_COLUMNS, start=1):
        if column.info:
            for (cell,) in sheet.iter_rows(
                min_row=2, min_col=column_index, max_col=column_index, max_row=len(rows) + 1
            ):
                cell.fill = grey


def table_sheet(
    sheet: Any, columns: Iterable[Column], rows: list[dict[str, Any]], first_row: int = 1
) -> None:
    """A table with its header at `first_row`: bold titles, column widths, numbers kept as
    numbers, wrapped text, and text never run as a formula. A table at the top keeps its
    header in view."""
    columns = list(columns)
    for index, column in enumerate(columns, start=1):
        sheet.cell(row=first_row, column=index, value=gettext(column.title)).font = Font(bold=True)
        dimension = sheet.column_dimensions[get_column_letter(index)]
        below = first_row > 1 and dimension.width or 0  # a table under another: the wider
        dimension.width = max(column.width, below)
    for number, row in enumerate(rows, start=first_row + 1):
        for index, column in enumerate(columns, start=1):
            value = row.get(column.key)
            cell = safe_sheets.write_cell(sheet, number, index, value)
            cell.alignment = Alignment(vertical="top", wrap_text=isinstance(value, str))
            if column.number_format and isinstance(value, int | float):
                cell.number_format = column.number_format
    if first_row == 1:
        sheet.freeze_panes = "A2"


def _instructions_sheet(sheet: Any) -> None:
    lines = (
        N_("Fill in the sheet “%(sheet)s”: one row per KPI and period."),
        N_("Change only the columns Actual value, Target, Number measured and Note."),
        N_("Numbers may use Thai digits, thousands separators and a trailing %%."),
        N_("A blank value clears what is stored; delete a row to leave it as it is."),
        N_("Periods that were submitted or approved are not in the template and cannot change."),
        N_("Upload the file on the progress page: you will see every change before it is saved."),
        N_(
            "Limits: at most %(mb)s MB, %(rows)s rows under the header and %(columns)s columns "
            "(A to %(last)s) in any sheet. A larger workbook, or one that unpacks to more than "
            "%(unpacked)s MB, is refused without being read."
        ),
    )
    params = {
        "sheet": gettext(PROGRESS_SHEET),
        "mb": MAX_BYTES // (1024 * 1024),
        "rows": f"{MAX_ROWS:,}",
        "columns": MAX_COLUMNS,
        "last": get_column_letter(MAX_COLUMNS),
        "unpacked": safe_sheets.MAX_UNPACKED_BYTES // (1024 * 1024),
    }
    for line in lines:
        sheet.append([gettext(line, **params)])
    sheet.column_dimensions["A"].width = 100


def save_workbook(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PLAN_COLUMNS = (
    Column("type", N_("Type"), 16),
    Column("code", N_("Code"), 10),
    Column("text", N_("Text"), 60),
    Column("links", N_("Linked to"), 16),
    Column("unit", N_("Unit"), 12),
    Column("baseline", N_("Baseline"), 18),
    Column("target", N_("End target"), 18),
    Column("status", N_("Status"), 16),
)

CHECKIN_COLUMNS = (
    Column("action", N_("Action code"), 12),
    Column("on_date", N_("Date"), 12),
    Column("status", N_("Status"), 16),
    Column("percent_complete", N_("Percent complete"), 12),
    Column("confidence", N_("Confidence (0–10)"), 12),
    Column("spent_thb", N_("Spent (baht)"), 14),
    Column("what_changed", N_("What changed"), 50),
    Column("next_steps", N_("Next steps"), 40),
    Column("evidence_url", N_("Evidence link"), 30),
)


def plan_rows(view: ProgressView) -> list[dict[str, Any]]:
    """The plan as a flat table: vision, DOE statements, problems, KRAs, KPIs, actions."""
    tree, plan = view.tree, view.plan
    if tree is None or plan is None:
        return []
    kra_codes = {k.id: k.code for k in tree.kras}
    kpi_codes = {k.id: k.code for k in tree.kpis}

    def codes(ids: Iterable[int], names: dict[int, str]) -> str:
        return ", ".join(names[i] for i in ids if i in names)

    rows: list[dict[str, Any]] = [{"type": gettext("Vision"), "text": plan.vision}]
    rows += [{"type": gettext("Desired outcome"), "text": s.text} for s in tree.doe]
    rows += _problem_rows(tree, None, kra_codes, codes)
    rows += [{"type": "KRA", "code": k.code, "text": k.title} for k in tree.kras]
    for kpi in tree.kpis:
        rows.append(
            {
                "type": "KPI",
                "code": kpi.code,
                "text": kpi.name,
                "links": codes(tree.kpi_kras.get(kpi.id, []), kra_codes),
                "unit": kpi.unit,
                "baseline": _value_in(kpi.baseline_value, kpi.baseline_period),
                "target": _value_in(kpi.target_value, kpi.target_period),
                "status": label("direction", kpi.direction),
            }
        )
    for action in tree.actions:
        rows.append(
            {
                "type": gettext("Action"),
                "code": action.code,
                "text": action.title,
                "links": codes(tree.action_kpis.get(action.id, []), kpi_codes),
                "status": label("action_status", action.status),
            }
        )
    return rows


def _problem_rows(
    tree: PlanTree, parent_id: int | None, kra_codes: dict[int, str], codes: Callable
) -> list[dict[str, Any]]:
    """The problem tree depth first: each problem, then its causes (a leaf: a root cause), the
    KRAs each motivates as its links."""
    rows = []
    for node in tree.causes_of(parent_id):
        causes = tree.causes_of(node.id)
        kind = gettext("Problem") if parent_id is None else gettext("Cause")
        kind = kind if parent_id is None or causes else gettext("Root cause")
        links = codes(tree.node_kras.get(node.id, []), kra_codes)
        rows.append({"type": kind, "text": node.text, "links": links})
        rows += _problem_rows(tree, node.id, kra_codes, codes)
    return rows


def _value_in(value: float | None, period: str | None) -> str:
    if value is None:
        return ""
    return f"{value:g} ({period_label(period)})" if period else f"{value:g}"


def checkin_rows(view: ProgressView) -> list[dict[str, Any]]:
    codes = {a.id: a.code for a in view.tree.actions} if view.tree else {}
    rows = []
    for action_id, updates in view.updates.items():
        for u in reversed(updates):  # oldest first, as a log reads
            rows.append(
                {
                    "action": codes.get(action_id, ""),
                    "on_date": u.on_date,
                    "status": label("action_status", u.status),
                    "percent_complete": u.percent_complete,
                    "confidence": u.confidence,
                    "spent_thb": u.spent_thb,
                    "what_changed": u.what_changed,
                    "next_steps": u.next_steps,
                    "evidence_url": u.evidence_url,
                }
            )
    return rows


CSV_TABLES = {"progress": PROGRESS_COLUMNS, "plan": PLAN_COLUMNS, "checkins": CHECKIN_COLUMNS}


def export_csv(view: ProgressView, table: str) -> str:
    """One table as CSV (UTF-8 with a byte-order mark, so Excel shows Thai); text that looks
    like a formula starts with an apostrophe."""
    rows = {
        "progress": lambda: progress_rows(view),
        "plan": lambda: plan_rows(view),
        "checkins": lambda: checkin_rows(view),
    }[table]()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    columns = CSV_TABLES[table]
    writer.writerow([gettext(c.title) for c in columns])
    for row in rows:
        writer.writerow([safe_sheets.csv_value(row.get(c.key)) for c in columns])
    return out.getvalue()


# ---- import ---------------------------------------------------------------------------------


@dataclass
class CellChange:
    column: str
    old: Any
    new: Any


@dataclass
class ImportRow:
    number: int  # the row's number in the sheet, as Excel shows it
    kpi_code: str
    period: str
    kpi: KPI | None = None
    values: dict[str, Any] = field(default_factory=dict)
    changes: list[CellChange] = field(default_factory=list)
    errors: dict[str, Msg] = field(default_factory=dict)


@dataclass
class ImportPreview:
    filename: str
    rows: list[Any] = field(default_factory=list)  # ImportRow; data_entry.ValueRow alike
    problems: list[Msg] = field(default_factory=list)  # about the whole file
    applied: bool = False

    @property
    def error_count(self) -> int:
        return len(self.problems) + sum(len(r.errors) for r in self.rows)

    @property
    def change_count(self) -> int:
        return sum(len(r.changes) for r in self.rows)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def shown(self) -> list[ImportRow]:
        """Rows that change something or have a problem (unchanged rows are only counted)."""
        return [r for r in self.rows if r.changes or r.errors]


class RecordRow:
    """A row of a workbook of records (units, data items): new, changed, unchanged or in
    error, by the stored record it matches (`stored`), its `changes` and its `errors`."""

    errors: dict[str, Msg]
    changes: list[Any]

    @property
    def stored(self) -> Any:
        raise NotImplementedError

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        if self.stored is None:
            return "new"
        return "changed" if self.changes else "unchanged"


@dataclass
class RecordImport(ImportPreview):
    """The preview of a workbook of records: one change per new or changed row."""

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def change_count(self) -> int:
        return self.count("new") + self.count("changed")


OTHER_AGENCY = N_("This KPI is another agency's: you may change only your agencies' KPIs.")


def preview_import(
    view: ProgressView, data: bytes, filename: str, editable: set[int] | None = None
) -> ImportPreview:
    """Read an uploaded workbook and say, row by row, what it would change and what is wrong.
    `editable`: the KPIs an agency-scoped editor may change (None: all); a row changing
    another KPI is refused with the reason, so the whole workbook is."""
    preview = ImportPreview(filename)
    raw, problems = read_progress_sheet(data)
    preview.problems = problems
    kpis = {row.kpi.code.casefold(): row for row in view.kpis.values()}
    seen: dict[tuple[str, str], int] = {}
    for number, cells in raw:
        row = _check_row(view, kpis, seen, number, cells)
        refused = editable is not None and row.kpi is not None and row.kpi.id not in editable
        if refused and row.changes:
            row.errors.setdefault("kpi", Msg(OTHER_AGENCY))
        preview.rows.append(row)
    return preview


def apply_import(
    session: Session,
    *,
    actor: audit.Actor,
    view: ProgressView,
    data: bytes,
    filename: str,
    editable: set[int] | None = None,
) -> ImportPreview:
    """Write every change of a workbook in one transaction, or nothing if any row is wrong.
    The values are written in batches against the rows `view` read; one changed since then
    raises `Conflict` (the caller rolls back)."""
    preview = preview_import(view, data, filename, editable)
    if not preview.ok:
        return preview
    if view.plan is None:
        raise ValidationFailed({"file": Msg(N_("This area has no plan yet."))})
    plan: Plan = view.plan
    reason = gettext("Imported from %(file)s", file=filename)[:1000]
    writes = [
        _write_of(view.kpis[row.kpi.id], row)
        for row in preview.rows
        if row.changes and row.kpi is not None
    ]
    write_many(session, actor, plan, writes, reason=reason)
    finish(session, plan, "import", None, changed=preview.change_count > 0)
    preview.applied = True
    return preview


def hold_import(session: Session, *, area_id: int, data: bytes) -> str:
    """Keep an uploaded workbook until its import is confirmed (a day at most) and return its
    digest. It waits in the database, so any worker or host may take the confirmation. Waiting
    workbooks are scratch data, not changes: nothing is audited or published."""
    digest = hashlib.sha256(data).hexdigest()
    stale = utcnow() - PENDING_FOR
    session.exec(delete(PendingImport).where(col(PendingImport.created_at) < stale))
    row = _held(session, area_id, digest)
    if row is None:
        session.add(PendingImport(area_id=area_id, sha256=digest, data=data))
    else:
        row.created_at = utcnow()
    try:
        session.commit()
    except IntegrityError:  # the same workbook, held by another request meanwhile
        session.rollback()
    return digest


def apply_held_import(
    session: Session,
    *,
    actor: audit.Actor,
    view: ProgressView,
    area_id: int,
    digest: str,
    filename: str,
) -> ImportPreview | None:
    """Apply a held workbook (see `apply_import`); once applied it stops waiting, in the same
    transaction. None if it is not waiting (confirmed already, too old, another area's)."""
    data = take_held(session, area_id, digest)
    if data is None:
        return None
    return apply_import(session, actor=actor, view=view, data=data, filename=filename)


def take_held(session: Session, area_id: int, digest: str) -> bytes | None:
    """A held workbook's bytes; it stops waiting when the caller commits. None if it is not
    waiting (confirmed already, too old, another area's)."""
    row = _held(session, area_id, digest)
    if row is None:
        return None
    session.delete(row)
    return row.data


def _held(session: Session, area_id: int, digest: str) -> PendingImport | None:
    query = select(PendingImport).where(
        PendingImport.area_id == area_id,
        PendingImport.sha256 == digest,
        col(PendingImport.created_at) >= utcnow() - PENDING_FOR,
    )
    return session.exec(query).first()


def _write_of(progress: KPIProgress, row: ImportRow) -> PeriodWrite:
    """What one row writes: its target if that changed, its measurement if any of its value,
    number measured or note did (a blank value deletes the measurement)."""
    changed = {c.column for c in row.changes}
    values = row.values
    measured = bool(changed & {"actual", "n_measured", "note"})
    details = {k: values[k] for k in ("n_measured", "note") if k in changed}
    return PeriodWrite(
        kpi=progress.kpi,
        period=row.period,
        stored=progress.actuals.get(row.period),
        set_target="target" in changed,
        target=values.get("target"),
        set_measurement=measured,
        fields=None if values["actual"] is None else {"value": values["actual"], **details},
    )


def read_progress_sheet(data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[Msg]]:
    """The progress sheet's rows as {column key: cell value}, or what stops the file being read."""
    required = (PROGRESS_COLUMNS[0], PROGRESS_COLUMNS[3])  # KPI code, period code
    return read_table(data, PROGRESS_SHEET, PROGRESS_COLUMNS, required)


Rows = list[tuple[int, dict[str, Any]]]
Header = Callable[[list[Any]], tuple[dict[int, str], list[Msg]]]


def read_table(
    data: bytes, sheet_title: str, columns: Iterable[Column], required: Iterable[Column]
) -> tuple[Rows, list[Msg]]:
    """The rows of the sheet titled `sheet_title` with these columns (titled in either
    language; the required ones must be there)."""
    columns, required = list(columns), list(required)
    return read_sheet(data, sheet_title, lambda titles: _header_keys(titles, columns, required))


def read_sheet(data: bytes, sheet_title: str, header: Header) -> tuple[Rows, list[Msg]]:
    """A sheet's rows (the one titled `sheet_title`, a message id, in either language) as
    {column key: cell value}, the keys given by `header` from the first row; or what stops the
    file being read. The file is checked for size and shape before it is parsed (safe_sheets)."""
    try:
        safe_sheets.check_package(data)
        return _sheet_rows(data, sheet_title, header)
    except safe_sheets.Refused as refused:
        return [], [refused.msg]
    except Exception:
        # openpyxl raises many kinds of error on a damaged part; none may become a 500
        log.info("unreadable workbook upload", exc_info=True)
        return [], [Msg(safe_sheets.NOT_A_WORKBOOK)]


def _sheet_rows(data: bytes, sheet_title: str, header_keys: Header) -> tuple[Rows, list[Msg]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    names = {translations(code).gettext(sheet_title).casefold() for code in LOCALES}
    sheet = next((s for s in book.worksheets if s.title.strip().casefold() in names), None)
    if sheet is None:
        found = ", ".join(s.title for s in book.worksheets)
        msg = N_("The workbook has no sheet named “%(sheet)s” (it has: %(found)s).")
        return [], [Msg(msg, {"sheet": gettext(sheet_title), "found": found})]
    sheet.reset_dimensions()  # the declared size may be wrong, or a million rows on purpose
    lines = sheet.iter_rows(max_col=MAX_COLUMNS)
    header = next(lines, ())
    keys, problems = header_keys([c.value for c in header])
    if problems:
        return [], problems
    rows = []
    for number, line in enumerate(lines, start=2):
        cells = {keys[i]: _cell_value(c) for i, c in enumerate(line) if i in keys}
        if all(v in (None, "") for v in cells.values()):
            continue
        rows.append((number, cells))
        if len(rows) > MAX_ROWS:
            return [], [Msg(N_("The sheet has more than %(max)s rows."), {"max": MAX_ROWS})]
    return rows, []


def _cell_value(cell: Any) -> Any:
    value = cell.value
    fmt = getattr(cell, "number_format", "") or ""
    if isinstance(value, int | float) and not isinstance(value, bool) and "%" in fmt:
        return value * 100  # a cell formatted as 65% holds 0.65
    return value


def _header_keys(
    titles: list[Any], columns: list[Column], required: list[Column]
) -> tuple[dict[int, str], list[Msg]]:
    """Column index -> key, for the columns an import reads (titled in either language)."""
    known: dict[str, str] = {}
    for column in columns:
        if not column.info:
            for code in LOCALES:
                known[translations(code).gettext(column.title).strip().casefold()] = column.key
    keys: dict[int, str] = {}
    for index, title in enumerate(titles):
        key = known.get(str(title or "").strip().casefold())
        if key and key not in keys.values():  # a repeated column: the first one counts
            keys[index] = key
    for column in required:
        if column.key not in keys.values():
            msg = N_("The first row must name the columns; “%(column)s” is missing.")
            return {}, [Msg(msg, {"column": gettext(column.title)})]
    return keys, []


def _check_row(
    view: ProgressView,
    kpis: dict[str, KPIProgress],
    seen: dict[tuple[str, str], int],
    number: int,
    cells: dict[str, Any],
) -> ImportRow:
    code = str(cells.get("kpi") or "").strip()
    period = str(cells.get("period") or "").strip().upper()
    row = ImportRow(number, code, period)
    progress = kpis.get(code.casefold())
    if progress is None:
        row.errors["kpi"] = Msg(N_("No KPI with the code “%(code)s” in this plan."), {"code": code})
        return row
    row.kpi = progress.kpi
    problem = period_problem(view.plan, progress.kpi, period) if view.plan else None
    if problem:
        row.errors["period"] = problem
        return row
    key = (progress.kpi.code, period)
    if key in seen:
        msg = N_("Row %(row)s already has this KPI and period.")
        row.errors["period"] = Msg(msg, {"row": seen[key]})
        return row
    seen[key] = number
    row.values = _row_values(progress.kpi, cells, row.errors)
    if not row.errors:
        row.changes = _changes(progress, period, cells, row.values)
        _check_changes(view, progress, row)
    return row


def _row_values(kpi: KPI, cells: dict[str, Any], errors: dict[str, Msg]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in ("actual", "target"):
        try:
            values[column] = parse_value(kpi, _number_text(cells.get(column)))
        except ValidationFailed as exc:
            errors[column] = exc.errors["value"]
    n_measured = cells.get("n_measured")
    details_in = {
        "n_measured": "" if n_measured is None else _number_text(n_measured),
        "note": str(cells.get("note") or ""),
    }
    try:  # the same checks as the KPI page's form
        details = validate(MeasurementIn, details_in)
        values["n_measured"], values["note"] = details.n_measured, details.note
    except ValidationFailed as exc:
        errors.update(exc.errors)
        values["n_measured"], values["note"] = None, ""
    has_more = values["note"] or values["n_measured"] is not None
    if values.get("actual") is None and "actual" not in errors and has_more:
        errors["actual"] = Msg(NEEDS_VALUE)
    return values


def _number_text(value: Any) -> Any:
    """Numbers pass through; a date or a yes/no cell is refused like any other text."""
    if isinstance(value, bool | date):
        return str(value)
    return value


def _changes(
    progress: KPIProgress, period: str, cells: dict[str, Any], values: dict[str, Any]
) -> list[CellChange]:
    m = progress.actuals.get(period)
    stored = {
        "actual": m.value if m else None,
        "target": progress.targets.get(period),
        "n_measured": m.n_measured if m else None,
        "note": m.note if m else "",
    }
    if values["actual"] is None:  # clearing the value clears its note and number too
        values["n_measured"], values["note"] = None, ""
    present = set(cells) | ({"n_measured", "note"} if values["actual"] is None else set())
    return [
        CellChange(column, stored[column], values[column])
        for column in VALUE_COLUMNS
        if column in present and not _same(stored[column], values[column])
    ]


def _same(stored: Any, new: Any) -> bool:
    """Equal, allowing for the last digit a spreadsheet drops from a long fraction."""
    if isinstance(stored, float) and isinstance(new, int | float):
        return math.isclose(stored, new, rel_tol=1e-12, abs_tol=1e-12)
    return bool(stored == new)


def _check_changes(view: ProgressView, progress: KPIProgress, row: ImportRow) -> None:
    measured = {c.column for c in row.changes} & {"actual", "n_measured", "note"}
    problem = open_problem(view.rounds.values(), row.period) if measured else None
    if measured and row.period in progress.rolled_up:
        problem = Msg(ROLLED_UP)
    if measured and progress.kpi.compute_method:
        problem = Msg(COMPUTED)
    if problem:
        row.errors["actual"] = problem
