"""The home of a signed-in person says what needs them now, each item a link they may open."""

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.services import accounts, comments, reviews
from tests import factories as f
from tests.conftest import sign_in


def _links(page: str, part: str) -> list[str]:
    start = page.index(f'id="agenda-{part}"')
    block = page[start : page.index("</div>", start)]
    return re.findall(r'<a href="([^"]+)"', block)


def _opens(client: TestClient, links: list[str]) -> None:
    assert links
    for link in links:
        assert client.get(link.split("#")[0]).status_code == 200, link


def _comment(session: Session, user: User, body: str, parent: int | None = None) -> int:
    krabi = f.area(session)
    by = comments.commenter(accounts.principal_for(session, user), krabi)
    content = {"parent_id": parent} if parent else {"target_type": "area"}
    return comments.add_comment(session, by=by, area=krabi, comment_in={**content, "body": body}).id


def test_an_editor_sees_overdue_values_returned_rounds_comments_checks_and_sessions(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    plan = f.make_plan(session)  # 2566-2570: AY2566 and AY2567 have ended with no value
    f.make_kpi(session, plan, code="KPI11", name="ร้อยละเด็ก ป.1 อ่านคล่อง")
    f.make_plan(session, "phuket")
    f.make_kpi(session, f.make_plan(session, "trat"), code="KPI9", name="ตัวชี้วัดของตราด")
    editor = f.make_user(session, "editor", "krabi")
    reviewer = f.make_user(session, "reviewer", display_name="สมชาย ผู้ตรวจ")
    krabi = f.area(session)
    for step, why in (("submit", ""), ("return", "ขอหลักฐานผลการอ่านเพิ่ม")):
        reviews.step_round(
            session, actor=f.ACTOR, area=krabi, period="AY2566", action=step, comment=why
        )
    asked = _comment(session, reviewer, "ทำไมค่าฐานต่ำกว่าปีก่อน")
    answered = _comment(session, reviewer, "เป้าหมายปี 2570 มาจากไหน")
    _comment(session, editor, "มาจากมติคณะกรรมการ", parent=answered)
    workshop = f.make_workshop(session, title="World Café รอบที่ 2")
    client = sign_in(app_client(), session, editor)

    page = client.get("/").text

    assert "สิ่งที่รอคุณอยู่" in page
    overdue = page[page.index('id="agenda-overdue"') :]
    assert "KPI11" in overdue and "ปีการศึกษา 2566" in overdue and "KPI9" not in page
    assert "ขอหลักฐานผลการอ่านเพิ่ม" in page
    waiting = page[page.index('id="agenda-comments"') :]
    assert "ทำไมค่าฐานต่ำกว่าปีก่อน" in waiting and "สมชาย ผู้ตรวจ" in waiting
    assert "เป้าหมายปี 2570 มาจากไหน" not in page  # the editor had the last word
    assert f"/comments/{asked}" in waiting
    assert "ยังไม่มีแผนปฏิบัติการใดขับเคลื่อนตัวชี้วัด KPI11" in page
    assert "World Café รอบที่ 2" in page and workshop.join_code in page  # joins, cannot run it
    assert 'id="agenda-to-review"' not in page  # not a reviewer
    for part in ("overdue", "returned", "comments", "checks", "workshops"):
        _opens(client, _links(page, part))


def test_a_reviewer_sees_areas_waiting_for_review_and_stale_ones(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    f.make_full_plan(session, "krabi", kras=1)
    f.make_full_plan(session, "phuket", kras=1)
    reviews.step_round(
        session, actor=f.ACTOR, area=f.area(session), period="AY2567", action="submit"
    )
    reviewer = f.make_user(session, "reviewer")
    client = sign_in(app_client(), session, reviewer)

    page = client.get("/").text

    to_review = page[page.index('id="agenda-to-review"') :]
    to_review = to_review[: to_review.index("</div>")]
    assert "กระบี่" in to_review and "ปีการศึกษา 2567" in to_review and "ภูเก็ต" not in to_review
    stale = page[page.index('id="agenda-stale"') :]
    stale = stale[: stale.index("</div>")]
    assert "ตราด" in stale and "ยังไม่มีการปรับปรุง" in stale  # no plan, nothing ever written
    assert "กระบี่" not in stale and "ภูเก็ต" not in stale  # both changed today
    assert 'id="agenda-overdue"' not in page and 'id="agenda-checks"' not in page
    _opens(client, _links(page, "to-review") + _links(page, "stale"))


def test_a_person_with_nothing_waiting_is_told_so(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    viewer = f.make_user(session, "viewer", "krabi")
    page = sign_in(app_client(), session, viewer).get("/").text
    assert "ไม่มีสิ่งใดรอคุณอยู่" in page
