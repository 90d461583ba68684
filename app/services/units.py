"""The area's reporting units as a registry (issue 21, part 1): provinces, districts, ESA
offices and schools, each with its official code (ESA codes, the ministry's 10-digit school
codes) and its parent unit, kept as a tree.

Units are what KPI values and data values are reported by. They are added one at a time (here
or from a KPI's page, `progress.add_unit`), or in bulk from a workbook with a preview and an
all-or-nothing confirmation (the progress import's machinery: spreadsheets.hold_import,
safe_sheets). Every write records an "org_unit" audit event and publishes `progress.changed`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

from openpyxl import Workbook
from pydantic import BeforeValidator, Field
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.i18n import LOCALES, N_, gettext, thai_sort_key, translations
from app.labels import LABELS, label
from app.models import Area, DataValue, OrgUnit, UnitMeasurement
from app.models.enums import AuditOp, UnitKind
from app.numbers import ascii_digits
from app.schemas import InputModel, OptionalId, Text, fail
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.progress import units_of
from app.services.spreadsheets import (
    Column,
    RecordImport,
    RecordRow,
    read_table,
    save_workbook,
    table_sheet,
)
from app.services.validation import validate

CODE_MAX = 40
KIND_ORDER = {"province": 0, "district": 1, "esa_office": 2, "school": 3}  # wide to narrow
CODE_TAKEN = N_("Another unit of this area already has that code.")
NAME_TAKEN = N_("A unit of that name is already there, under the same parent unit.")
CYCLE = N_("A unit cannot sit under itself or under one of its own sub-units.")
HAS_VALUES = N_("Values are stored for this unit; confirm to delete them with it.")


def normal_code(value: Any) -> str | None:
    """An official code as stored: Thai digits as ASCII, spaces trimmed and single; blank is
    None. A number typed into a spreadsheet cell comes back as text without a decimal point."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(ascii_digits(str(value)).split())
    return text or None


def _code(value: Any) -> str | None:
    code = normal_code(value)
    if code is not None and len(code) > CODE_MAX:
        raise fail("At most %(max)s characters.", max=CODE_MAX)
    return code


UnitCode = Annotated[str | None, BeforeValidator(_code)]


class UnitIn(InputModel):
    """A reporting unit: its kind, name, official code (optional) and parent unit."""

    kind: UnitKind
    name: Text = Field(min_length=1, max_length=300)
    code: UnitCode = None
    parent_id: OptionalId = None


# ---- reading --------------------------------------------------------------------------------


def get_unit(session: Session, area: Area, unit_id: int) -> OrgUnit:
    row = session.get(OrgUnit, unit_id)
    if row is None or row.area_id != area.id:
        raise NotFound(N_("No such unit in this area."))
    return row


def _sort_key(unit: OrgUnit) -> tuple[Any, ...]:
    return (KIND_ORDER.get(unit.kind, 9), unit.code or "", thai_sort_key(unit.name), unit.id)


@dataclass
class UnitNode:
    unit: OrgUnit
    depth: int
    parent: OrgUnit | None
    children: int  # how many units sit directly under it


@dataclass
class Registry:
    area: Area
    nodes: list[UnitNode]  # depth first: each unit followed by its sub-units

    @property
    def units(self) -> list[OrgUnit]:
        return [n.unit for n in self.nodes]

    def node(self, unit_id: int) -> UnitNode | None:
        return next((n for n in self.nodes if n.unit.id == unit_id), None)

    def parent_choices(self, unit: OrgUnit | None = None) -> list[tuple[int, str]]:
        """Where a unit may sit: any unit but itself and those under it, indented as a tree."""
        barred = descendants(self.units, unit.id) | {unit.id} if unit is not None else set()
        return [
            (n.unit.id, "\u00a0\u00a0" * n.depth + unit_label(n.unit))
            for n in self.nodes
            if n.unit.id not in barred
        ]

    @property
    def kind_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for unit in self.units:
            counts[unit.kind] += 1
        return dict(counts)


def unit_label(unit: OrgUnit) -> str:
    return f"{unit.name} ({unit.code})" if unit.code else unit.name


def registry(session: Session, area: Area) -> Registry:
    """The area's units as a tree, in one query however many there are."""
    units = units_of(session, area.id)
    return Registry(area, tree(units))


