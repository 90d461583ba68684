"""Reading a custodian agency's data items as grids (issue 21): the "my data for this period"
page, the read view of an item's values, and the agency's workbook.

A grid has one row per unit that reports the item (one row for the whole area when no unit
kind does) and one column per option of its breakdown; an item broken down twice gets one column
per combination of the two sets' options ("ชาย · ม้ง"), an item with no breakdown one column.
Every builder here runs a fixed number of queries, however many values there are.
"""

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import product
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import PatternFill
from sqlmodel import Session, col, select

from app.i18n import LOCALES, N_, gettext, localized, thai_today, translations
from app.models import (
    Agency,
    Area,
    CategoryOption,
    CategorySet,
    DataItem,
    DataItemCategorySet,
    DataValue,
    OrgUnit,
)
from app.periods import period_span, periods_of, sort_key
from app.services import audit, shared_data
from app.services import spreadsheets as sheets
from app.services.errors import Msg, ValidationFailed
from app.services.history import names_of
from app.services.shared_data import categories_text, ended_periods

NO_AGENCY = 0  # the agency choice for items no agency keeps


@dataclass
class Column:
    categories: str  # "sex=female;…" ("" for an item with no breakdown)
    options: list[CategoryOption]  # what the header shows (empty: "value")


@dataclass
class GridRow:
    unit: OrgUnit | None  # None: the whole area
    names: list[str]  # one form field name per column
    stored: list[float | None]

    @property
    def unit_code(self) -> str | None:
        return None if self.unit is None else self.unit.code or str(self.unit.id)


@dataclass
class ItemGrid:
    item: DataItem
    sets: list[CategorySet]
    columns: list[Column]
    rows: list[GridRow]


