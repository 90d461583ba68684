"""Reflections (What? So what? Now what?), what their Now-what lines became, change proposals
and learning questions, on the web, with Thai data."""

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.i18n import thai_today
from app.models import (
    KPI,
    Action,
    AuditEvent,
    ChangeProposal,
    KeyResultArea,
    LearningQuestion,
    Plan,
    Reflection,
    ReflectionElement,
    ReflectionFollowUp,
)
from app.services import progress, reflections
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

HX = {"HX-Request": "true"}
NOW_WHAT = (
    "จัดค่ายภาษาอังกฤษเพื่องานบริการช่วงปิดภาคเรียน ร่วมกับผู้ประกอบการอ่าวนาง\n"
    "- เสนอทบทวนค่าเป้าหมาย O-NET ภาษาอังกฤษ\n"
    "\n"
    "2. ทำไมโรงเรียนบนเกาะยังอ่านได้ต่ำกว่าโรงเรียนบนฝั่ง"
)
LINES = (
    "จัดค่ายภาษาอังกฤษเพื่องานบริการช่วงปิดภาคเรียน ร่วมกับผู้ประกอบการอ่าวนาง",
    "เสนอทบทวนค่าเป้าหมาย O-NET ภาษาอังกฤษ",
    "ทำไมโรงเรียนบนเกาะยังอ่านได้ต่ำกว่าโรงเรียนบนฝั่ง",
)


@dataclass
class Krabi:
    plan: Plan
    kra: KeyResultArea
    kpi: KPI
    action: Action


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _krabi(session: Session) -> Krabi:
    """Krabi's plan with values for AY2566 and AY2567 and a check-in on its first action."""
    plan = f.make_full_plan(session, "krabi", kras=2)
    kra = session.exec(
        select(KeyResultArea).where(KeyResultArea.plan_id == plan.id, KeyResultArea.code == "KRA1")
    ).one()
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id, KPI.code == "KPI1")).one()
    action = session.exec(
        select(Action).where(Action.plan_id == plan.id, Action.code == "ACT1")
    ).one()
    for period, value in (("AY2566", "64"), ("AY2567", "66.5")):
        progress.save_cell(
            session,
            actor=f.ACTOR,
            plan=plan,
            kpi_id=kpi.id,
            period=period,
            cell="actual",
            text=value,
        )
    progress.add_action_update(
        session,
        actor=f.ACTOR,
        plan=plan,
        action_id=action.id,
        update_in={
            "on_date": "2025-06-01",
            "status": "on_track",
            "percent_complete": "40",
            "spent_thb": "120,000",
            "what_changed": "อบรมครูแกนนำครบ 12 โรงเรียน",
        },
    )
    return Krabi(plan, kra, kpi, action)


def _form(k: Krabi, **overrides: object) -> dict[str, object]:
    return {
        "held_on": "2025-06-20",
        "title": "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน",
        "participants": "คณะกรรมการขับเคลื่อนฯ 12 คน ผู้แทน สพป.กระบี่",
        "period": "AY2567",
        "elements": [f"kra:{k.kra.id}", f"kpi:{k.kpi.id}", f"action:{k.action.id}"],
        "what": "นักเรียน ป.1 อ่านได้ระดับดีขึ้นไปร้อยละ 66.5",
        "so_what": "โรงเรียนบนเกาะยังตามไม่ทัน\nครูย้ายบ่อย",
        "now_what": NOW_WHAT,
        **overrides,
    }


def _reflect(session: Session, k: Krabi, **overrides: object) -> Reflection:
    return reflections.create_reflection(
        session, actor=f.ACTOR, area=f.area(session), reflection_in=_form(k, **overrides)
    )


def _turn(client: TestClient, reflection: Reflection, line: int, kind: str, **extra: str):  # noqa: ANN202
    return client.post(
        f"/areas/krabi/reflections/{reflection.id}/follow-ups",
        data={"line": str(line), "kind": kind, **extra},
        follow_redirects=False,
    )


def _figure(row: Reflection, kind: str) -> dict:
    return next(fig for fig in row.figures if fig["type"] == kind)


