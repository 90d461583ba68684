"""Workshop sessions: join codes, expiry, rate limits, accepting into the plan, audit and events."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app import live
from app.i18n import as_utc
from app.models import (
    KPI,
    Action,
    AuditEvent,
    Contribution,
    DOEStatement,
    KeyResultArea,
    LearningQuestion,
    ProblemNode,
    Resource,
    WorkshopSession,
)
from app.models.base import utcnow
from app.services import plans, seeding, workshops
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.workshops import RateLimited, SessionEnded
from tests import factories as f

NOT_IN_CODES = set("0O1IL")


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _age(session: Session, rows: list[Contribution], seconds: int = 61) -> None:
    """Move contributions into the past instead of sleeping."""
    for row in rows:
        row.created_at = utcnow() - timedelta(seconds=seconds)
        session.add(row)
    session.commit()


def test_join_codes_are_eight_unambiguous_characters_and_never_repeat(session: Session) -> None:
    codes = {workshops.new_join_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{8}", code) and not NOT_IN_CODES & set(code)
    opened = [f.make_workshop(session, title=f"โต๊ะ {n}") for n in range(20)]
    assert len({w.join_code for w in opened}) == 20
    assert all(workshops.is_code(w.join_code) for w in opened)


def test_a_code_in_any_case_with_spaces_or_dashes_finds_its_session(session: Session) -> None:
    workshop = f.make_workshop(session)
    typed = f" {workshop.join_code[:4].lower()}-{workshop.join_code[4:].lower()} "
    assert workshops.by_code(session, typed).id == workshop.id
    assert workshops.format_code("ABCDEFGH") == "ABCD-EFGH"
    for wrong in ("", "ABCD", "ABCDEFG0", "O" * 8, workshop.join_code + "X"):
        with pytest.raises(NotFound):
            workshops.by_code(session, wrong)


def test_a_session_closes_after_twelve_hours_by_default_and_at_most_seven_days(
    session: Session,
) -> None:
    workshop = f.make_workshop(session)
    left = as_utc(workshop.expires_at) - utcnow()
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)
    too_late = (utcnow() + timedelta(days=8)).astimezone(workshops.THAI_TZ)
    with pytest.raises(ValidationFailed) as refused:
        f.make_workshop(session, closes_at=too_late.strftime("%Y-%m-%dT%H:%M"))
    assert "closes_at" in refused.value.errors
    session.rollback()
    with pytest.raises(ValidationFailed):
        f.make_workshop(session, closes_at="2020-01-01T10:00")
    session.rollback()
    # a browser's datetime-local is a time in Thailand: 18:00 there is 11:00 UTC
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(workshops.THAI_TZ).date()
    evening = f.make_workshop(session, closes_at=f"{tomorrow.isoformat()}T18:00")
    assert as_utc(evening.expires_at).hour == 11
    with pytest.raises(ValidationFailed) as untitled:
        f.make_workshop(session, title="   ")
    assert "title" in untitled.value.errors


def test_a_closed_sessions_code_stops_working_and_nothing_is_written(session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    workshops.close_session(session, actor=f.ACTOR, workshop=workshop)
    before = (_count(session, Contribution), _count(session, AuditEvent))
    with pytest.raises(SessionEnded):
        workshops.by_code(session, workshop.join_code)
    with pytest.raises(SessionEnded):
        f.make_guest(session, workshop, "มาสาย")
    with pytest.raises(SessionEnded):
        f.make_contribution(session, workshop, guest)
    assert (_count(session, Contribution), _count(session, AuditEvent)) == before
    assert workshops.open_session(session, workshop.area_id) is None


def test_an_expired_sessions_code_stops_working_and_nothing_is_written(session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    workshop.expires_at = utcnow() - timedelta(seconds=1)
    session.add(workshop)
    session.commit()
    before = (_count(session, Contribution), _count(session, AuditEvent))
    with pytest.raises(SessionEnded):
        workshops.by_code(session, workshop.join_code)
    with pytest.raises(SessionEnded):
        f.make_contribution(session, workshop, guest)
    assert (_count(session, Contribution), _count(session, AuditEvent)) == before
    assert workshops.open_session(session, workshop.area_id) is None


def test_open_session_is_the_newest_open_one_of_the_area(session: Session) -> None:
    first = f.make_workshop(session, title="รอบที่ 1")
    second = f.make_workshop(session, title="รอบที่ 2")
    f.make_workshop(session, "phuket", title="ภูเก็ต")
    area_id = first.area_id
    assert workshops.open_session(session, area_id).id == second.id
    workshops.close_session(session, actor=f.ACTOR, workshop=second)
    assert workshops.open_session(session, area_id).id == first.id


def test_a_participant_may_post_five_a_minute_and_the_sixth_writes_nothing(
    session: Session,
) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    sent = [
        f.make_contribution(session, workshop, guest, text=f"ข้อ {n}")
        for n in range(workshops.PER_PARTICIPANT_PER_MINUTE)
    ]
    with pytest.raises(RateLimited):
        f.make_contribution(session, workshop, guest, text="เกินโควตา")
    assert _count(session, Contribution) == workshops.PER_PARTICIPANT_PER_MINUTE
    other, _ = f.make_guest(session, workshop, "ผู้ปกครอง")
    f.make_contribution(session, workshop, other)  # the limit is per participant
    _age(session, sent)
    f.make_contribution(session, workshop, guest, text="นาทีถัดไป")


def test_a_session_takes_at_most_its_limit_a_minute_from_everyone(session: Session) -> None:
    workshop = f.make_workshop(session)
    guests = [
        f.make_guest(session, workshop, f"โต๊ะ {n}")[0]
        for n in range(workshops.PER_SESSION_PER_MINUTE // workshops.PER_PARTICIPANT_PER_MINUTE + 1)
    ]
    for guest in guests[:-1]:  # every table sends its five in the same minute
        for n in range(workshops.PER_PARTICIPANT_PER_MINUTE):
            session.add(
                Contribution(
                    session_id=workshop.id, participant_id=guest.id, kind="question", text=f"{n}"
                )
            )
    session.commit()
    assert _count(session, Contribution) == workshops.PER_SESSION_PER_MINUTE
    with pytest.raises(RateLimited) as refused:
        f.make_contribution(session, workshop, guests[-1])
    assert "Many people" in refused.value.message.msgid
    assert _count(session, Contribution) == workshops.PER_SESSION_PER_MINUTE
    _age(session, list(session.exec(select(Contribution)).all()))
    f.make_contribution(session, workshop, guests[-1])


def test_contributions_are_trimmed_limited_and_resources_need_a_dimension(
    session: Session,
) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    row = f.make_contribution(session, workshop, guest, text="  มีข้อมูลนักเรียนรายคน \r\n ")
    assert row.text == "มีข้อมูลนักเรียนรายคน"
    for values, field in (
        ({"text": "ก" * (workshops.TEXT_MAX + 1)}, "text"),
        ({"text": "   "}, "text"),
        ({"kind": "wish"}, "kind"),
        ({"kind": "resource"}, "dimension"),
        ({"kind": "resource", "dimension": "money"}, "dimension"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            f.make_contribution(session, workshop, guest, **values)
        assert field in refused.value.errors
    assert _count(session, Contribution) == 1
    kept = f.make_contribution(session, workshop, guest, "resource", dimension="data")
    assert kept.dimension == "data"
    asked = f.make_contribution(session, workshop, guest, "question", dimension="data")
    assert asked.dimension is None  # only resources have a dimension


def test_guest_writes_are_audited_as_the_guest_and_published_on_the_area(
    session: Session,
) -> None:
    workshop = f.make_workshop(session)
    heard: list[tuple[str, dict]] = []
    unsubscribe = live.broker.subscribe(lambda channel, event: heard.append((channel, event)))
    try:
        guest, token = f.make_guest(session, workshop, "  ครู   สมศรี ")
        row = f.make_contribution(session, workshop, guest)
    finally:
        unsubscribe()
    assert guest.display_name == "ครู สมศรี"
    assert guest.token_hash != token and len(guest.token_hash) == 64
    assert workshops.participant_by_token(session, workshop, token).id == guest.id
    assert workshops.participant_by_token(session, workshop, token + "x") is None
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "contribution")).one()
    assert (event.actor, event.actor_id, event.area_id) == (
        "guest: ครู สมศรี",
        None,
        workshop.area_id,
    )
    assert event.entity_id == row.id and event.after["text"] == row.text
    channel = live.area_channel(workshop.area_id)
    # named apart from the board's other changes: boards fetch only the new part for these
    assert [(c, e["type"], e["session_id"]) for c, e in heard] == [
        (channel, "participant.joined", workshop.id),
        (channel, "contribution.created", workshop.id),
    ]


def test_accepting_a_kpi_idea_makes_a_kpi_in_this_areas_plan_only(session: Session) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan, "KPI1")
    other = f.make_full_plan(session, "phuket", kras=1)
    other_kpis = session.exec(select(KPI.id).where(KPI.plan_id == other.id)).all()
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(session, workshop, guest, "kpi_idea", text="ร้อยละครูที่ใช้สื่อท้องถิ่น")
    accepted = workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=idea.id)
    kpi = session.get(KPI, accepted.accepted_id)
    assert (accepted.state, accepted.accepted_entity) == ("accepted", "kpi")
    assert (kpi.plan_id, kpi.code, kpi.name) == (plan.id, "KPI2", idea.text)
    assert (kpi.kind, kpi.period_type, kpi.direction, kpi.version) == (
        "percentage",
        "academic_year",
        "higher",
        1,
    )
    created = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "kpi", AuditEvent.entity_id == kpi.id)
    ).one()
    assert created.reason == "From workshop contribution: World Café รอบที่ 1"
    assert session.exec(select(KPI.id).where(KPI.plan_id == other.id)).all() == other_kpis
    board = workshops.board_view(session, workshop)
    assert board.drafts == 1 and board.columns["kpi_idea"][0].element.id == kpi.id
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"unit": "ร้อยละ"},
        partial=True,
    )
    assert workshops.board_view(session, workshop).drafts == 0  # edited since: no longer a draft
    with pytest.raises(Conflict):
        workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=idea.id)
    assert (
        session.exec(select(func.count()).select_from(KPI).where(KPI.plan_id == plan.id)).one() == 2
    )


def test_accepting_problems_actions_resources_and_questions(session: Session) -> None:
    plan = f.make_plan(session)
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    problem = f.make_contribution(session, workshop, guest, "problem", text="ครูย้ายบ่อย")
    action = f.make_contribution(session, workshop, guest, "action_idea", text="ค่ายภาษา")
    resource = f.make_contribution(
        session, workshop, guest, "resource", text="ห้องสมุดชุมชน", dimension="knowledge"
    )
    question = f.make_contribution(session, workshop, guest, "question", text="ใครเก็บข้อมูล?")
    for row in (problem, action, resource, question):
        workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=row.id)
    node = session.get(ProblemNode, problem.accepted_id)  # a problem at the top of the tree
    assert (problem.accepted_entity, node.plan_id, node.parent_id, node.text) == (
        "problem_node",
        plan.id,
        None,
        "ครูย้ายบ่อย",
    )
    made = session.get(Action, action.accepted_id)
    assert (made.plan_id, made.code, made.title) == (plan.id, "ACT1", "ค่ายภาษา")
    made = session.get(Resource, resource.accepted_id)
    assert (resource.state, resource.accepted_entity) == ("accepted", "resource")
    assert (made.area_id, made.dimension, made.name, made.contribution_id) == (
        plan.area_id,
        "knowledge",
        "ห้องสมุดชุมชน",
        resource.id,
    )
    asked = session.get(LearningQuestion, question.accepted_id)
    assert (question.state, question.accepted_entity) == ("accepted", "learning_question")
    assert (asked.area_id, asked.state) == (plan.area_id, "open")
    assert asked.question == question.text
    assert workshops.board_view(session, workshop).drafts == 2  # the resource is no plan draft


def test_every_step_of_the_workshop_comes_from_a_phone_and_becomes_its_draft(
    session: Session,
) -> None:
    plan = f.make_plan(session, vision="กระบี่เมืองแห่งการเรียนรู้")
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    doe = f.make_contribution(session, workshop, guest, "doe_statement", text="เด็กกระบี่อ่านคล่อง")
    problem = f.make_contribution(
        session, workshop, guest, "problem", text="เด็กเกาะขาดเรียน", detail="เรือไม่วิ่งช่วงมรสุม"
    )
    vision = f.make_contribution(session, workshop, guest, "vision_phrase", text="ทะเลคือห้องเรียน")
    kra = f.make_contribution(
        session, workshop, guest, "kra_idea", text="หลักสูตรท้องถิ่น", detail="ไม่ใช่ปัญหา"
    )
    assert kra.detail == ""  # a cause belongs to a problem only
    for row in (doe, problem, vision, kra):
        workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=row.id)
    statement = session.get(DOEStatement, doe.accepted_id)
    assert (doe.accepted_entity, statement.plan_id, statement.text) == (
        "doe_statement",
        plan.id,
        "เด็กกระบี่อ่านคล่อง",
    )
    node = session.get(ProblemNode, problem.accepted_id)
    (cause,) = session.exec(select(ProblemNode).where(ProblemNode.parent_id == node.id)).all()
    assert (node.text, cause.text) == ("เด็กเกาะขาดเรียน", "เรือไม่วิ่งช่วงมรสุม")
    made = session.get(KeyResultArea, kra.accepted_id)
    assert (made.plan_id, made.code, made.title) == (plan.id, "KRA1", "หลักสูตรท้องถิ่น")
    session.refresh(plan)
    assert plan.vision == "กระบี่เมืองแห่งการเรียนรู้"  # offered, never written in
    assert (vision.state, vision.accepted_entity, vision.accepted_id) == (
        "accepted",
        "plan",
        plan.id,
    )
    offered = workshops.vision_phrases(session, plan.area_id)
    assert [(c.text, title) for c, title in offered] == [("ทะเลคือห้องเรียน", workshop.title)]
    assert workshops.vision_phrases(session, f.area(session, "phuket").id) == []


def test_accepting_without_a_plan_is_refused_and_changes_nothing(session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(session, workshop, guest, "action_idea")
    with pytest.raises(Conflict):
        workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=idea.id)
    session.expire_all()
    assert session.get(Contribution, idea.id).state == "new"


def test_group_archive_and_bring_back(session: Session) -> None:
    f.make_plan(session)
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    row = f.make_contribution(session, workshop, guest)
    target = {"actor": f.ACTOR, "workshop": workshop, "contribution_id": row.id}
    workshops.set_group(session, group_in={"group_label": "  ครู "}, **target)
    assert row.group_label == "ครู"
    with pytest.raises(ValidationFailed):
        workshops.set_group(session, group_in={"group_label": "ก" * 61}, **target)
    session.rollback()
    workshops.archive(session, **target)
    board = workshops.board_view(session, workshop)
    assert board.columns["problem"] == [] and board.archived["problem"][0].contribution.id == row.id
    assert board.groups == {"ครู": 1}
    workshops.archive(session, archived=False, **target)
    assert session.get(Contribution, row.id).state == "new"
    ops = session.exec(
        select(AuditEvent.op)
        .where(AuditEvent.entity_type == "contribution", AuditEvent.entity_id == row.id)
        .order_by(AuditEvent.id)
    ).all()
    assert ops == ["create", "update", "update", "update"]
    workshops.accept(session, **target)
    with pytest.raises(Conflict):
        workshops.archive(session, **target)


def test_a_contribution_of_another_session_is_not_found(session: Session) -> None:
    mine = f.make_workshop(session)
    theirs = f.make_workshop(session, "phuket")
    guest, _ = f.make_guest(session, theirs)
    row = f.make_contribution(session, theirs, guest)
    with pytest.raises(NotFound):
        workshops.archive(session, actor=f.ACTOR, workshop=mine, contribution_id=row.id)
    with pytest.raises(NotFound):
        workshops.get_workshop(session, area_id=mine.area_id, workshop_id=theirs.id)
    with pytest.raises(NotFound):
        f.make_contribution(session, mine, guest)


def test_the_qr_code_is_inline_svg_with_a_title_and_no_xml_declaration() -> None:
    svg = workshops.join_qr_svg("https://phonlap.example/join/ABCDEFGH", title="Scan <me>")
    assert svg.startswith("<svg ") and "<?xml" not in svg
    assert 'role="img"' in svg and "<title>Scan &lt;me&gt;</title>" in svg
    assert 'fill="#fff"' in svg and 'stroke="#000"' in svg and "viewBox" in svg


def test_sessions_are_deleted_with_what_they_hold(session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    f.make_contribution(session, workshop, guest)
    session.delete(session.get(WorkshopSession, workshop.id))
    session.commit()
    assert _count(session, Contribution) == 0


def test_the_demo_workshop_is_a_closed_board_that_leaves_the_plan_as_written(
    session: Session,
) -> None:
    seeding.seed_demo(session)
    krabi = f.area(session, "krabi")
    (workshop,) = workshops.sessions_of(session, krabi.id)
    assert not workshops.is_open(workshop) and "ข้อมูลตัวอย่าง" in workshop.title
    board = workshops.board_view(session, workshop)
    assert board.participants == 4 and board.total == 10 and board.drafts == 0
    assert board.groups == {"ครู": 2, "ท้องถิ่น": 2}
    states = {c.contribution.state for c in board.cards}
    assert states == {"new", "accepted", "archived"}
    # nothing went into the plan; the accepted resource went into the resource inventory, the
    # accepted question into the learning questions
    kept = ("resource", "question")
    assert all(c.element is None for c in board.cards if c.contribution.kind not in kept)
    asked = next(c for c in board.cards if c.contribution.accepted_entity == "learning_question")
    assert isinstance(asked.element, LearningQuestion)
    (inventory_card,) = [c for c in board.cards if isinstance(c.element, Resource)]
    assert inventory_card.element.contribution_id == inventory_card.contribution.id