def tree(units: list[OrgUnit]) -> list[UnitNode]:
    by_id = {u.id: u for u in units}
    children: dict[int | None, list[OrgUnit]] = defaultdict(list)
    for unit in units:
        parent = unit.parent_id if unit.parent_id in by_id else None
        children[parent].append(unit)
    nodes: list[UnitNode] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in sorted(children.get(parent_id, []), key=_sort_key):
            if unit.id in seen:
                continue
            seen.add(unit.id)
            parent = by_id.get(parent_id) if parent_id is not None else None
            nodes.append(UnitNode(unit, depth, parent, len(children.get(unit.id, []))))
            walk(unit.id, depth + 1)

    walk(None, 0)
    for unit in units:  # a loop written around the checks: shown at the top, never lost
        if unit.id not in seen:
            seen.add(unit.id)
            nodes.append(UnitNode(unit, 0, None, 0))
    return nodes


def descendants(units: list[OrgUnit], unit_id: int) -> set[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit in units:
        children[unit.parent_id].append(unit.id)
    found: set[int] = set()
    todo = [unit_id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and child != unit_id:
                found.add(child)
                todo.append(child)
    return found


def values_behind(session: Session, unit_id: int) -> int:
    """How many stored values (KPI values per unit, data values) name the unit."""
    kpi_values = session.exec(
        select(func.count()).select_from(UnitMeasurement).where(UnitMeasurement.unit_id == unit_id)
    ).one()
    data_values = session.exec(
        select(func.count()).select_from(DataValue).where(DataValue.unit_id == unit_id)
    ).one()
    return int(kpi_values) + int(data_values)


# ---- writing --------------------------------------------------------------------------------


def _check(units: list[OrgUnit], data: UnitIn, unit_id: int | None) -> dict[str, Msg]:
    """What is wrong with `data` for the unit `unit_id` (None: a new one) among `units`."""
    errors: dict[str, Msg] = {}
    others = [u for u in units if u.id != unit_id]
    if data.code is not None and any(u.code == data.code for u in others):
        errors["code"] = Msg(CODE_TAKEN)
    siblings = [u for u in others if u.parent_id == data.parent_id]
    if any(u.name.casefold() == data.name.casefold() for u in siblings):
        errors["name"] = Msg(NAME_TAKEN)
    if data.parent_id is not None:
        if data.parent_id not in {u.id for u in units}:
            errors["parent_id"] = Msg("Pick from the list.")
        elif unit_id is not None and (
            data.parent_id == unit_id or data.parent_id in descendants(units, unit_id)
        ):
            errors["parent_id"] = Msg(CYCLE)
    return errors


def _publish(unit_id: int | None) -> dict[str, Any]:
    return {"type": "progress.changed", "entity": "org_unit", "id": unit_id}


def _commit(session: Session, area: Area, unit_id: int | None) -> None:
    """Commit; a code another writer took meanwhile is the same 422 as one taken before."""
    try:
        audit.finish(session, area_id=area.id, publish=_publish(unit_id))
    except IntegrityError:
        session.rollback()
        raise ValidationFailed({"code": Msg(CODE_TAKEN)}) from None


def create_unit(
    session: Session, *, actor: audit.Actor, area: Area, unit_in: dict[str, Any]
) -> OrgUnit:
    data = validate(UnitIn, unit_in)
    units = units_of(session, area.id)
    errors = _check(units, data, None)
    if errors:
        raise ValidationFailed(errors)
    position = max((u.position for u in units), default=-1) + 1
    row = OrgUnit(area_id=area.id, position=position, **_columns(data))
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # another writer's unit took the code between our check and now
        session.rollback()
        raise ValidationFailed({"code": Msg(CODE_TAKEN)}) from None
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="org_unit",
        entity_id=row.id,
        op=AuditOp.create,
        after=audit.snapshot(row),
    )
    _commit(session, area, row.id)
    return row


def _columns(data: UnitIn) -> dict[str, Any]:
    return {
        "kind": data.kind.value,
        "name": data.name,
        "code": data.code,
        "parent_id": data.parent_id,
    }


def update_unit(
    session: Session, *, actor: audit.Actor, area: Area, unit_id: int, unit_in: dict[str, Any]
) -> OrgUnit:
    row = get_unit(session, area, unit_id)
    data = validate(UnitIn, unit_in)
    errors = _check(units_of(session, area.id), data, row.id)
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(row)
    for name, value in _columns(data).items():
        setattr(row, name, value)
    after = audit.snapshot(row)
    if after == before:
        return row
    session.add(row)
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="org_unit",
        entity_id=row.id,
        op=AuditOp.update,
        before=before,
        after=after,
    )
    _commit(session, area, row.id)
    return row


