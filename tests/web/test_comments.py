"""Comments on screen: the comments page, threads swapped in place, the overview's inline
counts and area section, the progress page's years, and "what's new"."""

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app import live
from app.i18n import thai_today
from app.models import KPI, AuditEvent, Comment, Plan, User
from app.services import accounts, comments, reviews
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

HX = {"HX-Request": "true"}


@pytest.fixture
def plan(session: Session) -> Plan:
    return f.make_full_plan(session, "krabi", kras=2)


@pytest.fixture
def kpi(session: Session, plan: Plan) -> KPI:
    return session.exec(select(KPI).where(KPI.plan_id == plan.id).order_by(KPI.id)).first()


@pytest.fixture
def people(session: Session, app_client: Callable[[], TestClient]) -> dict[str, TestClient]:
    roles = {
        "reviewer": ("reviewer", None),
        "editor": ("editor", "krabi"),
        "viewer": ("viewer", "krabi"),
        "phuket_viewer": ("viewer", "phuket"),
        "phuket_editor": ("editor", "phuket"),
    }
    return {
        name: sign_in(
            app_client(),
            session,
            f.make_user(session, role, slug, display_name=f"คุณ{name}"),
        )
        for name, (role, slug) in roles.items()
    }


def _post(client: TestClient, path: str, **data: str):  # noqa: ANN202
    return client.post(f"/areas/krabi/comments{path}", data=data, follow_redirects=False)


def _thread_id(response) -> int:  # noqa: ANN001
    return int(re.search(r"#thread-(\d+)$", response.headers["location"]).group(1))


def _counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.exec(select(func.count()).select_from(Comment)).one(),
        session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "comment")
        ).one(),
    )


def _ask(people: dict[str, TestClient], target: str, body: str, **extra: str) -> int:
    response = _post(people["reviewer"], "", target=target, body=body, **extra)
    assert response.status_code == 303, response.text
    return _thread_id(response)


def test_a_comment_on_a_kpi_shows_on_the_overview_until_the_committee_resolves_it(
    session: Session, people: dict[str, TestClient], kpi: KPI
) -> None:
    heard: list[dict] = []
    stop = live.broker.subscribe(lambda channel, event: heard.append(event))
    try:
        thread = _ask(people, f"kpis:{kpi.id}", "ค่าเป้าหมาย 75% อ้างอิงหลักฐานใด")
    finally:
        stop()
    assert heard == [
        {"type": "review.comment", "thread": thread, "target": f"kpis:{kpi.id}", "op": "create"}
    ]
    editor = people["editor"]
    badge = f'href="/areas/krabi/comments#comments-kpis-{kpi.id}"'
    overview = editor.get("/areas/krabi").text
    assert badge in overview and 'class="open-comments"' in overview
    page = editor.get("/areas/krabi/comments").text
    assert f'id="comments-kpis-{kpi.id}"' in page and f'id="thread-{thread}"' in page
    assert "ค่าเป้าหมาย 75% อ้างอิงหลักฐานใด" in page and "คุณreviewer" in page

    reply = _post(editor, f"/{thread}/replies", body="ใช้ผล RT ปี 2565", **{"from": "comments"})
    assert reply.status_code == 303
    swapped = editor.post(
        f"/areas/krabi/comments/{thread}/resolve", headers=HX, data={"version": "1"}
    )
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith(f'<li id="thread-{thread}" class="thread resolved"')
    assert "ใช้ผล RT ปี 2565" in swapped.text and "คุณeditor" in swapped.text
    assert badge not in editor.get("/areas/krabi").text
    root = session.get(Comment, thread)
    session.refresh(root)
    assert root.resolved_at is not None and root.version == 2
    audited = session.exec(
        select(AuditEvent.op, AuditEvent.actor)
        .where(AuditEvent.entity_type == "comment")
        .order_by(AuditEvent.id)
    ).all()
    assert [op for op, _actor in audited] == ["create", "create", "update"]

    again = editor.post(
        f"/areas/krabi/comments/{thread}/resolve", headers=HX, data={"version": "1"}
    )
    assert again.status_code == 409 and 'role="alert"' in again.text  # a stale page
    opened = editor.post(
        f"/areas/krabi/comments/{thread}/reopen", headers=HX, data={"version": "2"}
    )
    assert opened.status_code == 200 and "thread resolved" not in opened.text
    assert badge in editor.get("/areas/krabi").text


