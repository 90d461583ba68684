"""The data catalogue in bulk (issue 21, part 4): a province's list of data items imported from
a workbook, with a preview and an all-or-nothing confirmation, in the columns the catalogue's
export writes (resources.CATALOGUE_COLUMNS), so an exported file imports back as a no-op.

A row is matched to a stored item by its name (spaces and case aside): a match is changed, the
rest are new; items the file leaves out stay as they are. Choices (frequency, period type,
reporter, access) are read as their codes or their labels in any language, the custodian as
its code or its name, breakdowns as comma-separated set codes. Each row is then checked by the
data item form's own schema, so the same rules hold whichever way an item comes in.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from app.i18n import LOCALES, N_, gettext, translations
from app.labels import LABELS, WHOLE_AREA, label
from app.models import Area, DataItem
from app.services import audit, records
from app.services.breakdowns import sets_by_item, sets_for
from app.services.errors import Msg, ValidationFailed
from app.services.resources import (
    CATALOGUE_COLUMNS,
    CATALOGUE_SHEET,
    DATA_ITEMS,
    DataItemIn,
    agencies,
)
from app.services.spreadsheets import RecordImport, RecordRow, read_table
from app.services.validation import validate

FIELDS = (
    "name",
    "description",
    "measure",
    "custodian_agency_id",
    "source_system",
    "frequency",
    "period_type",
    "reported_by",
    "due_days",
    "category_set_ids",
    "access",
)
# the column a field's problem is shown under
COLUMN_OF = {"custodian_agency_id": "custodian", "category_set_ids": "breakdowns"}
TITLES = {c.key: c.title for c in CATALOGUE_COLUMNS}
CHOICES = {  # column -> the vocabulary its labels come from
    "frequency": "data_frequency",
    "period_type": "period_type",
    "access": "data_access",
}


def _all_names(msgid: str) -> set[str]:
    return {translations(code).gettext(msgid).strip().casefold() for code in LOCALES}


def choice(vocabulary: str, text: Any) -> str | None:
    """A choice as a file gives it: its code, or its label in any language."""
    wanted = " ".join(str(text or "").split()).casefold()
    for value, msgid in LABELS[vocabulary].items():
        if wanted == value or wanted in _all_names(msgid):
            return value
    return None


def reporter(text: Any) -> str | None:
    wanted = " ".join(str(text or "").split()).casefold()
    if not wanted or wanted in _all_names(WHOLE_AREA):
        return ""
    return choice("unit_kind", text)


@dataclass
class ItemRow(RecordRow):
    number: int
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    item: DataItem | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # column, old, new
    errors: dict[str, Msg] = field(default_factory=dict)

    @property
    def stored(self) -> Any:
        return self.item


@dataclass
class CatalogueImport(RecordImport):
    rows: list[ItemRow] = field(default_factory=list)  # type: ignore[assignment]


@dataclass
class _Lookups:
    items: dict[str, DataItem]  # casefolded name -> item
    agencies: dict[str, int]  # code or name, casefolded -> id
    agency_names: dict[int, str]
    sets: dict[str, int]  # set code -> id
    set_codes: dict[int, str]
    item_sets: dict[int, list[int]]


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _lookups(session: Session, area: Area) -> _Lookups:
    items = session.exec(select(DataItem).where(DataItem.area_id == area.id)).all()
    by_agency: dict[str, int] = {}
    names: dict[int, str] = {}
    for agency in agencies(session, area):
        names[agency.id] = agency.name_th
        for text in (agency.name_en, agency.name_th, agency.code):
            if text:
                by_agency.setdefault(_key(text), agency.id)
    sets = sets_for(session, area)
    return _Lookups(
        items={_key(i.name): i for i in items},
        agencies=by_agency,
        agency_names=names,
        sets={v.set.code: v.set.id for v in sets},
        set_codes={v.set.id: v.set.code for v in sets},
        item_sets=sets_by_item(session, [i.id for i in items]),
    )


def preview_catalogue(session: Session, area: Area, data: bytes, filename: str) -> CatalogueImport:
    """Read a workbook of data items and say, row by row, what it would add or change and what
    is wrong."""
    preview = CatalogueImport(filename)
    raw, preview.problems = read_table(
        data, CATALOGUE_SHEET, CATALOGUE_COLUMNS, CATALOGUE_COLUMNS[:1]
    )
    look = _lookups(session, area)
    seen: dict[str, int] = {}
    for number, cells in raw:
        row = _item_row(number, cells, look)
        key = _key(row.name)
        if key and key in seen:
            msg = N_("Row %(row)s has a data item of the same name.")
            row.errors["name"] = Msg(msg, {"row": seen[key]})
        elif key:
            seen[key] = number
        if not row.errors:
            row.item = look.items.get(key)
            if row.item is not None:
                row.changes = _changes(row, look)
        preview.rows.append(row)
    return preview


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _item_row(number: int, cells: dict[str, Any], look: _Lookups) -> ItemRow:
    row = ItemRow(number, " ".join(_text(cells.get("name")).split()))
    values: dict[str, Any] = {
        "name": row.name,
        "description": _text(cells.get("description")),
        "measure": _text(cells.get("measure")),
        "source_system": _text(cells.get("source_system")),
        "due_days": _text(cells.get("due_days")),
    }
    for column, vocabulary in CHOICES.items():
        text = _text(cells.get(column))
        if not text:
            continue  # the form's default
        found = choice(vocabulary, text)
        if found is None:
            row.errors[column] = _pick(vocabulary)
        values[column] = found
    who = reporter(cells.get("reported_by"))
    if who is None:
        row.errors["reported_by"] = _pick("unit_kind")
    values["reported_by"] = who or ""
    custodian = _text(cells.get("custodian"))
    values["custodian_agency_id"] = look.agencies.get(_key(custodian)) if custodian else None
    if custodian and values["custodian_agency_id"] is None:
        msg = N_("No agency with the code or name “%(name)s”.")
        row.errors["custodian"] = Msg(msg, {"name": custodian})
    codes = [c.strip() for c in _text(cells.get("breakdowns")).replace(";", ",").split(",")]
    unknown = [c for c in codes if c and c not in look.sets]
    if unknown:
        msg = N_("No breakdown with the code %(codes)s.")
        row.errors["breakdowns"] = Msg(msg, {"codes": ", ".join(unknown)})
    values["category_set_ids"] = [look.sets[c] for c in codes if c in look.sets]
    if not row.errors:
        try:
            checked = validate(DataItemIn, values)
            row.values = checked.model_dump(mode="json")
        except ValidationFailed as exc:
            for name, problem in exc.errors.items():
                row.errors[COLUMN_OF.get(name, name)] = problem
    return row


def _pick(vocabulary: str) -> Msg:
    names = ", ".join(label(vocabulary, v) for v in LABELS[vocabulary])
    return Msg(N_("Give one of: %(kinds)s."), {"kinds": names})


def _shown(column: str, value: Any, look: _Lookups) -> str:
    """A value as the preview shows it."""
    if column == "custodian_agency_id":
        return look.agency_names.get(value, "") if value else ""
    if column == "category_set_ids":
        return ", ".join(sorted(look.set_codes.get(i, "") for i in value))
    if column in CHOICES:
        return label(CHOICES[column], value)
    if column == "reported_by":
        return label("unit_kind", value) if value else ""
    return "" if value is None else str(value)


def _changes(row: ItemRow, look: _Lookups) -> list[tuple[str, str, str]]:
    item = row.item
    assert item is not None
    stored = {name: getattr(item, name) for name in FIELDS if name != "category_set_ids"}
    stored["category_set_ids"] = sorted(look.item_sets.get(item.id, []))
    changes = []
    for name in FIELDS:
        old, new = stored[name], row.values.get(name)
        if name == "category_set_ids":
            new = sorted(new or [])
        if old != new:
            column = COLUMN_OF.get(name, name)
            changes.append((column, _shown(name, old, look), _shown(name, new, look)))
    return changes


def apply_catalogue(
    session: Session, *, actor: audit.Actor, area: Area, data: bytes, filename: str
) -> CatalogueImport:
    """Write every new and changed item of a workbook in one transaction, or nothing if any row
    is wrong (the caller rolls back a preview that is not applied)."""
    preview = preview_catalogue(session, area, data, filename)
    if not preview.ok:
        return preview
    reason = gettext("Imported from %(file)s", file=filename)[:1000]
    for row in preview.rows:
        if row.status == "new":
            records.create(
                session,
                actor=actor,
                area=area,
                spec=DATA_ITEMS,
                record_in=row.values,
                commit=False,
                reason=reason,
            )
        elif row.status == "changed" and row.item is not None:
            records.update(
                session,
                actor=actor,
                area=area,
                spec=DATA_ITEMS,
                record_id=row.item.id,
                record_in=row.values,
                commit=False,
                reason=reason,
            )
    publish = {"type": "learning.changed", "entity": "data_item", "id": None, "op": "import"}
    audit.finish(session, area_id=area.id, publish=publish)
    preview.applied = True
    return preview
