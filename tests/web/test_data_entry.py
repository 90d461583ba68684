"""A custodian agency's values in the browser: "my data for this period" (a grid per data item,
saved all or nothing), the values table of an item, and the agency's workbook (template, preview,
all-or-nothing confirm)."""

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from app.i18n import thai_today
from app.models import DataItem, DataItemCategorySet, DataValue, Measurement
from app.services import shared_data
from tests import factories as f
from tests.conftest import sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENTRY = "/areas/krabi/data/entry"


@pytest.fixture
def entry(session: Session) -> dict:
    """Krabi's primary ESA keeps three items for academic years: pupils who read fluently and
    pupils tested (per school, by sex), and the area's count of reading volunteers; a KPI is the
    ratio of the first two × 100."""
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    area = f.area(session)
    agency = f.agency(session, "krabi")
    sex = f.sex_set(session, area.id)
    units = f.schools(session, area.id)
    keep = {"custodian_agency_id": agency.id}
    readers = f.data_item(session, area.id, "จำนวนนักเรียน ป.1 ที่อ่านคล่อง", **keep)
    tested = f.data_item(session, area.id, "จำนวนนักเรียน ป.1 ที่เข้ารับการประเมิน", **keep)
    volunteers = f.data_item(session, area.id, "จำนวนอาสาสมัครส่งเสริมการอ่าน", by_unit=False, **keep)
    for item in (readers, tested):
        session.add(DataItemCategorySet(data_item_id=item.id, set_id=sex.id))
    session.commit()
    ratio = {"method": "ratio", "numerator": readers.id, "denominator": tested.id, "scale": 100}
    computation = shared_data.check_computation(session, area, kpi, ratio)
    shared_data.set_computation(
        session, actor=f.ACTOR, area=area, plan=plan, kpi=kpi, computation=computation
    )
    session.commit()
    return {
        "kpi": kpi,
        "area": area,
        "agency": agency,
        "units": units,
        "items": [readers, tested, volunteers],
    }


def _name(item: DataItem, unit_id: int | None, column: int) -> str:
    return f"v-{item.id}-{unit_id or 0}-{column}"


def _form(entry: dict, cells: dict[str, str], source: str = "DMC 10 มิ.ย. 2568") -> dict:
    return {"agency": str(entry["agency"].id), "period": "AY2567", "source": source, **cells}


def _grid(entry: dict, second_item_cell: str = "70") -> dict[str, str]:
    """Both schools' male (column 0) and female (column 1) counts of the first two items."""
    readers, tested, _ = entry["items"]
    one, two = (u.id for u in entry["units"])
    return {
        _name(readers, one, 0): "40",
        _name(readers, one, 1): "๔๕",  # Thai digits
        _name(readers, two, 0): "10",
        _name(readers, two, 1): "12",
        _name(tested, one, 0): "50",
        _name(tested, one, 1): second_item_cell,
        _name(tested, two, 0): "20",
        _name(tested, two, 1): "20",
    }


def test_the_entry_page_shows_a_grid_per_item_of_the_agency(
    client: TestClient, session: Session, entry: dict
) -> None:
    readers, tested, volunteers = entry["items"]
    shared_data.put_values(
        session,
        actor=f.ACTOR,
        area=entry["area"],
        item=readers,
        rows=[
            {
                "period": "AY2567",
                "unit": "1058100101",
                "categories": {"sex_t": "female"},
                "value": 33,
            }
        ],
    )
    catalogue = client.get("/areas/krabi/data").text
    assert f'href="{ENTRY}"' in catalogue
    assert f"/areas/krabi/data/{readers.id}/values" in catalogue
    page = client.get(ENTRY, params={"agency": entry["agency"].id, "period": "AY2567"})
    assert page.status_code == 200
    text = page.text
    for item in entry["items"]:
        assert f'id="entry-item-{item.id}"' in text
    assert "โรงเรียนบ้านห้วยโป่ง" in text and "หญิง" in text and "ทั้งพื้นที่" in text
    assert "ปีการศึกษา 2567" in text
    filled = _name(readers, entry["units"][0].id, 1)
    assert re.search(rf'name="{filled}" value="33"', text)
    assert text.count('inputmode="decimal"') == 2 * 2 * 2 + 1
    # the default period is the last academic year that has ended
    assert client.get(ENTRY).status_code == 200


