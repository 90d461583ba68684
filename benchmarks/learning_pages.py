"""Server time of an area's timeline and plan-version pages on a long history: a plan of 8 KRAs,
40 KPIs and 40 actions, changed 400 times with reasons over the years, 6 named versions, 60 key
developments. Signed in as the area's editor. Prints median and p95 per URL and the SQL queries
each issues.

    .venv/bin/python benchmarks/learning_pages.py [--rounds 30]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.db import get_session, make_engine, sessions_on  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Area, PlanVersion  # noqa: E402
from app.services import learning, plans, records, seeding, versions  # noqa: E402
from app.web import auth  # noqa: E402
from tests.factories import ACTOR, PASSWORD, make, make_plan, make_user  # noqa: E402

KRAS, KPIS_PER_KRA, CHANGES, VERSIONS, DEVELOPMENTS = 8, 5, 400, 6, 60
CATEGORIES = ("new_evidence", "context_changed", "feasibility", "policy_change")


def build(session: Session) -> None:
    plan = make_plan(session, "krabi", vision="ผู้เรียนเก่ง ดี มีสุข")
    area = session.get(Area, plan.area_id)
    kpis = []
    for k in range(KRAS):
        kra = make(session, plan, "kras", code=f"KRA{k + 1}", title=f"ผลลัพธ์หลักที่ {k + 1}")
        for j in range(KPIS_PER_KRA):
            n = k * KPIS_PER_KRA + j + 1
            kpis.append(
                make(
                    session,
                    plan,
                    "kpis",
                    code=f"KPI{n}",
                    name=f"ร้อยละนักเรียนที่ผ่านเกณฑ์ ตัวชี้วัดที่ {n}",
                    kind="percentage",
                    period_type="academic_year",
                    target_value="75",
                    target_period="AY2570",
                    kra_ids=[kra.id],
                )
            )
            make(session, plan, "actions", code=f"ACT{n}", title=f"กิจกรรมที่ {n}")
    every = CHANGES // VERSIONS
    for c in range(CHANGES):
        if c % every == 0:
            versions.name_version(
                session, actor=ACTOR, area=area, plan=plan, version_in={"name": f"v{c // every}"}
            )
        kpi = kpis[c % len(kpis)]
        plans.update_element(
            session,
            actor=ACTOR,
            plan=plan,
            kind="kpis",
            element_id=kpi.id,
            element_in={"target_value": str(60 + c % 30)},
            partial=True,
            reason=f"ปรับเป้าหมายครั้งที่ {c + 1} ตามข้อมูลล่าสุด",
            reason_category=CATEGORIES[c % len(CATEGORIES)],
        )
    for d in range(DEVELOPMENTS):
        records.create(
            session,
            actor=ACTOR,
            area=area,
            spec=learning.DEVELOPMENTS,
            record_in={
                "happened_on": f"2024-{d % 12 + 1:02d}-15",
                "kind": "milestone",
                "title": f"เหตุการณ์สำคัญที่ {d + 1}",
            },
        )
    print(f"{len(kpis)} KPIs, {CHANGES} changes with reasons, {VERSIONS} versions")


def timed(call, rounds: int) -> tuple[float, float, float]:  # noqa: ANN001
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
            email = make_user(session, "editor", "krabi").email
            first = session.exec(select(PlanVersion.id).order_by(PlanVersion.id)).first()
        pages = [
            "/areas/krabi/timeline",
            "/areas/krabi/timeline?kind=adaptation&category=feasibility",
            "/areas/krabi/versions",
            f"/areas/krabi/versions/compare?a=v{first}&b=now",
            "/areas/krabi/versions/compare?a=2024-01-01&b=now",
        ]
        queries = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *a: queries.update(n=queries["n"] + 1))
        app = create_app()

        app.dependency_overrides[get_session] = sessions_on(engine)
        with TestClient(app) as client:
            client.get("/login")
            token = auth._mac("csrf", client.cookies[auth.CSRF_COOKIE])
            client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
            print(f"{'page':58} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'queries':>8}")
            for page in pages:
                assert client.get(page).status_code == 200, page
                queries["n"] = 0
                client.get(page)
                n = queries["n"]
                median, p95, cpu = timed(lambda page=page: client.get(page), args.rounds)
                print(f"{page:58} {median:10.1f} {p95:8.1f} {cpu:7.1f} {n:8d}")


if __name__ == "__main__":
    main()
