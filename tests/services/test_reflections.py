"""The reflections service: how a frozen figure reads a period, and the demo's reflections."""

from sqlmodel import Session, select

from app.i18n import local_time
from app.models import (
    Action,
    Area,
    AuditEvent,
    ChangeProposal,
    LearningQuestion,
    Reflection,
    ReflectionFollowUp,
)
from app.services import progress, reflections, seeding
from tests import factories as f


def test_a_kpi_counted_by_semesters_shows_its_last_semester_of_the_chosen_year(
    session: Session,
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(
        session,
        plan,
        period_type="semester",
        baseline_period="AY2565-S2",
        target_period="AY2570-S2",
    )
    for period, value in (("AY2567-S1", "64"), ("AY2567-S2", "66"), ("AY2568-S1", "69")):
        progress.save_cell(
            session,
            actor=f.ACTOR,
            plan=plan,
            kpi_id=kpi.id,
            period=period,
            cell="actual",
            text=value,
        )
    row = reflections.create_reflection(
        session,
        actor=f.ACTOR,
        area=f.area(session),
        reflection_in={
            "held_on": "2025-06-20",
            "title": "ทบทวนปีการศึกษา 2567",
            "period": "ay2567",
            "elements": [f"kpi:{kpi.id}"],
        },
    )
    assert row.period == "AY2567"
    (figure,) = row.figures
    assert (figure["period"], figure["value"]) == ("AY2567-S2", 66.0)


def test_now_what_lines_lose_their_bullets_and_blank_lines() -> None:
    text = "- ขยายกิจกรรมการอ่าน\n\n  2) ถามผู้ปกครอง  \n• เสนอปรับเป้า\nKPI 3 ปี"
    assert reflections.now_what_lines(text) == [
        "ขยายกิจกรรมการอ่าน",
        "ถามผู้ปกครอง",
        "เสนอปรับเป้า",
        "KPI 3 ปี",
    ]


def test_the_demo_reflections_are_loaded_with_what_their_lines_became(session: Session) -> None:
    seeding.seed_demo(session)
    krabi = session.exec(select(Area).where(Area.slug == "krabi")).one()
    phuket = session.exec(select(Area).where(Area.slug == "phuket")).one()
    for area in (krabi, phuket):
        rows = session.exec(select(Reflection).where(Reflection.area_id == area.id)).all()
        assert len(rows) >= 2 and all(r.figures and r.what and r.now_what for r in rows)
        assert all(r.created_at.date() == r.held_on for r in rows)  # dated on their day
    ids = [r.id for r in session.exec(select(Reflection).where(Reflection.area_id == krabi.id))]
    kinds = {
        f.kind
        for f in session.exec(
            select(ReflectionFollowUp).where(ReflectionFollowUp.reflection_id.in_(ids))
        )
    }
    assert {"action", "question", "proposal"} <= kinds
    made = session.exec(
        select(AuditEvent).where(
            AuditEvent.area_id == krabi.id,
            AuditEvent.entity_type == "action",
            AuditEvent.cites_type == "reflection",
        )
    ).all()
    held = {r.id: r.held_on for r in session.exec(select(Reflection))}
    assert made and all(local_time(e.at).date() == held[e.cites_id] for e in made)
    actions = session.exec(select(Action).where(Action.id.in_([e.entity_id for e in made]))).all()
    assert len(actions) == len(made)
    proposals = session.exec(select(ChangeProposal).where(ChangeProposal.area_id == krabi.id))
    assert "adopted" in {p.state for p in proposals}
    answered = session.exec(
        select(LearningQuestion).where(
            LearningQuestion.area_id == krabi.id, LearningQuestion.state == "answered"
        )
    ).all()
    assert answered and all(q.evidence and q.answer_reflection_id in ids for q in answered)