def test_saving_stores_every_item_at_once_and_computes_the_kpi(
    client: TestClient, session: Session, entry: dict
) -> None:
    readers, tested, volunteers = entry["items"]
    cells = {**_grid(entry), _name(volunteers, None, 0): "๑๒"}
    saved = client.post(ENTRY, data=_form(entry, cells), follow_redirects=False)
    assert saved.status_code == 303, saved.text[-1500:]
    assert "saved=9" in saved.headers["location"]
    stored = session.exec(select(DataValue)).all()
    assert len(stored) == 9
    assert {v.source for v in stored} == {"DMC 10 มิ.ย. 2568"}
    assert {v.value for v in stored if v.data_item_id == volunteers.id} == {12.0}
    kpi_value = session.exec(select(Measurement).where(Measurement.kpi_id == entry["kpi"].id)).one()
    assert kpi_value.source == "computed"
    assert kpi_value.value == pytest.approx(100 * (40 + 45 + 10 + 12) / (50 + 70 + 20 + 20))
    # an emptied cell clears its value; the rest stay
    cells[_name(volunteers, None, 0)] = ""
    again = client.post(ENTRY, data=_form(entry, cells), follow_redirects=True)
    assert "บันทึกแล้ว" in again.text
    assert len(session.exec(select(DataValue)).all()) == 8


def test_one_bad_cell_in_the_second_item_saves_nothing_and_keeps_what_was_typed(
    client: TestClient, session: Session, entry: dict
) -> None:
    readers, tested, _ = entry["items"]
    bad = _name(tested, entry["units"][0].id, 1)
    answer = client.post(ENTRY, data=_form(entry, _grid(entry, "เจ็ดสิบ")))
    assert answer.status_code == 422
    assert session.exec(select(DataValue)).all() == []
    text = answer.text
    assert "ไม่มีอะไรถูกบันทึก" in text
    beside = re.search(
        rf'<td class="has-error"><input id="{bad}" name="{bad}" value="เจ็ดสิบ"[^>]*'
        rf'aria-describedby="{bad}-error"><span class="error" id="{bad}-error">([^<]+)</span>',
        text,
    )
    assert beside, text[text.find(bad) - 200 : text.find(bad) + 600]
    assert "ระบุเป็นตัวเลข" in beside.group(1)
    assert f'name="{_name(readers, entry["units"][0].id, 1)}" value="๔๕"' in text
    assert 'value="DMC 10 มิ.ย. 2568"' in text


def test_a_viewer_cannot_enter_values_but_reads_them(
    app_client, session: Session, entry: dict
) -> None:  # noqa: ANN001
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    assert viewer.get(ENTRY).status_code == 403
    assert viewer.post(ENTRY, data=_form(entry, _grid(entry))).status_code == 403
    assert session.exec(select(DataValue)).all() == []
    readers = entry["items"][0]
    values = viewer.get(f"/areas/krabi/data/{readers.id}/values")
    assert values.status_code == 200
    assert "/data/entry" not in values.text  # no link that would refuse them
    assert "/data/entry" not in viewer.get("/areas/krabi/data").text


def test_the_values_table_shows_units_groups_totals_and_who_entered_them(
    client: TestClient, session: Session, entry: dict, admin
) -> None:  # noqa: ANN001
    readers = entry["items"][0]
    client.post(ENTRY, data=_form(entry, _grid(entry)))
    page = client.get(f"/areas/krabi/data/{readers.id}/values")
    assert page.status_code == 200
    text = page.text
    assert "ปีการศึกษา 2567" in text
    assert "โรงเรียนบ้านห้วยโป่ง" in text and "โรงเรียนบ้านแม่สะมาด" in text
    assert re.search(r"<th[^>]*>ชาย</th>\s*<th[^>]*>หญิง</th>\s*<th[^>]*>รวม</th>", text)
    row = text[text.find("โรงเรียนบ้านห้วยโป่ง") :]
    assert re.search(r'>40</td><td class="num">45</td>\s*<td class="num total">85</td>', row)
    foot = text[text.find("<tfoot>") :]
    assert re.search(r'>50</td><td class="num">57</td>\s*<td class="num total">107</td>', foot)
    assert admin.display_name in text
    assert str(thai_today().year + 543) in text
    assert "DMC 10 มิ.ย. 2568" in text


