"""Server time of the cross-area review with 20 areas × 40 KPIs × 12 periods (semesters of six
academic years), 40 actions each with budgets and check-ins, signed in as a reviewer. Prints
median and p95 per URL and the SQL queries each issues, then the read model alone.

Plans are built through the services (so the audit trail exists); the 9,600 values are inserted
in bulk to keep set-up short, which the page cannot tell apart.

    .venv/bin/python benchmarks/review_page.py [--rounds 30]
"""

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event, insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PHONLAP_DEV", "1")  # the built-in secret key is fine here

from app import migrate  # noqa: E402
from app.db import get_session, make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Area, DOEItem, Measurement, StrategyTheme  # noqa: E402
from app.models.enums import Role  # noqa: E402
from app.services import progress, review, seeding  # noqa: E402
from app.services.access import Grant, Principal  # noqa: E402
from app.web import auth  # noqa: E402
from tests.factories import ACTOR, PASSWORD, make, make_plan, make_user  # noqa: E402

AREAS, KRAS, KPIS_PER_KRA = 20, 8, 5
PERIODS = [f"AY{year}-S{s}" for year in range(2563, 2569) for s in (1, 2)]  # 12
URLS = [
    "/review?group=all",
    "/review?group=all&year=AY2567&theme=learner_quality",
    "/review?group=all&heat=theme&measure=budget",
]


def build(session: Session) -> None:
    items = session.exec(select(DOEItem.id)).all()
    themes = session.exec(select(StrategyTheme.id)).all()
    areas = session.exec(select(Area).order_by(Area.id)).all()[:AREAS]
    rows = []
    for a_n, area in enumerate(areas):
        plan = make_plan(session, area.slug, span_start_be=2563, span_end_be=2570, vision="วิสัยทัศน์")
        make(session, plan, "doe", text="ผู้เรียนเก่ง ดี มีสุข", item_ids=[items[0]])
        for k in range(KRAS):
            kra = make(
                session,
                plan,
                "kras",
                code=f"KRA{k + 1}",
                title=f"ผลลัพธ์หลักที่ {k + 1}",
                doe_item_ids=[items[(a_n + k) % len(items)]],
                theme_id=themes[(a_n + k) % len(themes)],
            )
            for j in range(KPIS_PER_KRA):
                n = k * KPIS_PER_KRA + j + 1
                kpi = make(
                    session,
                    plan,
                    "kpis",
                    code=f"KPI{n}",
                    name=f"ร้อยละนักเรียนที่ผ่านเกณฑ์ ตัวชี้วัดที่ {n}",
                    kind="percentage",
                    period_type="semester",
                    baseline_value="55",
                    baseline_period="AY2562-S2",
                    target_value="75",
                    target_period="AY2570-S2",
                    kra_ids=[kra.id],
                )
                action = make(
                    session,
                    plan,
                    "actions",
                    code=f"ACT{n}",
                    title=f"กิจกรรมที่ {n}",
                    budget_thb=str(100_000 + 5_000 * n),
                    status=("on_track", "delayed", "done", "not_started")[n % 4],
                    kpi_ids=[kpi.id],
                )
                if n % 3 == 0:
                    progress.add_action_update(
                        session,
                        actor=ACTOR,
                        plan=plan,
                        action_id=action.id,
                        update_in={
                            "on_date": "2025-03-01",
                            "status": "on_track",
                            "what_changed": "ดำเนินการตามแผน",
                            "spent_thb": "50,000",
                        },
                    )
                for p_n, period in enumerate(PERIODS):
                    rows.append(
                        {"kpi_id": kpi.id, "period": period, "value": 55 + p_n * 1.5 + (n % 7)}
                    )
    session.exec(insert(Measurement), params=rows)
    session.commit()
    print(f"{len(areas)} areas, {KRAS * KPIS_PER_KRA} KPIs each, {len(rows)} values")


def timed(call, rounds: int) -> tuple[float, float, float]:  # noqa: ANN001
    """Median and p95 of wall time, and the median CPU time (steady on a busy machine)."""
    times, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1], statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seeding.seed_reference(session)
            start = time.perf_counter()
            build(session)
            print(f"set-up {time.perf_counter() - start:.0f} s")
            email = make_user(session, "reviewer").email
        queries = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *a: queries.update(n=queries["n"] + 1))
        app = create_app()

        def session_override():  # noqa: ANN202
            with Session(engine, expire_on_commit=False) as s:
                yield s

        app.dependency_overrides[get_session] = session_override
        with TestClient(app) as client:
            client.get("/login")
            token = auth._mac("csrf", client.cookies[auth.CSRF_COOKIE])
            client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
            print(f"{'page':58} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'queries':>8}")
            for page in URLS:
                assert client.get(page).status_code == 200
                queries["n"] = 0
                client.get(page)
                n = queries["n"]
                median, p95, cpu = timed(lambda page=page: client.get(page), args.rounds)
                print(f"{page:58} {median:10.1f} {p95:8.1f} {cpu:7.1f} {n:8d}")
        reviewer = Principal(grants=(Grant(Role.reviewer, None),))
        gc.collect()
        gc.freeze()  # as the app's lifespan does for a served process
        with Session(engine) as session:
            filters = review.Filters(group=review.ALL)
            view = review.review_view(session, reviewer, filters, date.today())
            assert len(view.areas) == AREAS and all(len(a.kpis) == 40 for a in view.areas)
            median, p95, cpu = timed(
                lambda: review.review_view(session, reviewer, filters, date.today()), args.rounds
            )
        print(
            f"{'read model alone (review_view, 20 areas)':58} {median:10.1f} {p95:8.1f} {cpu:7.1f}"
        )


if __name__ == "__main__":
    main()
