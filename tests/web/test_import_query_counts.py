"""The progress import costs a fixed number of SQL queries per batch of values, not queries per
value: a workbook with 20 times the values (new, changed, then cleared) imports with the same
count, well under one query per value."""

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import delete
from sqlmodel import Session

from app.i18n import thai_today
from app.models import Plan
from app.periods import period_span
from tests import factories as f
from tests.conftest import QueryCounter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filled(client: TestClient, step: float | None) -> bytes:
    """The template with every row's value changed by `step` (cleared with None): the actual
    where the year has begun, else the target."""
    book = load_workbook(io.BytesIO(client.get("/areas/krabi/progress/template.xlsx").content))
    for row in book.worksheets[0].iter_rows(min_row=2):
        begun = period_span(str(row[3].value)).starts_on <= thai_today()
        cell = row[5] if begun else row[6]
        cell.value = None if step is None else (cell.value or 60) + step
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(client: TestClient, counter: QueryCounter, data: bytes) -> tuple[int, int, int]:
    """Queries of the preview and of the import, and the number of changes saved."""
    counter.count = 0
    preview = client.post("/areas/krabi/progress/import", files={"file": ("p.xlsx", data, XLSX)})
    assert preview.status_code == 200, preview.text[-2000:]
    preview_queries, counter.count = counter.count, 0
    digest = preview.text.split('action="/areas/krabi/progress/import/')[1].split('"')[0]
    done = client.post(
        f"/areas/krabi/progress/import/{digest}",
        data={"filename": "p.xlsx"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return preview_queries, counter.count, int(done.headers["location"].split("imported=")[1])


def _three_imports(
    client: TestClient, session: Session, counter: QueryCounter, kpis: int
) -> list[tuple[int, int, int]]:
    session.exec(delete(Plan))
    session.commit()
    plan = f.make_plan(session)
    for n in range(1, kpis + 1):
        f.make_kpi(session, plan, f"KPI{n}")
    return [_import(client, counter, _filled(client, step)) for step in (0.5, 1, None)]


def test_an_import_of_20_times_the_values_costs_the_same_queries(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    small = _three_imports(client, session, count_queries, kpis=2)
    large = _three_imports(client, session, count_queries, kpis=40)
    values = [changes for _, _, changes in large]
    assert values[:2] == [200, 200] and values[2] > 100  # new, changed; cleared: the actuals
    assert [changes * 20 for _, _, changes in small] == values
    assert [q[:2] for q in large] == [q[:2] for q in small]
    assert max(queries for _, queries, _ in large) < 40
