"""Computed KPIs on the web: the plan editor's "how the value is obtained" fieldset, the KPI
page's mark, formula and breakdown table, the grid's read-only computed cells."""

import html
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from app.models import (
    KPI,
    AuditEvent,
    ComputedValue,
    KPIComputeTerm,
)
from app.services import shared_data
from tests import factories as f

HX = {"HX-Request": "true"}


@pytest.fixture
def shared(session: Session) -> dict:
    return f.shared_data(session, "จำนวนนักเรียนที่อ่านคล่อง", "จำนวนนักเรียนที่เข้ารับการประเมิน")


def _kpi_form(kpi: KPI, **computation: str | list[str]) -> dict:
    return {
        "version": str(kpi.version),
        "code": kpi.code,
        "name": kpi.name,
        "kind": "percentage",
        "period_type": "academic_year",
        "direction": "higher",
        "baseline_value": "62.5",
        "baseline_period": "AY2565",
        "target_value": "75",
        "target_period": "AY2570",
        **computation,
    }


def test_editor_makes_a_kpi_computed_refuses_bad_choices_and_goes_back_to_hand(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi, num, den = shared["kpi"], shared["num"], shared["den"]
    shared_data.put_values(
        session,
        actor=f.ACTOR,
        area=shared["area"],
        item=num,
        rows=f.sex_cells("1058100101", 9, 9),
    )
    session.commit()
    url = f"/areas/krabi/plan/kpis/{kpi.id}"
    form = client.get(f"{url}/edit", headers=HX).text
    assert "วิธีได้มาของค่า" in form and "จำนวนนักเรียนที่อ่านคล่อง" in form
    # a ratio without its denominator: the message beside the fieldset, input kept, nothing saved
    bad = client.put(
        url,
        headers=HX,
        data=_kpi_form(
            kpi,
            compute_method="ratio",
            compute_numerator=str(num.id),
            compute_scale="100",
            name="ชื่อใหม่",
        ),
    )
    assert bad.status_code == 422
    assert "อัตราส่วนต้องมีทั้งตัวตั้งและตัวหาร" in bad.text
    assert 'value="ratio" checked' in bad.text and f'value="{num.id}" selected' in bad.text
    session.expire_all()
    assert session.get(KPI, kpi.id).name != "ชื่อใหม่"
    assert session.exec(select(KPIComputeTerm)).all() == []
    # a good ratio: saved with the KPI's other fields in one write
    good = client.put(
        url,
        headers=HX,
        data=_kpi_form(
            kpi,
            compute_method="ratio",
            compute_numerator=str(num.id),
            compute_denominator=str(den.id),
            compute_scale="100",
            name="ร้อยละนักเรียนที่อ่านคล่อง",
        ),
    )
    assert good.status_code == 200, good.text
    assert "คำนวณจากข้อมูล" in good.text
    session.expire_all()
    saved = session.get(KPI, kpi.id)
    assert (saved.name, saved.compute_method, saved.compute_scale) == (
        "ร้อยละนักเรียนที่อ่านคล่อง",
        "ratio",
        100,
    )
    assert shared_data.computation_of(session, saved)["denominator"] == den.id
    reasons = {c.reason for c in session.exec(select(ComputedValue))}
    assert "no_denominator" in reasons  # no pupils tested entered yet
    again = client.get(f"{url}/edit", headers=HX).text
    assert 'value="ratio" checked' in again and f'value="{den.id}" selected' in again
    # back to hand
    back = client.put(url, headers=HX, data=_kpi_form(saved, compute_method=""))
    assert back.status_code == 200
    session.expire_all()
    assert session.get(KPI, kpi.id).compute_method is None
    assert session.exec(select(ComputedValue)).all() == []
    kinds = [e.entity_type for e in session.exec(select(AuditEvent))]
    assert kinds.count("kpi_computation") == 2


def test_editor_says_when_no_data_item_has_the_kpis_period_type(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi = f.make_kpi(
        session,
        shared["plan"],
        "KPI2",
        period_type="fiscal_year",
        baseline_period="FY2565",
        target_period="FY2570",
    )
    form = client.get(f"/areas/krabi/plan/kpis/{kpi.id}/edit", headers=HX).text
    assert "ยังไม่มีรายการข้อมูลในบัญชีข้อมูลที่มีรอบเวลาเดียวกับตัวชี้วัดนี้" in form
    assert "จำนวนนักเรียนที่อ่านคล่อง" not in form.split("วิธีได้มาของค่า")[1]


def _computed(session: Session, shared: dict) -> KPI:
    """The KPI made a ratio of readers to pupils tested ×100, with values for AY2567: school
    101 40+45 of 60+60, school 102 none tested (0) so its cells have no value."""
    area, kpi, num, den = shared["area"], shared["kpi"], shared["num"], shared["den"]
    for item, rows in (
        (num, f.sex_cells("1058100101", 40, 45) + f.sex_cells("1058100102", 3, 4)),
        (den, f.sex_cells("1058100101", 60, 60) + f.sex_cells("1058100102", 0, 0)),
    ):
        shared_data.put_values(session, actor=f.ACTOR, area=area, item=item, rows=rows)
    computation = {"method": "ratio", "numerator": num.id, "denominator": den.id, "scale": 100}
    shared_data.save_kpi(
        session,
        actor=f.ACTOR,
        area=area,
        plan=shared["plan"],
        kpi_id=kpi.id,
        element_in={},
        computation_in=computation,
        partial=True,
    )
    return kpi


def test_kpi_page_shows_the_mark_formula_and_breakdown_with_reasons(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi = _computed(session, shared)
    page = client.get(f"/areas/krabi/progress/kpis/{kpi.id}").text
    assert "คำนวณจากข้อมูล" in page
    formula = page.split('class="formula">')[1].split("</p>")[0]
    assert "จำนวนนักเรียนที่อ่านคล่อง</a> ÷ " in formula and "ที่เข้ารับการประเมิน</a> × 100" in formula
    assert f"/areas/krabi/data#data-item-{shared['num'].id}" in formula
    table = page.split(f'id="breakdown-{kpi.id}-AY2567"')[1].split("</table>")[0]
    area_row, school_101, school_102 = table.split("<tbody>")[1].split("</tr>")[:3]
    assert "ทั้งพื้นที่" in area_row and "76.7" in area_row  # 92 read of 120 tested
    assert "70.8" in school_101  # 85 of 120
    assert "ไม่มีค่า: ตัวหารเป็น 0" in school_102 and "—" in school_102
    assert "ชาย" in table and "หญิง" in table  # a column per option
    # the page offers no form to type the computed value
    assert "บันทึก ปีการศึกษา 2567" not in page


def test_grid_shows_computed_cells_read_only_with_the_mark(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi = _computed(session, shared)
    grid = client.get("/areas/krabi/progress").text
    row = grid.split(f'id="kpi-progress-{kpi.id}"')[1].split("</tbody>")[0]
    assert "คำนวณจากข้อมูล" in row
    actual = row.split(f'id="cell-{kpi.id}-AY2567-actual"')[1].split(">")[0]
    assert "readonly" in actual and "hx-put" not in actual


def test_a_new_kpi_is_computed_from_its_first_save_in_the_same_commit(
    client: TestClient, session: Session, shared: dict, engine: Engine
) -> None:
    num = shared["num"]

    def commits_of(code: str, **computation: str) -> int:
        """The commits a new KPI's save makes (the request's own bookkeeping included)."""
        commits: list[object] = []

        def count(connection: object) -> None:
            commits.append(connection)

        form = {"code": code, "name": f"จำนวนนักเรียนที่อ่านคล่อง {code}", "kind": "count"}
        form |= {"period_type": "academic_year", "direction": "higher", **computation}
        event.listen(engine, "commit", count)
        try:
            made = client.post("/areas/krabi/plan/kpis", headers=HX, data=form)
        finally:
            event.remove(engine, "commit", count)
        assert made.status_code == 200, made.text
        return len(commits)

    by_hand = commits_of("KPI8")
    computed = commits_of("KPI9", compute_method="item", compute_item=str(num.id))
    assert computed == by_hand  # the computation adds no commit of its own
    kpi = session.exec(select(KPI).where(KPI.code == "KPI9")).one()
    assert kpi.compute_method == "item"
    assert shared_data.computation_of(session, kpi) == {
        "method": "item",
        "scale": None,
        "item": num.id,
    }


def test_map_marks_a_computed_kpis_value(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi = _computed(session, shared)
    f.make_kpi(session, shared["plan"], "KPI2")  # entered by hand: no mark
    page = client.get("/areas/krabi/map").text
    statuses = page.split('class="chain-status">')[1:]
    marked = [s.split("</span>")[0] for s in statuses if "คำนวณจากข้อมูล" in s.split("</span>")[0]]
    assert len(marked) == 1  # the computed KPI only
    assert "76.67" in marked[0] and "(คำนวณจากข้อมูล)" in marked[0]
    assert kpi.code in page


def test_map_shows_the_computed_kpis_breakdown_for_its_period_not_for_a_past_date(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi = _computed(session, shared)
    f.make_kpi(session, shared["plan"], "KPI2")  # entered by hand: no table
    page = client.get("/areas/krabi/map?period=AY2567").text
    tables = page.split('id="map-breakdowns"')[1].split("</details>")[0]
    assert "1 KPI ที่คำนวณ แยกตามหน่วยและกลุ่ม" in tables
    assert f"/areas/krabi/progress/kpis/{kpi.id}" in tables and "KPI2" not in tables
    table = tables.split(f'id="breakdown-{kpi.id}-AY2567"')[1].split("</table>")[0]
    area_row = table.split("<tbody>")[1].split("</tr>")[0]
    assert "ทั้งพื้นที่" in area_row and "76.7" in area_row
    assert "ชาย" in table and "หญิง" in table
    # the plan as it stood on a past date: computed cells keep no history, so no table
    past = client.get("/areas/krabi/map?period=AY2567&as_of=2026-01-01").text
    assert 'id="map-breakdowns"' not in past


def test_charts_draw_a_computed_kpis_groups_beside_its_total_with_the_numbers(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi = _computed(session, shared)
    page = client.get("/areas/krabi/progress/charts").text
    figure = page.split(f'id="kpis-other-kpi-{kpi.id}"')[1].split("</figure>")[0]
    assert "เส้นหนาคือทั้งพื้นที่" in figure
    head = figure.split("<thead>")[1].split("</thead>")[0]
    assert head.count('class="group"') == 2 and "ชาย" in head and "หญิง" in head
    rows = figure.split("<tbody>")[1].split("<tr>")
    row = next(r for r in rows if "2567" in r.split("</th>")[0])
    # the whole area's boys 40+3 and girls 45+4 read, of 60 tested each (school 102 tested none)
    groups = [c.split("</td>")[0] for c in row.split('<td class="group">')[1:]]
    assert sorted(groups) == ["71.7", "81.7"]
    traces = json.loads(html.unescape(figure.split("data-figure='")[1].split("'")[0]))["data"]
    lines = {t["name"]: t["y"] for t in traces}
    assert lines["ชาย"][1] == pytest.approx(71.67, abs=0.01)  # AY2567, beside the total's line
    assert lines["หญิง"][1] == pytest.approx(81.67, abs=0.01)
    assert lines["ผลที่ได้"][1] == pytest.approx(76.67, abs=0.01)
    hand = f.make_kpi(session, shared["plan"], "KPI2")
    page = client.get("/areas/krabi/progress/charts").text
    other = page.split(f'id="kpis-other-kpi-{hand.id}"')[1].split("</figure>")[0]
    assert 'class="group"' not in other


def test_a_kpi_form_without_the_computation_fields_keeps_the_computation(
    client: TestClient, session: Session, shared: dict
) -> None:
    kpi = _computed(session, shared)
    session.refresh(kpi)
    form = _kpi_form(kpi, name="ร้อยละนักเรียนที่อ่านคล่อง (ปรับชื่อ)")
    saved = client.put(f"/areas/krabi/plan/kpis/{kpi.id}", headers=HX, data=form)
    assert saved.status_code == 200
    session.expire_all()
    kept = session.get(KPI, kpi.id)
    assert kept.name.endswith("(ปรับชื่อ)") and kept.compute_method == "ratio"