# ---- recording a reflection -----------------------------------------------------------------


def test_a_reflection_is_stored_with_its_answers_elements_and_frozen_figures(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    response = client.post("/areas/krabi/reflections", data=_form(k), follow_redirects=False)
    assert response.status_code == 303
    row = session.exec(select(Reflection)).one()
    assert response.headers["location"] == f"/areas/krabi/reflections/{row.id}"
    assert row.held_on == date(2025, 6, 20) and row.period == "AY2567"
    assert row.title == "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน"
    assert row.so_what == "โรงเรียนบนเกาะยังตามไม่ทัน\nครูย้ายบ่อย" and row.now_what == NOW_WHAT
    stored = session.exec(
        select(ReflectionElement).where(ReflectionElement.reflection_id == row.id)
    )
    assert {(e.entity_type, e.entity_id) for e in stored} == {
        ("kra", k.kra.id),
        ("kpi", k.kpi.id),
        ("action", k.action.id),
    }
    kpi = _figure(row, "kpi")
    # the progress read model's judgement of AY2567: 66.5 against the line from 62.5 to 75
    judged = progress.kpi_rows(session, k.plan, [k.kpi], thai_today())[k.kpi.id]
    expected = judged.judgements["AY2567"]
    assert (kpi["code"], kpi["period"], kpi["value"]) == ("KPI1", "AY2567", 66.5)
    assert kpi["status"] == expected.status.value == "at_risk"
    assert kpi["period_target"] == expected.target == pytest.approx(67.5)
    assert (kpi["baseline"], kpi["target"], kpi["unit"]) == (62.5, 75.0, "")
    kra = _figure(row, "kra")
    assert kra["code"] == "KRA1" and kra["kpis"] == 1 and kra["counts"]["at_risk"] == 1
    action = _figure(row, "action")
    assert (action["code"], action["status"], action["budget"]) == ("ACT1", "on_track", 450000)
    assert action["checkin"]["percent_complete"] == 40
    assert action["checkin"]["spent_thb"] == 120000
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "reflection")).all()
    assert [(e.op, e.entity_id) for e in events] == [("create", row.id)]
    page = client.get(response.headers["location"]).text
    assert "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน" in page and "20 มิถุนายน 2568" in page
    assert "ปีการศึกษา 2567" in page and "คณะกรรมการขับเคลื่อนฯ 12 คน" in page
    assert f'href="/areas/krabi/progress/kpis/{k.kpi.id}"' in page
    assert f'href="/areas/krabi#kra-{k.kra.id}"' in page
    assert f'href="/areas/krabi/progress#action-progress-{k.action.id}"' in page


def test_without_a_period_a_kpi_shows_its_latest_period_with_a_value(
    session: Session,
) -> None:
    k = _krabi(session)
    row = _reflect(session, k, period="")
    kpi = _figure(row, "kpi")
    assert (kpi["period"], kpi["value"]) == ("AY2567", 66.5)