def breakdowns(
    session: Session, item_ids: list[int]
) -> dict[int, list[tuple[CategorySet, list[CategoryOption]]]]:
    """Each item's breakdown sets (in the sets' order) with their options, one query."""
    out: dict[int, list[tuple[CategorySet, list[CategoryOption]]]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    query = (
        select(DataItemCategorySet.data_item_id, CategorySet, CategoryOption)
        .join(CategorySet, col(CategorySet.id) == DataItemCategorySet.set_id)
        .join(CategoryOption, col(CategoryOption.set_id) == CategorySet.id, isouter=True)
        .where(col(DataItemCategorySet.data_item_id).in_(item_ids))
        .order_by(
            col(CategorySet.position),
            col(CategorySet.id),
            col(CategoryOption.position),
            col(CategoryOption.id),
        )
    )
    found: dict[int, dict[int, tuple[CategorySet, list[CategoryOption]]]] = defaultdict(dict)
    for item_id, category_set, option in session.exec(query):
        entry = found[item_id].setdefault(category_set.id, (category_set, []))
        if option is not None:
            entry[1].append(option)
    for item_id, sets in found.items():
        out[item_id] = list(sets.values())
    return out


def columns_of(sets: list[tuple[CategorySet, list[CategoryOption]]]) -> list[Column]:
    if not sets:
        return [Column("", [])]
    columns = []
    for combination in product(*(options for _, options in sets)):
        chosen = {s.code: o.code for (s, _), o in zip(sets, combination, strict=True)}
        columns.append(Column(categories_text(chosen), list(combination)))
    return columns


def reporting_units(units: list[OrgUnit], item: DataItem) -> list[OrgUnit | None]:
    if not item.reported_by:
        return [None]
    return [u for u in units if u.kind == item.reported_by]


def area_units(session: Session, area: Area) -> list[OrgUnit]:
    query = select(OrgUnit).where(OrgUnit.area_id == area.id)
    return list(session.exec(query.order_by(col(OrgUnit.position), col(OrgUnit.name))))


def field_name(item_id: int, unit: OrgUnit | None, column: int) -> str:
    return f"v-{item_id}-{unit.id if unit else 0}-{column}"


def grids(
    session: Session, area: Area, items: list[DataItem], period: str | None
) -> list[ItemGrid]:
    """The items' grids with the values stored for the period filled in."""
    sets = breakdowns(session, [i.id for i in items])
    units = area_units(session, area)
    stored: dict[tuple[int, int | None, str], float] = {}
    if items and period:
        query = select(DataValue).where(
            col(DataValue.data_item_id).in_([i.id for i in items]), DataValue.period == period
        )
        for v in session.exec(query):
            stored[(v.data_item_id, v.unit_id, v.categories)] = v.value
    out = []
    for item in items:
        columns = columns_of(sets[item.id])
        rows = []
        for unit in reporting_units(units, item):
            unit_id = unit.id if unit else None
            rows.append(
                GridRow(
                    unit,
                    [field_name(item.id, unit, n) for n in range(len(columns))],
                    [stored.get((item.id, unit_id, c.categories)) for c in columns],
                )
            )
        out.append(ItemGrid(item, [s for s, _ in sets[item.id]], columns, rows))
    return out


def grid_rows(grid: ItemGrid, period: str, typed: dict[str, str]) -> tuple[list[dict], list[str]]:
    """The rows `shared_data.put_many` takes for one item's grid as typed (every cell: a blank
    one clears what is stored), and the form field each row came from."""
    rows, names = [], []
    for row in grid.rows:
        for name, column in zip(row.names, grid.columns, strict=True):
            text = typed.get(name, "").strip()
            categories = dict(p.split("=", 1) for p in column.categories.split(";") if p)
            rows.append(
                {
                    "period": period,
                    "unit": row.unit_code,
                    "categories": categories,
                    "value": text or None,
                }
            )
            names.append(name)
    return rows, names


# ---- the entry page -------------------------------------------------------------------------


@dataclass
class EntryView:
    agencies: list[tuple[int, Agency | None]]  # (choice value, agency); None: no agency
    agency_id: int | None
    periods: list[tuple[str, list[str]]]  # (period type, periods), for the period choice
    period: str | None
    grids: list[ItemGrid] = field(default_factory=list)
    other_items: list[DataItem] = field(default_factory=list)  # of another period type


def catalogue_items(session: Session, area: Area) -> list[DataItem]:
    query = select(DataItem).where(DataItem.area_id == area.id)
    return list(session.exec(query.order_by(col(DataItem.position), col(DataItem.id))))


def agency_choices(session: Session, items: list[DataItem]) -> list[tuple[int, Agency | None]]:
    """The agencies that keep items (by name), then "no agency" if some item has none."""
    ids = {i.custodian_agency_id for i in items if i.custodian_agency_id}
    agencies = list(session.exec(select(Agency).where(col(Agency.id).in_(ids)))) if ids else []
    choices: list[tuple[int, Agency | None]] = [
        (a.id, a) for a in sorted(agencies, key=lambda a: a.name_th)
    ]
    if any(not i.custodian_agency_id for i in items):
        choices.append((NO_AGENCY, None))
    return choices


def period_choices(types: list[str], today: date) -> list[tuple[str, list[str]]]:
    """Per period type, the periods that have begun in the last three years, newest first."""
    be = today.year + 543
    return [
        (t, [p for p in periods_of(t, be - 3, be + 1) if period_span(p).starts_on <= today][::-1])
        for t in types
    ]


def entry_view(
    session: Session,
    area: Area,
    agency_id: int | None,
    period: str | None,
    today: date | None = None,
) -> EntryView:
    """The agency's items (the first agency's when none or an unknown one is asked for) as
    grids for a period (by default the last ended period of its first item's type)."""
    today = today or thai_today()
    items = catalogue_items(session, area)
    agencies = agency_choices(session, items)
    known = [value for value, _ in agencies]
    if agency_id not in known:
        agency_id = known[0] if known else None
    mine = [i for i in items if (i.custodian_agency_id or NO_AGENCY) == agency_id]
    types = list(dict.fromkeys(i.period_type for i in mine))
    # every type the catalogue uses, the agency's first: one "show" picks agency and period
    choices = period_choices(list(dict.fromkeys([*types, *(i.period_type for i in items)])), today)
    offered = {p for _, ps in choices for p in ps}
    if period not in offered:
        period = None
        if types:
            period = (ended_periods(types[0], today, 1) or [None])[0]
            if period not in offered:
                period = next((ps[0] for _, ps in choices if ps), None)
    period_type = _type_of(choices, period)
    view = EntryView(agencies, agency_id, choices, period)
    view.grids = grids(session, area, [i for i in mine if i.period_type == period_type], period)
    view.other_items = [i for i in mine if i.period_type != period_type]
    return view


def _type_of(choices: list[tuple[str, list[str]]], period: str | None) -> str | None:
    return next((t for t, ps in choices if period in ps), None)


# ---- the values table -----------------------------------------------------------------------


@dataclass
class TableRow:
    unit: OrgUnit | None
    cells: list[float | None]
    total: float | None
    latest: DataValue  # the row's last entered value: who, when, from where


@dataclass
class PeriodTable:
    period: str
    rows: list[TableRow]
    column_totals: list[float | None]
    total: float | None


@dataclass
class ValuesView:
    item: DataItem
    sets: list[CategorySet]
    columns: list[Column]
    tables: list[PeriodTable]  # newest period first
    names: dict[int, str]  # who entered

    @property
    def has_total_column(self) -> bool:
        return bool(self.sets)


def values_view(session: Session, area: Area, item: DataItem) -> ValuesView:
    """An item's values, a table per period: its units as rows (the whole area first), its
    breakdown's options as columns, a total per row (the one entered, else the sum of the
    options) and per column (the sum over units). Five queries."""
    sets = breakdowns(session, [item.id])[item.id]
    columns = columns_of(sets)
    index = {c.categories: n for n, c in enumerate(columns)}
    units = area_units(session, area)
    order = {u.id: n for n, u in enumerate(units)}
    by_id = {u.id: u for u in units}
    query = select(DataValue).where(DataValue.data_item_id == item.id)
    found: dict[str, dict[int | None, list[DataValue]]] = defaultdict(lambda: defaultdict(list))
    for v in session.exec(query):
        found[v.period][v.unit_id].append(v)
    tables = []
    for period in sorted(found, key=sort_key, reverse=True):
        rows = [
            _table_row(by_id.get(unit_id) if unit_id else None, values, index, len(columns))
            for unit_id, values in sorted(
                found[period].items(), key=lambda kv: -1 if kv[0] is None else order.get(kv[0], 0)
            )
        ]
        tables.append(_period_table(period, rows, len(columns)))
    who = {v.entered_by for units_ in found.values() for vs in units_.values() for v in vs}
    return ValuesView(item, [s for s, _ in sets], columns, tables, names_of(session, who))


def _table_row(
    unit: OrgUnit | None, values: list[DataValue], index: dict[str, int], width: int
) -> TableRow:
    cells: list[float | None] = [None] * width
    entered_total = None
    for v in values:
        if v.categories in index:
            cells[index[v.categories]] = v.value
        if v.categories == "":
            entered_total = v.value
    given = [c for c in cells if c is not None]
    total = entered_total if entered_total is not None else (sum(given) if given else None)
    latest = max(values, key=lambda v: (_naive(v.entered_at), v.id or 0))
    return TableRow(unit, cells, total, latest)


def _period_table(period: str, rows: list[TableRow], width: int) -> PeriodTable:
    unit_rows = [r for r in rows if r.unit is not None]
    column_totals: list[float | None] = []
    for n in range(width):
        given = [r.cells[n] for r in unit_rows if r.cells[n] is not None]
        column_totals.append(sum(given) if given else None)
    totals = [r.total for r in unit_rows if r.total is not None]
    return PeriodTable(period, rows, column_totals, sum(totals) if totals else None)


def _naive(moment: datetime) -> datetime:  # SQLite hands back naive datetimes
    return moment.replace(tzinfo=None)


# ---- the agency's workbook ------------------------------------------------------------------

SHEET = N_("Data values")
FIXED_COLUMNS = (
    sheets.Column("period", N_("Period code"), 12),
    sheets.Column("item", N_("Data item"), 44),
    sheets.Column("unit", N_("Unit code"), 14),
    sheets.Column("unit_name", N_("Unit name"), 30, info=True),
)
VALUE_TITLE = N_("Value")
KEY = re.compile(r"\[([^\[\]]*)\]\s*$")  # "หญิง [sex=female]" -> "sex=female"


def column_title(column: Column) -> str:
    if not column.options:
        return gettext(VALUE_TITLE)
    return " · ".join(localized(o) for o in column.options) + f" [{column.categories}]"


def value_columns(view: EntryView) -> list[Column]:
    """Every column any of the agency's items has, in the order they first come."""
    seen: dict[str, Column] = {}
    for grid in view.grids:
        for column in grid.columns:
            seen.setdefault(column.categories, column)
    return list(seen.values())


def workbook(view: EntryView) -> bytes:
    """One sheet: a row per item and unit, a column per group (or "value"), the values stored
    for the period filled in; cells an item does not have are grey."""
    columns = value_columns(view)
    layout = [
        *FIXED_COLUMNS,
        *(sheets.Column(f"v{n}", column_title(c), 14) for n, c in enumerate(columns)),
    ]
    rows = []
    grey = PatternFill("solid", fgColor="DDDDDD")
    blanks: list[tuple[int, int]] = []
    for grid in view.grids:
        mine = {c.categories: n for n, c in enumerate(grid.columns)}
        for row in grid.rows:
            line: dict[str, Any] = {
                "period": view.period,
                "item": grid.item.name,
                "unit": row.unit_code or "",
                "unit_name": row.unit.name if row.unit else gettext("Whole area"),
            }
            for n, column in enumerate(columns):
                if column.categories in mine:
                    line[f"v{n}"] = row.stored[mine[column.categories]]
                else:
                    blanks.append((len(rows) + 2, len(FIXED_COLUMNS) + n + 1))
            rows.append(line)
    book = Workbook()
    sheet = book.active
    sheet.title = gettext(SHEET)
    sheets.table_sheet(sheet, layout, rows)
    for number, column_index in blanks:
        sheet.cell(row=number, column=column_index).fill = grey
    return sheets.save_workbook(book)


def _header(titles: list[Any]) -> tuple[dict[int, str], list[Msg]]:
    """Column index -> "period", "item", "unit" or "=<categories>" for a value column."""
    fixed = {
        translations(code).gettext(c.title).strip().casefold(): c.key
        for c in FIXED_COLUMNS
        if not c.info
        for code in LOCALES
    }
    value = {translations(code).gettext(VALUE_TITLE).strip().casefold() for code in LOCALES}
    keys: dict[int, str] = {}
    for index, title in enumerate(titles):
        text = str(title or "").strip()
        key = fixed.get(text.casefold())
        if key is None and text.casefold() in value:
            key = "="
        elif key is None and (match := KEY.search(text)):
            key = "=" + match.group(1).strip()
        if key and key not in keys.values():
            keys[index] = key
    for required in FIXED_COLUMNS[:3]:
        if required.key not in keys.values():
            msg = N_("The first row must name the columns; “%(column)s” is missing.")
            return {}, [Msg(msg, {"column": gettext(required.title)})]
    return keys, []


@dataclass
class ValueRow:
    """A row of an uploaded sheet: one item and unit for a period."""

    number: int
    item_name: str
    unit_code: str
    period: str
    item: DataItem | None = None
    changes: list[sheets.CellChange] = field(default_factory=list)
    errors: dict[str, Msg] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)  # what it puts (put_many's rows)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if _kind(c) == kind)


