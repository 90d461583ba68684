"""Pages served again unchanged (app.page_cache), and never when something they show changed:
a write anywhere, through any worker (the data version lives in the database), another
person, another language, a session that ended."""

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from app import changes
from app.models import KPI, LoginThrottle, Plan
from app.services import plans
from app.web import auth
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

PAGE = "/areas/krabi/plan"


def _version(session: Session) -> int:
    version = changes.current(session.connection())
    session.commit()
    return version


def test_an_unchanged_page_is_sent_again_with_one_query(
    client: TestClient, session: Session, count_all_queries: QueryCounter
) -> None:
    f.make_full_plan(session)
    first = client.get(PAGE)
    client.get(PAGE)  # the route is now known as one whose pages are kept
    kept = client.get(PAGE)
    count_all_queries.count = 0
    again = client.get(PAGE)
    assert again.status_code == 200 and again.text == kept.text == first.text
    assert count_all_queries.count == 1  # the data version and the sign-in, in one query


def test_a_write_by_anyone_shows_on_the_next_request(client: TestClient, session: Session) -> None:
    f.make_full_plan(session)
    kpi = session.exec(select(KPI)).first()
    for _ in range(3):
        assert kpi.name in client.get(PAGE).text
    # another person, through the service layer, in their own session (as another worker would)
    with Session(session.get_bind(), expire_on_commit=False) as other:
        row = other.get(KPI, kpi.id)
        plans.update_element(
            other,
            actor=f.ACTOR,
            plan=other.get(Plan, row.plan_id),
            kind="kpis",
            element_id=row.id,
            element_in={"name": "ร้อยละนักเรียนอ่านออกเขียนได้ (แก้ไขแล้ว)"},
            expected_version=row.version,
            partial=True,
        )
    page = client.get(PAGE).text
    assert "ร้อยละนักเรียนอ่านออกเขียนได้ (แก้ไขแล้ว)" in page


def test_each_person_and_language_gets_their_own_page(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    f.make_full_plan(session)
    editor = sign_in(app_client(), session, f.make_user(session, "editor", "krabi"))
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    for _ in range(3):
        assert editor.get(PAGE).status_code == 200
    assert viewer.get(PAGE).status_code == 403  # not the editor's kept page
    editor.cookies.set("phonlap_lang", "en")
    assert '<html lang="en">' in editor.get(PAGE).text


def test_a_signed_out_session_is_not_served_the_kept_page(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    f.make_full_plan(session)
    browser = sign_in(app_client(), session, f.make_user(session, "editor", "krabi"))
    cookies = dict(browser.cookies)
    for _ in range(3):
        assert browser.get(PAGE).status_code == 200
    browser.post("/logout")
    replay = app_client()
    for name, value in cookies.items():
        replay.cookies.set(name, value)
    answer = replay.get(PAGE, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_the_data_version_moves_only_with_committed_writes_to_the_data(session: Session) -> None:
    before = _version(session)
    plan = f.make_plan(session)
    after_write = _version(session)
    assert after_write > before
    kra = f.make_kra(session, plan)
    moved = _version(session)
    kra.title = "ยังไม่บันทึก"
    session.add(kra)
    session.flush()
    session.rollback()
    assert _version(session) == moved  # rolled back: nothing happened
    session.add(LoginThrottle(key="address:203.0.113.9", window_start=datetime.now(UTC)))
    session.commit()
    assert _version(session) == moved  # the sign-in throttle is bookkeeping
    session.execute(text("UPDATE plan SET vision = 'วิสัยทัศน์ใหม่' WHERE id = :id"), {"id": plan.id})
    session.commit()
    assert _version(session) == moved + 1  # a statement written by hand counts too


def test_a_client_that_kept_only_its_session_cookie_is_served_too(
    app_client: Callable[[], TestClient], session: Session, count_all_queries: QueryCounter
) -> None:
    f.make_full_plan(session)
    signed_in = sign_in(app_client(), session, f.make_user(session, "editor", "krabi"))
    bare = app_client()  # a load tester or script: the session cookie, nothing else
    bare.cookies.set(auth.SESSION_COOKIE, signed_in.cookies[auth.SESSION_COOKIE])
    pages = []
    for _ in range(3):
        answer = bare.get(PAGE)
        bare.cookies.delete(auth.CSRF_COOKIE)  # it keeps nothing the server sets
        pages.append(answer)
    count_all_queries.count = 0
    again = bare.get(PAGE)
    assert count_all_queries.count == 1 and again.text == pages[0].text
    seeds = {p.headers["set-cookie"].split(";")[0] for p in (*pages, again)}
    assert len(seeds) == 1  # the same seed, so the same CSRF token in the page, every time
