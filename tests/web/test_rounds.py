"""World Café rounds on the pages: the facilitator sets up tables and runs rounds from the board,
the projector shows the countdown, a phone shows its table and the countdown and posts into
the round; an ended round refuses the post beside the form, a host's summary reaches the board,
bad input stays beside its field with nothing written."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Contribution, WorkshopRound, WorkshopTable
from app.services import rounds
from tests import factories as f
from tests.conftest import sign_in
from tests.web.test_workshops import HX, _count, _csrf, _guest, _send, poller_url


def _tables(client: TestClient, workshop, **fields: str):  # noqa: ANN001, ANN202
    data = {
        "count": "3",
        "shown": "3",
        "question_1": "ทำอย่างไรให้เด็กอ่านออก",
        "host_name_1": "ครูใหญ่",
        "question_2": "ชุมชนช่วยอะไรได้บ้าง",
        "question_3": "ครูต้องการอะไร",
        **fields,
    }
    return client.post(
        f"/areas/krabi/workshops/{workshop.id}/tables", data=data, follow_redirects=False
    )


def _start(client: TestClient, workshop, minutes: str = "15"):  # noqa: ANN001, ANN202
    return client.post(
        f"/areas/krabi/workshops/{workshop.id}/rounds",
        data={"minutes": minutes},
        follow_redirects=False,
    )


def test_a_facilitator_sets_up_tables_and_runs_a_round_the_projector_counts_down(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)  # the projector page needs one
    workshop = f.make_workshop(session)
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert 'id="cafe"' in board and 'name="question_3"' in board  # three tables to fill in
    saved = _tables(client, workshop)
    assert saved.status_code == 303 and saved.headers["location"].endswith("#cafe")
    tables = session.exec(select(WorkshopTable).order_by(WorkshopTable.number)).all()
    assert [(t.number, t.host_name) for t in tables] == [(1, "ครูใหญ่"), (2, ""), (3, "")]
    assert _start(client, workshop, "12").status_code == 303
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert "ชุมชนช่วยอะไรได้บ้าง" in board and 'role="timer"' in board
    assert 'data-seconds="7' in board and "12 นาที" in board  # 720 s; the text without script
    assert "/static/js/countdown.js" in board
    readonly = client.get(f"/areas/krabi/workshops/{workshop.id}/board?readonly=true").text
    assert 'role="timer"' in readonly and "<form" not in readonly
    present = client.get("/areas/krabi/present").text
    assert 'role="timer"' in present and "โต๊ะ 3" in present
    row = session.exec(select(WorkshopRound)).one()
    ended = client.post(f"/areas/krabi/workshops/{workshop.id}/rounds/{row.id}/end", headers=HX)
    assert ended.status_code == 200 and "รอบที่ 1 จบเมื่อ" in ended.text
    assert 'role="timer"' not in ended.text


def test_bad_tables_and_rounds_stay_beside_their_fields_with_nothing_saved(
    client: TestClient, session: Session
) -> None:
    workshop = f.make_workshop(session)
    refused = _tables(client, workshop, count="99", question_2="ก" * 400)
    assert refused.status_code == 422
    assert 'id="cafe-count-' in refused.text and "cafe-question_2-" in refused.text
    assert 'aria-invalid="true"' in refused.text and "ก" * 300 in refused.text
    assert _count(session, WorkshopTable) == 0
    no_tables = _start(client, workshop)
    assert no_tables.status_code == 409 and "ตั้งโต๊ะก่อน" in no_tables.text
    _tables(client, workshop)
    bad = _start(client, workshop, "0")
    assert bad.status_code == 422 and 'id="round-minutes-' in bad.text
    assert _count(session, WorkshopRound) == 0


def test_a_phone_goes_to_its_table_posts_into_the_round_and_is_refused_after_it(
    client: TestClient, session: Session, app_client: Callable[[], TestClient]
) -> None:
    workshop = f.make_workshop(session)
    phone = _guest(app_client, workshop, "ครูสมศรี")
    _tables(client, workshop)
    before = poller_url(phone.get(f"/join/{workshop.join_code}").text)
    _start(client, workshop)
    polled = phone.get(before, headers=HX)  # the page's poll brings the round, out of band
    assert '<div id="guest-round-slot" hx-swap-oob="true">' in polled.text
    assert "ไปที่โต๊ะ 1" in polled.text and 'id="guest-vote-slot"' not in polled.text
    page = phone.get(f"/join/{workshop.join_code}").text
    assert poller_url(page) == poller_url(polled.text) != before
    assert "ไปที่โต๊ะ 1" in page and "ทำอย่างไรให้เด็กอ่านออก" in page
    assert 'role="timer"' in page
    row = session.exec(select(WorkshopRound)).one()
    assert f'name="round_id" value="{row.id}"' in page
    section = phone.get(f"/join/{workshop.join_code}/round").text
    assert section.startswith('<div id="guest-round-slot"') and "ไปที่โต๊ะ 1" in section
    sent = _send(phone, workshop, kind="action_idea", text="อ่านกับยาย", round_id=str(row.id))
    assert sent.status_code == 303
    idea = session.exec(select(Contribution)).one()
    assert idea.round_id == row.id and idea.table_id is not None
    client.post(f"/areas/krabi/workshops/{workshop.id}/rounds/{row.id}/end")
    late = _send(phone, workshop, kind="action_idea", text="<b>ส่งช้า</b>", round_id=str(row.id))
    assert late.status_code == 409
    assert "รอบนี้จบแล้ว" in late.text and "&lt;b&gt;ส่งช้า&lt;/b&gt;" in late.text
    assert _count(session, Contribution) == 1
    between = phone.get(f"/join/{workshop.join_code}").text
    assert "รอบที่ 1 จบแล้ว" in between and 'name="round_id"' not in between


def test_the_host_sends_a_summary_that_reaches_the_board_and_others_cannot(
    client: TestClient, session: Session, app_client: Callable[[], TestClient]
) -> None:
    workshop = f.make_workshop(session)
    host = _guest(app_client, workshop, "ครูใหญ่")
    guest = _guest(app_client, workshop, "ครูน้อย")
    host_id = session.exec(select(rounds.WorkshopParticipant.id)).first()
    _tables(client, workshop, host_participant_id_1=str(host_id), host_name_1="")
    _start(client, workshop)
    page = host.get(f"/join/{workshop.join_code}").text
    assert "คุณเป็นเจ้าภาพโต๊ะ 1" in page and "cafe-summary-form" in page
    assert "cafe-summary-form" not in guest.get(f"/join/{workshop.join_code}").text
    polled = host.get(f"/join/{workshop.join_code}/round").text  # the section's reload
    assert "cafe-summary-form" not in polled and "#guest-summary" in polled  # keeps the typing
    sent = _send(host, workshop, kind="table_summary", text="โต๊ะ 1: อ่าน\x00ทุกวัน")
    assert sent.status_code == 303
    summary = session.exec(select(Contribution)).one()
    assert summary.text == "โต๊ะ 1: อ่านทุกวัน" and summary.kind == "table_summary"
    refused = _send(guest, workshop, kind="table_summary", text="สรุปแทน")
    assert refused.status_code == 422 and "เจ้าภาพ" in refused.text
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert "cafe-summary" in board and "โต๊ะ 1: อ่านทุกวัน" in board
    assert "สรุปของเจ้าภาพโต๊ะ" in board  # its own column among the kinds
    phone_form = guest.get(f"/join/{workshop.join_code}").text
    assert 'value="table_summary"' not in phone_form  # not a kind every guest can choose


def test_a_facilitator_of_another_area_cannot_run_rounds_here(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    workshop = f.make_workshop(session)
    other = sign_in(app_client(), session, f.make_user(session, "facilitator", "phuket"))
    assert _tables(other, workshop).status_code in (403, 404)
    assert _start(other, workshop).status_code in (403, 404)
    assert _count(session, WorkshopTable) == 0


def test_the_guest_round_section_without_a_name_or_round_is_empty(
    anonymous: TestClient, session: Session
) -> None:
    workshop = f.make_workshop(session)
    section = anonymous.get(f"/join/{workshop.join_code}/round")
    assert section.status_code == 200 and "guest-round-title" not in section.text
    assert _csrf(anonymous.get(f"/join/{workshop.join_code}").text)


def test_the_harvest_pdf_has_the_tables_and_rounds_with_the_hosts_summaries(
    client: TestClient, session: Session, app_client: Callable[[], TestClient]
) -> None:
    from tests.web.test_reports import PDF_HEAD, pdf_text

    workshop = f.make_workshop(session)
    host = _guest(app_client, workshop, "ครูใหญ่")
    host_id = session.exec(select(rounds.WorkshopParticipant.id)).first()
    _tables(client, workshop, host_participant_id_1=str(host_id))
    _start(client, workshop)
    _send(host, workshop, kind="table_summary", text="โต๊ะหนึ่งสรุปว่าอ่านทุกวัน")
    response = client.get(f"/areas/krabi/workshops/{workshop.id}/harvest.pdf")
    assert response.status_code == 200 and response.content.startswith(PDF_HEAD)
    text = pdf_text(response.content)
    assert "โต๊ะและรอบ" in text and "โต๊ะหนึ่งสรุปว่าอ่านทุกวัน" in text
    assert "ชุมชนช่วยอะไรได้บ้าง" in text  # (a sara am comes out of the PDF as another glyph)
