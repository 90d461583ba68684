"""Server time of the plan pages for a large plan (30 KRAs, 30 KPIs, 30 actions) and the home
page with 11 plans, signed in as an administrator. Prints median and p95 per page and the SQL
queries each issues; then the time of one sign-in (argon2id at the production parameters).

    .venv/bin/python benchmarks/plan_pages.py [--rounds 50]
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.db import get_session, make_engine, sessions_on  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import KPI  # noqa: E402
from app.services import progress, seeding  # noqa: E402
from app.services.reference import default_group, group_areas  # noqa: E402
from app.web import auth  # noqa: E402
from benchmarks.progress_import import import_workbook  # noqa: E402
from tests.factories import ACTOR, PASSWORD, make_full_plan, make_user  # noqa: E402

PAGES = [
    "/",
    "/areas/krabi",
    "/areas/krabi/plan",
    "/areas/krabi/history",
    "/areas/krabi/progress",
    "/areas/krabi/progress/charts",
    "/areas/krabi/progress/export.xlsx",
    "/api/v1/areas/krabi/plan",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seeding.seed_reference(session)
            for area in group_areas(session, default_group(session)):
                plan = make_full_plan(session, area.slug, kras=30 if area.slug == "krabi" else 5)
                if area.slug == "krabi":  # four years of values for every KPI
                    for kpi in session.exec(select(KPI).where(KPI.plan_id == plan.id)).all():
                        for year, value in zip(range(2566, 2570), (63, 65.5, 67, 70), strict=True):
                            progress.save_cell(
                                session,
                                actor=ACTOR,
                                plan=plan,
                                kpi_id=kpi.id,
                                period=f"AY{year}",
                                cell="actual",
                                text=value,
                            )
            admin = make_user(session, "admin")
            email = admin.email
        queries = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *a: queries.update(n=queries["n"] + 1))
        app = create_app()

        app.dependency_overrides[get_session] = sessions_on(engine)
        with TestClient(app) as client:
            client.get("/login")
            token = auth._mac("csrf", client.cookies[auth.CSRF_COOKIE])
            start = time.perf_counter()
            signed = client.post(
                "/login",
                data={"email": email, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            sign_in_ms = (time.perf_counter() - start) * 1000
            assert signed.status_code == 303
            print(f"{'page':32} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
            for page in PAGES:
                client.get(page)
                times = []
                for _ in range(args.rounds):
                    queries["n"] = 0
                    start = time.perf_counter()
                    assert client.get(page).status_code == 200
                    times.append((time.perf_counter() - start) * 1000)
                p95 = statistics.quantiles(times, n=20)[-1]
                print(f"{page:32} {statistics.median(times):10.1f} {p95:8.1f} {queries['n']:8d}")
            _import(client, queries, token)
            print(f"sign-in (argon2id, production cost): {sign_in_ms:.0f} ms")


def _import(client: TestClient, queries: dict[str, int], token: str) -> None:
    """The template of 30 KPIs × open periods, every value changed: preview, then import."""
    book = load_workbook(io.BytesIO(client.get("/areas/krabi/progress/template.xlsx").content))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        if row[5].value is not None:
            row[5].value += 1
    out = io.BytesIO()
    book.save(out)
    preview, done, changes = import_workbook(client, queries, token, out.getvalue(), "krabi")
    print(
        f"import of {sheet.max_row - 1} rows, {changes} values changed: "
        f"preview {preview.seconds * 1000:.0f} ms ({preview.n} queries), "
        f"import {done.seconds * 1000:.0f} ms ({done.n} queries)"
    )


if __name__ == "__main__":
    main()