def _kind(change: sheets.CellChange) -> str:
    if change.old is None:
        return "added"
    return "cleared" if change.new is None else "changed"


OTHER_AGENCY = N_(
    "This data item is kept by another agency: you may enter only your agencies' data."
)


def preview_import(
    session: Session,
    area: Area,
    data: bytes,
    filename: str,
    may_enter: Callable[[DataItem], bool] | None = None,
) -> sheets.ImportPreview:
    """What an uploaded agency workbook would change, row by row, and what is wrong in it (the
    progress import's preview: `ImportPreview` with rows of `ValueRow`). `may_enter`: which
    items an agency-scoped editor may enter (None: all); a row changing another is refused."""
    preview = sheets.ImportPreview(filename)
    raw, preview.problems = sheets.read_sheet(data, SHEET, _header)
    if not raw:
        return preview
    items = catalogue_items(session, area)
    by_name: dict[str, list[DataItem]] = defaultdict(list)
    for item in items:
        by_name[" ".join(item.name.split()).casefold()].append(item)
    shapes = shared_data.item_shapes(session, area, items)
    own = {
        item_id: {c.categories: c for c in columns_of(sets)}
        for item_id, sets in breakdowns(session, [i.id for i in items]).items()
    }
    stored: dict[tuple[int, str], float] = {}
    periods = {str(c.get("period") or "").strip().upper() for _, c in raw}
    query = select(DataValue).where(
        col(DataValue.data_item_id).in_([i.id for i in items]), col(DataValue.period).in_(periods)
    )
    for v in session.exec(query):
        stored[(v.data_item_id, v.cell)] = v.value
    seen: dict[tuple[int, str, str], int] = {}
    for number, cells in raw:
        row = _import_row(number, cells, by_name, shapes, own, stored, seen)
        refused = may_enter is not None and row.item is not None and not may_enter(row.item)
        if refused and row.changes:
            row.errors.setdefault("item", Msg(OTHER_AGENCY))
        preview.rows.append(row)
    return preview


