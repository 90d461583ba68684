"""The province's shared data (issue 21): values of data items per period × unit × category
options, KPIs computed from them, and who owes which data.

A data item's value sits in a cell: a period of the item's period type, a unit (empty: the whole
area; else a unit of the kind that reports the item) and category options of the item's
breakdowns ("sex=female;ethnic_language=karen", set codes in order; empty for the total). A
write puts a list of cells all or nothing: every bad row is named, nothing is stored.

A computed KPI (`KPI.compute_method`) is a ratio (numerator / denominator × scale), a sum, a
mean or a single item; its terms are in `kpi_compute_term`. Whenever a value of one of its items
changes, its cells for that period are computed again in the same transaction: the area's
total becomes the KPI's measurement (source "computed", audited like any value), every cell is
kept in `computed_value` with the reason when it has no value (a missing or zero denominator).
A cell missing in an item is made from the finer cells when there are any: the area's total from
its units' values, a total over categories from one breakdown's options (a sum: data items hold
counts). Periods a review round has locked keep their approved value.

Data items hold entered values only, never a KPI's, so a computation cannot loop.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.i18n import N_, localized, thai_today
from app.models import (
    KPI,
    Agency,
    Area,
    CategoryOption,
    CategorySet,
    ComputedValue,
    DataItem,
    DataItemCategorySet,
    DataValue,
    KPIComputeTerm,
    KPIDataItem,
    Measurement,
    OrgUnit,
    Plan,
    ReviewRound,
)
from app.models.base import utcnow
from app.models.enums import AuditOp, KPIKind, PeriodType
from app.numbers import NotANumber, parse_number
from app.periods import EXAMPLES, parse_period, period_span, periods_of
from app.schemas import KPI_RANGES
from app.services import audit
from app.services.errors import Msg, ValidationFailed
from app.services.plan_tree import current_plans

METHODS = ("ratio", "sum", "mean", "item")
ROWS_MAX = 5000  # cells in one write
VALUE_MAX = 1e15
SOURCE_MAX = 300
REASONS = {
    "no_numerator": N_("no value: the numerator has no value for this period"),
    "no_denominator": N_("no value: the denominator has no value for this period"),
    "zero_denominator": N_("no value: the denominator is 0"),
    "missing_values": N_("no value: not every data item has a value for this period"),
    "out_of_range": N_("no value: the result is outside what this kind of KPI allows"),
}


# ---- cells ----------------------------------------------------------------------------------


def cell_key(period: str, unit_id: int | None, categories: str) -> str:
    return f"{period}/{'' if unit_id is None else unit_id}/{categories}"


def categories_text(options: dict[str, str]) -> str:
    """{"sex": "female"} -> "sex=female" (set codes in order)."""
    return ";".join(f"{k}={options[k]}" for k in sorted(options))


def categories_of(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(";")) if text else {}


@dataclass
class ItemShape:
    """What cells a data item has: its breakdowns' options and the units that report it."""

    item: DataItem
    sets: dict[str, set[str]]  # set code -> option codes
    units: dict[str, OrgUnit]  # unit code -> unit, of the kind that reports the item


def item_shapes(session: Session, area: Area, items: list[DataItem]) -> dict[int, ItemShape]:
    """Every item's shape in three queries."""
    ids = [i.id for i in items]
    sets: dict[int, dict[str, set[str]]] = {i: {} for i in ids}
    if ids:
        query = (
            select(DataItemCategorySet.data_item_id, CategorySet.code, CategoryOption.code)
            .join(CategorySet, col(CategorySet.id) == DataItemCategorySet.set_id)
            .join(CategoryOption, col(CategoryOption.set_id) == CategorySet.id, isouter=True)
            .where(col(DataItemCategorySet.data_item_id).in_(ids))
        )
        for item_id, set_code, option_code in session.exec(query):
            options = sets[item_id].setdefault(set_code, set())
            if option_code is not None:
                options.add(option_code)
    units = session.exec(select(OrgUnit).where(OrgUnit.area_id == area.id)).all()
    shapes = {}
    for item in items:
        reporting = {
            u.code or str(u.id): u for u in units if item.reported_by and u.kind == item.reported_by
        }
        shapes[item.id] = ItemShape(item, sets[item.id], reporting)
    return shapes


# ---- writing values -------------------------------------------------------------------------


@dataclass
class CellIn:
    period: str
    unit: OrgUnit | None
    categories: str
    value: float | None  # None clears the cell

    @property
    def key(self) -> str:
        return cell_key(self.period, self.unit.id if self.unit else None, self.categories)


def check_rows(shape: ItemShape, rows: Any) -> list[CellIn]:
    """The cells a list of {"period", "unit", "categories", "value"} puts, or ValidationFailed
    naming each bad row ("row-3": ...), counted from 1."""
    if not isinstance(rows, list) or not rows:
        raise ValidationFailed({"values": Msg(N_("Send a list of values, at least one."))})
    if len(rows) > ROWS_MAX:
        raise ValidationFailed(
            {"values": Msg(N_("At most %(n)s values at a time."), {"n": ROWS_MAX})}
        )
    errors: dict[str, Msg] = {}
    cells: list[CellIn] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        problem, cell = _check_row(shape, row)
        if cell is not None and cell.key in seen:
            msg = N_("The same period, unit and categories as row %(row)s.")
            problem = Msg(msg, {"row": seen[cell.key]})
        if problem is not None:
            errors[f"row-{number}"] = problem
        elif cell is not None:
            seen[cell.key] = number
            cells.append(cell)
    if errors:
        raise ValidationFailed(errors)
    return cells


