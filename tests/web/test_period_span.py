"""A value or target for a period outside the plan's years (2566-2570) is refused with a 422
that names the plan's span, the same way by the API, the grid, the KPI page and the import;
nothing is stored and no audit event is written. Inside the span the same requests save."""

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from app.models import KPI, AuditEvent, KPITarget, Measurement
from tests import factories as f

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPAN = ("ภาคเรียนที่ 1/2566", "ภาคเรียนที่ 2/2570")  # the plan's first and last semesters
PERIODS = [
    pytest.param("AY2563-S2", False, id="before"),
    pytest.param("AY2567-S1", True, id="inside"),
    pytest.param("AY2571-S1", False, id="after"),
]


def _semester_kpi(session: Session) -> KPI:
    plan = f.make_plan(session)  # 2566-2570
    return f.make_kpi(
        session,
        plan,
        period_type="semester",
        baseline_period="AY2565-S2",
        target_period="AY2570-S2",
    )


def _stored(session: Session) -> tuple[list, list, int]:
    session.expire_all()
    values = session.exec(select(Measurement.period, Measurement.value)).all()
    targets = session.exec(select(KPITarget.period, KPITarget.value)).all()
    events = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity_type.in_(["measurement", "kpi_target"]))  # type: ignore[attr-defined]
    ).one()
    return list(values), list(targets), events


def _names_the_span(text: str) -> bool:
    return all(label in text for label in SPAN)


@pytest.mark.parametrize(("period", "inside"), PERIODS)
def test_the_api_saves_only_inside_the_plans_years(
    client: TestClient, session: Session, period: str, inside: bool
) -> None:
    kpi = _semester_kpi(session)
    value = client.put(f"/api/v1/kpis/{kpi.id}/measurements/{period}", json={"value": 70})
    target = client.put(f"/api/v1/kpis/{kpi.id}/targets/{period.lower()}", json={"value": 72})
    if inside:
        assert value.status_code == 200 and target.status_code == 200
        assert (value.json()["period"], value.json()["value"]) == (period, 70)
        assert (target.json()["period"], target.json()["target"]) == (period, 72)
        assert _stored(session) == ([(period, 70)], [(period, 72)], 2)
    else:
        assert value.status_code == 422 and target.status_code == 422
        assert _names_the_span(value.json()["errors"]["value"])
        assert _names_the_span(target.json()["errors"]["value"])
        assert _stored(session) == ([], [], 0)


@pytest.mark.parametrize(("period", "inside"), PERIODS)
def test_the_grid_and_the_kpi_page_save_only_inside_the_plans_years(
    client: TestClient, session: Session, period: str, inside: bool
) -> None:
    kpi = _semester_kpi(session)
    url = f"/areas/krabi/progress/kpis/{kpi.id}/{period}"
    cell = client.put(f"{url}/target", headers={"HX-Request": "true"}, data={"value": "72"})
    page = client.post(url, data={"value": "70", "note": "สอบครบ"}, follow_redirects=False)
    if inside:
        assert cell.status_code == 200 and page.status_code == 303
        assert _stored(session) == ([(period, 70)], [(period, 72)], 2)
    else:
        assert cell.status_code == 422 and page.status_code == 422
        assert _names_the_span(page.text)
        assert _stored(session) == ([], [], 0)


def _workbook(client: TestClient, period: str) -> bytes:
    """The template with a value and a target for KPI1 in `period` (a row added if the
    template has none for it)."""
    book = load_workbook(io.BytesIO(client.get("/areas/krabi/progress/template.xlsx").content))
    sheet = book["ความก้าวหน้า"]
    row = next((r[0].row for r in sheet.iter_rows(min_row=2) if r[3].value == period), None)
    if row is None:
        row = sheet.max_row + 1
        sheet.cell(row, 1).value, sheet.cell(row, 4).value = "KPI1", period
    sheet.cell(row, 6).value, sheet.cell(row, 7).value = 70, 72
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("period", "inside"), PERIODS)
def test_the_import_saves_only_inside_the_plans_years(
    client: TestClient, session: Session, period: str, inside: bool
) -> None:
    _semester_kpi(session)
    files = {"file": ("กระบี่.xlsx", _workbook(client, period), XLSX)}
    preview = client.post("/areas/krabi/progress/import", files=files)
    if inside:
        assert preview.status_code == 200
        digest = preview.text.split('action="/areas/krabi/progress/import/')[1].split('"')[0]
        done = client.post(
            f"/areas/krabi/progress/import/{digest}",
            data={"filename": "กระบี่.xlsx"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert _stored(session) == ([(period, 70)], [(period, 72)], 2)
    else:
        assert preview.status_code == 422 and _names_the_span(preview.text)
        assert 'action="/areas/krabi/progress/import/' not in preview.text  # nothing to confirm
        assert _stored(session) == ([], [], 0)