def test_a_reply_swaps_the_thread_in_place(
    session: Session, people: dict[str, TestClient], kpi: KPI
) -> None:
    thread = _ask(people, f"kpis:{kpi.id}", "ขอหลักฐานประกอบ")
    answer = people["editor"].post(
        f"/areas/krabi/comments/{thread}/replies", headers=HX, data={"body": "แนบรายงานแล้ว"}
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith(f'<li id="thread-{thread}"')
    assert "แนบรายงานแล้ว" in answer.text and "<html" not in answer.text
    fragment = people["viewer"].get(f"/areas/krabi/comments/{thread}", headers=HX)
    assert fragment.status_code == 200 and "แนบรายงานแล้ว" in fragment.text
    assert 'class="reply-form"' not in fragment.text  # a viewer reads, does not write
    plain = people["viewer"].get(f"/areas/krabi/comments/{thread}", follow_redirects=False)
    assert plain.headers["location"] == f"/areas/krabi/comments#thread-{thread}"


def test_a_bad_comment_comes_back_with_422_and_the_text_kept_and_nothing_written(
    session: Session, people: dict[str, TestClient], kpi: KPI
) -> None:
    reviewer = people["reviewer"]
    thread = _ask(people, "area", "ภาพรวมแผน")
    before = _counts(session)
    long_text = "ข้อเสนอแนะ " * 400  # 4,400 characters
    refused = _post(reviewer, "", target=f"kpis:{kpi.id}", body=long_text)
    assert refused.status_code == 422
    assert 'id="comment-new-body-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert long_text.strip() in refused.text
    assert f'<option value="kpis:{kpi.id}" selected>' in refused.text  # the choice kept too

    wrong = _post(reviewer, "", target="kpis:999999", body="ตัวชี้วัดนี้")
    assert wrong.status_code == 422 and 'id="comment-new-target-error"' in wrong.text
    assert "ตัวชี้วัดนี้" in wrong.text

    on_overview = _post(reviewer, "", target="area", body="  ", **{"from": "overview"})
    assert on_overview.status_code == 422 and 'id="area-comments"' in on_overview.text
    assert 'id="comment-new-body-error"' in on_overview.text

    empty = reviewer.post(f"/areas/krabi/comments/{thread}/replies", headers=HX, data={"body": " "})
    assert empty.status_code == 422 and f'id="thread-{thread}-reply-error"' in empty.text
    too_long = reviewer.post(
        f"/areas/krabi/comments/{thread}/replies",
        data={"body": long_text, "from": "overview"},
    )
    assert too_long.status_code == 422 and 'id="area-comments"' in too_long.text
    assert (
        f'id="thread-{thread}-reply-error"' in too_long.text and long_text.strip() in too_long.text
    )
    assert _counts(session) == before


def test_a_viewer_of_another_area_cannot_read_its_comments(
    session: Session, people: dict[str, TestClient], kpi: KPI
) -> None:
    thread = _ask(people, f"kpis:{kpi.id}", "ความลับของกระบี่")
    outsider = people["phuket_viewer"]
    assert outsider.get("/areas/krabi/comments").status_code == 403
    assert outsider.get(f"/areas/krabi/comments/{thread}", headers=HX).status_code == 403
    f.make_plan(session, "phuket")
    assert outsider.get(f"/areas/phuket/comments/{thread}", headers=HX).status_code == 404
    assert "ความลับของกระบี่" not in outsider.get("/areas/phuket/comments").text
    news = outsider.get("/news")
    assert news.status_code == 200 and "ความลับของกระบี่" not in news.text
    assert "ความลับของกระบี่" in people["viewer"].get("/news").text


def test_a_note_for_reviewers_stays_with_the_reviewers(
    session: Session, people: dict[str, TestClient], app_client: Callable[[], TestClient]
) -> None:
    note = _ask(people, "area", "บันทึกภายใน: งบ ACT2 ซ้ำซ้อน", visibility="reviewers")
    reviewer, editor = people["reviewer"], people["editor"]
    assert "บันทึกภายใน" in reviewer.get("/areas/krabi/comments").text
    assert "บันทึกภายใน" in reviewer.get("/areas/krabi").text
    other_reviewer = sign_in(app_client(), session, f.make_user(session, "reviewer"))
    assert "บันทึกภายใน" in other_reviewer.get("/news").text
    for path in ("/areas/krabi/comments", "/areas/krabi", "/news", "/areas/krabi/history"):
        assert "บันทึกภายใน" not in editor.get(path).text, path
    assert editor.get(f"/areas/krabi/comments/{note}", headers=HX).status_code == 404
    assert 'value="reviewers"' not in editor.get("/areas/krabi/comments").text
    before = _counts(session)
    assert _post(editor, f"/{note}/replies", body="ขอดูด้วย").status_code == 404
    assert _post(editor, f"/{note}/resolve").status_code == 404
    smuggled = _post(editor, "", target="area", visibility="reviewers", body="ลับ")
    assert smuggled.status_code == 403
    assert _counts(session) == before


@pytest.mark.parametrize("who", ["viewer", "phuket_editor", "phuket_viewer"])
def test_who_may_not_comment_is_refused_and_nothing_is_written(
    session: Session, people: dict[str, TestClient], who: str
) -> None:
    thread = _ask(people, "area", "ภาพรวม")
    before = _counts(session)
    client = people[who]
    assert _post(client, "", target="area", body="ขอแสดงความเห็น").status_code == 403
    assert _post(client, f"/{thread}/replies", body="ตอบ").status_code == 403
    assert _post(client, f"/{thread}/resolve", version="1").status_code == 403
    assert _counts(session) == before


def test_the_progress_page_links_each_years_comments(
    session: Session, people: dict[str, TestClient], plan: Plan
) -> None:
    year = reviews.round_periods(["academic_year"], 2566, 2570, thai_today())[0]
    _ask(people, f"period:{year}", "ค่าปีนี้ยังไม่ครบทุกโรงเรียน")
    page = people["editor"].get("/areas/krabi/progress").text
    assert f'href="/areas/krabi/comments#comments-period-{year}"' in page
    comments_page = people["editor"].get("/areas/krabi/comments").text
    assert f'id="comments-period-{year}"' in comments_page
    assert f'href="/areas/krabi/progress#round-{year}"' in comments_page


def test_whats_new_since_the_last_visit_and_marking_it_seen(
    session: Session, people: dict[str, TestClient], kpi: KPI
) -> None:
    editor = people["editor"]
    first = _ask(people, f"kpis:{kpi.id}", "คำถามแรก")
    page = editor.get("/news").text
    assert "คำถามแรก" in page and f'href="/areas/krabi/comments#thread-{first}"' in page
    until = re.search(r'name="until" value="([^"]+)"', page).group(1)
    meanwhile = _ask(people, "area", "มาระหว่างอ่าน")  # arrives after the page was shown
    marked = editor.post("/news/seen", data={"until": until}, follow_redirects=False)
    assert marked.status_code == 303 and marked.headers["location"] == "/news?seen=1"
    after = editor.get("/news?seen=1").text
    assert "คำถามแรก" not in after and "มาระหว่างอ่าน" in after
    assert f"#thread-{meanwhile}" in after
    assert editor.post("/news/seen", data={"until": "เมื่อวาน"}).status_code == 422


def _add_threads(session: Session, plan: Plan, n: int) -> None:
    reviewer = f.make_user(session, "reviewer")
    editor = f.make_user(session, "editor", "krabi")
    krabi = f.area(session)
    by_reviewer = comments.commenter(accounts.principal_for(session, reviewer), krabi)
    by_editor = comments.commenter(accounts.principal_for(session, editor), krabi)
    kpis = session.exec(select(KPI.id).where(KPI.plan_id == plan.id)).all()
    for i in range(n):
        target = {"target_type": "kpis", "target_id": kpis[i % len(kpis)]}
        if i % 3 == 0:
            target = {"target_type": "area"}
        root = comments.add_comment(
            session, by=by_reviewer, area=krabi, comment_in={**target, "body": f"คำถามที่ {i}"}
        )
        comments.add_comment(
            session, by=by_editor, area=krabi, comment_in={"parent_id": root.id, "body": "ตอบ"}
        )
        if i % 2:
            comments.set_resolved(
                session, by=by_editor, area=krabi, comment_id=root.id, resolved=True
            )


def _page_queries(client: TestClient, counter: QueryCounter) -> dict[str, int]:
    counts = {}
    for url in ("/areas/krabi/comments", "/areas/krabi", "/news", "/areas/krabi/progress"):
        counter.count = 0
        assert client.get(url).status_code == 200
        counts[url] = counter.count
    return counts


def test_pages_take_the_same_queries_for_few_and_many_comments(
    session: Session,
    app_client: Callable[[], TestClient],
    plan: Plan,
    count_queries: QueryCounter,
) -> None:
    reader: User = f.make_user(session, "editor", "krabi")
    client = sign_in(app_client(), session, reader)
    _add_threads(session, plan, 3)
    few = _page_queries(client, count_queries)
    _add_threads(session, plan, 30)
    assert _page_queries(client, count_queries) == few