def _import_row(  # noqa: PLR0913
    number: int,
    cells: dict[str, Any],
    by_name: dict[str, list[DataItem]],
    shapes: dict[int, shared_data.ItemShape],
    own: dict[int, dict[str, Column]],
    stored: dict[tuple[int, str], float],
    seen: dict[tuple[int, str, str], int],
) -> ValueRow:
    name = " ".join(str(cells.get("item") or "").split())
    unit = str(cells.get("unit") or "").strip()
    period = str(cells.get("period") or "").strip().upper()
    row = ValueRow(number, name, unit, period)
    found = by_name.get(name.casefold(), [])
    if len(found) != 1:
        msg = (
            N_("No data item named “%(name)s” in the catalogue.")
            if not found
            else N_("Two data items are named “%(name)s”: rename one in the catalogue.")
        )
        row.errors["item"] = Msg(msg, {"name": name[:80]})
        return row
    item = row.item = found[0]
    key = (item.id, unit, period)
    if key in seen:
        msg = N_("Row %(row)s already has this data item, unit and period.")
        row.errors["unit"] = Msg(msg, {"row": seen[key]})
        return row
    seen[key] = number
    for column_key, value in cells.items():
        if not column_key.startswith("="):
            continue
        categories = column_key[1:]
        if categories not in own[item.id]:
            if value not in (None, ""):
                msg = N_("This data item has no column “%(column)s”; leave it empty.")
                row.errors["values"] = Msg(msg, {"column": categories or gettext(VALUE_TITLE)})
            continue
        options = dict(p.split("=", 1) for p in categories.split(";") if p)
        text = (
            value
            if isinstance(value, int | float) and not isinstance(value, bool)
            else str(value or "").strip()
        )
        row.rows.append(
            {"period": period, "unit": unit or None, "categories": options, "value": text or None}
        )
    if not row.errors and row.rows:
        try:
            cells_in = shared_data.check_rows(shapes[item.id], row.rows)
        except ValidationFailed as exc:
            first = next(iter(exc.errors.values()))
            row.errors["values"] = first
            return row
        kept = []
        for cell_in, given in zip(cells_in, row.rows, strict=True):
            old = stored.get((item.id, cell_in.key))
            if not _same(old, cell_in.value):
                label = column_title(own[item.id][cell_in.categories])
                row.changes.append(sheets.CellChange(label, old, cell_in.value))
                kept.append(given)
        row.rows = kept
    return row


def _same(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old is new
    return math.isclose(old, new, rel_tol=1e-12, abs_tol=1e-12)


def apply_import(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    data: bytes,
    filename: str,
    may_enter: Callable[[DataItem], bool] | None = None,
) -> sheets.ImportPreview:
    """Write every change of an agency workbook in one transaction, or nothing if any row is
    wrong (see `preview_import`)."""
    preview = preview_import(session, area, data, filename, may_enter)
    if not preview.ok:
        return preview
    rows_by_item: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in preview.rows:
        if row.item is not None:
            rows_by_item[row.item.id].extend(row.rows)
    wanted = {k: v for k, v in rows_by_item.items() if v}
    source = gettext("Imported from %(file)s", file=filename)
    if wanted:
        shared_data.put_many(session, actor=actor, area=area, rows_by_item=wanted, source=source)
    else:
        session.commit()  # the held workbook stops waiting
    preview.applied = True
    return preview
