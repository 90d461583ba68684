"""Workshop pages: the facilitator's list and board, the guests' join pages on a phone."""

import html
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func
from sqlmodel import Session, select

from app.middleware import LANG_COOKIE
from app.models import (
    KPI,
    AuditEvent,
    Contribution,
    Plan,
    ProblemNode,
    WorkshopBallot,
    WorkshopParticipant,
    WorkshopSession,
)
from app.models.base import utcnow
from app.services import workshops
from app.web import auth, events
from app.web.workshops import GUEST_COOKIE
from tests import factories as f
from tests.conftest import sign_in

HX = {"HX-Request": "true"}


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def poller_url(page: str) -> str:
    """The address a guest's page polls (_guest_poll.html), with the keys of what it shows."""
    return html.unescape(re.search(r'id="guest-poll" hidden hx-get="([^"]+)"', page).group(1))


def _guest(
    app_client: Callable[[], TestClient], workshop: WorkshopSession, name: str = "ครูสมศรี"
) -> TestClient:
    """A phone that opened the join page and gave its name (no account, no CSRF header)."""
    phone = app_client()
    page = phone.get(f"/join/{workshop.join_code}")
    assert page.status_code == 200
    joined = phone.post(
        f"/join/{workshop.join_code}",
        data={"display_name": name, "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert joined.status_code == 303, joined.text
    return phone


def _send(phone: TestClient, workshop: WorkshopSession, **values: str):  # noqa: ANN202
    page = phone.get(f"/join/{workshop.join_code}")
    data = {"kind": "problem", "text": "นักเรียนอ่านไม่คล่อง", **values, "csrf_token": _csrf(page.text)}
    return phone.post(
        f"/join/{workshop.join_code}/contributions", data=data, follow_redirects=False
    )


# ---- the facilitator ------------------------------------------------------------------------


def test_a_facilitator_opens_a_session_and_sees_its_code_and_qr(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    facilitator = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    assert facilitator.get("/areas/krabi/workshops").status_code == 200
    opened = facilitator.post(
        "/areas/krabi/workshops", data={"title": "World Café รอบที่ 1"}, follow_redirects=False
    )
    assert opened.status_code == 303
    workshop = session.exec(select(WorkshopSession)).one()
    assert opened.headers["location"] == f"/areas/krabi/workshops/{workshop.id}"
    board = facilitator.get(opened.headers["location"])
    assert board.status_code == 200
    assert workshops.format_code(workshop.join_code) in board.text
    assert '<svg role="img"' in board.text and "<?xml" not in board.text
    assert f'hx-get="/areas/krabi/workshops/{workshop.id}/board"' in board.text
    assert 'sse-connect="/areas/krabi/events"' in board.text  # the page's one event stream
    assert 'hx-trigger="sse:workshop, resync"' in board.text
    assert "testserver/join" in board.text  # the address to type, beside the QR code
    listed = facilitator.get("/areas/krabi/workshops").text
    assert "World Café รอบที่ 1" in listed and workshops.format_code(workshop.join_code) in listed
    event = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "workshop_session")
    ).one()
    assert event.actor_id is not None and event.area_id == workshop.area_id


def test_a_session_without_a_title_is_refused_beside_the_field_with_the_input_kept(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/areas/krabi/workshops", data={"title": "  ", "closes_at": "2020-01-01T09:00"}
    )
    assert response.status_code == 422
    assert 'id="workshop-title-error"' in response.text
    assert 'id="workshop-closes_at-error"' not in response.text  # one message at a time per form
    assert 'value="2020-01-01T09:00"' in response.text
    too_far = client.post(
        "/areas/krabi/workshops", data={"title": "รอบ 2", "closes_at": "2999-01-01T09:00"}
    )
    assert too_far.status_code == 422 and 'id="workshop-closes_at-error"' in too_far.text
    assert 'value="รอบ 2"' in too_far.text
    assert _count(session, WorkshopSession) == 0


def test_a_facilitator_of_phuket_cannot_open_or_run_a_session_for_krabi(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    phuket = sign_in(app_client(), session, f.make_user(session, "facilitator", "phuket"))
    krabi = f.make_workshop(session, "krabi")
    before = _count(session, AuditEvent)
    assert phuket.post("/areas/krabi/workshops", data={"title": "แอบเปิด"}).status_code == 403
    assert phuket.get(f"/areas/krabi/workshops/{krabi.id}").status_code == 403
    assert phuket.post(f"/areas/krabi/workshops/{krabi.id}/close").status_code == 403
    # and not through its own area's address either
    assert phuket.get(f"/areas/phuket/workshops/{krabi.id}").status_code == 404
    assert phuket.post(f"/areas/phuket/workshops/{krabi.id}/close").status_code == 404
    assert _count(session, WorkshopSession) == 1 and _count(session, AuditEvent) == before
    assert workshops.is_open(session.get(WorkshopSession, krabi.id))


def test_an_editor_may_not_open_a_session(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    editor = sign_in(app_client(), session, f.make_user(session, "editor", "krabi"))
    assert editor.post("/areas/krabi/workshops", data={"title": "รอบ"}).status_code == 403
    assert _count(session, WorkshopSession) == 0


def test_the_board_shows_contributions_by_kind_newest_first_escaped(
    client: TestClient, session: Session, app_client: Callable[[], TestClient]
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop, "<b>ครู</b>")
    _send(phone, workshop, text="ปัญหาแรก")
    _send(phone, workshop, text="ปัญหาที่สอง")
    _send(phone, workshop, kind="question", text='<script>alert("x")</script>')
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert board.index("ปัญหาที่สอง") < board.index("ปัญหาแรก")
    assert (
        "<script>alert" not in board and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in board
    )
    assert "<b>ครู</b>" not in board and "&lt;b&gt;ครู&lt;/b&gt;" in board
    question_column = board.index(f'id="column-{workshop.id}-question"')
    assert board.index("ปัญหาแรก") < question_column < board.index("&lt;script&gt;")


def test_accepting_a_kpi_idea_on_the_board_makes_a_draft_kpi_linked_from_its_card(
    client: TestClient, session: Session, app_client: Callable[[], TestClient]
) -> None:
    plan = f.make_plan(session)
    other = f.make_plan(session, "phuket")
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(session, workshop, guest, "kpi_idea", text="ร้อยละครูที่ใช้สื่อท้องถิ่น")
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{idea.id}/accept"
    card = client.post(url, headers=HX)
    assert card.status_code == 200 and "<html" not in card.text
    assert card.text.lstrip().startswith(
        f'<li class="contribution state-accepted is-draft" id="contribution-{idea.id}"'
    )
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id)).one()
    assert f'href="/areas/krabi/plan#kpi-{kpi.id}"' in card.text and "KPI1" in card.text
    assert session.exec(select(KPI).where(KPI.plan_id == other.id)).all() == []
    history = client.get(f"/areas/krabi/history/kpi/{kpi.id}").text
    assert "จากข้อเสนอในเวทีประชุม: World Café รอบที่ 1" in history  # the reason, in Thai
    again = client.post(url, headers=HX)
    assert again.status_code == 409 and 'role="alert"' in again.text
    assert _count(session, KPI) == 1


def test_a_facilitator_without_edit_rights_gets_a_link_to_the_elements_history(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    f.make_plan(session)
    facilitator = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(session, workshop, guest, "action_idea", text="ค่ายภาษา")
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{idea.id}/accept"
    done = facilitator.post(url, follow_redirects=False)
    assert done.status_code == 303
    assert (
        done.headers["location"] == f"/areas/krabi/workshops/{workshop.id}#contribution-{idea.id}"
    )
    session.refresh(idea)
    board = facilitator.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert f'href="/areas/krabi/history/action/{idea.accepted_id}"' in board
    assert "/areas/krabi/plan#" not in board


def test_an_accepted_problem_goes_into_the_problem_tree_and_the_card_links_there(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    plan = f.make_plan(session)
    facilitator = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    problem = f.make_contribution(session, workshop, guest, "problem", text="ครูย้ายบ่อย")
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{problem.id}/accept"
    assert facilitator.post(url, follow_redirects=False).status_code == 303
    session.refresh(problem)
    node = session.get(ProblemNode, problem.accepted_id)
    assert (node.plan_id, node.parent_id, node.text) == (plan.id, None, "ครูย้ายบ่อย")
    board = facilitator.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert f'href="/areas/krabi/problems#problem-node-{node.id}"' in board
    assert "ร่างจากเวทีประชุม" in board  # untouched since
    tree = facilitator.get("/areas/krabi/problems").text
    assert f'id="problem-node-{node.id}"' in tree and "ครูย้ายบ่อย" in tree


def test_accepting_with_no_plan_says_so_on_the_board(client: TestClient, session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(session, workshop, guest, "action_idea")
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{idea.id}/accept"
    page = client.post(url)
    assert page.status_code == 409 and "<html" in page.text and 'role="alert"' in page.text
    assert _count(session, Plan) == 0


def test_resources_join_the_inventory_and_questions_the_learning_questions(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    resource = f.make_contribution(
        session, workshop, guest, "resource", text="ศูนย์การเรียนรู้ชุมชน", dimension="knowledge"
    )
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{resource.id}/accept"
    card = client.post(url, headers=HX)
    session.refresh(resource)
    assert card.status_code == 200 and "state-accepted" in card.text and "/plan#" not in card.text
    assert resource.accepted_entity == "resource"
    assert f'href="/areas/krabi/resources#resource-{resource.accepted_id}"' in card.text
    assert "ศูนย์การเรียนรู้ชุมชน" in client.get("/areas/krabi/resources").text
    question = f.make_contribution(session, workshop, guest, "question", text="ใครเก็บข้อมูล?")
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{question.id}/accept"
    card = client.post(url, headers=HX)
    session.refresh(question)
    assert card.status_code == 200 and question.accepted_entity == "learning_question"
    assert f'href="/areas/krabi/questions#question-{question.accepted_id}"' in card.text
    assert "ใครเก็บข้อมูล?" in client.get("/areas/krabi/questions").text


def test_group_archive_and_bring_back_on_the_board(client: TestClient, session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    row = f.make_contribution(session, workshop, guest)
    base = f"/areas/krabi/workshops/{workshop.id}/contributions/{row.id}"
    grouped = client.post(f"{base}/group", data={"group_label": "ครู"}, headers=HX)
    assert grouped.status_code == 200 and "ครู" in grouped.text
    too_long = client.post(f"{base}/group", data={"group_label": "ก" * 61}, headers=HX)
    assert (
        too_long.status_code == 422 and f'id="contribution-{row.id}-group-error"' in too_long.text
    )
    archived = client.post(f"{base}/archive", follow_redirects=False)
    assert archived.status_code == 303
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert 'details class="archived"' in board and f"{base}/unarchive" in board
    assert client.post(f"{base}/unarchive", headers=HX).status_code == 200
    assert client.post(f"{base}/burn", headers=HX).status_code == 404
    session.refresh(row)
    assert (row.state, row.group_label) == ("new", "ครู")


def test_closing_with_htmx_returns_the_board_without_the_join_panel(
    client: TestClient, session: Session
) -> None:
    workshop = f.make_workshop(session)
    board = client.post(f"/areas/krabi/workshops/{workshop.id}/close", headers=HX)
    assert board.status_code == 200 and board.text.lstrip().startswith('<div id="board"')
    assert "join-panel" not in board.text and "state-ended" in board.text
    assert client.post(f"/areas/krabi/workshops/{workshop.id}/close").status_code == 200
    ops = session.exec(
        select(AuditEvent.op)
        .where(AuditEvent.entity_type == "workshop_session")
        .order_by(AuditEvent.id)
    ).all()
    assert ops == ["create", "update"]  # opened, closed: closing twice changes nothing


def test_the_read_only_board_has_no_buttons_and_viewers_get_it_read_only(
    app_client: Callable[[], TestClient], client: TestClient, session: Session
) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    f.make_contribution(session, workshop, guest)
    url = f"/areas/krabi/workshops/{workshop.id}/board"
    assert "<form" in client.get(url).text
    readonly = client.get(url + "?readonly=true").text
    assert "<form" not in readonly and "นักเรียนอ่านไม่คล่อง" in readonly
    assert f'hx-get="{url}?readonly=true"' in readonly
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    seen = viewer.get(url)
    assert seen.status_code == 200 and "<form" not in seen.text
    assert viewer.get(f"/areas/krabi/workshops/{workshop.id}").status_code == 403


# ---- the guests -----------------------------------------------------------------------------


def test_a_guest_joins_with_a_typed_code_and_posts_from_a_phone(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    phone = app_client()
    form = phone.get("/join")
    assert form.status_code == 200 and 'name="code"' in form.text
    code = workshop.join_code
    typed = phone.get(
        "/join",
        params={"code": f" {code[:4].lower()} - {code[4:].lower()} "},
        follow_redirects=False,
    )
    assert typed.status_code == 303 and typed.headers["location"] == f"/join/{code}"
    dashed = phone.get(f"/join/{code[:4].lower()}-{code[4:]}", follow_redirects=False)
    assert dashed.headers["location"] == f"/join/{code}"
    page = phone.get(f"/join/{code}")
    assert page.status_code == 200 and 'name="display_name"' in page.text
    assert "World Café รอบที่ 1" in page.text and 'name="viewport"' in page.text
    joined = phone.post(
        f"/join/{code}",
        data={"display_name": "ครูสมศรี", "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    cookie = joined.headers["set-cookie"]
    assert f"Path=/join/{code}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    participant = session.exec(select(WorkshopParticipant)).one()
    assert participant.token_hash not in cookie  # the cookie holds the token, the row its hash
    sent = _send(phone, workshop, kind="resource", dimension="data", text="ข้อมูลนักเรียนรายคนของ อบจ.")
    assert sent.status_code == 303 and sent.headers["location"] == f"/join/{code}?sent=1"
    after = phone.get(sent.headers["location"]).text
    assert "ข้อมูลนักเรียนรายคนของ อบจ." in after and 'role="status"' in after
    row = session.exec(select(Contribution)).one()
    assert (row.kind, row.dimension, row.participant_id) == ("resource", "data", participant.id)


def test_a_guest_post_with_htmx_returns_the_panel_with_the_new_contribution(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    phone.headers[auth.CSRF_HEADER] = auth._mac("csrf", phone.cookies[auth.CSRF_COOKIE])
    panel = phone.post(
        f"/join/{workshop.join_code}/contributions",
        data={"kind": "question", "text": "ใครเป็นเจ้าของข้อมูล?"},
        headers=HX,
    )
    assert panel.status_code == 200 and panel.text.lstrip().startswith('<div id="guest-panel"')
    assert "ใครเป็นเจ้าของข้อมูล?" in panel.text
    assert 'value="question" checked' in panel.text  # the kind stays chosen for the next one


def test_an_unknown_code_says_so_on_the_join_form(anonymous: TestClient) -> None:
    for code in ("ABCDEFGH", "abcdefg0"):
        page = anonymous.get(f"/join/{code}")
        assert page.status_code == 404
        assert 'name="code"' in page.text and 'id="join-code-error"' in page.text
    malformed = anonymous.get("/join", params={"code": "12"})
    assert malformed.status_code == 422 and 'value="12"' in malformed.text


def test_a_closed_sessions_code_stops_working_with_a_clear_message(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    csrf = _csrf(phone.get(f"/join/{workshop.join_code}").text)
    workshops.close_session(session, actor=f.ACTOR, workshop=workshop)
    before = (_count(session, Contribution), _count(session, WorkshopParticipant))
    newcomer = app_client()
    page = newcomer.get(f"/join/{workshop.join_code}")
    assert page.status_code == 410 and "Traceback" not in page.text
    assert 'id="join-code-error"' in page.text and 'name="display_name"' not in page.text
    refused = phone.post(
        f"/join/{workshop.join_code}/contributions",
        data={"kind": "problem", "text": "ส่งไม่ทัน", "csrf_token": csrf},
    )
    assert refused.status_code == 410 and "ส่งไม่ทัน" in refused.text  # given back, unsent
    assert 'name="text"' not in refused.text
    joining = phone.post(
        f"/join/{workshop.join_code}", data={"display_name": "มาสาย", "csrf_token": csrf}
    )
    assert joining.status_code == 410
    assert (_count(session, Contribution), _count(session, WorkshopParticipant)) == before


def test_an_expired_sessions_code_stops_working_with_a_clear_message(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    csrf = _csrf(phone.get(f"/join/{workshop.join_code}").text)
    workshop.expires_at = utcnow() - timedelta(minutes=1)
    session.add(workshop)
    session.commit()
    assert phone.get(f"/join/{workshop.join_code}").status_code == 410
    refused = phone.post(
        f"/join/{workshop.join_code}/contributions",
        data={"kind": "problem", "text": "ช้าไป", "csrf_token": csrf},
        headers=HX,
    )
    assert refused.status_code == 410 and refused.headers["HX-Retarget"] == "#guest-panel"
    assert _count(session, Contribution) == 0


def test_the_rate_limit_answers_429_beside_the_form_and_writes_nothing(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    for n in range(workshops.PER_PARTICIPANT_PER_MINUTE):
        assert _send(phone, workshop, text=f"ข้อ {n}").status_code == 303
    refused = _send(phone, workshop, text="ข้อที่เกิน")
    assert refused.status_code == 429
    assert 'role="alert"' in refused.text and "ข้อที่เกิน" in refused.text  # typed text kept
    assert 'name="text"' in refused.text
    assert _count(session, Contribution) == workshops.PER_PARTICIPANT_PER_MINUTE


def test_text_longer_than_500_is_refused_with_the_input_kept(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    long_text = "ก" * (workshops.TEXT_MAX + 1)
    refused = _send(phone, workshop, text=long_text)
    assert refused.status_code == 422
    assert 'id="guest-text-error"' in refused.text and long_text in refused.text
    no_kind = _send(phone, workshop, kind="")
    assert no_kind.status_code == 422 and 'id="guest-kind-error"' in no_kind.text
    assert _count(session, Contribution) == 0


def test_a_guest_sees_only_their_own_contributions(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    mine, theirs = _guest(app_client, workshop, "ก"), _guest(app_client, workshop, "ข")
    _send(mine, workshop, text="ของฉัน")
    _send(theirs, workshop, text="ของเขา")
    page = mine.get(f"/join/{workshop.join_code}").text
    assert "ของฉัน" in page and "ของเขา" not in page


def test_a_guest_cannot_edit_the_plan(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    phone.headers[auth.CSRF_HEADER] = auth._mac("csrf", phone.cookies[auth.CSRF_COOKIE])
    # the guest cookie, sent everywhere, still names nobody
    phone.cookies.set(
        GUEST_COOKIE, phone.cookies.get(GUEST_COOKIE, path=f"/join/{workshop.join_code}")
    )
    before = _count(session, AuditEvent)
    created = phone.post(
        "/areas/krabi/plan/problems", data={"problem": "แทรก"}, follow_redirects=False
    )
    changed = phone.put(
        f"/areas/krabi/plan/kpis/{kpi.id}",
        data={"code": "KPI1", "name": "แก้"},
        follow_redirects=False,
    )
    accepted = phone.post(f"/areas/krabi/workshops/{workshop.id}/close", follow_redirects=False)
    assert (created.status_code, changed.status_code, accepted.status_code) == (401, 401, 401)
    assert phone.get("/areas/krabi/plan", follow_redirects=False).status_code == 303  # to sign in
    assert _count(session, AuditEvent) == before
    session.refresh(kpi)
    assert kpi.name != "แก้" and workshops.is_open(session.get(WorkshopSession, workshop.id))


def test_a_guest_form_without_the_csrf_token_is_refused(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    refused = phone.post(
        f"/join/{workshop.join_code}/contributions", data={"kind": "problem", "text": "ปลอม"}
    )
    assert refused.status_code == 403 and _count(session, Contribution) == 0


def test_a_guest_sends_a_problem_with_its_cause_and_words_for_the_vision_the_editor_sees(
    app_client: Callable[[], TestClient], session: Session, client: TestClient
) -> None:
    plan = f.make_plan(session, vision="กระบี่เมืองแห่งการเรียนรู้")
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    form = phone.get(f"/join/{workshop.join_code}").text
    for kind in ("doe_statement", "problem", "vision_phrase", "kra_idea", "kpi_idea"):
        assert f'value="{kind}"' in form  # every step, from the phone
    assert 'class="for-kind for-problem"' in form and "for-kind for-resource" in form
    sent = _send(phone, workshop, text="เด็กเกาะขาดเรียน", detail="เรือไม่วิ่งช่วงมรสุม")
    assert sent.status_code == 303
    assert _send(phone, workshop, kind="vision_phrase", text="ทะเลคือห้องเรียน").status_code == 303
    mine = phone.get(f"/join/{workshop.join_code}").text
    assert "เรือไม่วิ่งช่วงมรสุม" in mine  # the guest sees the cause they sent
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert "สาเหตุ" in board and "เรือไม่วิ่งช่วงมรสุม" in board
    phrase = session.exec(select(Contribution).where(Contribution.kind == "vision_phrase")).one()
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{phrase.id}/accept"
    assert client.post(url, follow_redirects=False).status_code == 303
    editor = client.get("/areas/krabi/plan").text
    assert 'id="vision-phrases"' in editor and "ทะเลคือห้องเรียน" in editor
    session.refresh(plan)
    assert plan.vision == "กระบี่เมืองแห่งการเรียนรู้"
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert "/areas/krabi/plan#vision-phrases" in board


def test_a_vote_opened_on_the_board_is_cast_from_phones_and_counted_live(
    app_client: Callable[[], TestClient], session: Session, client: TestClient
) -> None:
    f.make_plan(session)
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    for text in ("ค่ายภาษา", "ห้องสมุดเคลื่อนที่"):
        assert _send(phone, workshop, kind="action_idea", text=text).status_code == 303
    ideas = session.exec(
        select(Contribution).where(Contribution.kind == "action_idea").order_by(Contribution.id)
    ).all()
    board_url = f"/areas/krabi/workshops/{workshop.id}"
    assert 'id="guest-vote"' not in phone.get(f"/join/{workshop.join_code}").text
    refused = client.post(f"{board_url}/votes", data={"scope": "", "mode": "dots", "dots": "3"})
    assert refused.status_code == 422
    assert "เลือกคอลัมน์หรือกลุ่มที่จะโหวตเพียงหนึ่งอย่าง" in refused.text  # beside the field
    assert 'aria-describedby="vote-scope-' in refused.text
    opened = client.post(
        f"{board_url}/votes",
        data={"scope": "kind:action_idea", "mode": "dots", "dots": "2"},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"].endswith("#vote")
    slot = phone.get(f"/join/{workshop.join_code}/vote").text  # what the phone's poll brings
    assert 'id="guest-vote"' in slot and "ห้องสมุดเคลื่อนที่" in slot and "เหลือ 2 จุด" in slot
    page = phone.get(f"/join/{workshop.join_code}").text
    vote_url = re.search(r'action="(/join/[^"]+/votes/\d+)"', page).group(1)
    token = _csrf(page)
    for _ in range(2):
        sent = phone.post(
            vote_url,
            data={"contribution_id": str(ideas[1].id), "csrf_token": token},
            follow_redirects=False,
        )
        assert sent.status_code == 303
    third = phone.post(vote_url, data={"contribution_id": str(ideas[0].id), "csrf_token": token})
    assert third.status_code == 409 and "ท่านใช้จุดครบแล้ว" in third.text
    board = client.get(board_url).text
    assert "เปิดโหวตอยู่" in board and "2 จุด" in board
    assert board.index("ห้องสมุดเคลื่อนที่") < board.index("vote-close-")  # results listed first
    vote_id = vote_url.rsplit("/", 1)[-1]
    closed = client.post(f"{board_url}/votes/{vote_id}/close", follow_redirects=False)
    assert closed.status_code == 303
    late = phone.post(vote_url, data={"contribution_id": str(ideas[0].id), "csrf_token": token})
    assert late.status_code == 409 and "การโหวตนี้ปิดแล้ว" in late.text  # nothing changed
    assert "การโหวตล่าสุด (ปิดแล้ว)" in client.get(board_url).text


def test_a_board_on_a_screen_fetches_only_the_new_cards_and_the_votes_dots(
    app_client: Callable[[], TestClient], session: Session, client: TestClient
) -> None:
    """While guests post and vote, the board appends the newest cards (`part=new`) and swaps
    the vote's panel and dots (`part=vote`) instead of reloading hundreds of cards."""
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    _send(phone, workshop, kind="kpi_idea", text="ร้อยละนักเรียนอ่านออก")
    url = f"/areas/krabi/workshops/{workshop.id}/board"
    board = client.get(url, headers=HX).text
    first = session.exec(select(Contribution)).one()
    assert f'id="board-after-{workshop.id}" name="after" value="{first.id}"' in board
    assert 'hx-trigger="sse:contribution, sse:participant"' in board
    _send(phone, workshop, kind="kpi_idea", text="จำนวนห้องสมุดชุมชน")
    _guest(app_client, workshop, "ผู้ปกครอง")
    new = client.get(url, params={"part": "new", "after": first.id}, headers=HX).text
    assert "จำนวนห้องสมุดชุมชน" in new and "ร้อยละนักเรียนอ่านออก" not in new
    assert f'hx-swap-oob="afterbegin:#cards-{workshop.id}-kpi_idea"' in new
    assert f'<span class="count" id="count-{workshop.id}-kpi_idea" hx-swap-oob="true">(2)' in new
    assert f'id="board-participants-{workshop.id}" hx-swap-oob="true">2<' in new
    second = session.exec(select(func.max(Contribution.id))).one()
    assert f'name="after" value="{second}" hx-swap-oob="true"' in new
    assert "เพิ่มเข้าแผนเป็นตัวชี้วัด" in new  # the facilitator's tools on the new card
    readonly = client.get(url, params={"part": "new", "after": first.id, "readonly": "true"}).text
    assert "จำนวนห้องสมุดชุมชน" in readonly and "csrf_token" not in readonly
    nothing = client.get(url, params={"part": "new", "after": second}, headers=HX).text
    assert "<li" not in nothing and f'value="{second}"' in nothing
    client.post(
        url.removesuffix("/board") + "/votes",
        data={"scope": "kind:kpi_idea", "mode": "dots", "dots": "3"},
    )
    page = phone.get(f"/join/{workshop.join_code}").text
    vote_url = re.search(r'action="(/join/[^"]+/votes/\d+)"', page).group(1)
    for _ in range(2):
        phone.post(vote_url, data={"contribution_id": str(first.id), "csrf_token": _csrf(page)})
    panel = client.get(url, params={"part": "vote"}, headers=HX).text
    assert "เปิดโหวตอยู่" in panel and "ร้อยละนักเรียนอ่านออก" in panel  # the results
    assert f'<p class="vote-dots" id="dots-{first.id}" hx-swap-oob="true">' in panel
    assert re.search(rf'id="dots-{first.id}".*?2 จุด', panel)
    assert re.search(rf'id="dots-{second}".*?0 จุด', panel)
    assert (
        client.get(url, params={"part": "new", "after": "-1"}).status_code == 404
    )  # names nothing


def test_a_dot_from_a_phone_answers_with_only_the_lines_it_changed(
    app_client: Callable[[], TestClient], session: Session, client: TestClient
) -> None:
    """A hall puts thousands of dots in a minute: while the guest keeps dots left, a dot (or one
    taken back) answers with their count and the item's line, swapped out of band; the dot that
    uses the last one, or one that frees it, draws the section again (every button changes)."""
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    for text in ("ค่ายภาษา", "ห้องสมุดเคลื่อนที่"):
        _send(phone, workshop, kind="action_idea", text=text)
    camp, library = session.exec(
        select(Contribution).where(Contribution.kind == "action_idea").order_by(Contribution.id)
    ).all()
    client.post(
        f"/areas/krabi/workshops/{workshop.id}/votes",
        data={"scope": "kind:action_idea", "mode": "dots", "dots": "2"},
    )
    page = phone.get(f"/join/{workshop.join_code}").text
    vote_url = re.search(r'action="(/join/[^"]+/votes/\d+)"', page).group(1)
    token = _csrf(page)

    def dot(item: Contribution, back: bool = False) -> Response:
        data = {"contribution_id": str(item.id), "csrf_token": token}
        if back:
            data["back"] = "1"
        return phone.post(vote_url, data=data, headers=HX)

    first = dot(library)
    assert first.status_code == 200 and first.headers["hx-reswap"] == "none"
    assert '<p class="dots-left" id="dots-left" role="status" hx-swap-oob="true">' in first.text
    assert "เหลือ 1 จุด จาก 2 จุด" in first.text
    assert f'id="vote-item-{library.id}" hx-swap-oob="true"' in first.text
    assert "●" in first.text and 'name="back" value="1"' in first.text  # it can be taken back
    assert first.text.count(f'name="csrf_token" value="{token}"') == 2  # its buttons work
    assert "ค่ายภาษา" not in first.text and 'id="guest-vote-slot"' not in first.text
    last = dot(camp)  # the last dot: every "+ Dot" button is disabled now
    assert "hx-reswap" not in last.headers and 'id="guest-vote-slot"' in last.text
    assert last.text.count("disabled") == 2 and "เหลือ 0 จุด" in last.text
    freed = dot(camp, back=True)  # a dot free again: the buttons come back
    assert "hx-reswap" not in freed.headers and "disabled" not in freed.text
    again = dot(library, back=True)  # still one left before and after
    assert again.headers["hx-reswap"] == "none" and "เหลือ 2 จุด จาก 2 จุด" in again.text
    assert f'id="vote-item-{library.id}" hx-swap-oob="true"' in again.text
    assert 'name="back"' not in again.text  # no dot of theirs there any more
    assert _count(session, WorkshopBallot) == 0


def test_a_post_that_waited_too_long_for_sqlite_gets_a_busy_message_not_a_crash(
    app_client: Callable[[], TestClient], session: Session, monkeypatch
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)

    def locked(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(workshops, "contribute", locked)
    answer = _send(phone, workshop, text="ครูขาดแคลน")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert "ไม่มีสิ่งใดถูกบันทึก" in answer.text and "Traceback" not in answer.text
    assert _count(session, Contribution) == 0


def _pushed(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """An event stream's events as (name, data), the data's lines joined as a browser does."""
    name, data = "message", []
    for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))
        elif line == "" and data:
            yield name, "\n".join(data)
            name, data = "message", []


def test_a_dot_reaches_the_boards_screens_as_the_votes_panel_in_their_language(
    app_client: Callable[[], TestClient],
    session: Session,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A screen showing the board gets the vote's panel in the dot's event itself (no request
    of its own): counts, results and each card's dots, in the screen's language; a later dot
    brings the newer counts."""
    workshop = f.make_workshop(session)
    phones = [_guest(app_client, workshop, name) for name in ("ครูสมศรี", "ผู้ปกครอง")]
    _send(phones[0], workshop, kind="kpi_idea", text="ร้อยละนักเรียน <b>อ่านออก</b>")
    item = session.exec(select(Contribution)).one()
    board = f"/areas/krabi/workshops/{workshop.id}"
    client.post(f"{board}/votes", data={"scope": "kind:kpi_idea", "mode": "dots", "dots": "3"})
    page = phones[0].get(f"/join/{workshop.join_code}").text
    dot_url = re.search(r'action="(/join/[^"]+/votes/\d+)"', page).group(1)
    whole = client.get(f"{board}/board", headers=HX).text
    assert f'sse-swap="vote-{workshop.id}"' in whole  # the slot the events swap the panel into
    monkeypatch.setitem(events.PACE, "vote", 0.05)
    with client.stream("GET", "/areas/krabi/events") as stream:
        pushed = _pushed(stream.iter_lines())
        assert next(pushed)[0] == "ready"
        for phone in phones:
            page = phone.get(f"/join/{workshop.join_code}").text
            sent = phone.post(
                dot_url, data={"contribution_id": str(item.id), "csrf_token": _csrf(page)}
            )
            assert sent.status_code == 200
            name, panel = next(pushed)
            assert name == f"vote-{workshop.id}"
        assert "เปิดโหวตอยู่" in panel and "ผู้โหวต: <strong>2</strong>" in panel
        assert "ร้อยละนักเรียน &lt;b&gt;อ่านออก&lt;/b&gt;" in panel  # typed text stays text
        assert re.search(rf'id="dots-{item.id}" hx-swap-oob="true">.*?2 จุด', panel)
        assert "csrf_token" not in panel  # the facilitator's button is not in it
    english = app_client()
    english.cookies.set(LANG_COOKIE, "en")
    sign_in(english, session, f.make_user(session, "viewer", area_slug="krabi"))
    with english.stream("GET", "/areas/krabi/events") as stream:
        pushed = _pushed(stream.iter_lines())
        next(pushed)
        page = phones[1].get(f"/join/{workshop.join_code}").text
        phones[1].post(dot_url, data={"contribution_id": str(item.id), "csrf_token": _csrf(page)})
        name, panel = next(pushed)
    assert "Vote open" in panel and re.search(rf'id="dots-{item.id}".*?3 dots', panel)


def test_each_phone_gets_its_own_token_and_dots_in_the_lines_of_its_vote_section(
    app_client: Callable[[], TestClient], session: Session, client: TestClient
) -> None:
    """The lines of a vote section are drawn once and kept (a hall loads the section at once):
    each phone still gets its own CSRF token and its own dots, and typed text stays text."""
    workshop = f.make_workshop(session)
    phones = [_guest(app_client, workshop, name) for name in ("ครูสมศรี", "ผู้ปกครอง")]
    for text in ("<csrf> ค่ายภาษา", "ห้องสมุดเคลื่อนที่"):
        _send(phones[0], workshop, kind="kpi_idea", text=text)
    items = session.exec(select(Contribution).order_by(Contribution.id)).all()
    board = f"/areas/krabi/workshops/{workshop.id}"
    client.post(f"{board}/votes", data={"scope": "kind:kpi_idea", "mode": "dots", "dots": "2"})
    pages = [phone.get(f"/join/{workshop.join_code}").text for phone in phones]
    tokens = [_csrf(page) for page in pages]
    assert tokens[0] != tokens[1]
    dot_url = re.search(r'action="(/join/[^"]+/votes/\d+)"', pages[0]).group(1)
    for _ in range(2):  # the second uses the last dot: the section is drawn again
        phones[0].post(dot_url, data={"contribution_id": str(items[1].id), "csrf_token": tokens[0]})
    sections = [phone.get(f"/join/{workshop.join_code}/vote", headers=HX).text for phone in phones]
    for section, token, other in zip(sections, tokens, reversed(tokens), strict=True):
        assert section.count(f'value="{token}"') >= 2 and other not in section
    assert "&lt;csrf&gt; ค่ายภาษา" in sections[1] and "<csrf>" not in sections[1]
    mine = re.search(rf'id="vote-item-{items[1].id}".*?</li>', sections[0], re.S).group(0)
    theirs = re.search(rf'id="vote-item-{items[1].id}".*?</li>', sections[1], re.S).group(0)
    assert "●●" in mine and "ถอนจุด" in mine and "disabled" in mine  # no dots left
    assert "●" not in theirs and "disabled" not in theirs


def test_a_phones_one_poll_gets_204_until_its_vote_or_round_section_changes(
    app_client: Callable[[], TestClient], session: Session, client: TestClient
) -> None:
    """Hundreds of phones poll every 20 s, one request for both sections: while nothing they
    show changed, the answer is an empty 204 (htmx then keeps what the phone shows); else the
    sections that changed, out of band, and the poller again with the new keys."""
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop)
    _send(phone, workshop, kind="kpi_idea", text="ร้อยละนักเรียนอ่านออก")
    page = phone.get(f"/join/{workshop.join_code}").text
    assert page.count('hx-trigger="every') == 1  # the poller alone: the sections do not poll
    first = poller_url(page)
    assert phone.get(first, headers=HX).status_code == 204
    board = f"/areas/krabi/workshops/{workshop.id}"
    client.post(f"{board}/votes", data={"scope": "kind:kpi_idea", "mode": "dots", "dots": "3"})
    opened = phone.get(first, headers=HX)
    assert opened.status_code == 200
    assert '<div id="guest-vote-slot" hx-swap-oob="true">' in opened.text
    assert "ร้อยละนักเรียนอ่านออก" in opened.text and "เหลือ 3 จุด" in opened.text
    assert 'id="guest-round-slot"' not in opened.text  # unchanged: not sent
    second = poller_url(opened.text)
    assert second != first and phone.get(second, headers=HX).status_code == 204
    assert poller_url(phone.get(f"/join/{workshop.join_code}").text) == second  # the page's too
    _send(phone, workshop, kind="kpi_idea", text="จำนวนห้องสมุดชุมชน")  # a new item to vote on
    fresh = phone.get(second, headers=HX)
    assert fresh.status_code == 200 and "จำนวนห้องสมุดชุมชน" in fresh.text