def _check_row(shape: ItemShape, row: Any) -> tuple[Msg | None, CellIn | None]:
    if not isinstance(row, dict):
        return Msg(N_('Each value is an object: {"period": …, "value": …}.')), None
    unknown = set(row) - {"period", "unit", "categories", "value"}
    if unknown:
        return Msg(N_("Unknown field: %(name)s."), {"name": sorted(unknown)[0][:40]}), None
    period = period_problem_of(shape.item, row.get("period"))
    if isinstance(period, Msg):
        return period, None
    unit, problem = _unit_of(shape, row.get("unit"))
    if problem:
        return problem, None
    categories, problem = _categories_of(shape, row.get("categories"))
    if problem:
        return problem, None
    try:
        value = parse_number(row.get("value"))
    except NotANumber:
        return Msg(N_("Enter a number, e.g. 72.5 (Thai digits and a trailing % are fine).")), None
    if value is not None and abs(value) > VALUE_MAX:
        return Msg(N_("The number is too large.")), None
    return None, CellIn(period, unit, categories, value)


def period_problem_of(item: DataItem, period: Any) -> str | Msg:
    """The period's code, or why it is not one of the item's periods."""
    parsed = parse_period(period) if isinstance(period, str) else None
    if parsed is None or parsed.period_type != item.period_type:
        example = EXAMPLES.get(PeriodType(item.period_type), "FY2567")
        msg = N_("“%(period)s” is not a period of this data item (e.g. %(example)s).")
        return Msg(msg, {"period": str(period)[:20], "example": example})
    return parsed.code


def _unit_of(shape: ItemShape, code: Any) -> tuple[OrgUnit | None, Msg | None]:
    if code is None or code == "":
        return None, None
    unit = shape.units.get(str(code).strip()) if isinstance(code, str | int) else None
    if unit is None:
        if not shape.item.reported_by:
            return None, Msg(N_("This data item has one value for the whole area, not per unit."))
        msg = N_("“%(unit)s” is not a unit that reports this data item.")
        return None, Msg(msg, {"unit": str(code)[:40]})
    return unit, None


def _categories_of(shape: ItemShape, given: Any) -> tuple[str, Msg | None]:
    if given is None or given == {}:
        return "", None
    if not isinstance(given, dict):
        return "", Msg(N_('Send the categories as an object, e.g. {"sex": "female"}.'))
    for set_code, option in given.items():
        options = shape.sets.get(set_code)
        if options is None:
            msg = N_("This data item is not broken down by “%(set)s”.")
            return "", Msg(msg, {"set": str(set_code)[:40]})
        if not isinstance(option, str) or option not in options:
            msg = N_("“%(option)s” is not an option of “%(set)s”.")
            return "", Msg(msg, {"option": str(option)[:40], "set": set_code})
    return categories_text(given), None


def put_values(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    item: DataItem,
    rows: Any,
    source: str = "",
) -> dict[str, int]:
    """Store, change or clear (value null) a data item's cells, all or nothing; recompute the
    KPIs made from it. Returns how many cells were added, changed, cleared and left as they were.
    """
    cells = check_rows(item_shapes(session, area, [item])[item.id], rows)
    return _write(session, actor, area, {item.id: item}, {item.id: cells}, source)[item.id]


def put_many(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    rows_by_item: dict[int, Any],
    source: str = "",
) -> dict[int, dict[str, int]]:
    """Several items' cells at once (the entry page, an agency's workbook), all or nothing: every
    item's rows are checked before anything is written, then all are written, the KPIs made from
    them computed again and the whole committed once. Errors are keyed "item-<id>-row-<n>".
    Returns the counts per item (see `put_values`)."""
    ids = list(rows_by_item)
    items = {
        i.id: i
        for i in session.exec(
            select(DataItem).where(col(DataItem.id).in_(ids), DataItem.area_id == area.id)
        )
    }
    shapes = item_shapes(session, area, list(items.values()))
    errors: dict[str, Msg] = {}
    checked: dict[int, list[CellIn]] = {}
    for item_id, rows in rows_by_item.items():
        if item_id not in items:
            errors[f"item-{item_id}"] = Msg(N_("No such data item."))
            continue
        try:
            checked[item_id] = check_rows(shapes[item_id], rows)
        except ValidationFailed as exc:
            errors.update({f"item-{item_id}-{key}": m for key, m in exc.errors.items()})
    if errors:
        raise ValidationFailed(errors)
    return _write(session, actor, area, items, checked, source)


