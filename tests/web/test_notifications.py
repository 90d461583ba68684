"""Reminders (issue 24): what `phonlap remind` tells whom, through a real local SMTP server
(aiosmtpd), exactly once; and the person's notification list and settings."""

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import cli
from app.config import get_settings
from app.i18n import THAI_TZ, be_year
from app.models import Notification, User
from app.models.base import utcnow
from app.services import accounts, comments, notifications, reviews
from app.services.notifications import Mailer
from tests import factories as f
from tests.conftest import QueryCounter, sign_in


class Inbox:
    """What the local SMTP server accepted; `refuse` makes it answer 451 to every mail."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        if self.refuse:
            return "451 Requested action aborted: local error in processing"
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        self.mails.append(mail)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, user: User) -> list[EmailMessage]:
        return [m for m in self.mails if user.email in str(m["To"])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Inbox, int]) -> Inbox:
    smtp_server[0].mails.clear()
    smtp_server[0].refuse = False
    return smtp_server[0]


@pytest.fixture
def remind(smtp_server: tuple[Inbox, int], session: Session) -> Callable[..., tuple[int, int]]:
    """`phonlap remind` at a moment: (notifications made, mails sent)."""

    def run(now: datetime | None = None, port: int | None = None) -> tuple[int, int]:
        made = notifications.collect(session, now)
        mailer = Mailer(host="127.0.0.1", port=port or smtp_server[1], timeout=5)
        return made, notifications.deliver(session, now, mailer).sent

    return run


def _tomorrow_morning() -> datetime:
    """08:00 tomorrow in Thailand (after the digest hour), as UTC."""
    day = utcnow().astimezone(THAI_TZ).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 8, tzinfo=THAI_TZ).astimezone(THAI_TZ)


def _text(mail: EmailMessage) -> str:
    return str(mail["Subject"]) + "\n" + mail.get_body().get_content()  # type: ignore[union-attr]


def _comment(session: Session, user: User, body: str, parent: int | None = None) -> int:
    krabi = f.area(session)
    by = comments.commenter(accounts.principal_for(session, user), krabi)
    content = {"parent_id": parent} if parent else {"target_type": "area"}
    return comments.add_comment(session, by=by, area=krabi, comment_in={**content, "body": body}).id


def test_an_overdue_value_reminds_its_editor_once_in_the_digest(
    session: Session, inbox: Inbox, remind: Callable[..., tuple[int, int]]
) -> None:
    plan = f.make_plan(session)  # 2566-2570: AY2566 and AY2567 have ended with no value
    f.make_kpi(session, plan, code="KPI11", name="ร้อยละเด็ก ป.1 อ่านคล่อง")
    f.make_kpi(session, f.make_plan(session, "trat"), code="KPI9", name="ตัวชี้วัดของตราด")
    editor = f.make_user(session, "editor", "krabi")
    viewer = f.make_user(session, "viewer", "krabi")
    other = f.make_user(session, "editor", "phuket")
    morning = _tomorrow_morning()

    made, sent = remind(morning)
    assert made >= 2 and sent == 1  # AY2566, AY2567 (and any later year ended), in one digest
    assert remind(morning) == (0, 0)  # the same run again: nothing twice
    assert remind(morning + timedelta(hours=3)) == (0, 0)

    [mail] = inbox.to(editor)
    text = _text(mail)
    assert f"แจ้งเตือน {made} รายการ" in str(mail["Subject"])
    assert str(be_year(morning.year)) in str(mail["Subject"])  # the day, in B.E.
    assert "KPI11" in text and "ปีการศึกษา 2566" in text and "ปีการศึกษา 2567" in text
    assert "/areas/krabi/progress/kpis/" in text and "KPI9" not in text
    assert not inbox.to(viewer) and not inbox.to(other)  # not theirs to enter


def test_a_returned_round_mails_the_areas_editors_at_once_in_their_language(
    session: Session, inbox: Inbox, remind: Callable[..., tuple[int, int]]
) -> None:
    f.make_plan(session)
    editor = f.make_user(session, "editor", "krabi", display_name="สมศรี บรรณาธิการ")
    english = f.make_user(session, "editor", "krabi")
    notifications.save_settings(
        session,
        principal=accounts.principal_for(session, english),
        settings_in={**notifications.DEFAULTS, "overdue": "off", "language": "en"},
    )
    reviewer = f.make_user(session, "reviewer")
    krabi = f.area(session)
    who = accounts.principal_for(session, reviewer).actor
    for step, why in (("submit", ""), ("return", "ขอหลักฐานผลการอ่านเพิ่ม")):
        reviews.step_round(
            session, actor=who, area=krabi, period="AY2566", action=step, comment=why
        )

    remind()
    remind()

    [thai] = inbox.to(editor)
    assert str(thai["Subject"]) == "กระบี่: ปีการศึกษา 2566 ถูกส่งกลับให้แก้ไข"
    assert "ขอหลักฐานผลการอ่านเพิ่ม" in _text(thai)
    [mail] = inbox.to(english)
    assert str(mail["Subject"]) == "Krabi: Academic year 2023 was returned for changes"
    assert not inbox.to(reviewer)  # who returned it


def test_a_reply_tells_the_thread_and_a_mention_the_mentioned_who_may_read(
    session: Session, inbox: Inbox, remind: Callable[..., tuple[int, int]]
) -> None:
    reviewer = f.make_user(session, "reviewer", display_name="สมชาย ผู้ตรวจ")
    editor = f.make_user(session, "editor", "krabi", display_name="สมศรี ใจดี")
    viewer = f.make_user(session, "viewer", "krabi", email="malee@example.go.th")
    stranger = f.make_user(session, "editor", "phuket", display_name="ประยุทธ นอกพื้นที่")
    asked = _comment(session, reviewer, "ทำไมค่าฐานต่ำกว่าปีก่อน")
    _comment(session, editor, "มาจากมติคณะกรรมการ ถาม @malee และ @ประยุทธ นอกพื้นที่", asked)

    remind()

    [reply] = inbox.to(reviewer)
    assert str(reply["Subject"]) == "สมศรี ใจดี ตอบในกระทู้ที่คุณร่วมเขียน (กระบี่)"
    assert "มาจากมติคณะกรรมการ" in _text(reply) and f"/areas/krabi/comments/{asked}" in _text(reply)
    [mention] = inbox.to(viewer)
    assert str(mention["Subject"]) == "สมศรี ใจดี กล่าวถึงคุณ (กระบี่)"
    assert not inbox.to(stranger)  # may not read Krabi: never told
    assert not inbox.to(editor)  # their own words
    assert remind() == (0, 0)


def test_off_tells_nothing_and_the_digest_bundles_the_rest(
    session: Session, inbox: Inbox, remind: Callable[..., tuple[int, int]]
) -> None:
    f.make_plan(session)
    reviewer = f.make_user(session, "reviewer")
    editor = f.make_user(session, "editor", "krabi")
    notifications.save_settings(
        session,
        principal=accounts.principal_for(session, editor),
        settings_in={
            **notifications.DEFAULTS,
            "returned": "off",
            "reply": "digest",
            "language": "th",
        },
    )
    asked = _comment(session, editor, "ค่าปี 2566 ยังไม่ครบ")
    _comment(session, reviewer, "ส่งเพิ่มได้ภายในสิ้นเดือน", asked)
    krabi = f.area(session)
    for step, why in (("submit", ""), ("return", "ขอหลักฐาน")):
        reviews.step_round(
            session, actor=f.ACTOR, area=krabi, period="AY2566", action=step, comment=why
        )

    remind(_tomorrow_morning())

    [digest] = inbox.to(editor)
    text = _text(digest)
    assert "ส่งเพิ่มได้ภายในสิ้นเดือน" in text  # the reply, in the digest
    assert "ขอหลักฐาน" not in text  # returned rounds: off
    kinds = session.exec(select(Notification.kind).where(Notification.user_id == editor.id)).all()
    assert "returned" not in kinds


def test_a_failing_mail_server_loses_nothing_and_the_next_run_sends_once(
    session: Session,
    inbox: Inbox,
    remind: Callable[..., tuple[int, int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    reviewer = f.make_user(session, "reviewer")
    editor = f.make_user(session, "editor", "krabi")
    _comment(session, editor, "@" + reviewer.email.split("@")[0] + " ช่วยดูค่าปีนี้")
    now = utcnow()

    assert remind(now, port=_free_port()) == (1, 0)  # nobody listens there
    [row] = session.exec(select(Notification)).all()
    assert row.sent_at is None and row.attempts == 1 and "Connection" in row.last_error
    assert "will retry" in caplog.text

    inbox.refuse = True  # the server answers, but refuses
    assert remind(now + timedelta(minutes=6)) == (0, 0)
    session.refresh(row)
    assert row.attempts == 2 and "451" in row.last_error
    inbox.refuse = False
    assert remind(now + timedelta(minutes=7)) == (0, 0)  # waits: 10 minutes after the 2nd try
    assert remind(now + timedelta(minutes=17)) == (0, 1)
    assert remind(now + timedelta(hours=7)) == (0, 0)
    assert len(inbox.to(reviewer)) == 1


def test_the_notification_page_lists_marks_read_and_saves_settings(
    app_client: Callable[[], TestClient],
    session: Session,
    remind: Callable[..., tuple[int, int]],
    inbox: Inbox,
) -> None:
    reviewer = f.make_user(session, "reviewer", display_name="สมชาย ผู้ตรวจ")
    editor = f.make_user(session, "editor", "krabi")
    asked = _comment(session, editor, "เป้าหมายปี 2570 มาจากไหน")
    _comment(session, reviewer, "มาจากมติคณะกรรมการ", asked)
    remind()
    client = sign_in(app_client(), session, editor)

    assert "1 รายการที่ยังไม่อ่าน" in client.get("/news").text
    page = client.get("/account/notifications").text
    assert "สมชาย ผู้ตรวจ ตอบในกระทู้ที่คุณร่วมเขียน (กระบี่)" in page
    assert "1 รายการที่ยังไม่อ่าน" in page
    [row] = session.exec(select(Notification)).all()
    other = sign_in(app_client(), session, reviewer)
    other.post(f"/account/notifications/{row.id}/read", follow_redirects=False)
    session.refresh(row)
    assert row.read_at is None  # not theirs
    opened = client.post(f"/account/notifications/{row.id}/read", follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/areas/krabi/comments/{asked}"
    assert "ยังไม่อ่าน" not in client.get("/account/notifications").text

    bad = client.post(
        "/account/notifications/settings",
        data={**notifications.DEFAULTS, "reply": "sometimes", "language": "th"},
    )
    assert bad.status_code == 422
    error = bad.text[bad.text.index('id="notify-reply-error"') :]
    assert error.split("</p>")[0].endswith("โปรดเลือกจากตัวเลือกที่มี")  # beside the field
    assert notifications.settings_of(session, editor.id).reply == "now"  # nothing written
    good = client.post(
        "/account/notifications/settings",
        data={**notifications.DEFAULTS, "reply": "off", "language": "en"},
        follow_redirects=False,
    )
    assert good.status_code == 303
    saved = notifications.settings_of(session, editor.id)
    assert saved.reply == "off" and saved.language == "en"


def test_two_parallel_runs_make_and_send_each_notification_once(
    engine: Engine, session: Session, inbox: Inbox, smtp_server: tuple[Inbox, int]
) -> None:
    reviewer = f.make_user(session, "reviewer")
    editors = [f.make_user(session, "editor", "krabi") for _ in range(3)]
    asked = _comment(session, reviewer, "ค่าปี 2567 มาจากแหล่งใด")
    for editor in editors:
        _comment(session, editor, "จากรายงานของ สพป.", asked)
    barrier = threading.Barrier(2)

    def run() -> tuple[int, int]:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            made = notifications.collect(own)
            mailer = Mailer(host="127.0.0.1", port=smtp_server[1], timeout=5)
            return made, notifications.deliver(own, mailer=mailer).sent

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: run(), range(2)))

    # the reviewer and the first two editors hear of later replies: 3 + 2 + 1
    assert sum(made for made, _ in results) == 6 == len(session.exec(select(Notification)).all())
    assert sum(sent for _, sent in results) == 6 == len(inbox.mails)


def test_the_remind_command_prints_what_it_did(
    database_url: str,
    session: Session,
    smtp_server: tuple[Inbox, int],
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reviewer = f.make_user(session, "reviewer")
    editor = f.make_user(session, "editor", "krabi")
    asked = _comment(session, editor, "ขอคำแนะนำเรื่องเป้าหมาย")
    _comment(session, reviewer, "ดูตัวชี้วัดกลาง ป.1", asked)
    monkeypatch.setenv("PHONLAP_DATABASE_URL", database_url)
    monkeypatch.setenv("PHONLAP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PHONLAP_SMTP_PORT", str(smtp_server[1]))
    get_settings.cache_clear()
    try:
        assert cli.main(["remind"]) == 0
        assert cli.main(["remind"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "reminders: 1 new" in out and "mail: 1 sent (1 reminders), 0 failed" in out
    assert "reminders: 0 new" in out and "mail: 0 sent" in out
    assert len(inbox.to(editor)) == 1


def test_turning_a_kind_off_stops_its_mails_still_waiting(
    session: Session, inbox: Inbox, remind: Callable[..., tuple[int, int]]
) -> None:
    reviewer = f.make_user(session, "reviewer")
    editor = f.make_user(session, "editor", "krabi")
    asked = _comment(session, editor, "ขอทราบที่มาของค่าเป้าหมาย")
    _comment(session, reviewer, "จากแผนกลยุทธ์จังหวัด", asked)
    assert notifications.collect(session) == 1  # made, not yet mailed
    notifications.save_settings(
        session,
        principal=accounts.principal_for(session, editor),
        settings_in={**notifications.DEFAULTS, "reply": "off", "language": "th"},
    )

    assert remind() == (0, 0)
    assert not inbox.mails
    [row] = session.exec(select(Notification)).all()
    assert row.delivery == "none" and row.sent_at is None  # still listed in the app


def test_an_open_workshop_and_an_approved_round_tell_the_areas_people(
    session: Session, inbox: Inbox, remind: Callable[..., tuple[int, int]]
) -> None:
    f.make_plan(session)
    editor = f.make_user(session, "editor", "krabi")
    viewer = f.make_user(session, "viewer", "krabi")
    admin = f.make_user(session, "admin")
    workshop = f.make_workshop(session, title="World Café รอบที่ 2")
    krabi = f.area(session)
    for step in ("submit", "approve"):
        reviews.step_round(session, actor=f.ACTOR, area=krabi, period="AY2566", action=step)

    remind()

    told = {str(m["Subject"]) for m in inbox.to(viewer)}
    assert told == {"มีเวิร์กช็อปเปิดอยู่ที่กระบี่: World Café รอบที่ 2"}
    assert workshop.join_code in _text(inbox.to(viewer)[0])
    assert "กระบี่: ปีการศึกษา 2566 ได้รับอนุมัติแล้ว" in {str(m["Subject"]) for m in inbox.to(editor)}
    assert not inbox.to(admin)  # every area's role: not told of each area's business


def test_the_notification_page_costs_the_same_queries_for_many(
    app_client: Callable[[], TestClient], session: Session, count_queries: QueryCounter
) -> None:
    editor = f.make_user(session, "editor", "krabi")
    client = sign_in(app_client(), session, editor)

    def queries(n: int) -> int:
        for i in range(n):
            session.add(
                Notification(
                    user_id=editor.id,
                    kind="mention",
                    key=f"comment:{n}{i}",
                    link="/",
                    params={"area_th": "กระบี่", "author": "สมชาย", "excerpt": "@ครู"},
                )
            )
        session.commit()
        count_queries.count = 0
        assert client.get("/account/notifications").status_code == 200
        return count_queries.count

    assert queries(1) == queries(30)
    assert "31 รายการที่ยังไม่อ่าน" in client.get("/account/notifications").text
    client.post("/account/notifications/read")
    assert notifications.unread_count(session, editor.id) == 0