def _template(client: TestClient, entry: dict) -> tuple[object, object]:
    got = client.get(
        "/areas/krabi/data/entry.xlsx", params={"agency": entry["agency"].id, "period": "AY2567"}
    )
    assert got.status_code == 200
    assert got.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(got.content))
    return book, book.worksheets[0]


def _upload(client: TestClient, book: object, path: str = "/areas/krabi/data/entry/import"):  # noqa: ANN202
    out = io.BytesIO()
    book.save(out)
    return client.post(path, files={"file": ("ข้อมูล สพป.xlsx", out.getvalue(), XLSX)})


def test_the_workbook_holds_the_stored_values_and_imports_after_a_preview(
    client: TestClient, session: Session, entry: dict
) -> None:
    readers, tested, volunteers = entry["items"]
    client.post(ENTRY, data=_form(entry, _grid(entry)))
    book, sheet = _template(client, entry)
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["รหัสช่วงเวลา", "รายการข้อมูล", "รหัสหน่วย", "ชื่อหน่วย"]
    assert "ชาย [sex_t=male]" in header and "ค่า" in header
    rows = {(r[1].value, r[2].value): r for r in sheet.iter_rows(min_row=2)}
    assert len(rows) == 2 + 2 + 1
    male, female, value = (
        header.index(t) for t in ("ชาย [sex_t=male]", "หญิง [sex_t=female]", "ค่า")
    )
    first = rows[(readers.name, "1058100101")]
    assert (first[male].value, first[female].value) == (40, 45)
    first[female].value = 46  # changed
    rows[(readers.name, "1058100102")][male].value = None  # cleared
    rows[(volunteers.name, None)][value].value = "๙"  # added
    preview = _upload(client, book)
    assert preview.status_code == 200, preview.text[-2000:]
    assert "3 รายการ" in preview.text or "3 การเปลี่ยนแปลง" in preview.text
    assert (
        session.exec(select(DataValue).where(DataValue.data_item_id == volunteers.id)).all() == []
    )
    digest = re.search(r'action="/areas/krabi/data/entry/import/([0-9a-f]+)', preview.text).group(1)
    assert 'name="filename" value="ข้อมูล สพป.xlsx"' in preview.text
    done = client.post(
        f"/areas/krabi/data/entry/import/{digest}",
        data={"filename": "ข้อมูล สพป.xlsx"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    values = {(v.data_item_id, v.cell): v.value for v in session.exec(select(DataValue))}
    one, two = (u.id for u in entry["units"])
    assert values[(readers.id, f"AY2567/{one}/sex_t=female")] == 46
    assert (readers.id, f"AY2567/{two}/sex_t=male") not in values
    assert values[(volunteers.id, "AY2567//")] == 9
    assert {
        v.source
        for v in session.exec(select(DataValue).where(DataValue.data_item_id == volunteers.id))
    } == {"นำเข้าจาก ข้อมูล สพป.xlsx"}
    # the same digest twice: it no longer waits
    assert client.post(f"/areas/krabi/data/entry/import/{digest}").status_code == 422


def test_a_workbook_with_one_bad_row_imports_nothing(
    client: TestClient, session: Session, entry: dict
) -> None:
    readers, _, volunteers = entry["items"]
    book, sheet = _template(client, entry)
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    rows[0][header.index("ชาย [sex_t=male]")].value = 41
    rows[1][header.index("หญิง [sex_t=female]")].value = "หลายคน"
    rows[2][2].value = "9999999999"  # no such school
    rows[-1][header.index("ชาย [sex_t=male]")].value = 3  # the area's item has no groups
    preview = _upload(client, book)
    assert preview.status_code == 422
    text = preview.text
    assert "พบปัญหา 3 จุด จึงไม่ได้บันทึกสิ่งใด" in text
    assert "ระบุเป็นตัวเลข" in text and "9999999999" in text
    assert "/areas/krabi/data/entry/import/" not in text  # no confirm button
    assert session.exec(select(DataValue)).all() == []


def test_a_file_that_is_not_a_workbook_is_refused_beside_the_upload(
    client: TestClient, entry: dict
) -> None:
    answer = client.post(
        "/areas/krabi/data/entry/import", files={"file": ("x.xlsx", b"not a zip at all", XLSX)}
    )
    assert answer.status_code == 422
    assert 'id="import-file-error"' in answer.text
