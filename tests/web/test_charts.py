"""The charts page: a chart per KRA and per KPI, each with a table of the same numbers."""

import json

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services import progress
from tests import factories as f


def test_charts_page_has_figures_and_tables_with_the_values(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan, title="นักเรียนอ่านออกเขียนได้")
    kpi = f.make_kpi(session, plan, kra_ids=[kra.id])
    for period, value in (("AY2566", "64"), ("AY2567", "61")):
        progress.save_cell(
            session,
            actor=f.ACTOR,
            plan=plan,
            kpi_id=kpi.id,
            period=period,
            cell="actual",
            text=value,
        )
    page = client.get("/areas/krabi/progress/charts")
    assert page.status_code == 200
    assert "แผนภูมิความก้าวหน้าของกระบี่" in page.text
    assert "vendor/plotly-basic-4.1.1.min.js" in page.text
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in page.text
    figures = [json.loads(chunk.split("'", 1)[0]) for chunk in page.text.split("data-figure='")[1:]]
    bars, line = figures
    by_status = {t["name"]: t["y"] for t in bars["data"]}  # years 2566-2569 have begun
    assert by_status["มีความเสี่ยง"] == [1, 0, 0, 0]  # 64 is short of ≈65, above the baseline
    assert by_status["ไม่เป็นไปตามเป้า"] == [0, 1, 0, 0]
    assert by_status["ไม่มีข้อมูล"] == [0, 0, 1, 1]
    assert [t["y"] for t in line["data"] if t["name"] == "ผลที่ได้"] == [
        [64.0, 61.0, None, None, None]
    ]
    table = page.text.split(f'id="kra-{kra.id}-kpi-{kpi.id}"')[1]
    assert '<th scope="row">ปีการศึกษา 2567</th><td>61</td>' in table
    assert "ไม่เป็นไปตามเป้า" in table  # 61 is short of ≈65 and below the 62.5 baseline


def test_plotly_loads_only_on_the_charts_page(client: TestClient, session: Session) -> None:
    f.make_plan(session)
    for path in ("/", "/areas/krabi", "/areas/krabi/plan", "/areas/krabi/history", "/review"):
        assert "plotly" not in client.get(path).text, path  # no chart there (no indicator values)
    assert "plotly" not in client.get("/areas/krabi/progress").text
    assert "/areas/krabi/progress/charts" in client.get("/areas/krabi/progress").text
