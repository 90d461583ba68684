"""Who owes which data: the data catalogue page's completeness per custodian agency and item
for the last ended periods, and the `/review` column of each area's share of reports received."""

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.i18n import thai_today
from app.models import DataItem, DataValue
from app.periods import period_span
from app.services import shared_data
from tests import factories as f


def _last_year() -> str:
    return shared_data.ended_periods("academic_year", thai_today(), 1)[0]


def _world(session: Session) -> dict:
    """Krabi: the primary ESA office owes pupils tested per school (one of two schools sent,
    late); the provincial office owes the area's budget (sent on time)."""
    area = f.area(session)
    f.make_plan(session)
    f.schools(session, area.id)
    esa, peo = f.agency(session, "krabi"), f.agency(session, "krabi", "peo")
    tested = DataItem(
        area_id=area.id,
        name="จำนวนนักเรียนที่เข้ารับการประเมิน",
        period_type="academic_year",
        reported_by="school",
        custodian_agency_id=esa.id,
    )
    budget = DataItem(
        area_id=area.id,
        name="งบประมาณด้านการศึกษาของจังหวัด",
        period_type="academic_year",
        custodian_agency_id=peo.id,
    )
    session.add_all([tested, budget])
    session.commit()
    year = _last_year()
    rows = [{"period": year, "unit": "1058100101", "value": 120}]
    shared_data.put_values(session, actor=f.ACTOR, area=area, item=tested, rows=rows)
    rows = [{"period": year, "value": 2500000}]
    shared_data.put_values(session, actor=f.ACTOR, area=area, item=budget, rows=rows)
    session.commit()
    on_time = period_span(year).ends_on + timedelta(days=10)
    for value in session.exec(select(DataValue).where(DataValue.data_item_id == budget.id)):
        value.entered_at = datetime(on_time.year, on_time.month, on_time.day, 9)
        session.add(value)
    session.commit()
    return {"esa": esa, "peo": peo, "tested": tested, "budget": budget, "year": year}


def test_data_page_says_who_owes_which_data(client: TestClient, session: Session) -> None:
    w = _world(session)
    page = client.get("/areas/krabi/data").text
    section = page.split('id="completeness"')[1].split("</section>")[0]
    assert "ใครส่งข้อมูลครบแล้ว" in section
    esa_row = section.split(f'id="completeness-agency-{w["esa"].id}"')[1].split("</tr>")[0]
    peo_row = section.split(f'id="completeness-agency-{w["peo"].id}"')[1].split("</tr>")[0]
    assert "สพป." in esa_row and "1/2" in esa_row
    assert (
        "ครบถ้วนร้อยละ 50" in esa_row and "ตรงเวลาร้อยละ 0" in esa_row
    )  # one school of two, after the due date
    assert "1/1" in peo_row and "ครบถ้วนร้อยละ 100" in peo_row and "ตรงเวลาร้อยละ 100" in peo_row
    items = section.split(f"ของ {w['esa'].name_th}")[1].split("</details>")[0]
    assert "จำนวนนักเรียนที่เข้ารับการประเมิน" in items and "งบประมาณ" not in items
    assert "กำหนดส่ง" in items


def test_review_shows_each_areas_share_of_data_reported(
    client: TestClient, session: Session
) -> None:
    _world(session)
    f.make_plan(session, "phuket")
    page = client.get("/review?group=all").text
    assert "ส่งข้อมูลแล้ว" in page.split("</thead>")[0]
    krabi = page.split('id="review-krabi"')[1].split("</tr>")[0]
    assert "67%" in krabi  # 2 of the 3 reports expected (two schools' and the area's)
    assert "/areas/krabi/data#completeness" in krabi
    phuket = page.split('id="review-phuket"')[1].split("</tr>")[0]
    assert 'class="num data-reported"><span class="muted"' in phuket  # no catalogue
