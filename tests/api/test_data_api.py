"""The province's shared data through the API: data items, their values by period, unit and
category, KPIs computed from them (with breakdowns, a missing or zero denominator), all or
nothing, with every bad row named; completeness per item and agency."""

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import (
    AuditEvent,
    ComputedValue,
    DataItem,
    DataValue,
    Measurement,
)
from app.services import shared_data
from tests import factories as f


def _item(session: Session, area_id: int, name: str, *, by_unit: bool = True, **kw) -> DataItem:
    return f.data_item(session, area_id, name, by_unit=by_unit, **kw)


@pytest.fixture
def shared(session: Session) -> dict:
    return f.shared_data(session, "จำนวนนักเรียน ป.1 ที่อ่านคล่อง", "จำนวนนักเรียน ป.1 ที่เข้ารับการประเมิน")


_cells = f.sex_cells


def test_a_custodian_puts_values_by_unit_and_sex_and_reads_them_back(
    client: TestClient, session: Session, shared: dict
) -> None:
    item = shared["num"]
    url = f"/api/v1/data-items/{item.id}/values"
    body = {"values": _cells("1058100101", 40, "๔๕"), "source": "DMC 10 มิ.ย. 2567"}
    saved = client.put(url, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"item": item.id, "added": 2, "changed": 0, "cleared": 0, "unchanged": 0}
    listing = client.get(url, params={"period": "ay2567"}).json()["values"]
    assert [(v["unit"], v["categories"], v["value"]) for v in listing] == [
        ("1058100101", {"sex_t": "female"}, 45.0),
        ("1058100101", {"sex_t": "male"}, 40.0),
    ]
    assert {v["source"] for v in listing} == {"DMC 10 มิ.ย. 2567"}
    # the same list again changes nothing; null clears a cell
    again = client.put(url, json=_cells("1058100101", 40, 45)).json()
    assert again["unchanged"] == 2
    cleared = client.put(url, json=[{**_cells("1058100101", 40, 45)[0], "value": None}]).json()
    assert cleared["cleared"] == 1
    assert [v.value for v in session.exec(select(DataValue))] == [45.0]
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "data_value")).all()
    assert len(events) == 2  # the add and the clear; the no-op wrote nothing


def test_bad_rows_are_each_named_and_nothing_is_stored(
    client: TestClient, session: Session, shared: dict
) -> None:
    item = shared["num"]
    rows = [
        {"period": "AY2567", "unit": "1058100101", "categories": {"sex_t": "male"}, "value": 4},
        {"period": "FY2567", "unit": "1058100101", "value": 1},  # the item is per academic year
        {"period": "AY2567", "unit": "9999", "value": 1},  # no such school
        {"period": "AY2567", "unit": "1058100101", "categories": {"sex_t": "x"}, "value": 1},
        {"period": "AY2567", "unit": "1058100101", "categories": {"eth": "karen"}, "value": 1},
        {"period": "AY2567", "unit": "1058100101", "categories": {"sex_t": "male"}, "value": 2},
        {"period": "AY2567", "value": "ดี"},
        "twelve",
    ]
    answer = client.put(f"/api/v1/data-items/{item.id}/values", json=rows)
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert sorted(errors) == [f"row-{n}" for n in range(2, 9)]
    assert "row 1" in errors["row-6"] or "1" in errors["row-6"]  # the duplicate names its twin
    assert session.exec(select(DataValue)).all() == []
    for bad in ({"values": "x"}, [], {"values": [], "source": 5}, 5, "ค่า"):
        assert client.put(f"/api/v1/data-items/{item.id}/values", json=bad).status_code == 422
    area_item = _item(session, shared["area"].id, "งบประมาณรวม", by_unit=False)
    per_unit = [{"period": "AY2567", "unit": "1058100101", "value": 1}]
    refused = client.put(f"/api/v1/data-items/{area_item.id}/values", json=per_unit)
    assert refused.status_code == 422 and "row-1" in refused.json()["errors"]


