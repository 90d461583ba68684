"""The progress import (issue 25): a province's workbook of thousands of values through the
routes an editor uses (upload with a preview, then the all-or-nothing import), signed in as an
administrator. The plan has `--kpis` KPIs measured per fiscal quarter (20 quarters in 2566-2570:
250 KPIs make 5,000 rows); every row sets one value (the actual value where the quarter has
begun, else the target). The workbook is imported twice: first every value is new, then every
value changes. Prints rows, values, and for each preview and import the time, the CPU time of
this process (the server's work: steadier than the time on a busy machine) and SQL queries.

    .venv/bin/python benchmarks/progress_import.py [--kpis 250]
"""

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.db import get_session, make_engine, sessions_on  # noqa: E402
from app.main import create_app  # noqa: E402
from app.periods import period_span  # noqa: E402
from app.services import accounts, seeding  # noqa: E402
from app.web import auth  # noqa: E402
from tests.factories import make_kpi, make_plan, make_user  # noqa: E402

SLUG = "krabi"
VALUE, TARGET = 5, 6  # the template's columns (0-based): actual value, target


def build(session: Session, kpis: int) -> None:
    plan = make_plan(session, SLUG)
    for n in range(1, kpis + 1):
        make_kpi(
            session,
            plan,
            f"KPI{n}",
            period_type="fiscal_quarter",
            baseline_period="FY2565-Q4",
            target_period="FY2570-Q4",
        )


def fill(template: bytes, step: float) -> tuple[bytes, int, int]:
    """Every row gets one value: the actual where the quarter has begun, else the target."""
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    rows = 0
    today = date.today()
    for row in sheet.iter_rows(min_row=2):
        begun = period_span(str(row[3].value)).starts_on <= today
        cell = row[VALUE] if begun else row[TARGET]
        cell.value = (cell.value or 60) + step
        rows += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), rows, rows


class Step:
    """Time, CPU time and SQL queries of one request."""

    def __init__(self, queries: dict[str, int]) -> None:
        self.queries = queries

    def __enter__(self) -> "Step":
        self.queries["n"] = 0
        self.start, self.start_cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.start_cpu
        self.n = self.queries["n"]

    def __str__(self) -> str:
        return f"{self.seconds:6.2f} s {self.cpu:6.2f} s {self.n:6d}"


def import_workbook(
    client: TestClient, queries: dict[str, int], token: str, data: bytes, slug: str = SLUG
) -> tuple[Step, Step, int]:
    """Preview then import one workbook: both steps and the number of changes saved."""
    files = {"file": ("bench.xlsx", data, "application/octet-stream")}
    with Step(queries) as preview_step:
        preview = client.post(
            f"/areas/{slug}/progress/import", files=files, data={"csrf_token": token}
        )
    assert preview.status_code == 200, preview.text[:2000]
    digest = preview.text.split(f'action="/areas/{slug}/progress/import/')[1].split('"')[0]
    with Step(queries) as import_step:
        done = client.post(
            f"/areas/{slug}/progress/import/{digest}",
            data={"filename": "bench.xlsx", "csrf_token": token},
            follow_redirects=False,
        )
    assert done.status_code == 303, (done.status_code, done.text[:2000])
    return preview_step, import_step, int(done.headers["location"].split("imported=")[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kpis", type=int, default=250, help="KPIs of 20 quarters each")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PHONLAP_VAR_DIR", f"{tmp}/var")  # uploads wait here
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seeding.seed_reference(session)
            start = time.perf_counter()
            build(session, args.kpis)
            print(f"set-up: {args.kpis} KPIs in {time.perf_counter() - start:.1f} s")
            session_token = accounts.start_session(session, user=make_user(session, "admin"))
        queries = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *a: queries.update(n=queries["n"] + 1))
        app = create_app()

        app.dependency_overrides[get_session] = sessions_on(engine)
        with TestClient(app) as client:
            client.cookies.set(auth.SESSION_COOKIE, auth.sign(session_token))
            client.cookies.set(auth.CSRF_COOKIE, "bench-seed")
            token = auth._mac("csrf", "bench-seed")
            steps = f"{'time':>8} {'CPU':>8} {'queries':>6}"
            print(f"{'':16} {'rows':>5} {'values':>6}   preview: {steps}   import: {steps}")
            for name, step in (("new values", 0.5), ("changed values", 1)):
                template = client.get(f"/areas/{SLUG}/progress/template.xlsx").content
                data, rows, values = fill(template, step)
                preview, done, changes = import_workbook(client, queries, token, data)
                assert changes == values, (changes, values)
                print(f"{name:16} {rows:5d} {values:6d}            {preview}            {done}")


if __name__ == "__main__":
    main()
