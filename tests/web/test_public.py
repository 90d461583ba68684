"""The public portal (issue 24 part 4): an area's adopted plan, KPI results and results chain map
for anonymous visitors, once an administrator has opened the area's portal; with a sweep that no
private record (comments, the working draft, reviewers' notes, people's names, workshop
contributions, evidence) appears on any public page."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import KPI, Action, AuditEvent, Plan
from app.services import comments, committee, evidence, plans, progress, public, reviews, versions
from app.services.audit import Actor
from app.services.errors import ValidationFailed
from app.web import public as public_web
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

ADOPTED_VISION = "ผู้เรียนเก่ง ดี มีสุข"  # make_full_plan's
ADOPTED_KPI = "ร้อยละนักเรียน ป.1 อ่านออกเขียนได้ตามเกณฑ์"
SLUG = "trat"
DRAFT_KPI = "ร่างตัวชี้วัดที่ยังไม่ผ่านคณะกรรมการ"
DRAFT_VISION = "วิสัยทัศน์ฉบับร่างที่ยังไม่ได้รับรอง"
PAGES = ("", "/results", "/map")
# Everything below is private: none of it may appear on a public page.
PRIVATE = {
    "comment": "ความเห็นภายในเรื่องงบประมาณที่ยังไม่เปิดเผย",
    "user": "นางสาวพิมพ์ชนก ลับเฉพาะ",
    "user_email": "pimchanok.private@example.go.th",
    "member": "นายกรรมการ ไม่เปิดเผยชื่อ",
    "attendee_guest": "ดร.แขกรับเชิญ ในที่ประชุม",
    "reviewer_note": "ผู้ตรวจขอให้แก้ตัวเลขก่อนเผยแพร่",
    "measurement_note": "หมายเหตุ: ตัวเลขจากโรงเรียนยังไม่ครบ",
    "evidence_file": "ผลสอบรายคนของนักเรียน.pdf",
    "evidence_url": "https://drive.example.go.th/private-sheet",
    "guest": "ครูสมศรี ผู้ร่วมประชุมเชิงปฏิบัติการ",
    "contribution": "ปัญหาจากวงสนทนาที่ยังไม่ได้กลั่นกรอง",
    "version_note": "บันทึกภายใน: รอปรับแก้ตามข้อสังเกต",
    "draft_kpi": DRAFT_KPI,
    "draft_vision": DRAFT_VISION,
}


@dataclass
class Portal:
    plan: Plan
    kpi: KPI
    action: Action


def _adopt(session: Session, slug: str, plan: Plan, actor: Actor, name: str, day: str) -> None:
    area = f.area(session, slug)
    version = versions.name_version(
        session,
        actor=actor,
        area=area,
        plan=plan,
        version_in={"name": name, "note": PRIVATE["version_note"]},
    )
    meeting = committee.create_meeting(
        session,
        actor=actor,
        area=area,
        meeting_in={
            "held_on": day,
            "title": "ประชุมคณะกรรมการ ครั้งที่ 1",
            "guests": PRIVATE["attendee_guest"],
        },
    )
    committee.add_resolution(
        session,
        actor=actor,
        area=area,
        meeting_id=meeting.id,
        resolution_in={"text": "รับรองแผน"},
        citations=[committee.Citation("plan_version", version.id, "adopt")],
    )


def _open(session: Session, slug: str = SLUG) -> None:
    public.set_portal(
        session,
        actor=f.ACTOR,
        area=f.area(session, slug),
        portal_in={"public": "1", "confirm": "1"},
    )


@pytest.fixture
def portal(session: Session) -> Portal:
    """Trat's plan adopted by its committee, then changed in the working draft, with every kind
    of private record around it; the portal open."""
    user = f.make_user(
        session, "editor", SLUG, display_name=PRIVATE["user"], email=PRIVATE["user_email"]
    )
    actor = Actor(user.id, user.email)
    plan = f.make_full_plan(session, SLUG, kras=2)
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id, KPI.code == "KPI1")).one()
    action = session.exec(select(Action).where(Action.plan_id == plan.id)).first()
    plans.update_element(
        session,
        actor=actor,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"name": ADOPTED_KPI},
        partial=True,
    )
    area = f.area(session, SLUG)
    committee.create_member(
        session, actor=actor, area=area, member_in={"name": PRIVATE["member"], "role": "chair"}
    )
    _adopt(session, SLUG, plan, actor, "ฉบับที่ 1 รับรอง", "2024-06-16")
    # after the adoption: the working draft moves on, and the private records pile up
    f.make_kpi(session, plan, "KPI9", name=DRAFT_KPI)
    plans.update_plan(session, actor=actor, plan=plan, plan_in={"vision": DRAFT_VISION})
    progress.save_measurement(
        session,
        actor=actor,
        plan=plan,
        kpi_id=kpi.id,
        period="AY2567",
        details_in={
            "value": "71.5",
            "note": PRIVATE["measurement_note"],
            "evidence_url": PRIVATE["evidence_url"],
        },
        upload=evidence.Upload(PRIVATE["evidence_file"], b"%PDF-1.4\n%%EOF\n"),
    )
    comments.add_comment(
        session,
        by=comments.Commenter(actor, PRIVATE["user"], internal=False),
        area=area,
        comment_in={"target_type": "area", "body": PRIVATE["comment"]},
    )
    reviews.step_round(session, actor=actor, area=area, period="AY2567", action="submit")
    reviews.step_round(
        session,
        actor=actor,
        area=area,
        period="AY2567",
        action="return",
        comment=PRIVATE["reviewer_note"],
    )
    workshop = f.make_workshop(session, SLUG)
    guest, _ = f.make_guest(session, workshop, PRIVATE["guest"])
    f.make_contribution(session, workshop, guest, text=PRIVATE["contribution"])
    _open(session)
    public_web.forget()
    return Portal(plan, kpi, action)


def _pages(slug: str = SLUG) -> list[str]:
    return ["/public/"] + [f"/public/areas/{slug}{page}" for page in PAGES]


def test_public_pages_show_the_adopted_plan_and_nothing_private(
    portal: Portal, anonymous: TestClient
) -> None:
    for url in _pages():
        for lang in ("", "?lang=en"):
            response = anonymous.get(url + lang)
            assert response.status_code == 200, url
            page = response.text
            for what, text in PRIVATE.items():
                assert text not in page, f"{what} shown on {url}{lang}"
            assert "/areas/trat" not in page.replace("/public/areas/trat", "")  # no private links
    plan_page = anonymous.get(f"/public/areas/{SLUG}").text
    assert ADOPTED_VISION in plan_page and ADOPTED_KPI in plan_page
    assert "ฉบับที่ 1 รับรอง" in plan_page and "16 มิ.ย. 2567" in plan_page  # version, BE date
    assert "สพป." in plan_page or "สำนักงานเขตพื้นที่" in plan_page  # the lead agency
    results = anonymous.get(f"/public/areas/{SLUG}/results").text
    assert "71.5" in results and "vendor/plotly" in results
    map_page = anonymous.get(f"/public/areas/{SLUG}/map").text
    assert ADOPTED_KPI in map_page and 'class="chart map"' in map_page
    index = anonymous.get("/public/").text
    assert "ตราด" in index


def test_public_pages_set_no_cookie_and_may_be_cached(
    portal: Portal, app_client: Callable[[], TestClient]
) -> None:
    fresh = app_client()
    for url in _pages():
        response = fresh.get(url)
        assert "set-cookie" not in response.headers, url
        assert response.headers["cache-control"].startswith("public, max-age=")
        assert response.headers["vary"] == "Accept-Encoding"  # never on the cookie
        again = fresh.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
    assert not fresh.cookies


def test_closed_and_unknown_areas_answer_the_same_404(
    portal: Portal, session: Session, anonymous: TestClient
) -> None:
    unknown = anonymous.get("/public/areas/atlantis")
    closed = anonymous.get("/public/areas/krabi")
    assert unknown.status_code == closed.status_code == 404
    assert unknown.text.replace("atlantis", "") == closed.text.replace("krabi", "")
    assert "กระบี่" not in anonymous.get("/public/").text


def test_closing_the_portal_stops_it_at_once(
    portal: Portal, session: Session, anonymous: TestClient
) -> None:
    for url in _pages()[1:]:
        assert anonymous.get(url).status_code == 200  # now kept by the worker
    public.set_portal(session, actor=f.ACTOR, area=f.area(session, SLUG), portal_in={"public": "0"})
    for url in _pages()[1:]:
        assert anonymous.get(url).status_code == 404, url
    assert "ตราด" not in anonymous.get("/public/").text


def test_an_open_area_without_an_adopted_version_says_so(
    session: Session, anonymous: TestClient
) -> None:
    f.make_full_plan(session, "krabi", kras=1)
    _open(session, "krabi")
    public_web.forget()
    for page in PAGES:
        response = anonymous.get(f"/public/areas/krabi{page}")
        assert response.status_code == 200
        assert 'id="no-adopted-plan"' in response.text
        assert "ผู้เรียนเก่ง ดี มีสุข" not in response.text  # the working plan stays private


def test_the_latest_adoption_is_the_one_shown(
    portal: Portal, session: Session, anonymous: TestClient
) -> None:
    _adopt(session, SLUG, portal.plan, f.ACTOR, "ฉบับที่ 2 ปรับปรุง", "2025-01-10")
    page = anonymous.get(f"/public/areas/{SLUG}").text
    assert "ฉบับที่ 2 ปรับปรุง" in page and DRAFT_KPI in page and DRAFT_VISION in page
    assert "10 ม.ค. 2568" in page


def test_empty_index_says_no_area_has_published(anonymous: TestClient) -> None:
    public_web.forget()
    page = anonymous.get("/public/")
    assert page.status_code == 200 and 'id="public-none"' in page.text


# ---- opening and closing, by an administrator -----------------------------------------------


def _events(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_admin_opens_the_portal_only_with_the_confirmation(
    session: Session, client: TestClient
) -> None:
    area = f.area(session, "krabi")
    url = f"/admin/areas/{area.id}"
    page = client.get(url).text
    assert 'id="portal-confirm"' in page  # the confirmation, stating what becomes public
    before = _events(session)
    refused = client.post(f"{url}/public", data={"public": "1"})
    assert refused.status_code == 422
    assert 'id="portal-confirm-error"' in refused.text
    assert _events(session) == before
    session.refresh(area)
    assert area.public_since is None
    opened = client.post(f"{url}/public", data={"public": "1", "confirm": "1"})
    assert opened.status_code == 200
    session.refresh(area)
    assert area.public_since is not None and _events(session) == before + 1
    assert client.get("/public/areas/krabi").status_code == 200
    client.post(f"{url}/public", data={"public": "0"})
    session.refresh(area)
    assert area.public_since is None and _events(session) == before + 2


def test_only_administrators_open_a_portal(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    editor = sign_in(app_client(), session, f.make_user(session, "editor", "krabi"))
    area = f.area(session, "krabi")
    response = editor.post(f"/admin/areas/{area.id}/public", data={"public": "1", "confirm": "1"})
    assert response.status_code == 403
    session.refresh(area)
    assert area.public_since is None


def test_set_portal_needs_confirmation_to_open(session: Session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        public.set_portal(
            session, actor=f.ACTOR, area=f.area(session, "krabi"), portal_in={"public": "1"}
        )
    assert "confirm" in refused.value.errors


def test_sign_in_and_home_pages_link_to_the_portal(
    anonymous: TestClient, client: TestClient
) -> None:
    assert 'href="/public/"' in anonymous.get("/login").text
    assert 'href="/public/"' in client.get("/").text


def _costs(client: TestClient, counter: QueryCounter) -> list[int]:
    public_web.forget()
    costs = []
    for url in _pages():
        before = counter.count
        assert client.get(url).status_code == 200
        costs.append(counter.count - before)
    return costs


def test_public_pages_cost_the_same_queries_whatever_the_plan_holds(
    portal: Portal, session: Session, anonymous: TestClient, count_queries: QueryCounter
) -> None:
    small = _costs(anonymous, count_queries)
    lead = f.agency(session, SLUG).id
    for n in range(3, 7):
        kra = f.make_kra(session, portal.plan, f"KRA{n}")
        kpi = f.make_kpi(session, portal.plan, f"KPI{n}", kra_ids=[kra.id], lead_agency_id=lead)
        f.make_action(session, portal.plan, f"ACT{n}", kpi_ids=[kpi.id], lead_agency_id=lead)
        progress.save_measurement(
            session,
            actor=f.ACTOR,
            plan=portal.plan,
            kpi_id=kpi.id,
            period="AY2567",
            details_in={"value": "50"},
        )
    _adopt(session, SLUG, portal.plan, f.ACTOR, "ฉบับที่ 2 ปรับปรุง", "2025-01-10")
    assert "KPI6" in anonymous.get(f"/public/areas/{SLUG}").text
    assert _costs(anonymous, count_queries) == small
    before = count_queries.count
    anonymous.get(f"/public/areas/{SLUG}/results")  # kept: only the data version is read
    assert count_queries.count - before == 1
