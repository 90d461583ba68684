"""The demo's shared data (a demo file's `shared_data`, see seeds/demo/FORMAT.md): an area's
own category sets, reporting units with codes, data items with their values by period, unit and
category option (each value's source saying it is demo data), and KPIs computed from them.

Values go through `shared_data.put_values` (audited, KPIs recomputed) and are then dated as if
entered `entered_after_days` after their period ended, so that completeness and timeliness have
something to show."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.models import (
    KPI,
    Area,
    CategoryOption,
    CategorySet,
    DataItem,
    DataItemCategorySet,
    DataValue,
    OrgUnit,
    Plan,
)
from app.periods import period_span
from app.services import audit, resources, shared_data
from app.services.errors import ValidationFailed

SHAPE_FIELDS = ("measure", "period_type", "reported_by", "due_days")


def load(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    plan: Plan,
    data: dict[str, Any],
    items: dict[str, int],
    kpis: dict[str, int],
    agency: Any,
) -> None:
    """Load `data` (the file's `shared_data`); `items` maps the catalogue's keys to ids (new
    items are added to it), `kpis` the plan's KPI codes, `agency(code)` an agency's id."""
    sets = {
        entry["code"]: _category_set(session, area, entry)
        for entry in data.get("category_sets", [])
    }
    wanted = {code for entry in data.get("items", []) for code in entry.get("breakdowns", [])}
    national = select(CategorySet).where(
        col(CategorySet.area_id).is_(None), col(CategorySet.code).in_(sorted(wanted - set(sets)))
    )
    sets |= {s.code: s for s in session.exec(national)}  # national sets need no entry
    units = _units(session, area, data.get("units", []))
    source = data.get("source", "ข้อมูลสาธิต")
    for entry in data.get("items", []):
        item = _item(session, actor, area, entry, items, agency)
        for code in entry.get("breakdowns", []):
            session.add(DataItemCategorySet(data_item_id=item.id, set_id=sets[code].id))
        session.commit()
        for period, by_unit in (entry.get("values") or {}).items():
            rows = list(_rows(str(period), by_unit, units, entry.get("breakdowns", [])))
            shared_data.put_values(
                session, actor=actor, area=area, item=item, rows=rows, source=source
            )
            session.commit()
            _date_values(session, item, str(period), entry.get("entered_after_days", 30))
    for entry in data.get("computed", []):
        _compute(session, actor, area, plan, entry, items, kpis)


def _category_set(session: Session, area: Area, entry: dict[str, Any]) -> CategorySet:
    found = session.exec(
        select(CategorySet).where(CategorySet.area_id == area.id, CategorySet.code == entry["code"])
    ).first()
    if found:
        return found
    row = CategorySet(
        area_id=area.id,
        code=entry["code"],
        name_th=entry["name_th"],
        name_en=entry.get("name_en", ""),
    )
    session.add(row)
    session.flush()
    for position, option in enumerate(entry.get("options", [])):
        session.add(
            CategoryOption(
                set_id=row.id,
                code=option["code"],
                name_th=option["name_th"],
                name_en=option.get("name_en", ""),
                position=position,
            )
        )
    session.commit()
    return row


def _units(session: Session, area: Area, entries: list[dict[str, Any]]) -> dict[str, OrgUnit]:
    """The units by code: added when missing, their parents set by code."""
    existing = {u.code: u for u in session.exec(select(OrgUnit).where(OrgUnit.area_id == area.id))}
    start = len(existing)
    for position, entry in enumerate(entries, start=start):
        if entry["code"] in existing:
            continue
        unit = OrgUnit(
            area_id=area.id,
            kind=entry["kind"],
            name=entry["name"],
            code=entry["code"],
            position=position,
        )
        session.add(unit)
        session.flush()
        existing[unit.code] = unit
    for entry in entries:
        if entry.get("parent"):
            existing[entry["code"]].parent_id = existing[entry["parent"]].id
    session.commit()
    return {code: u for code, u in existing.items() if code}


def _item(
    session: Session,
    actor: audit.Actor,
    area: Area,
    entry: dict[str, Any],
    items: dict[str, int],
    agency: Any,
) -> DataItem:
    """The catalogue's item of this key, or a new one; its shape set from the entry."""
    key = entry["key"]
    if key not in items:
        values = {k: entry.get(k, "") for k in ("name", "description", "source_system")}
        values["custodian_agency_id"] = agency(entry.get("custodian"))
        try:
            row = resources.create_data_item(session, actor=actor, area=area, item_in=values)
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} data item {key!r}: {exc}") from None
        items[key] = row.id
    item = session.get(DataItem, items[key])
    assert item is not None
    # the shape (what its values are counted in, per which period and unit) has no form yet
    for name in SHAPE_FIELDS:
        if name in entry:
            setattr(item, name, entry[name])
    session.add(item)
    session.commit()
    return item


def _rows(
    period: str, by_unit: dict[str, Any], units: dict[str, OrgUnit], breakdowns: list[str]
) -> Any:
    """{unit code: value | {option: value}} as put_values' rows."""
    for code, value in by_unit.items():
        unit = str(code) if code != "area" else None
        if str(code) != "area" and str(code) not in units:
            raise ValueError(f"shared data: no unit with code {code!r}")
        if isinstance(value, dict):
            for option, number in value.items():
                categories = {breakdowns[0]: option}
                yield {"period": period, "unit": unit, "categories": categories, "value": number}
        else:
            yield {"period": period, "unit": unit, "value": value}


def _date_values(session: Session, item: DataItem, period: str, days: int) -> None:
    """Date the period's values `days` after the period ended (never in the future)."""
    day = period_span(period).ends_on + timedelta(days=days)
    moment = min(datetime.combine(day, time(10), tzinfo=UTC), datetime.now(UTC))
    query = select(DataValue).where(DataValue.data_item_id == item.id, DataValue.period == period)
    for value in session.exec(query):
        value.entered_at = moment
        session.add(value)
    session.commit()


def _compute(
    session: Session,
    actor: audit.Actor,
    area: Area,
    plan: Plan,
    entry: dict[str, Any],
    items: dict[str, int],
    kpis: dict[str, int],
) -> None:
    kpi = session.exec(select(KPI).where(col(KPI.id) == kpis[entry["kpi"]])).one()
    given = {"method": entry["method"], "scale": entry.get("scale")}
    if entry["method"] == "ratio":
        given |= {
            "numerator": items[entry["numerator"]],
            "denominator": items[entry["denominator"]],
        }
    elif entry["method"] == "item":
        given["item"] = items[entry["item"]]
    else:
        given["items"] = [items[k] for k in entry["items"]]
    computation = shared_data.check_computation(session, area, kpi, given)
    shared_data.set_computation(
        session, actor=actor, area=area, plan=plan, kpi=kpi, computation=computation
    )
    publish = {"type": "plan.changed", "plan_id": plan.id, "entity": "kpi", "id": kpi.id}
    audit.finish(session, area_id=area.id, publish=publish, inserts=True)