def _write(
    session: Session,
    actor: audit.Actor,
    area: Area,
    items: dict[int, DataItem],
    checked: dict[int, list[CellIn]],
    source: str,
) -> dict[int, dict[str, int]]:
    """Write checked cells of several items, compute the KPIs made from those that changed,
    commit once and publish one live event (none when nothing changed)."""
    source = " ".join(str(source or "").split())[:SOURCE_MAX]
    counts: dict[int, dict[str, int]] = {}
    changed: list[int] = []
    periods: set[str] = set()
    for item_id, cells in checked.items():
        counts[item_id] = write_cells(
            session, actor=actor, area=area, item=items[item_id], cells=cells, source=source
        )
        if counts[item_id]["added"] or counts[item_id]["changed"] or counts[item_id]["cleared"]:
            changed.append(item_id)
            periods |= {c.period for c in cells}
    if changed:
        recompute_for_items(session, actor=actor, area=area, item_ids=changed, periods=periods)
    publish = (
        {"type": "progress.changed", "entity": "data_value", "id": changed[0]} if changed else None
    )
    audit.finish(session, area_id=area.id, publish=publish, inserts=True)
    return counts


def write_cells(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    item: DataItem,
    cells: list[CellIn],
    source: str,
) -> dict[str, int]:
    """Write checked cells and record one audit event for the item; the caller commits."""
    keys = [c.key for c in cells]
    stored = {
        v.cell: v
        for v in session.exec(
            select(DataValue).where(
                DataValue.data_item_id == item.id, col(DataValue.cell).in_(keys)
            )
        )
    }
    counts = {"added": 0, "changed": 0, "cleared": 0, "unchanged": 0}
    before: dict[str, float] = {}
    after: dict[str, float | None] = {}
    now = utcnow()
    for cell in cells:
        row = stored.get(cell.key)
        if cell.value is None:
            if row is None:
                counts["unchanged"] += 1
                continue
            before[cell.key], after[cell.key] = row.value, None
            session.delete(row)
            counts["cleared"] += 1
        elif row is None:
            after[cell.key] = cell.value
            session.add(
                DataValue(
                    data_item_id=item.id,
                    cell=cell.key,
                    period=cell.period,
                    unit_id=cell.unit.id if cell.unit else None,
                    categories=cell.categories,
                    value=cell.value,
                    source=source,
                    entered_by=actor.id,
                    entered_at=now,
                )
            )
            counts["added"] += 1
        elif row.value == cell.value:
            counts["unchanged"] += 1
        else:
            before[cell.key], after[cell.key] = row.value, cell.value
            row.value, row.source, row.entered_by, row.entered_at = (
                cell.value,
                source,
                actor.id,
                now,
            )
            row.version += 1
            session.add(row)
            counts["changed"] += 1
    if before or after:
        with audit.lost_race_is_conflict(session, inserts=True):
            session.flush()
        audit.record(
            session,
            actor=actor,
            area_id=area.id,
            entity_type="data_value",
            entity_id=item.id,
            op=AuditOp.update,
            before={"item": item.name, "cells": before},
            after={"item": item.name, "cells": after, "source": source},
        )
    return counts


def values_of(
    session: Session,
    item: DataItem,
    *,
    period: str | None = None,
    unit_id: int | None = None,
) -> list[DataValue]:
    query = select(DataValue).where(DataValue.data_item_id == item.id)
    if period is not None:
        query = query.where(DataValue.period == period)
    if unit_id is not None:
        query = query.where(DataValue.unit_id == unit_id)
    return list(session.exec(query.order_by(col(DataValue.period), col(DataValue.cell))))


# ---- computed KPIs --------------------------------------------------------------------------


@dataclass
class Computation:
    method: str
    terms: list[tuple[int, str]]  # (data item id, role)
    scale: float | None


ROLES = {"ratio": ("numerator", "denominator"), "item": ("term",)}


def check_computation(session: Session, area: Area, kpi: KPI, given: Any) -> Computation | None:
    """The computation a KPI's `computation` field asks for (None: entered by hand), or 422."""
    if given is None:
        return None
    if not isinstance(given, dict):
        raise ValidationFailed(
            {"computation": Msg(N_('Send the computation as an object: {"method": "ratio", …}.'))}
        )
    method = given.get("method")
    if method not in METHODS:
        msg = N_("The method is one of: %(methods)s.")
        raise ValidationFailed({"computation": Msg(msg, {"methods": ", ".join(METHODS)})})
    unknown = set(given) - {"method", "numerator", "denominator", "scale", "items", "item"}
    if unknown:
        msg = N_("Unknown field: %(name)s.")
        raise ValidationFailed({"computation": Msg(msg, {"name": sorted(unknown)[0][:40]})})
    if method == "ratio":
        terms = [(given.get("numerator"), "numerator"), (given.get("denominator"), "denominator")]
        if any(i is None for i, _ in terms):
            msg = N_("A ratio needs a numerator and a denominator.")
            raise ValidationFailed({"computation": Msg(msg)})
    elif method == "item":
        terms = [(given.get("item", _single(given.get("items"))), "term")]
        if terms[0][0] is None:
            raise ValidationFailed({"computation": Msg(N_("Name the data item."))})
    else:
        items = given.get("items")
        if not isinstance(items, list) or not items or len(items) > 50:
            msg = N_("A sum or a mean needs a list of data items.")
            raise ValidationFailed({"computation": Msg(msg)})
        if len(set(map(str, items))) != len(items):
            raise ValidationFailed({"computation": Msg(N_("A data item is named twice."))})
        terms = [(i, "term") for i in items]
    scale = given.get("scale")
    if scale is not None:
        try:
            scale = parse_number(scale)
        except NotANumber:
            scale = math.nan
        if scale is None or not math.isfinite(scale) or scale == 0 or abs(scale) > 1e9:
            msg = N_("The scale is a number other than 0, e.g. 100 for a percentage.")
            raise ValidationFailed({"computation": Msg(msg)})
    ids = [i for i, _ in terms]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValidationFailed({"computation": Msg(N_("Name data items by their ids."))})
    items = {
        i.id: i
        for i in session.exec(
            select(DataItem).where(col(DataItem.id).in_(ids), DataItem.area_id == area.id)
        )
    }
    for item_id in ids:
        item = items.get(item_id)
        if item is None:
            msg = N_("Data item %(id)s is not in this area's catalogue.")
            raise ValidationFailed({"computation": Msg(msg, {"id": item_id})})
        if item.period_type != kpi.period_type:
            msg = N_("“%(item)s” has periods like %(item_periods)s, the KPI like %(kpi_periods)s.")
            params = {"item": item.name, "item_periods": EXAMPLES[PeriodType(item.period_type)]}
            params["kpi_periods"] = EXAMPLES[PeriodType(kpi.period_type)]
            raise ValidationFailed({"computation": Msg(msg, params)})
    return Computation(method, terms, scale)


