"""Pages issue the same number of SQL queries for a small and a large plan (no N+1)."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, select

from app.models import KPI, Area, KeyResultArea, Plan
from app.services import accounts, comments, learning, plans, progress, records, reviews, versions
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

PAGES = (
    "/",
    "/areas/krabi",
    "/areas/krabi/plan",
    "/areas/krabi/history",
    "/areas/krabi/resources",
    "/areas/krabi/data",
    "/areas/krabi/data.xlsx",
    "/areas/krabi/comments",
    "/areas/krabi/partners",
    "/areas/krabi/outcomes",
    "/areas/krabi/outcomes?effect=positive&planned=unplanned&substantiation=draft",
    "/areas/krabi/principles",
    "/news",
    "/areas/krabi/progress",
    "/areas/krabi/progress/charts",
    "/areas/krabi/progress/export.xlsx",
    "/areas/krabi/map",
    "/areas/krabi/map?as_of=2026-01-01",
    "/areas/krabi/map/compare",
    "/areas/krabi/present",
    "/api/v1/areas/krabi/map",
    "/api/v1/areas/krabi/plan",
    "/api/v1/areas",
    "/indicators",
    "/indicators/p1-reading-good",
    "/indicators/unmapped",
    "/review",
    "/review?group=all&year=AY2567&theme=learner_quality&heat=theme&measure=budget",
    "/areas/krabi/brief",
    "/areas/krabi/brief?period=AY2566",
    "/review/briefs?group=all",
    "/review/annual?group=all",
    "/review/annual.xlsx?group=all&year=AY2567",
    "/review/export.xlsx?group=all&year=AY2567",
    "/areas/krabi/learning",
    "/areas/krabi/reflections",
    "/areas/krabi/proposals",
    "/areas/krabi/questions",
    "/areas/krabi/timeline",
    "/areas/krabi/versions",
    "/areas/krabi/versions/compare?a=2026-01-01&b=now",
)


def _counts(client: TestClient, counter: QueryCounter) -> dict[str, int]:
    counts = {}
    for url in PAGES:
        counter.count = 0
        assert client.get(url).status_code == 200
        counts[url] = counter.count
    return counts


def test_query_count_does_not_grow_with_the_plan(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=3)
    f.make_full_plan(session, "phuket", kras=3)
    _learning_records(session, plan, 1)
    small = _counts(client, count_queries)
    session.exec(delete(Plan))
    session.commit()
    krabi = f.make_full_plan(session, "krabi", kras=30)
    for kpi in session.exec(select(KPI).where(KPI.plan_id == krabi.id)).all():
        for period, value in (("AY2566", "64"), ("AY2567", "66.5")):
            progress.save_cell(
                session,
                actor=f.ACTOR,
                plan=krabi,
                kpi_id=kpi.id,
                period=period,
                cell="actual",
                text=value,
            )
    for slug in ("phuket", "trat", "sa-kaeo", "buriram"):
        f.make_full_plan(session, slug, kras=5)
    _learning_records(session, krabi, 4)
    large = _counts(client, count_queries)
    assert large == small
    assert max(small.values()) < 35  # the cross-area review reads the most: 30


def _learning_records(session: Session, plan: Plan, n: int) -> None:
    """Named versions, key developments and changes with a reason: the timeline's rows."""
    area = session.get(Area, plan.area_id)
    kra = session.exec(select(KeyResultArea).where(KeyResultArea.plan_id == plan.id)).first()
    for i in range(n):
        versions.name_version(
            session, actor=f.ACTOR, area=area, plan=plan, version_in={"name": f"v{i + 1}"}
        )
        records.create(
            session,
            actor=f.ACTOR,
            area=area,
            spec=learning.DEVELOPMENTS,
            record_in={"happened_on": "2024-05-16", "kind": "milestone", "title": f"เหตุการณ์ {i}"},
        )
        plans.update_element(
            session,
            actor=f.ACTOR,
            plan=plan,
            kind="kras",
            element_id=kra.id,
            element_in={"title": f"ผลลัพธ์หลัก {i}"},
            partial=True,
            reason="ปรับตามข้อมูลใหม่",
            reason_category="new_evidence",
        )


