"""Comments: threads on the area, its plan's elements and its years; who reads and writes them;
what's new since a person's last visit."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from app.i18n import as_utc
from app.models import KPI, Area, AuditEvent, Comment, Plan, User
from app.models.enums import Role
from app.services import accounts, comments, history, plans, progress, reviews, seeding
from app.services.access import Forbidden, Grant, Principal
from app.services.audit import Actor
from app.services.comments import Commenter
from app.services.errors import Conflict, NotFound, ValidationFailed
from tests import factories as f


def _as(session: Session, user: User) -> Principal:
    return accounts.principal_for(session, user)


def _by(session: Session, user: User, slug: str = "krabi") -> Commenter:
    return comments.commenter(_as(session, user), f.area(session, slug))


def _kpi(session: Session, plan: Plan) -> KPI:
    return session.exec(select(KPI).where(KPI.plan_id == plan.id).order_by(KPI.id)).first()


def _write(session: Session, by: Commenter, slug: str = "krabi", **values: object) -> Comment:
    return comments.add_comment(session, by=by, area=f.area(session, slug), comment_in=values)


@pytest.fixture
def plan(session: Session) -> Plan:
    return f.make_full_plan(session, "krabi", kras=2)


@pytest.fixture
def reviewer(session: Session) -> User:
    return f.make_user(session, "reviewer", display_name="ศน.สมชาย (สพฐ.)")


@pytest.fixture
def editor(session: Session) -> User:
    return f.make_user(session, "editor", "krabi", display_name="เลขาฯ กระบี่")


def test_a_reviewer_asks_about_a_kpi_the_committee_replies_and_resolves(
    session: Session, plan: Plan, reviewer: User, editor: User
) -> None:
    kpi = _kpi(session, plan)
    question = _write(
        session,
        _by(session, reviewer),
        target_type="kpis",
        target_id=str(kpi.id),
        body="  ค่าเป้าหมาย 75% อ้างอิงหลักฐานใด  ",
    )
    assert question.body == "ค่าเป้าหมาย 75% อ้างอิงหลักฐานใด"
    assert question.author_name == "ศน.สมชาย (สพฐ.)" and question.author_id == reviewer.id
    answer = _write(
        session, _by(session, editor), parent_id=question.id, body="ใช้ผล RT ปี 2565 ของ สพป."
    )
    again = _write(session, _by(session, reviewer), parent_id=answer.id, body="ขอบคุณครับ")
    assert answer.parent_id == again.parent_id == question.id  # a reply to a reply joins the thread
    assert (again.target_type, again.target_id) == ("kpis", kpi.id)

    closed = comments.set_resolved(
        session,
        by=_by(session, editor),
        area=f.area(session),
        comment_id=question.id,
        resolved=True,
        expected_version=1,
    )
    assert closed.resolved_by == editor.id and closed.version == 2
    data = comments.threads_for_area(session, f.area(session), _as(session, editor))
    (target, [thread]) = data.groups[0]
    assert target.key == f"kpis:{kpi.id}" and target.code == kpi.code
    assert [c.body for c in thread.replies] == ["ใช้ผล RT ปี 2565 ของ สพป.", "ขอบคุณครับ"]
    assert thread.resolved and thread.resolver == "เลขาฯ กระบี่"
    assert (data.open_count, data.resolved_count) == (0, 1)

    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "comment").order_by(AuditEvent.id)
    ).all()
    assert [(e.op, e.entity_id) for e in events] == [
        ("create", question.id),
        ("create", answer.id),
        ("create", again.id),
        ("update", question.id),
    ]
    assert events[-1].before["resolved_at"] is None and events[-1].after["resolved_at"]
    assert events[0].actor_id == reviewer.id and events[0].after["area_id"] == plan.area_id


def test_a_stale_resolve_or_reopen_is_a_conflict(
    session: Session, plan: Plan, reviewer: User
) -> None:
    by, area = _by(session, reviewer), f.area(session)
    root = _write(session, by, target_type="area", body="ภาพรวมแผนชัดเจนดี")
    comments.set_resolved(session, by=by, area=area, comment_id=root.id, resolved=True)
    with pytest.raises(Conflict):  # resolved already, from a page that showed it open
        comments.set_resolved(session, by=by, area=area, comment_id=root.id, resolved=True)
    with pytest.raises(Conflict):  # the page showed version 1
        comments.set_resolved(
            session, by=by, area=area, comment_id=root.id, resolved=False, expected_version=1
        )
    reopened = comments.set_resolved(
        session, by=by, area=area, comment_id=root.id, resolved=False, expected_version=2
    )
    assert reopened.resolved_at is None and reopened.resolved_by is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"target_type": "area", "body": "   "}, "body"),
        ({"target_type": "area", "body": "ก" * 4001}, "body"),
        ({"target_type": "kpis", "target_id": "999999", "body": "มีไหม"}, "target"),
        ({"target_type": "plan", "body": "อะไร"}, "target"),
        ({"target_type": "period", "period": "AY2567-S1", "body": "ภาคเรียน"}, "target"),
        ({"target_type": "period", "period": "AY2570", "body": "ยังไม่เริ่ม"}, "target"),
        ({"target_type": "area", "visibility": "public", "body": "ทุกคน"}, "visibility"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    session: Session, plan: Plan, reviewer: User, values: dict, field: str
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _write(session, _by(session, reviewer), **values)
    assert field in failed.value.errors
    session.rollback()
    assert session.exec(select(Comment)).all() == []
    assert session.exec(select(AuditEvent).where(AuditEvent.entity_type == "comment")).all() == []


def test_an_element_of_another_areas_plan_is_not_a_target(
    session: Session, plan: Plan, reviewer: User
) -> None:
    phuket_kpi = _kpi(session, f.make_full_plan(session, "phuket", kras=1))
    with pytest.raises(ValidationFailed):
        _write(
            session,
            _by(session, reviewer),
            target_type="kpis",
            target_id=phuket_kpi.id,
            body="ตัวชี้วัดนี้ของภูเก็ต",
        )


def test_a_year_of_the_review_rounds_can_be_commented_on(
    session: Session, plan: Plan, reviewer: User
) -> None:
    first_year = reviews.round_periods(["academic_year"], 2566, 2570, datetime.now().date())[0]
    row = _write(
        session,
        _by(session, reviewer),
        target_type="period",
        period=first_year.lower(),
        body="ส่งครบ",
    )
    assert (row.period, row.target_id) == (first_year, None)


def test_who_may_write_and_read_what(
    session: Session, plan: Plan, reviewer: User, editor: User
) -> None:
    krabi = f.area(session)
    viewer = f.make_user(session, "viewer", "krabi")
    phuket_editor = f.make_user(session, "editor", "phuket")
    for user in (viewer, phuket_editor):
        with pytest.raises(Forbidden):
            comments.commenter(_as(session, user), krabi)
    with pytest.raises(Forbidden):  # the committee does not write internal notes
        _write(session, _by(session, editor), target_type="area", visibility="reviewers", body="ลับ")

    note = _write(
        session,
        _by(session, reviewer),
        target_type="area",
        visibility="reviewers",
        body="บันทึกภายใน: ติดตามงบ ACT2",
    )
    public = _write(session, _by(session, reviewer), target_type="area", body="แผนชัดเจน")
    reply = _write(
        session, _by(session, f.make_user(session, "admin")), parent_id=note.id, body="รับทราบ"
    )
    assert reply.visibility == "reviewers"  # a reply takes its thread's visibility

    def bodies(user: User) -> list[str]:
        data = comments.threads_for_area(session, krabi, _as(session, user))
        return sorted(t.root.body for _target, threads in data.groups for t in threads)

    assert bodies(reviewer) == sorted([note.body, public.body])
    assert bodies(editor) == bodies(viewer) == [public.body]
    with pytest.raises(NotFound):
        comments.thread(session, area=krabi, principal=_as(session, editor), comment_id=note.id)
    with pytest.raises(NotFound):  # nor by way of a reply
        comments.thread(session, area=krabi, principal=_as(session, viewer), comment_id=reply.id)
    with pytest.raises(NotFound):
        _write(session, _by(session, editor), parent_id=note.id, body="ขอดูด้วย")
    with pytest.raises(NotFound):
        comments.set_resolved(
            session, by=_by(session, editor), area=krabi, comment_id=note.id, resolved=True
        )
    assert comments.open_threads(session, krabi, _as(session, editor)).count("area") == 1
    assert comments.open_threads(session, krabi, _as(session, reviewer)).count("area") == 2
    with pytest.raises(NotFound):  # a Krabi thread, asked for on Phuket's pages
        comments.thread(
            session,
            area=f.area(session, "phuket"),
            principal=_as(session, reviewer),
            comment_id=public.id,
        )


def test_threads_are_grouped_in_the_plans_order_and_deleted_elements_come_last(
    session: Session, plan: Plan, reviewer: User
) -> None:
    by = _by(session, reviewer)
    kpi = _kpi(session, plan)
    action_id = session.exec(select(plans.SPECS["actions"].model.id)).first()
    _write(session, by, target_type="actions", target_id=action_id, body="งบประมาณสูงไป")
    _write(session, by, target_type="kpis", target_id=kpi.id, body="นิยามไม่ชัด")
    _write(session, by, target_type="area", body="ภาพรวม")
    plans.delete_element(
        session, actor=f.ACTOR, plan=plan, kind="actions", element_id=action_id, force=True
    )
    data = comments.threads_for_area(session, f.area(session), _as(session, reviewer))
    keys = [(t.key, t.exists) for t, _threads in data.groups]
    assert keys == [("area", True), (f"kpis:{kpi.id}", True), (f"actions:{action_id}", False)]
    open_only = comments.threads_for_area(
        session, f.area(session), _as(session, reviewer), "resolved"
    )
    assert open_only.groups == [] and open_only.open_count == 3


def test_reading_takes_the_same_queries_for_few_and_many_comments(
    session: Session, plan: Plan, reviewer: User, editor: User, count_queries
) -> None:
    krabi, kpi = f.area(session), _kpi(session, plan)
    who = _as(session, editor)

    def read() -> int:
        count_queries.count = 0
        comments.threads_for_area(session, krabi, who)
        comments.open_threads(session, krabi, who)
        comments.whats_new(session, who, datetime.now(UTC) - timedelta(days=1))
        return count_queries.count

    def write(n: int) -> None:
        for i in range(n):
            root = _write(
                session,
                _by(session, reviewer),
                target_type="kpis",
                target_id=kpi.id,
                body=f"คำถาม {i}",
            )
            _write(session, _by(session, editor), parent_id=root.id, body=f"คำตอบ {i}")
            comments.set_resolved(
                session, by=_by(session, editor), area=krabi, comment_id=root.id, resolved=True
            )

    write(1)
    few = read()
    write(15)
    assert read() == few


def test_whats_new_holds_comments_and_notable_changes_in_the_readers_areas(
    session: Session, plan: Plan, reviewer: User, editor: User
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    phuket = f.make_full_plan(session, "phuket", kras=1)
    phuket_viewer = f.make_user(session, "viewer", "phuket")
    kpi = _kpi(session, plan)
    note = _write(
        session, _by(session, reviewer), target_type="area", visibility="reviewers", body="ภายใน"
    )
    asked = _write(
        session,
        _by(session, reviewer),
        target_type="kpis",
        target_id=kpi.id,
        body="ที่มาของค่าเป้าหมาย",
    )
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"target_value": "72"},
        partial=True,
        reason="ปรับเป้าหมายตามผล RT ล่าสุด",
    )
    plans.update_element(  # no reason: bookkeeping, not news
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"unit": "ร้อยละ"},
        partial=True,
    )
    for period, value in (("AY2566", "64"), ("AY2567", "66.5")):  # one sitting: one item
        progress.save_cell(
            session,
            actor=f.ACTOR,
            plan=plan,
            kpi_id=kpi.id,
            period=period,
            cell="actual",
            text=value,
        )
    _write(
        session,
        _by(session, f.make_user(session, "admin")),
        "phuket",
        target_type="area",
        body="ภูเก็ต",
    )

    news = comments.whats_new(session, _as(session, editor), start)
    assert [i.kind for i in news.items] == ["measurement", "change", "comment"]
    assert news.items[-1].comment == asked and news.items[-1].target.code == kpi.code
    assert news.items[0].target.code == kpi.code and len(news.items[0].more) == 1
    assert [a.slug for a, _items in news.by_area()] == ["krabi"]

    everything = comments.whats_new(session, _as(session, reviewer), start)
    kinds = {(i.area_id, i.kind) for i in everything.items}
    assert (plan.area_id, "change") in kinds and (phuket.area_id, "comment") in kinds
    assert note.id not in {i.comment.id for i in everything.items if i.comment}  # their own
    assert all(
        i.area_id == phuket.area_id
        for i in comments.whats_new(session, _as(session, phuket_viewer), start).items
    )

    later = comments.whats_new(session, _as(session, editor), news.newest)
    assert later.items == []
    assert len(comments.whats_new(session, _as(session, reviewer), start, limit=2).items) == 2


def test_seen_mark_moves_forward_only(session: Session, editor: User) -> None:
    earlier = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    comments.mark_seen(session, user_id=editor.id, at=earlier + timedelta(days=1))
    comments.mark_seen(session, user_id=editor.id, at=earlier)  # an older tab
    assert comments.seen_at(session, editor.id) == earlier + timedelta(days=1)
    with pytest.raises(ValidationFailed):
        comments.mark_seen(session, user_id=editor.id, at=datetime.now(UTC) + timedelta(days=1))


def test_a_process_writes_as_a_named_commenter(session: Session, plan: Plan) -> None:
    by = Commenter(Actor.process("ศน.ตัวอย่าง สพฐ."), "ศน.ตัวอย่าง สพฐ.", internal=True)
    row = _write(session, by, target_type="area", visibility="reviewers", body="บันทึก")
    assert row.author_id is None and row.author_name == "ศน.ตัวอย่าง สพฐ."
    event = session.exec(select(AuditEvent).where(col(AuditEvent.entity_type) == "comment")).one()
    assert event.actor == "ศน.ตัวอย่าง สพฐ." and event.area_id == plan.area_id
    entries, _ = history.area_history(session, plan.area_id, history.Filters())
    assert "comment" not in {e.event.entity_type for e in entries}  # a note for reviewers


def test_the_demo_holds_threads_of_every_kind(session: Session) -> None:
    seeding.seed_demo(session)
    krabi = session.exec(
        select(Comment).join(Area).where(Area.slug == "krabi", col(Comment.parent_id).is_(None))
    ).all()
    assert {c.target_type for c in krabi} == {"kpis", "period", "area"}
    assert any(c.resolved_at for c in krabi) and any(c.visibility == "reviewers" for c in krabi)
    assert all(as_utc(c.created_at) < datetime.now(UTC) for c in krabi)
    reader = Principal(grants=(Grant(Role.viewer, krabi[0].area_id),), user=User(id=0))
    news = comments.whats_new(session, reader, comments.first_visit_since())
    assert {i.kind for i in news.items} >= {"comment", "reply"}
    assert all(i.comment.visibility == "area" for i in news.items if i.comment)