def _single(items: Any) -> Any:
    return items[0] if isinstance(items, list) and len(items) == 1 else None


def computation_of(session: Session, kpi: KPI) -> dict[str, Any] | None:
    """The KPI's computation as the API shows it."""
    if not kpi.compute_method:
        return None
    terms = session.exec(select(KPIComputeTerm).where(KPIComputeTerm.kpi_id == kpi.id)).all()
    return computation_json(kpi, terms)


def computation_json(kpi: KPI, terms: Iterable[KPIComputeTerm]) -> dict[str, Any]:
    by_role: dict[str, list[int]] = defaultdict(list)
    for t in terms:
        by_role[t.role].append(t.data_item_id)
    out: dict[str, Any] = {"method": kpi.compute_method, "scale": kpi.compute_scale}
    if kpi.compute_method == "ratio":
        out["numerator"] = (by_role["numerator"] or [None])[0]
        out["denominator"] = (by_role["denominator"] or [None])[0]
    elif kpi.compute_method == "item":
        out["item"] = (by_role["term"] or [None])[0]
    else:
        out["items"] = sorted(by_role["term"])
    return out


def set_computation(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    plan: Plan | None,
    kpi: KPI,
    computation: Computation | None,
) -> None:
    """Make the KPI computed (or entered by hand again, with None) and compute it; recorded in
    the caller's transaction. Its cited data items follow its terms. The plan is needed only to
    compute."""
    before = computation_of(session, kpi)
    old_terms = session.exec(select(KPIComputeTerm).where(KPIComputeTerm.kpi_id == kpi.id)).all()
    for term in old_terms:
        session.delete(term)
    session.flush()
    kpi.compute_method = computation.method if computation else None
    kpi.compute_scale = computation.scale if computation else None
    kpi.version += 1
    session.add(kpi)
    new_terms = []
    if computation:
        for item_id, role in computation.terms:
            term = KPIComputeTerm(kpi_id=kpi.id, data_item_id=item_id, role=role)
            new_terms.append(term)
            session.add(term)
        cited = set(
            session.exec(select(KPIDataItem.data_item_id).where(KPIDataItem.kpi_id == kpi.id))
        )
        for item_id in {i for i, _ in computation.terms} - cited:
            session.add(KPIDataItem(kpi_id=kpi.id, data_item_id=item_id))
    with audit.lost_race_is_conflict(session):
        session.flush()
    after = computation_json(kpi, new_terms) if computation else None
    if before != after:
        audit.record(
            session,
            actor=actor,
            area_id=area.id,
            entity_type="kpi_computation",
            entity_id=kpi.id,
            op=AuditOp.update,
            before=before,
            after=after,
        )
    if computation:
        assert plan is not None
        recompute(session, actor=actor, area=area, plan=plan, kpi=kpi, periods=None)
    else:
        session.exec(sql_delete(ComputedValue).where(col(ComputedValue.kpi_id) == kpi.id))
        for row in session.exec(
            select(Measurement).where(
                Measurement.kpi_id == kpi.id, Measurement.source == "computed"
            )
        ):
            row.source = "entered"  # the last computed values stay, now as entered ones
            session.add(row)


def computed_from(session: Session, item_ids: list[int]) -> list[KPI]:
    """The KPIs (of any plan) computed from any of these items."""
    query = (
        select(KPI)
        .join(KPIComputeTerm, col(KPIComputeTerm.kpi_id) == KPI.id)
        .where(col(KPIComputeTerm.data_item_id).in_(item_ids))
        .distinct()
    )
    return list(session.exec(query))