def test_the_figures_stay_as_they_were_when_a_new_value_is_entered(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    before = client.get(f"/areas/krabi/reflections/{row.id}").text
    progress.save_cell(
        session,
        actor=f.ACTOR,
        plan=k.plan,
        kpi_id=k.kpi.id,
        period="AY2567",
        cell="actual",
        text="71",
    )
    assert "71" in client.get(f"/areas/krabi/progress/kpis/{k.kpi.id}").text
    session.expire_all()
    assert _figure(session.get(Reflection, row.id), "kpi")["value"] == 66.5
    page = client.get(f"/areas/krabi/reflections/{row.id}").text
    cells = re.search(rf'<tr id="figure-kpi-{k.kpi.id}">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="num value">66.5</td>' in cells and "71" not in cells
    assert "มีความเสี่ยง" in cells  # at risk, as judged that day
    caption = re.search(r"<caption>([^<]*)</caption>", before).group(1)
    assert caption in page  # captioned with the day the figures were frozen


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("held_on", (thai_today() + timedelta(days=3)).isoformat()),
        ("held_on", ""),
        ("title", "   "),
        ("period", "ปีการศึกษา 2567"),
        ("elements", ["kpi:ร้อยละ"]),
        ("elements", "phuket"),  # a KPI of Phuket's plan
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_written(
    client: TestClient, session: Session, field: str, value: object
) -> None:
    k = _krabi(session)
    if value == "phuket":
        other = f.make_plan(session, "phuket")
        value = [f"kpi:{f.make_kpi(session, other).id}", f"kpi:{k.kpi.id}"]
    audited = _count(session, AuditEvent)
    response = client.post("/areas/krabi/reflections", data=_form(k, **{field: value}))
    assert response.status_code == 422
    assert f'id="reflection-new-{field}-error"' in response.text
    assert "ร่วมกับผู้ประกอบการอ่าวนาง" in response.text  # what was typed is kept
    assert _count(session, Reflection) == 0 and _count(session, ReflectionElement) == 0
    assert _count(session, AuditEvent) == audited


def test_an_edit_changes_the_answers_and_keeps_the_figures_frozen(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    figures = row.figures
    form = client.get(f"/areas/krabi/reflections/{row.id}?edit=1").text
    assert 'id="reflection-edit"' in form and 'name="elements"' not in form
    values = {**_form(k), "title": "สะท้อนผลปีการศึกษา 2567 (ฉบับแก้ไข)", "version": "1"}
    response = client.put(f"/areas/krabi/reflections/{row.id}", data=values, follow_redirects=False)
    assert response.status_code == 303
    session.expire_all()
    changed = session.get(Reflection, row.id)
    assert changed.title == "สะท้อนผลปีการศึกษา 2567 (ฉบับแก้ไข)" and changed.version == 2
    assert changed.figures == figures and changed.period == "AY2567"
    stale = client.put(f"/areas/krabi/reflections/{row.id}", data=values)  # version 1 again
    assert stale.status_code == 409 and 'id="reflection-edit"' in stale.text
    bad = {**values, "held_on": "2099-01-01", "version": "2"}
    refused = client.put(f"/areas/krabi/reflections/{row.id}", data=bad)
    assert refused.status_code == 422 and 'id="reflection-edit-held_on-error"' in refused.text
    assert session.get(Reflection, row.id).held_on == date(2025, 6, 20)


def test_a_reflection_is_deleted_after_a_confirmation_and_what_it_made_stays(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    assert _turn(client, row, 0, "action").status_code == 303
    question = client.get(f"/areas/krabi/reflections/{row.id}/delete").text
    assert "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน" in question and LINES[0] in question
    response = client.post(f"/areas/krabi/reflections/{row.id}/delete", follow_redirects=False)
    assert response.status_code == 303
    assert _count(session, Reflection) == 0 and _count(session, ReflectionFollowUp) == 0
    made = session.exec(select(Action).where(Action.title == LINES[0])).one()
    card = client.get("/areas/krabi/progress").text
    assert f'id="action-progress-{made.id}"' in card and "/areas/krabi/reflections/" not in card
    deleted = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "reflection", AuditEvent.op == "delete")
    ).one()
    assert deleted.before["title"] == "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน"


# ---- a Now-what line becomes an action, a proposal or a question ----------------------------


def test_reflection_to_action_in_one_step_keeps_the_link_both_ways(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    response = _turn(client, row, 0, "action")
    assert response.status_code == 303
    assert response.headers["location"].endswith("?turned=0#now-what-line-0")
    action = session.exec(select(Action).where(Action.title == LINES[0])).one()
    assert action.plan_id == k.plan.id and action.code == "ACT3"  # the next free code
    created = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "action", AuditEvent.entity_id == action.id
        )
    ).one()
    assert (created.cites_type, created.cites_id) == ("reflection", row.id)
    assert row.title in created.reason and created.reason_category is None
    link = session.exec(select(ReflectionFollowUp)).one()
    assert (link.line, link.kind, link.target_type, link.target_id) == (
        LINES[0],
        "action",
        "action",
        action.id,
    )
    follow_up = select(AuditEvent).where(AuditEvent.entity_type == "reflection_follow_up")
    assert session.exec(follow_up).one().entity_id == link.id
    page = client.get(response.headers["location"]).text
    line = re.search(r'<li id="now-what-line-0".*?</li>', page, re.S).group(0)
    assert f'href="/areas/krabi/progress#action-progress-{action.id}"' in line
    assert "ACT3" in line and "turn-form" not in line
    progress_page = client.get("/areas/krabi/progress").text
    card = re.search(
        rf'<article id="action-progress-{action.id}".*?</article>', progress_page, re.S
    ).group(0)
    assert f'href="/areas/krabi/reflections/{row.id}"' in card
    assert "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน" in card and "20 มิ.ย. 2568" in card


def test_an_edited_title_becomes_the_actions_title(client: TestClient, session: Session) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    title = "ค่ายภาษาอังกฤษเพื่องานบริการ อ่าวนาง"
    assert _turn(client, row, 0, "action", text=title).status_code == 303
    assert session.exec(select(Action).where(Action.title == title)).one()
    assert session.exec(select(ReflectionFollowUp)).one().line == LINES[0]


@pytest.mark.parametrize(
    ("kind", "model", "page", "anchor"),
    [
        ("proposal", ChangeProposal, "proposals", "proposal"),
        ("question", LearningQuestion, "questions", "question"),
    ],
)
def test_a_line_becomes_a_proposal_or_a_question_linked_both_ways(
    client: TestClient, session: Session, kind: str, model: type, page: str, anchor: str
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    actions = _count(session, Action)
    assert _turn(client, row, 1, kind).status_code == 303
    target = session.exec(select(model)).one()
    assert (target.text if kind == "proposal" else target.question) == LINES[1]
    assert target.state == "open" and _count(session, Action) == actions
    created = session.exec(select(AuditEvent).where(AuditEvent.entity_type == model.__tablename__))
    assert [e.entity_id for e in created] == [target.id]
    shown = client.get(f"/areas/krabi/reflections/{row.id}").text
    assert f'href="/areas/krabi/{page}#{anchor}-{target.id}"' in shown
    listed = client.get(f"/areas/krabi/{page}").text
    item = re.search(
        rf'<li class="card de-record[^"]*" id="{anchor}-{target.id}">.*?</li>', listed, re.S
    )
    assert f'href="/areas/krabi/reflections/{row.id}"' in item.group(0)


def test_turning_the_same_line_twice_is_refused(client: TestClient, session: Session) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    assert _turn(client, row, 2, "question").status_code == 303
    audited = _count(session, AuditEvent)
    again = _turn(client, row, 2, "action")
    assert again.status_code == 409
    assert "already been turned into" in again.text or "แล้ว" in again.text
    assert _count(session, ReflectionFollowUp) == 1 and _count(session, AuditEvent) == audited
    assert session.exec(select(Action).where(Action.title == LINES[2])).first() is None
    with_htmx = client.post(
        f"/areas/krabi/reflections/{row.id}/follow-ups",
        data={"line": "2", "kind": "proposal"},
        headers=HX,
    )
    assert with_htmx.status_code == 409 and with_htmx.text.lstrip().startswith("<li")


def test_with_htmx_the_line_comes_back_alone_with_its_link(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    response = client.post(
        f"/areas/krabi/reflections/{row.id}/follow-ups",
        data={"line": "1", "kind": "question"},
        headers=HX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<li id="now-what-line-1"')
    question = session.exec(select(LearningQuestion)).one()
    assert f"#question-{question.id}" in response.text and "<html" not in response.text


def test_a_line_that_does_not_exist_or_a_too_long_title_is_refused(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    assert _turn(client, row, 7, "action").status_code == 422
    too_long = _turn(client, row, 0, "action", text="ก" * 600)
    assert too_long.status_code == 422 and 'id="turn-0-text-error"' in too_long.text
    assert _count(session, ReflectionFollowUp) == 0
    assert session.exec(select(func.count()).select_from(Action)).one() == 2


def test_without_a_plan_a_line_cannot_become_an_action(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    session.delete(session.get(Plan, k.plan.id))
    session.commit()
    response = _turn(client, row, 0, "action")
    assert response.status_code == 409 and "พื้นที่นี้ยังไม่มีแผน" in response.text
    assert _count(session, ReflectionFollowUp) == 0
    assert _turn(client, row, 0, "question").status_code == 303  # a question needs no plan


# ---- change proposals -----------------------------------------------------------------------


def test_a_proposal_about_an_element_is_adopted_with_its_note_and_day(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    data = {"text": "ลดค่าเป้าหมาย KPI1 เป็นร้อยละ 72", "element": f"kpi:{k.kpi.id}"}
    created = client.post("/areas/krabi/proposals", data=data, follow_redirects=False)
    assert created.status_code == 303
    row = session.exec(select(ChangeProposal)).one()
    assert (row.element_type, row.element_id, row.state) == ("kpi", k.kpi.id, "open")
    decision = {
        "decision": "adopt",
        "decision_note": "เห็นชอบตามมติที่ประชุม",
        "decided_on": "2025-07-01",
    }
    decided = client.post(
        f"/areas/krabi/proposals/{row.id}/decision", data=decision, follow_redirects=False
    )
    assert decided.status_code == 303
    session.expire_all()
    row = session.get(ChangeProposal, row.id)
    assert (row.state, row.decided_on, row.decision_note) == (
        "adopted",
        date(2025, 7, 1),
        "เห็นชอบตามมติที่ประชุม",
    )
    again = client.post(f"/areas/krabi/proposals/{row.id}/decision", data={"decision": "decline"})
    assert again.status_code == 409
    adopted = client.get("/areas/krabi/proposals?state=adopted").text
    assert (
        "ลดค่าเป้าหมาย KPI1" in adopted and f'href="/areas/krabi/progress/kpis/{k.kpi.id}"' in adopted
    )
    assert "ลดค่าเป้าหมาย KPI1" not in client.get("/areas/krabi/proposals?state=open").text
    kinds = session.exec(
        select(AuditEvent.op)
        .where(AuditEvent.entity_type == "change_proposal")
        .order_by(AuditEvent.id)
    )
    assert list(kinds) == ["create", "update"]


def test_a_bad_proposal_or_decision_is_refused_beside_its_field(
    client: TestClient, session: Session
) -> None:
    _krabi(session)
    other = f.make_kpi(session, f.make_plan(session, "phuket"))
    bad = client.post(
        "/areas/krabi/proposals", data={"text": "ปรับแผน", "element": f"kpi:{other.id}"}
    )
    assert bad.status_code == 422 and 'id="proposal-new-element-error"' in bad.text
    empty = client.post("/areas/krabi/proposals", data={"text": " "})
    assert empty.status_code == 422 and 'id="proposal-new-text-error"' in empty.text
    assert _count(session, ChangeProposal) == 0
    row = reflections.create_proposal(
        session, actor=f.ACTOR, area=f.area(session), proposal_in={"text": "เพิ่มโรงเรียนนำร่อง"}
    )
    future = (thai_today() + timedelta(days=5)).isoformat()
    refused = client.post(
        f"/areas/krabi/proposals/{row.id}/decision",
        data={"decision": "decline", "decided_on": future},
    )
    assert refused.status_code == 422 and f'id="decide-{row.id}-decided_on-error"' in refused.text
    assert session.get(ChangeProposal, row.id).state == "open"


# ---- learning questions ---------------------------------------------------------------------


def test_a_question_is_answered_with_evidence_and_the_reflection_that_answered_it(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    reflection = _reflect(session, k)
    created = client.post(
        "/areas/krabi/questions",
        data={"question": "การเรียนด้วยภาษาแม่ช่วยให้เด็กชาวเลอ่านได้เร็วขึ้นหรือไม่"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    row = session.exec(select(LearningQuestion)).one()
    no_answer = client.put(f"/areas/krabi/questions/{row.id}", data={"state": "answered"})
    assert no_answer.status_code == 422 and f'id="question-{row.id}-answer-error"' in no_answer.text
    assert session.get(LearningQuestion, row.id).state == "open"
    answer = {
        "state": "answered",
        "answer": "ช่วยได้ เด็กที่เรียนภาษาแม่ก่อนอ่านภาษาไทยได้เร็วกว่า",
        "evidence": "ผลการประเมิน RT ปีการศึกษา 2567 ของโรงเรียนบนเกาะ 7 แห่ง",
        "answered_on": "2025-06-20",
        "answer_reflection_id": str(reflection.id),
    }
    answered = client.put(f"/areas/krabi/questions/{row.id}", data=answer, follow_redirects=False)
    assert answered.status_code == 303
    session.expire_all()
    row = session.get(LearningQuestion, row.id)
    assert row.state == "answered" and row.answer_reflection_id == reflection.id
    assert row.answered_on == date(2025, 6, 20) and row.evidence.startswith("ผลการประเมิน RT")
    page = client.get("/areas/krabi/questions").text
    group = re.search(r'<section[^>]*id="questions-answered".*?</section>', page, re.S).group(0)
    assert "ช่วยได้ เด็กที่เรียนภาษาแม่" in group
    assert f'href="/areas/krabi/reflections/{reflection.id}"' in group
    retired = client.post(f"/areas/krabi/questions/{row.id}/retire", follow_redirects=False)
    assert retired.status_code == 303
    session.expire_all()
    assert session.get(LearningQuestion, row.id).state == "retired"


def test_a_question_cannot_name_another_areas_reflection(
    client: TestClient, session: Session
) -> None:
    _krabi(session)
    f.make_full_plan(session, "phuket", kras=1)
    theirs = reflections.create_reflection(
        session,
        actor=f.ACTOR,
        area=f.area(session, "phuket"),
        reflection_in={"held_on": "2025-01-10", "title": "สะท้อนผลภูเก็ต"},
    )
    row = reflections.create_question(
        session, actor=f.ACTOR, area=f.area(session), question_in={"question": "ทำไมเด็กย้ายโรงเรียน"}
    )
    answer = {
        "state": "answered",
        "answer": "ย้ายตามผู้ปกครอง",
        "answer_reflection_id": str(theirs.id),
    }
    response = client.post(f"/areas/krabi/questions/{row.id}", data=answer)
    assert response.status_code == 422
    assert f'id="question-{row.id}-answer_reflection_id-error"' in response.text
    assert session.get(LearningQuestion, row.id).state == "open"


# ---- who may do what ------------------------------------------------------------------------


def test_an_editor_of_phuket_cannot_write_to_krabi(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    proposal = reflections.create_proposal(
        session, actor=f.ACTOR, area=f.area(session), proposal_in={"text": "เพิ่มครูภูมิปัญญา"}
    )
    question = reflections.create_question(
        session, actor=f.ACTOR, area=f.area(session), question_in={"question": "ทำไมครูย้ายบ่อย"}
    )
    outsider = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    audited = _count(session, AuditEvent)
    base = "/areas/krabi"
    for method, url, data in (
        ("POST", f"{base}/reflections", _form(k)),
        ("PUT", f"{base}/reflections/{row.id}", _form(k)),
        ("POST", f"{base}/reflections/{row.id}/delete", {}),
        ("POST", f"{base}/reflections/{row.id}/follow-ups", {"line": "0", "kind": "action"}),
        ("POST", f"{base}/proposals", {"text": "ยุบโครงการ"}),
        ("POST", f"{base}/proposals/{proposal.id}/decision", {"decision": "adopt"}),
        ("POST", f"{base}/questions", {"question": "ทำไม"}),
        ("PUT", f"{base}/questions/{question.id}", {"question": "ทำไม"}),
        ("POST", f"{base}/questions/{question.id}/retire", {}),
        ("GET", f"{base}/reflections", None),
    ):
        response = outsider.request(method, url, data=data, follow_redirects=False)
        assert response.status_code == 403, (method, url)
    assert _count(session, AuditEvent) == audited
    assert _count(session, Reflection) == 1 and _count(session, ReflectionFollowUp) == 0


def test_a_viewer_reads_everything_and_sees_no_form(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    k = _krabi(session)
    row = _reflect(session, k)
    reflections.create_proposal(
        session, actor=f.ACTOR, area=f.area(session), proposal_in={"text": "เพิ่มครูภูมิปัญญา"}
    )
    reflections.create_question(
        session, actor=f.ACTOR, area=f.area(session), question_in={"question": "ทำไมครูย้ายบ่อย"}
    )
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    for url, shown in (
        ("/areas/krabi/reflections", "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน"),
        (f"/areas/krabi/reflections/{row.id}", LINES[0]),
        (f"/areas/krabi/reflections/{row.id}?edit=1", LINES[0]),
        ("/areas/krabi/proposals", "เพิ่มครูภูมิปัญญา"),
        ("/areas/krabi/questions", "ทำไมครูย้ายบ่อย"),
    ):
        page = viewer.get(url)
        assert page.status_code == 200 and shown in page.text, url
        main = page.text.split('<main id="main"', 1)[1]
        assert "<form" not in main and 'name="csrf_token"' not in main, url
    assert viewer.get(f"/areas/krabi/reflections/{row.id}/delete").status_code == 403
    editor = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    assert "turn-form" in editor.get(f"/areas/krabi/reflections/{row.id}").text


# ---- the brief, and the pages' queries ------------------------------------------------------


def test_the_brief_lists_the_years_reflections_with_their_first_so_what_line(
    client: TestClient, session: Session
) -> None:
    k = _krabi(session)
    _reflect(session, k)  # 20 Jun 2025: academic year 2568
    _reflect(session, k, held_on="2024-06-14", title="สะท้อนผลปีการศึกษา 2566", so_what="ปีแรก")
    page = client.get("/areas/krabi/brief?period=AY2568").text
    part = re.search(r'<section class="brief-reflections".*?</section>', page, re.S).group(0)
    assert "สะท้อนผลปีการศึกษา 2567 ด้านการอ่าน" in part and "20 มิ.ย. 2568" in part
    assert "โรงเรียนบนเกาะยังตามไม่ทัน" in part and "ครูย้ายบ่อย" not in part  # the first line
    assert "สะท้อนผลปีการศึกษา 2566" not in part
    earlier = client.get("/areas/krabi/brief?period=AY2567").text
    assert "สะท้อนผลปีการศึกษา 2566" in earlier


def test_the_brief_with_its_reflections_prints_on_one_page(
    client: TestClient, session: Session
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    k = _krabi(session)
    for n in range(5):
        _reflect(
            session,
            k,
            held_on=f"2025-0{n + 5}-2{n}",
            title=f"R{n + 1}-2568 สะท้อนผลการดำเนินงานของคณะกรรมการขับเคลื่อนพื้นที่นวัตกรรมการศึกษา",
            so_what="ครูโรงเรียนขนาดเล็กบนเกาะต้องการผู้ช่วยอ่านที่พูดภาษาถิ่น " * 4,
        )
    response = client.get("/areas/krabi/brief.pdf?period=AY2568")
    assert response.status_code == 200
    done = subprocess.run(["pdftotext", "-", "-"], input=response.content, capture_output=True)
    text = done.stdout.decode("utf-8")
    assert text.rstrip("\f").count("\f") == 0  # one page
    assert "R5-2568" in text and "R3-2568" in text and "R2-2568" not in text  # the newest three


def _visit(client: TestClient, counter: QueryCounter, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        counter.count = 0
        assert client.get(url).status_code == 200, url
        counts.append(counter.count)
    return counts


def test_the_pages_issue_the_same_queries_with_more_reflections(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    k = _krabi(session)
    first = _reflect(session, k)
    _turn(client, first, 0, "action")
    urls = [
        "/areas/krabi/reflections",
        f"/areas/krabi/reflections/{first.id}",
        "/areas/krabi/proposals",
        "/areas/krabi/questions",
        "/areas/krabi/progress",
    ]
    small = _visit(client, count_queries, urls)
    for n in range(4):
        row = _reflect(session, k, title=f"สะท้อนผลครั้งที่ {n + 2}")
        for line, kind in ((0, "action"), (1, "proposal"), (2, "question")):
            assert _turn(client, row, line, kind).status_code == 303
    _turn(client, first, 1, "proposal")
    _turn(client, first, 2, "question")
    assert _visit(client, count_queries, urls) == small