def delete_unit(
    session: Session, *, actor: audit.Actor, area: Area, unit_id: int, force: bool = False
) -> dict[str, Any]:
    """Delete a unit; the values stored for it go with it (the database cascades them), its
    sub-units move up to the top. Without `force`, a unit with values is refused with their
    count."""
    row = get_unit(session, area, unit_id)
    count = values_behind(session, row.id)
    if count and not force:
        raise Conflict(Msg(HAS_VALUES), current={"values": count})
    before = audit.snapshot(row, values=count)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type="org_unit",
        entity_id=unit_id,
        op=AuditOp.delete,
        before=before,
    )
    _commit(session, area, unit_id)
    return before


# ---- the registry as a workbook -------------------------------------------------------------

UNITS_SHEET = N_("Units")
UNIT_COLUMNS = (
    Column("code", N_("Code"), 16),
    Column("name", N_("Name"), 48),
    Column("kind", N_("Kind"), 20),
    Column("parent", N_("Parent unit code"), 20),
)
FIELD_TITLES = {
    "code": N_("Code"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "parent": N_("Parent unit"),
}


def _parent_ref(unit: OrgUnit | None) -> str:
    """How a file names a parent: its code, or its name when it has none."""
    if unit is None:
        return ""
    return unit.code or unit.name


def unit_rows(view: Registry) -> list[dict[str, Any]]:
    return [
        {
            "code": n.unit.code or "",
            "name": n.unit.name,
            "kind": label("unit_kind", n.unit.kind),
            "parent": _parent_ref(n.parent),
        }
        for n in view.nodes
    ]


def units_workbook(view: Registry) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = gettext(UNITS_SHEET)
    table_sheet(sheet, UNIT_COLUMNS, unit_rows(view))
    # codes are text: "0101" keeps its zero
    for (cell,) in sheet.iter_rows(min_row=2, min_col=1, max_col=1):
        cell.number_format = "@"
    return save_workbook(book)


def kind_of(text: Any) -> str | None:
    """A kind as a file names it: its code, or its label in any language."""
    wanted = str(text or "").strip().casefold()
    if not wanted:
        return None
    for kind, msgid in LABELS["unit_kind"].items():
        names = {kind} | {translations(code).gettext(msgid).casefold() for code in LOCALES}
        if wanted in names:
            return kind
    return None


@dataclass
class UnitRow(RecordRow):
    number: int
    code: str | None
    name: str
    kind: str | None = None
    parent: str = ""  # the parent's code (or name) as the file gives it
    unit: OrgUnit | None = None  # the stored unit it matches
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # field, old, new
    errors: dict[str, Msg] = field(default_factory=dict)

    @property
    def stored(self) -> Any:
        return self.unit


@dataclass
class UnitImport(RecordImport):
    rows: list[UnitRow] = field(default_factory=list)  # type: ignore[assignment]


def preview_units(session: Session, area: Area, data: bytes, filename: str) -> UnitImport:
    """Read a workbook of units and say, row by row, what it would add or change and what is
    wrong. Units the file leaves out are left as they are."""
    preview = UnitImport(filename)
    raw, preview.problems = read_table(data, UNITS_SHEET, UNIT_COLUMNS, UNIT_COLUMNS[1:3])
    units = units_of(session, area.id)
    by_code = {u.code: u for u in units if u.code}
    codeless: dict[str, list[OrgUnit]] = defaultdict(list)
    for unit in units:
        if not unit.code:
            codeless[unit.name.casefold()].append(unit)
    seen: dict[str, int] = {}
    claimed: dict[int, int] = {}  # stored unit id -> the row about it
    for number, cells in raw:
        row = _unit_row(number, cells, seen)
        if not row.errors:
            row.unit = _match(row, by_code, codeless)
        if row.unit is not None and row.unit.id in claimed:
            msg = N_("Row %(row)s is already about this unit: give each its own code.")
            row.errors["code"] = Msg(msg, {"row": claimed[row.unit.id]})
            row.unit = None
        elif row.unit is not None:
            claimed[row.unit.id] = number
        preview.rows.append(row)
    _check_parents(preview.rows, units)
    for row in preview.rows:
        if not row.errors and row.unit is not None:
            row.changes = _unit_changes(row, {u.id: u for u in units})
    return preview


def _unit_row(number: int, cells: dict[str, Any], seen: dict[str, int]) -> UnitRow:
    name = " ".join(str(cells.get("name") or "").split())
    code = normal_code(cells.get("code"))
    row = UnitRow(number, code, name, parent=" ".join(str(cells.get("parent") or "").split()))
    if code is not None and len(code) > CODE_MAX:
        row.errors["code"] = Msg(N_("At most %(max)s characters."), {"max": CODE_MAX})
    elif code is not None and code in seen:
        row.errors["code"] = Msg(N_("Row %(row)s has the same code."), {"row": seen[code]})
    elif code is not None:
        seen[code] = number
    elif name and f"name:{name.casefold()}" in seen:
        msg = N_("Row %(row)s has the same name without a code: give each its code.")
        row.errors["code"] = Msg(msg, {"row": seen[f"name:{name.casefold()}"]})
    elif name:
        seen[f"name:{name.casefold()}"] = number
    if not name:
        row.errors["name"] = Msg(N_("Enter the unit's name."))
    elif len(name) > 300:
        row.errors["name"] = Msg(N_("At most %(max)s characters."), {"max": 300})
    row.kind = kind_of(cells.get("kind"))
    if row.kind is None:
        kinds = ", ".join(label("unit_kind", k) for k in LABELS["unit_kind"])
        row.errors["kind"] = Msg(N_("Give one of: %(kinds)s."), {"kinds": kinds})
    return row


def _match(
    row: UnitRow, by_code: dict[str, OrgUnit], codeless: dict[str, list[OrgUnit]]
) -> OrgUnit | None:
    """The stored unit a row is about: the one with its code, else the one code-less unit of
    its name (which the row then gives its code)."""
    if row.code and row.code in by_code:
        return by_code[row.code]
    found = codeless.get(row.name.casefold(), [])
    if len(found) > 1:
        row.errors["code"] = Msg(N_("Several units have this name: give the unit's code."))
        return None
    return found[0] if found else None


def _check_parents(rows: list[UnitRow], units: list[OrgUnit]) -> None:
    """Each parent named must be a unit of the file or of the area (by code, or by a name only
    one unit has); the tree the import makes must have no loop."""
    refs: dict[str, Any] = {}  # code or casefolded name -> a row or a stored unit
    names: dict[str, list[Any]] = defaultdict(list)
    for unit in units:
        if unit.code:
            refs[unit.code] = unit
        names[unit.name.casefold()].append(unit)
    for row in rows:
        if row.errors:
            continue
        if row.code:
            refs[row.code] = row
        if row.unit is not None:  # the file's row stands for the stored unit
            names[row.unit.name.casefold()].remove(row.unit)
            if row.unit.code and row.unit.code != row.code:
                refs.pop(row.unit.code, None)
        names[row.name.casefold()].append(row)
    parent_of: dict[int, Any] = {}
    for row in rows:
        if row.errors or not row.parent:
            continue
        target = refs.get(normal_code(row.parent) or "")
        if target is None:
            found = names.get(row.parent.casefold(), [])
            target = found[0] if len(found) == 1 else None
        if target is None:
            msg = N_("No unit with the code or name “%(parent)s” in the file or the area.")
            row.errors["parent"] = Msg(msg, {"parent": row.parent})
        elif target is row or (isinstance(target, OrgUnit) and target is row.unit):
            row.errors["parent"] = Msg(CYCLE)
        else:
            parent_of[id(row)] = target
    _check_loops(rows, units, parent_of)
    _check_siblings(rows, units, parent_of)


def _check_siblings(rows: list[UnitRow], units: list[OrgUnit], parent_of: dict[int, Any]) -> None:
    """No two units of one name under one parent, once the file is applied (as the form)."""
    row_of_unit = {row.unit.id: row for row in rows if row.unit is not None}

    def place(node: Any) -> tuple[str, int]:
        if isinstance(node, OrgUnit):
            node = row_of_unit.get(node.id, node)
        return ("row", id(node)) if isinstance(node, UnitRow) else ("unit", node.id)

    by_id = {u.id: u for u in units}
    taken: dict[tuple[Any, str], str] = {}
    for unit in units:
        if unit.id not in row_of_unit:
            parent = by_id.get(unit.parent_id) if unit.parent_id else None
            where = place(parent) if parent is not None else ("top", 0)
            taken[(where, unit.name.casefold())] = unit.name
    for row in rows:
        if row.errors:
            continue
        target = parent_of.get(id(row))
        key = (place(target) if target is not None else ("top", 0), row.name.casefold())
        if key in taken:
            row.errors["name"] = Msg(NAME_TAKEN)
        taken[key] = row.name


def _check_loops(rows: list[UnitRow], units: list[OrgUnit], parent_of: dict[int, Any]) -> None:
    """Walk up from each row: the file's parents first, then the stored ones."""
    row_of_unit = {row.unit.id: row for row in rows if row.unit is not None and not row.errors}
    by_id = {u.id: u for u in units}

    def up(node: Any) -> Any:
        if isinstance(node, UnitRow):  # the parent the file gives (blank: the top)
            return parent_of.get(id(node))
        parent = by_id.get(node.parent_id) if node.parent_id else None
        return row_of_unit.get(parent.id, parent) if parent is not None else None

    for row in rows:
        if row.errors:
            continue
        seen: set[int] = {id(row)}
        node = up(row)
        while node is not None:
            if isinstance(node, OrgUnit):
                node = row_of_unit.get(node.id, node)
            if id(node) in seen:
                row.errors["parent"] = Msg(CYCLE)
                break
            seen.add(id(node))
            node = up(node)


def _unit_changes(row: UnitRow, by_id: dict[int, OrgUnit]) -> list[tuple[str, str, str]]:
    unit = row.unit
    assert unit is not None
    stored_parent = by_id.get(unit.parent_id) if unit.parent_id else None
    old = {
        "code": unit.code or "",
        "name": unit.name,
        "kind": unit.kind,
        "parent": _parent_ref(stored_parent),
    }
    new = {"code": row.code or "", "name": row.name, "kind": row.kind or "", "parent": row.parent}
    changes = []
    for key in ("code", "name", "kind"):
        if old[key] != new[key]:
            changes.append((key, old[key], new[key]))
    if not _same_parent(stored_parent, row.parent):
        changes.append(("parent", old["parent"], new["parent"]))
    return changes


def _same_parent(stored: OrgUnit | None, ref: str) -> bool:
    if stored is None:
        return not ref
    return ref in {stored.code or "", stored.name} or (
        stored.code is not None and normal_code(ref) == stored.code
    )


def apply_units(
    session: Session, *, actor: audit.Actor, area: Area, data: bytes, filename: str
) -> UnitImport:
    """Write every new and changed unit of a workbook in one transaction, or nothing if any row
    is wrong (the caller rolls back a preview that is not applied)."""
    preview = preview_units(session, area, data, filename)
    if not preview.ok:
        return preview
    units = units_of(session, area.id)
    position = max((u.position for u in units), default=-1) + 1
    written: dict[int, OrgUnit] = {}  # id(row) -> its unit
    befores: dict[int, dict[str, Any] | None] = {}
    for row in preview.rows:
        if row.status == "unchanged":
            continue
        unit = row.unit
        befores[id(row)] = audit.snapshot(unit) if unit is not None else None
        if unit is None:
            unit = OrgUnit(area_id=area.id, kind=row.kind or "", name=row.name, position=position)
            position += 1
        unit.code, unit.name, unit.kind = row.code, row.name, row.kind or unit.kind
        session.add(unit)
        written[id(row)] = unit
    try:
        session.flush()
        _set_parents(session, area, preview.rows, written)
    except IntegrityError:
        session.rollback()
        msg = N_("Another change took one of these codes meanwhile: upload the file again.")
        preview.problems.append(Msg(msg))
        return preview
    reason = gettext("Imported from %(file)s", file=filename)[:1000]
    for row in preview.rows:
        if id(row) not in written:
            continue
        unit = written[id(row)]
        before = befores[id(row)]
        audit.record(
            session,
            actor=actor,
            area_id=area.id,
            entity_type="org_unit",
            entity_id=unit.id,
            op=AuditOp.create if before is None else AuditOp.update,
            before=before,
            after=audit.snapshot(unit),
            reason=reason,
        )
    _commit(session, area, None)
    preview.applied = True
    return preview


def _set_parents(
    session: Session, area: Area, rows: list[UnitRow], written: dict[int, OrgUnit]
) -> None:
    units = units_of(session, area.id)
    by_code = {u.code: u for u in units if u.code}
    by_name: dict[str, list[OrgUnit]] = defaultdict(list)
    for unit in units:
        by_name[unit.name.casefold()].append(unit)
    for row in rows:
        unit = written.get(id(row))
        if unit is None:
            continue
        parent = None
        if row.parent:
            parent = by_code.get(normal_code(row.parent) or "")
            if parent is None:
                parent = by_name[row.parent.casefold()][0]
        unit.parent_id = parent.id if parent is not None else None
        session.add(unit)
    session.flush()