def test_a_ratio_kpi_is_computed_per_period_unit_and_sex_and_recomputed_on_change(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi, num, den = shared["kpi"], shared["num"], shared["den"]
    for item, cells in (
        (num, _cells("1058100101", 30, 36) + _cells("1058100102", 10, 14)),
        (den, _cells("1058100101", 40, 40) + _cells("1058100102", 20, 20)),
    ):
        assert client.put(f"/api/v1/data-items/{item.id}/values", json=cells).status_code == 200
    computation = {"method": "ratio", "numerator": num.id, "denominator": den.id, "scale": 100}
    patched = client.patch(
        f"/api/v1/areas/krabi/plan/kpis/{kpi.id}", json={"computation": computation}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["computation"]["numerator"] == num.id
    listing = client.get(f"/api/v1/kpis/{kpi.id}/measurements").json()
    period = next(p for p in listing["periods"] if p["period"] == "AY2567")
    assert (period["value"], period["source"]) == (75.0, "computed")  # 90 of 120
    cells = {(c["unit"], tuple(c["categories"].items())): c["value"] for c in period["breakdown"]}
    assert cells[("1058100101", ())] == 82.5  # 66 of 80
    assert cells[("1058100102", (("sex_t", "female"),))] == 70.0
    assert cells[(None, (("sex_t", "male"),))] == pytest.approx(66.666667)

    # a new value moves the KPI in the same write; the change is audited and published
    url = f"/api/v1/data-items/{num.id}/values"
    assert client.put(url, json=_cells("1058100102", 20, 14)).status_code == 200
    session.expire_all()
    m = session.exec(select(Measurement).where(Measurement.kpi_id == kpi.id)).one()
    assert (m.value, m.source) == (pytest.approx(83.333333), "computed")
    # the grid refuses a typed value for a computed KPI
    typed = client.put(f"/api/v1/kpis/{kpi.id}/measurements/AY2568", json={"value": 50})
    assert typed.status_code == 422 and "value" in typed.json()["errors"]


def test_a_missing_or_zero_denominator_gives_no_value_with_its_reason(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi, num, den = shared["kpi"], shared["num"], shared["den"]
    client.put(f"/api/v1/data-items/{num.id}/values", json=_cells("1058100101", 3, 4, "AY2566"))
    client.put(f"/api/v1/data-items/{den.id}/values", json=_cells("1058100101", 0, 0, "AY2566"))
    client.put(f"/api/v1/data-items/{num.id}/values", json=_cells("1058100101", 5, 5))
    computation = {"method": "ratio", "numerator": num.id, "denominator": den.id, "scale": 100}
    client.patch(f"/api/v1/areas/krabi/plan/kpis/{kpi.id}", json={"computation": computation})
    totals = {
        c.period: (c.value, c.reason)
        for c in session.exec(select(ComputedValue).where(ComputedValue.cell.endswith("//")))
    }
    assert totals == {"AY2566": (None, "zero_denominator"), "AY2567": (None, "no_denominator")}
    assert session.exec(select(Measurement)).all() == []
    page = client.get(f"/api/v1/kpis/{kpi.id}/measurements").json()
    ay2566 = next(p for p in page["periods"] if p["period"] == "AY2566")
    assert {c["reason"] for c in ay2566["breakdown"]} == {"zero_denominator"}


def test_bad_computations_are_refused_and_change_nothing(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi, num, den = shared["kpi"], shared["num"], shared["den"]
    other = _item(session, f.area(session, "mae-hong-son").id, "จำนวนครู")
    fiscal = _item(session, shared["area"].id, "งบประมาณ", period_type="fiscal_year")
    url = f"/api/v1/areas/krabi/plan/kpis/{kpi.id}"
    for bad in (
        {"method": "ratio", "numerator": num.id, "denominator": other.id},  # another area's
        {"method": "ratio", "numerator": num.id},  # no denominator
        {"method": "sum", "items": [num.id, fiscal.id]},  # fiscal years, the KPI academic ones
        {"method": "median", "items": [num.id]},
        {"method": "ratio", "numerator": num.id, "denominator": den.id, "scale": 0},
        {"method": "sum", "items": [num.id, num.id]},
        {"method": "item", "item": "๑"},
        "ratio",
    ):
        answer = client.patch(url, json={"computation": bad, "name": "เปลี่ยนชื่อ"})
        assert answer.status_code == 422, bad
        assert "computation" in answer.json()["errors"]
    session.expire_all()
    stored = session.get(type(kpi), kpi.id)
    assert (stored.compute_method, stored.name) == (None, kpi.name)
    stale = client.patch(url, json={"computation": None, "version": 99})
    assert stale.status_code == 409


def test_sum_and_mean_and_back_to_hand_entry(
    client: TestClient, session: Session, shared: dict
) -> None:
    plan, area = shared["plan"], shared["area"]
    kpi = f.make_kpi(session, plan, "KPI2", kind="count", name="จำนวนเด็กนอกระบบที่กลับมาเรียน")
    a = _item(session, area.id, "กลับเข้าระบบ (สพป.)", by_unit=False)
    b = _item(session, area.id, "กลับเข้าระบบ (สกร.)", by_unit=False)
    client.put(f"/api/v1/data-items/{a.id}/values", json=[{"period": "AY2567", "value": 12}])
    client.put(f"/api/v1/data-items/{b.id}/values", json=[{"period": "AY2567", "value": 30}])
    url = f"/api/v1/areas/krabi/plan/kpis/{kpi.id}"
    client.patch(url, json={"computation": {"method": "sum", "items": [a.id, b.id]}})
    assert session.exec(select(Measurement.value)).all() == [42.0]
    client.patch(url, json={"computation": {"method": "mean", "items": [a.id, b.id]}})
    session.expire_all()
    assert session.exec(select(Measurement.value)).all() == [21.0]
    back = client.patch(url, json={"computation": None}).json()
    assert back["computation"] is None
    session.expire_all()
    m = session.exec(select(Measurement)).one()
    assert (m.value, m.source) == (21.0, "entered")  # kept, and now typed in
    assert session.exec(select(ComputedValue)).all() == []


def test_data_items_through_the_api(client: TestClient, session: Session, shared: dict) -> None:
    created = client.post(
        "/api/v1/areas/krabi/data-items",
        json={"name": "จำนวนเด็กพิการเรียนร่วม", "source_system": "SET", "frequency": "yearly"},
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["area"], item["version"]) == ("krabi", 1)
    listed = client.get("/api/v1/areas/krabi/data-items").json()
    assert "จำนวนเด็กพิการเรียนร่วม" in [i["name"] for i in listed]
    url = f"/api/v1/data-items/{item['id']}"
    changed = client.patch(url, json={"source_system": "SET 2567", "version": 1})
    assert changed.status_code == 200 and changed.json()["source_system"] == "SET 2567"
    assert client.patch(url, json={"name": "", "version": 2}).status_code == 422
    assert client.patch(url, json={"name": "x", "version": 1}).status_code == 409
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/data-items/999999/values").status_code == 404


def test_completeness_counts_units_reporting_and_on_time(session: Session, shared: dict) -> None:
    area, num = shared["area"], shared["num"]
    item = session.get(DataItem, num.id)
    item.due_days = 30
    session.add(item)
    session.commit()
    units = shared["units"]
    # AY2566 ends 2024-05-15 (calendar.yaml) or so: one school on time, one late
    span_end = shared_data.period_span("AY2566").ends_on
    early = datetime(span_end.year, span_end.month, span_end.day, tzinfo=UTC)
    late = datetime(span_end.year + 1, 1, 1, tzinfo=UTC)
    for unit, at in ((units[0], early), (units[1], late)):
        session.add(
            DataValue(
                data_item_id=item.id,
                cell=shared_data.cell_key("AY2566", unit.id, ""),
                period="AY2566",
                unit_id=unit.id,
                value=1,
                entered_at=at,
            )
        )
    session.commit()
    view = shared_data.completeness(session, area, today=date(2026, 12, 1))
    assert "AY2566" in view.periods
    c = view.cells[(item.id, "AY2566")]
    assert (c.expected, c.reported, c.on_time, c.percent) == (2, 2, 1, 100)
    nothing = view.cells[(shared["den"].id, "AY2566")]
    assert (nothing.reported, nothing.percent) == (0, 0)
    by_area = shared_data.areas_completeness(session, [area.id], today=date(2026, 12, 1))
    assert by_area[area.id] is not None and by_area[area.id].expected == 4


def test_deleting_an_item_a_kpi_is_computed_from_asks_then_makes_it_entered_by_hand(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi, num, den = shared["kpi"], shared["num"], shared["den"]
    client.put(f"/api/v1/data-items/{num.id}/values", json=_cells("1058100101", 30, 30))
    client.put(f"/api/v1/data-items/{den.id}/values", json=_cells("1058100101", 40, 40))
    computation = {"method": "ratio", "numerator": num.id, "denominator": den.id, "scale": 100}
    client.patch(f"/api/v1/areas/krabi/plan/kpis/{kpi.id}", json={"computation": computation})
    asked = client.delete(f"/api/v1/data-items/{den.id}")
    assert asked.status_code == 409 and asked.json()["current"]["kpis"] == [kpi.id]
    assert client.delete(f"/api/v1/data-items/{den.id}?force=true").status_code == 204
    read = client.get(f"/api/v1/areas/krabi/plan/kpis/{kpi.id}").json()
    assert read["computation"] is None and read["compute_method"] is None
    m = session.exec(select(Measurement)).one()
    session.refresh(m)
    assert (m.value, m.source) == (75.0, "entered")
    # a value typed now is taken again
    typed = client.put(f"/api/v1/kpis/{kpi.id}/measurements/AY2567", json={"value": 70})
    assert typed.status_code == 200
