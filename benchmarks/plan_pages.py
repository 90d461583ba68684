"""Server time of the plan pages for a large plan (30 KRAs, 30 KPIs, 30 actions) and the home
page with 11 plans. Prints median and p95 per page and the SQL queries each issues.

    .venv/bin/python benchmarks/plan_pages.py [--rounds 50]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import migrate  # noqa: E402
from app.db import get_session, make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.services import seeding  # noqa: E402
from app.services.reference import default_group, group_areas  # noqa: E402
from tests.factories import make_full_plan  # noqa: E402

PAGES = ["/", "/areas/krabi", "/areas/krabi/plan", "/api/v1/areas/krabi/plan"]


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
                make_full_plan(session, area.slug, kras=30 if area.slug == "krabi" else 5)
        queries = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *a: queries.update(n=queries["n"] + 1))
        app = create_app()

        def session_override():  # noqa: ANN202
            with Session(engine, expire_on_commit=False) as s:
                yield s

        app.dependency_overrides[get_session] = session_override
        with TestClient(app) as client:
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


if __name__ == "__main__":
    main()
