"""Server time of the cross-area review: by default 20 areas × 40 KPIs × 12 periods (semesters),
one action per KPI with budgets and check-ins, signed in as a reviewer. Prints median and p95 per
URL and the SQL queries each issues (the same browser asking again: answered by the page cache
while nothing changed); then, for `/review?group=all` drawn with the page cache off, the page when
it must be built from nothing (cold: the per-area rows emptied), when nothing changed (warm), and
right after one service write in one area (after an edit); then the read model alone.

Plans are built through the services (so the audit trail exists); the values are inserted in bulk
to keep set-up short, which the page cannot tell apart. Areas beyond the seeded ones are added as
plain rows (77 provinces: `--areas 77`).

    .venv/bin/python benchmarks/review_page.py [--rounds 30]
    .venv/bin/python benchmarks/review_page.py --areas 77 --kpis 50 --periods 20
    .ci/postgres.sh .venv/bin/python benchmarks/review_page.py --areas 77 --kpis 50 --periods 20

The database: a fresh SQLite file, or the one at --url or PHONLAP_TEST_DATABASE_URL (emptied
first). With --reuse, a database already built by an earlier run is upgraded and measured as it
is (to compare two versions of the code on the same data).
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
from sqlmodel import Session, SQLModel, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.db import get_session, make_engine, sessions_on  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import KPI, Area, DOEItem, Measurement, Plan, StrategyTheme  # noqa: E402
from app.models.enums import Role  # noqa: E402
from app.services import progress, review, seeding  # noqa: E402
from app.services.access import Grant, Principal  # noqa: E402
from app.web import auth  # noqa: E402
from tests.factories import ACTOR, PASSWORD, make, make_plan, make_user  # noqa: E402

KPIS_PER_KRA = 5
URLS = [
    "/review?group=all",
    "/review?group=all&year=AY2567&theme=learner_quality",
    "/review?group=all&heat=theme&measure=budget",
]


def periods_of(n: int) -> list[str]:
    """The newest `n` semesters up to AY2568-S2 (12: those of AY2563 to AY2568)."""
    first = 2569 - (n + 1) // 2
    return [f"AY{y}-S{s}" for y in range(first, 2569) for s in (1, 2)][-n:]


def add_areas(session: Session, n: int) -> None:
    """Plain rows for areas beyond the seeded ones, as if every province were an area."""
    have = len(session.exec(select(Area.id)).all())
    rows = [
        {
            "slug": f"province-{i}",
            "iso_code": f"TH-X{i}",
            "name_th": f"จังหวัดทดสอบที่ {i}",
            "name_en": f"Test province {i}",
            "cohort": "2566",
        }
        for i in range(have + 1, n + 1)
    ]
    if rows:
        session.exec(insert(Area), params=rows)
        session.commit()


def build(session: Session, n_areas: int, n_kpis: int, periods: list[str]) -> None:
    add_areas(session, n_areas)
    items = session.exec(select(DOEItem.id)).all()
    themes = session.exec(select(StrategyTheme.id)).all()
    areas = session.exec(select(Area).order_by(Area.id)).all()[:n_areas]
    start_be = int(periods[0][2:6])
    rows = []
    for a_n, area in enumerate(areas):
        plan = make_plan(
            session, area.slug, span_start_be=start_be, span_end_be=2570, vision="วิสัยทัศน์"
        )
        make(session, plan, "doe", text="ผู้เรียนเก่ง ดี มีสุข", item_ids=[items[0]])
        for k in range((n_kpis + KPIS_PER_KRA - 1) // KPIS_PER_KRA):
            kra = make(
                session,
                plan,
                "kras",
                code=f"KRA{k + 1}",
                title=f"ผลลัพธ์หลักที่ {k + 1}",
                doe_item_ids=[items[(a_n + k) % len(items)]],
                theme_id=themes[(a_n + k) % len(themes)],
            )
            for j in range(min(KPIS_PER_KRA, n_kpis - k * KPIS_PER_KRA)):
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
                    baseline_period=f"AY{start_be - 1}-S2",
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
                for p_n, period in enumerate(periods):
                    rows.append(
                        {"kpi_id": kpi.id, "period": period, "value": 55 + p_n * 1.5 + (n % 7)}
                    )
    session.exec(insert(Measurement), params=rows)
    session.commit()
    print(f"{len(areas)} areas, {n_kpis} KPIs each, {len(periods)} periods, {len(rows)} values")


def timed(call, rounds: int, before=None) -> tuple[float, float, float]:  # noqa: ANN001
    """Median and p95 of wall time, and the median CPU time (steady on a busy machine);
    `before` runs ahead of each call, outside the time."""
    times, cpu = [], []
    for n in range(rounds):
        if before is not None:
            before(n)
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1], statistics.median(cpu)


def edits(engine):  # noqa: ANN001, ANN201
    """A function making the n-th edit: one value changed through the service, always in the
    same area (what a provincial officer saving cells one after another does)."""
    with Session(engine) as session:
        plan = session.exec(select(Plan).order_by(Plan.id)).first()
        kpi_id = session.exec(select(KPI.id).where(KPI.plan_id == plan.id).order_by(KPI.id)).first()

    def edit(n: int) -> None:
        with Session(engine) as session:
            progress.save_cell(
                session,
                actor=ACTOR,
                plan=session.get(Plan, plan.id),
                kpi_id=kpi_id,
                period=f"AY{plan.span_start_be}-S1",
                cell="actual",
                text=str(60 + n % 30),
            )

    return edit


def database(url: str | None, tmp: str, reuse: bool) -> str:
    if not url:
        return f"sqlite:///{tmp}/bench.db"
    if reuse:
        return url
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)  # an empty database, as a fresh install has
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--areas", type=int, default=20)
    parser.add_argument("--kpis", type=int, default=40, help="KPIs per area (one action each)")
    parser.add_argument("--periods", type=int, default=12, help="semesters with values")
    parser.add_argument("--url", default=os.environ.get("PHONLAP_TEST_DATABASE_URL", ""))
    parser.add_argument("--reuse", action="store_true", help="measure the data at --url as it is")
    args = parser.parse_args()
    periods = periods_of(args.periods)
    with tempfile.TemporaryDirectory() as tmp:
        url = database(args.url, tmp, args.reuse)
        print(f"database: {make_engine(url).dialect.name}")
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            if not args.reuse:
                seeding.seed_reference(session)
                start = time.perf_counter()
                build(session, args.areas, args.kpis, periods)
                print(f"set-up {time.perf_counter() - start:.0f} s")
            email = make_user(session, "reviewer").email
        queries = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *a: queries.update(n=queries["n"] + 1))
        app = create_app()

        app.dependency_overrides[get_session] = sessions_on(engine)
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
            page = URLS[0]
            clear = getattr(review, "clear_cache", lambda: None)
            edit = edits(engine)
            # the pages above were served again to the same browser (the page cache); the rows
            # below are the page drawn, with the page cache off
            settings = get_settings()
            kept_mb, settings.page_cache_mb = settings.page_cache_mb, 0
            for label, before in (
                ("cold (built from nothing)", lambda n: clear()),
                ("warm (nothing changed)", None),
                ("after an edit in one area", edit),
            ):
                if before is not None:
                    before(args.rounds)
                queries["n"] = 0
                client.get(page)
                n = queries["n"]
                median, p95, cpu = timed(lambda: client.get(page), args.rounds, before)
                print(f"{page + ' ' + label:58} {median:10.1f} {p95:8.1f} {cpu:7.1f} {n:8d}")
            settings.page_cache_mb = kept_mb
        reviewer = Principal(grants=(Grant(Role.reviewer, None),))
        gc.collect()
        gc.freeze()  # as the app's lifespan does for a served process
        with Session(engine) as session:
            filters = review.Filters(group=review.ALL)
            view = review.review_view(session, reviewer, filters, date.today(), keep=True)
            planned = [a for a in view.areas if a.plan]
            assert len(planned) == args.areas and all(len(a.kpis) == args.kpis for a in planned)
            median, p95, cpu = timed(
                lambda: review.review_view(session, reviewer, filters, date.today(), keep=True),
                args.rounds,
            )
        label = f"read model alone (review_view, {args.areas} areas, rows kept)"
        print(f"{label:58} {median:10.1f} {p95:8.1f} {cpu:7.1f}")


if __name__ == "__main__":
    main()