def _save_cell_queries(client: TestClient, session: Session, counter: QueryCounter) -> int:
    kpi_id = session.exec(select(KPI.id).join(Plan).order_by(KPI.id)).first()
    counter.count = 0
    response = client.put(
        f"/areas/krabi/progress/kpis/{kpi_id}/AY2567/actual",
        headers={"HX-Request": "true"},
        data={"value": "70"},
    )
    assert response.status_code == 200
    return counter.count


def test_saving_a_cell_loads_only_its_kpi(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    f.make_full_plan(session, "krabi", kras=1)
    small = _save_cell_queries(client, session, count_queries)
    session.exec(delete(Plan))
    session.commit()
    f.make_full_plan(session, "krabi", kras=30)
    assert _save_cell_queries(client, session, count_queries) == small
    assert small < 20


def test_a_kpi_page_issues_the_same_queries_with_more_values_units_and_files(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    plan = f.make_plan(session)
    bare = f.make_kpi(session, plan)  # one plain value
    full = f.make_kpi(session, plan, "KPI2")
    area = f.area(session)
    units = [
        progress.add_unit(session, actor=f.ACTOR, area=area, unit_in={"kind": "school", "name": n})
        for n in ("โรงเรียนบ้านคลองม่วง", "โรงเรียนเกาะลันตา", "โรงเรียนอ่าวนาง")
    ]
    progress.save_cell(
        session, actor=f.ACTOR, plan=plan, kpi_id=bare.id, period="AY2566", cell="actual", text="1"
    )
    for period in ("AY2566", "AY2567", "AY2568", "AY2569"):
        progress.save_measurement(
            session,
            actor=f.ACTOR,
            plan=plan,
            kpi_id=full.id,
            period=period,
            details_in={"note": "ครบทุกโรงเรียน", "n_measured": "120"},
            units_in={u.id: ("70", "40") for u in units},
        )
    counts = []
    for kpi in (bare, full):
        count_queries.count = 0
        assert client.get(f"/areas/krabi/progress/kpis/{kpi.id}").status_code == 200
        counts.append(count_queries.count)
    assert counts[0] == counts[1]


def test_an_editors_home_reads_the_same_queries_whatever_waits_for_them(
    app_client: Callable[[], TestClient], session: Session, count_queries: QueryCounter
) -> None:
    """Overdue values, returned rounds, comments waiting, checks and open sessions: the home
    lists more of each, never with more queries."""
    editor = f.make_user(session, "editor", "krabi")
    reviewer = f.make_user(session, "reviewer")
    client = sign_in(app_client(), session, editor)

    def home_queries() -> int:
        count_queries.count = 0
        assert client.get("/").status_code == 200
        return count_queries.count

    def waiting(n: int) -> None:
        krabi = f.area(session)
        by = comments.commenter(accounts.principal_for(session, reviewer), krabi)
        for i in range(n):
            comments.add_comment(
                session, by=by, area=krabi, comment_in={"target_type": "area", "body": f"ถาม {i}"}
            )
        f.make_workshop(session, title=f"วงที่ {n}")

    f.make_full_plan(session, "krabi", kras=1)
    waiting(1)
    small = home_queries()
    session.exec(delete(Plan))
    session.commit()
    f.make_full_plan(session, "krabi", kras=12)
    for period in ("AY2566", "AY2567"):
        reviews.step_round(
            session, actor=f.ACTOR, area=f.area(session), period=period, action="submit"
        )
        reviews.step_round(
            session,
            actor=f.ACTOR,
            area=f.area(session),
            period=period,
            action="return",
            comment="ขอข้อมูลเพิ่ม",
        )
    waiting(15)
    page = client.get("/").text
    assert page.count("/comments/") >= 8 and "ขอข้อมูลเพิ่ม" in page  # it does list more
    assert home_queries() == small