def save_kpi(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    plan: Plan,
    kpi_id: int | None,
    element_in: dict[str, Any],
    computation_in: Any,
    expected_version: int | None = None,
    partial: bool = False,
    **reason: Any,
) -> KPI:
    """Create (kpi_id None) or change a KPI with how its value is obtained (`computation_in` as
    `check_computation` takes it; None: entered by hand), in one transaction and one commit.
    A refused computation (checked against the KPI's new period type) writes nothing."""
    from app.services import plans as plan_service

    def then(row: Any) -> None:
        computation = check_computation(session, area, row, computation_in)
        if computation is None and not row.compute_method:
            return  # entered by hand before and after: nothing to undo
        set_computation(
            session, actor=actor, area=area, plan=plan, kpi=row, computation=computation
        )

    try:
        if kpi_id is None:
            row = plan_service.create_element(
                session,
                actor=actor,
                plan=plan,
                kind="kpis",
                element_in=element_in,
                then=then,
                **reason,
            )
        else:
            row = plan_service.update_element(
                session,
                actor=actor,
                plan=plan,
                kind="kpis",
                element_id=kpi_id,
                element_in=element_in,
                expected_version=expected_version,
                partial=partial,
                then=then,
                **reason,
            )
    except ValidationFailed:
        session.rollback()  # the KPI's fields may have been set before the computation failed
        raise
    assert isinstance(row, KPI)
    return row


def recompute_for_items(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    item_ids: list[int],
    periods: set[str] | None,
) -> list[int]:
    """Compute again the current plan's KPIs made from these items; their ids."""
    plan = current_plans(session, [area.id]).get(area.id)
    if plan is None:
        return []
    query = (
        select(KPI)
        .join(KPIComputeTerm, col(KPIComputeTerm.kpi_id) == KPI.id)
        .where(
            KPI.plan_id == plan.id,
            col(KPIComputeTerm.data_item_id).in_(item_ids),
            col(KPI.compute_method).is_not(None),
        )
        .distinct()
    )
    # Lock them (PostgreSQL; SQLite has one writer at a time anyway): a writer of another of
    # their items waits for this commit, then reads the values as this one left them, so that
    # two custodians saving the numerator and the denominator at once never leave a KPI
    # computed from half of what is stored.
    ids = list(session.exec(query.with_only_columns(col(KPI.id))))
    if not ids:
        return []
    locked = select(KPI).where(col(KPI.id).in_(ids)).order_by(col(KPI.id)).with_for_update()
    kpis = list(session.exec(locked.execution_options(populate_existing=True)))
    for kpi in kpis:
        recompute(session, actor=actor, area=area, plan=plan, kpi=kpi, periods=periods)
    return [k.id for k in kpis]


def recompute(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    plan: Plan,
    kpi: KPI,
    periods: set[str] | None,
) -> None:
    """Compute the KPI's cells for these periods (all its items' periods when None), keep them in
    computed_value, and write the area's total as its measurement (audited)."""
    from app.services import progress  # progress's read model imports this module

    terms = session.exec(select(KPIComputeTerm).where(KPIComputeTerm.kpi_id == kpi.id)).all()
    item_ids = sorted({t.data_item_id for t in terms})
    query = select(DataValue).where(col(DataValue.data_item_id).in_(item_ids))
    if periods is not None:
        query = query.where(col(DataValue.period).in_(sorted(periods)))
    values: dict[int, dict[str, DataValue]] = defaultdict(dict)
    found: set[str] = set()
    for v in session.exec(query):
        values[v.data_item_id][v.cell] = v
        found.add(v.period)
    if periods is None:  # every period: also those whose values are all gone
        query = select(ComputedValue.period).where(ComputedValue.kpi_id == kpi.id).distinct()
        periods = found | set(session.exec(query))
    session.exec(
        sql_delete(ComputedValue).where(
            col(ComputedValue.kpi_id) == kpi.id, col(ComputedValue.period).in_(sorted(periods))
        )
    )
    cells = compute_cells(kpi, terms, values)
    for key, (value, reason) in sorted(cells.items()):
        period, unit, categories = key.split("/", 2)
        session.add(
            ComputedValue(
                kpi_id=kpi.id,
                cell=key,
                period=period,
                unit_id=int(unit) if unit else None,
                categories=categories,
                value=value,
                reason=reason,
            )
        )
    locked = _locked_periods(session, area.id)
    plan_periods = set(periods_of(kpi.period_type, plan.span_start_be, plan.span_end_be))
    for period in sorted(periods):
        if period in locked or period not in plan_periods:
            continue
        value, _ = cells.get(cell_key(period, None, ""), (None, ""))
        current = progress.measurement_of(session, kpi.id, period)
        if value is None:
            if current is not None and current.source == "computed":
                progress.write_measurement(session, actor, plan, kpi, period, None)
            continue
        fields = {"value": value, "source": "computed"}
        progress.write_measurement(session, actor, plan, kpi, period, fields)
    with audit.lost_race_is_conflict(session, inserts=True):
        session.flush()


def _locked_periods(session: Session, area_id: int) -> set[str]:
    from app.services.progress import LOCKING_STATES

    query = select(ReviewRound.period).where(
        ReviewRound.area_id == area_id, col(ReviewRound.state).in_(LOCKING_STATES)
    )
    return set(session.exec(query))


