"""The demo gives Mae Hong Son a data catalogue with values, marked as demo data, and two KPIs
computed from them: completeness and timeliness have something to show."""

from datetime import date

from sqlmodel import Session, select

from app.models import KPI, ComputedValue, DataItem, DataValue, Measurement, OrgUnit
from app.services import seeding, shared_data
from tests import factories as f


def test_mae_hong_son_demo_has_computed_kpis_from_demo_values(session: Session) -> None:
    area = f.area(session, "mae-hong-son")
    demo = seeding.load_yaml(seeding.SEEDS / "demo" / "mae-hong-son.yaml")
    seeding.load_demo_plan(session, area, demo)
    units = session.exec(select(OrgUnit).where(OrgUnit.area_id == area.id)).all()
    assert {u.code for u in units if u.kind == "school"} >= {"9958010001", "9958020002"}
    sources = set(session.exec(select(DataValue.source)))
    assert sources == {"ข้อมูลสาธิต (สมมุติขึ้น ไม่ใช่ข้อมูลจริง)"}
    kpi1 = session.exec(select(KPI).where(KPI.code == "KPI1")).one()
    assert kpi1.compute_method == "ratio" and kpi1.compute_scale == 100
    values = {
        m.period: (round(m.value, 1), m.source)
        for m in session.exec(select(Measurement).where(Measurement.kpi_id == kpi1.id))
    }
    assert values["AY2567"] == (63.0, "computed")  # 92 of 146 pupils tested
    cells = session.exec(select(ComputedValue).where(ComputedValue.kpi_id == kpi1.id)).all()
    assert any(c.categories == "ethnic_language=karen" and c.unit_id for c in cells)
    assert any(c.reason == "zero_denominator" for c in cells)  # no Lisu pupils tested there
    kpi5 = session.exec(select(KPI).where(KPI.code == "KPI5")).one()
    assert kpi5.compute_method == "ratio"
    # the provincial office reports late; the ESA office on time
    view = shared_data.completeness(session, area, today=date(2026, 12, 1))
    items = {i.name: i for i in session.exec(select(DataItem).where(DataItem.area_id == area.id))}
    tested = items["จำนวนนักเรียน ป.1 ที่เข้ารับการประเมินการอ่าน (RT)"]
    dropouts = items["จำนวนนักเรียนที่ออกกลางคันระหว่างปีการศึกษา แยกตามเขตพื้นที่"]
    assert (
        view.cells[(tested.id, "AY2568")].percent,
        view.cells[(tested.id, "AY2568")].on_time_percent,
    ) == (75, 75)
    assert view.cells[(dropouts.id, "AY2567")].on_time_percent == 0