def compute_cells(
    kpi: KPI, terms: Iterable[KPIComputeTerm], values: dict[int, dict[str, DataValue]]
) -> dict[str, tuple[float | None, str]]:
    """Every cell the KPI has a value or a reason for: {cell: (value, reason)}."""
    filled = {item_id: _with_totals(cells) for item_id, cells in values.items()}
    roles: dict[str, list[int]] = defaultdict(list)
    for t in terms:
        roles[t.role].append(t.data_item_id)
    keys = set()
    for item_id in {t.data_item_id for t in terms}:
        keys |= set(filled.get(item_id, {}))
    bounds = KPI_RANGES.get(KPIKind(kpi.kind))
    out: dict[str, tuple[float | None, str]] = {}
    for key in keys:
        value, reason = _compute(kpi, roles, filled, key)
        if value is not None and bounds and not bounds[0] <= value <= bounds[1]:
            value, reason = None, "out_of_range"
        out[key] = (value, reason)
    return out


def _compute(
    kpi: KPI, roles: dict[str, list[int]], filled: dict[int, dict[str, float]], key: str
) -> tuple[float | None, str]:
    def get(item_id: int) -> float | None:
        return filled.get(item_id, {}).get(key)

    if kpi.compute_method == "ratio":
        num = get(roles["numerator"][0]) if roles["numerator"] else None
        den = get(roles["denominator"][0]) if roles["denominator"] else None
        if num is None:
            return None, "no_numerator"
        if den is None:
            return None, "no_denominator"
        if den == 0:
            return None, "zero_denominator"
        return round(num / den * (kpi.compute_scale or 1), 6), ""
    got = [get(i) for i in roles["term"]]
    if not got or any(g is None for g in got):
        return None, "missing_values"
    numbers = [g for g in got if g is not None]
    total = sum(numbers) / len(numbers) if kpi.compute_method == "mean" else sum(numbers)
    return round(total * (kpi.compute_scale or 1), 6), ""


def _with_totals(cells: dict[str, DataValue]) -> dict[str, float]:
    """An item's cells with the totals made from finer cells where none was entered: per
    (period, unit), the total over categories from the first breakdown whose options were given
    alone; then per period, the area's cell from the sum of its units' cells."""
    out = {key: v.value for key, v in cells.items()}
    by_scope: dict[tuple[str, str], dict[str, dict[str, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for key, value in list(out.items()):
        period, unit, categories = key.split("/", 2)
        options = categories_of(categories)
        if len(options) == 1:
            ((set_code, option),) = options.items()
            by_scope[(period, unit)][set_code][option] = value
    for (period, unit), sets in by_scope.items():
        total_key = f"{period}/{unit}/"
        if total_key not in out:
            first = sorted(sets)[0]
            out[total_key] = sum(sets[first].values())
    area_sums: dict[str, float] = defaultdict(float)
    area_has: set[str] = set()
    for key, value in out.items():
        period, unit, categories = key.split("/", 2)
        if unit:
            area_key = f"{period}//{categories}"
            area_sums[area_key] += value
            area_has.add(area_key)
    for key in area_has:
        out.setdefault(key, area_sums[key])
    return out


def computed_cells(session: Session, kpi_ids: list[int]) -> dict[int, list[ComputedValue]]:
    """Every computed cell of these KPIs, one query."""
    out: dict[int, list[ComputedValue]] = {k: [] for k in kpi_ids}
    if kpi_ids:
        query = select(ComputedValue).where(col(ComputedValue.kpi_id).in_(kpi_ids))
        for row in session.exec(query.order_by(col(ComputedValue.cell))):
            out[row.kpi_id].append(row)
    return out


# ---- completeness ---------------------------------------------------------------------------


@dataclass
class Completeness:
    """Of the cells-holders expected for an item and period (its reporting units, or the area
    once), how many reported anything, and how many did so by the due date."""

    expected: int
    reported: int
    on_time: int
    due_on: date

    @property
    def percent(self) -> int | None:
        return round(100 * self.reported / self.expected) if self.expected else None

    @property
    def on_time_percent(self) -> int | None:
        return round(100 * self.on_time / self.expected) if self.expected else None


@dataclass
class CompletenessView:
    periods: list[str]
    items: list[DataItem]
    agencies: dict[int, Agency]
    cells: dict[tuple[int, str], Completeness]  # (item id, period)
    by_agency: dict[tuple[int | None, str], Completeness] = field(default_factory=dict)


def ended_periods(period_type: str, today: date, count: int) -> list[str]:
    """The last `count` periods of this type that have ended by today, oldest first."""
    be = today.year + 543
    codes = [p for p in periods_of(period_type, be - 3, be + 1) if period_span(p).ends_on < today]
    return codes[-count:]


def completeness(
    session: Session, area: Area, today: date | None = None, count: int = 3
) -> CompletenessView:
    """Reporting completeness and timeliness per item and per custodian agency for the last
    `count` ended periods of each period type the catalogue uses. A fixed number of queries."""
    today = today or thai_today()
    items = list(
        session.exec(
            select(DataItem)
            .where(DataItem.area_id == area.id)
            .order_by(col(DataItem.position), col(DataItem.id))
        )
    )
    types = sorted({i.period_type for i in items})
    periods_by_type = {t: ended_periods(t, today, count) for t in types}
    all_periods = sorted({p for ps in periods_by_type.values() for p in ps})
    unit_counts = dict(
        session.exec(
            select(OrgUnit.kind, func.count())
            .where(OrgUnit.area_id == area.id)
            .group_by(col(OrgUnit.kind))
        ).all()
    )
    # (item, period) -> the first entry of each unit (None: the area's own), one pass
    first_entry: dict[tuple[int, str], dict[int | None, datetime]] = defaultdict(dict)
    if items and all_periods:
        query = (
            select(
                DataValue.data_item_id,
                DataValue.period,
                DataValue.unit_id,
                func.min(DataValue.entered_at),
            )
            .where(
                col(DataValue.data_item_id).in_([i.id for i in items]),
                col(DataValue.period).in_(all_periods),
            )
            .group_by(col(DataValue.data_item_id), col(DataValue.period), col(DataValue.unit_id))
        )
        for item_id, period, unit_id, first in session.exec(query):
            first_entry[(item_id, period)][unit_id] = first
    cells: dict[tuple[int, str], Completeness] = {}
    by_agency: dict[tuple[int | None, str], Completeness] = {}
    for item in items:
        expected = unit_counts.get(item.reported_by, 0) if item.reported_by else 1
        for period in periods_by_type[item.period_type]:
            due = period_span(period).ends_on + timedelta(days=item.due_days)
            due_at = datetime(due.year, due.month, due.day, 23, 59, 59, tzinfo=UTC)
            entries = first_entry.get((item.id, period), {})
            by_unit = bool(item.reported_by)
            firsts = [f for u, f in entries.items() if (u is not None) == by_unit]
            on_time = sum(1 for f in firsts if _aware(f) <= due_at)
            c = Completeness(expected, min(len(firsts), expected), min(on_time, expected), due)
            cells[(item.id, period)] = c
            total = by_agency.setdefault(
                (item.custodian_agency_id, period), Completeness(0, 0, 0, due)
            )
            total.expected += c.expected
            total.reported += c.reported
            total.on_time += c.on_time
            total.due_on = max(total.due_on, due)
    agency_ids = {i.custodian_agency_id for i in items if i.custodian_agency_id}
    agencies = {a.id: a for a in session.exec(select(Agency).where(col(Agency.id).in_(agency_ids)))}
    return CompletenessView(all_periods, items, agencies, cells, by_agency)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def areas_completeness(
    session: Session, area_ids: list[int], today: date | None = None
) -> dict[int, Completeness | None]:
    """For /review: per area, the completeness of every catalogue item over its last ended
    period, summed. Two queries for all areas."""
    today = today or thai_today()
    out: dict[int, Completeness | None] = {a: None for a in area_ids}
    if not area_ids:
        return out
    items = session.exec(select(DataItem).where(col(DataItem.area_id).in_(area_ids))).all()
    if not items:
        return out
    last = {t: (ended_periods(t, today, 1) or [None])[0] for t in {i.period_type for i in items}}
    units = session.exec(
        select(OrgUnit.area_id, OrgUnit.kind, func.count())
        .where(col(OrgUnit.area_id).in_(area_ids))
        .group_by(col(OrgUnit.area_id), col(OrgUnit.kind))
    ).all()
    unit_counts = {(a, k): n for a, k, n in units}
    wanted = [p for p in last.values() if p]
    reported: dict[tuple[int, str], set[int | None]] = defaultdict(set)
    if wanted:
        query = (
            select(DataValue.data_item_id, DataValue.period, DataValue.unit_id)
            .join(DataItem, col(DataItem.id) == DataValue.data_item_id)
            .where(col(DataItem.area_id).in_(area_ids), col(DataValue.period).in_(wanted))
            .distinct()
        )
        for item_id, period, unit_id in session.exec(query):
            reported[(item_id, period)].add(unit_id)
    for item in items:
        period = last[item.period_type]
        if period is None:
            continue
        expected = unit_counts.get((item.area_id, item.reported_by), 0) if item.reported_by else 1
        by_unit = bool(item.reported_by)
        got = {u for u in reported.get((item.id, period), ()) if (u is not None) == by_unit}
        total = out[item.area_id] or Completeness(0, 0, 0, period_span(period).ends_on)
        total.expected += expected
        total.reported += min(len(got), expected)
        out[item.area_id] = total
    return out


# ---- a computed KPI's page -------------------------------------------------------------------


@dataclass
class Breakdown:
    """One period's computed cells as a table: rows the area (None) then its units, columns the
    total ("") then each combination of category options found."""

    period: str
    units: list[OrgUnit | None]
    columns: list[str]
    cells: dict[tuple[int | None, str], ComputedValue]

    def cell(self, unit: OrgUnit | None, column: str) -> ComputedValue | None:
        return self.cells.get((unit.id if unit else None, column))


@dataclass
class ComputedKPI:
    """How a computed KPI is made (its method, scale and items in their roles) and its cells
    per period, newest first."""

    kpi: KPI
    terms: list[tuple[DataItem, str]]  # (item, role) in the order the formula reads
    breakdowns: list[Breakdown]
    options: dict[tuple[str, str], CategoryOption]  # (set code, option code) -> option
    sets: dict[str, CategorySet]

    def by_period(self, period: str) -> Breakdown | None:
        return next((b for b in self.breakdowns if b.period == period), None)

    def role(self, role: str) -> list[DataItem]:
        return [item for item, r in self.terms if r == role]

    def column_options(self, column: str) -> list[CategoryOption | str]:
        """A column's options (their records where known, else their codes)."""
        return [self.options.get(pair, pair[1]) for pair in categories_of(column).items()]

    def groups(self) -> list[str]:
        """The whole area's columns of one option each (girls, boys…) in any period, in order:
        the lines a chart draws beside the total (combinations stay in the tables)."""
        found = {
            column
            for b in self.breakdowns
            for (unit_id, column) in b.cells
            if unit_id is None and len(categories_of(column)) == 1
        }
        return sorted(found, key=lambda c: _column_order(c, self.options))

    def group_name(self, column: str) -> str:
        """A column as readers name it: its options' names in the language shown ("หญิง · ม้ง")."""
        return " · ".join(
            o if isinstance(o, str) else localized(o) for o in self.column_options(column)
        )

    def values(self, column: str) -> dict[str, float]:
        """The whole area's value of one column by period, where it has one."""
        out: dict[str, float] = {}
        for b in self.breakdowns:
            cell = b.cells.get((None, column))
            if cell is not None and cell.value is not None:
                out[b.period] = cell.value
        return out


ROLE_ORDER = {"numerator": 0, "denominator": 1, "term": 2}


def computed_kpi(session: Session, area: Area, kpi: KPI) -> ComputedKPI | None:
    """A computed KPI's formula and breakdown tables (None when entered by hand)."""
    return computed_kpis(session, area, [kpi]).get(kpi.id or 0)


def computed_kpis(session: Session, area: Area, kpis: Iterable[KPI]) -> dict[int, ComputedKPI]:
    """The computed ones among these KPIs, by id, with their formulas and breakdown tables: four
    queries whatever the number of KPIs, cells, units or options (none when none is computed)."""
    wanted = {k.id: k for k in kpis if k.compute_method and k.id is not None}
    if not wanted:
        return {}
    rows = session.exec(
        select(KPIComputeTerm, DataItem)
        .join(DataItem, col(DataItem.id) == KPIComputeTerm.data_item_id)
        .where(col(KPIComputeTerm.kpi_id).in_(sorted(wanted)))
    ).all()
    terms: dict[int, list[tuple[DataItem, str]]] = defaultdict(list)
    for t, i in rows:
        terms[t.kpi_id].append((i, t.role))
    cells = computed_cells(session, sorted(wanted))
    units = {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.area_id == area.id))}
    set_codes = {
        code for here in cells.values() for c in here for code in categories_of(c.categories)
    }
    sets: dict[str, CategorySet] = {}
    options: dict[tuple[str, str], CategoryOption] = {}
    if set_codes:
        query = (
            select(CategorySet, CategoryOption)
            .join(CategoryOption, col(CategoryOption.set_id) == CategorySet.id)
            .where(
                col(CategorySet.code).in_(sorted(set_codes)),
                (col(CategorySet.area_id) == area.id) | col(CategorySet.area_id).is_(None),
            )
        )
        for s, o in session.exec(query):
            sets[s.code] = s
            options[(s.code, o.code)] = o
    return {
        kpi_id: ComputedKPI(
            kpi,
            sorted(terms[kpi_id], key=lambda p: (ROLE_ORDER[p[1]], p[0].id)),
            _breakdowns(cells[kpi_id], units, options),
            options,
            sets,
        )
        for kpi_id, kpi in wanted.items()
    }


def _breakdowns(
    cells: list[ComputedValue],
    units: dict[int | None, OrgUnit],
    options: dict[tuple[str, str], CategoryOption],
) -> list[Breakdown]:
    """A KPI's cells as one table per period, newest first."""
    by_period: dict[str, list[ComputedValue]] = defaultdict(list)
    for c in cells:
        by_period[c.period].append(c)
    breakdowns = []
    for period in sorted(by_period, key=lambda p: period_span(p).ends_on, reverse=True):
        here = by_period[period]
        unit_ids = {c.unit_id for c in here if c.unit_id is not None}
        order = sorted(
            unit_ids, key=lambda u: (units[u].position, units[u].name) if u in units else (0, "")
        )
        columns = sorted({c.categories for c in here}, key=lambda c: _column_order(c, options))
        breakdowns.append(
            Breakdown(
                period,
                [None, *(units[u] for u in order if u in units)],
                columns,
                {(c.unit_id, c.categories): c for c in here},
            )
        )
    return breakdowns


def _column_order(
    column: str, options: dict[tuple[str, str], CategoryOption]
) -> tuple[int, list[tuple[str, int, str]]]:
    """The total first, then one option alone, then combinations; by set and option position."""
    parts = categories_of(column)
    key = [(s, getattr(options.get((s, o)), "position", 0), o) for s, o in sorted(parts.items())]
    return len(parts), key
