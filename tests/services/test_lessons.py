"""Learning across areas: which items of which areas a reader finds, what each filter keeps, and
the lessons workbook."""

import io
from dataclasses import dataclass
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from app.models import KPI, Action, AuditEvent, KeyResultArea, Reflection
from app.models.enums import Role
from app.services import lessons, outcomes, plans, reflections
from app.services.access import Grant, Principal
from app.services.errors import ValidationFailed
from tests import factories as f
from tests.conftest import QueryCounter

EVERY_AREA = Principal(grants=(Grant(Role.reviewer, None),))

KRABI_REFLECTION = "ทบทวนผลการอ่านปีการศึกษา 2567"
KRABI_SO_WHAT = "เด็กอ่านคล่องขึ้นเมื่อครูใช้นิทานท้องถิ่นกระบี่"
KRABI_OUTCOME = "ผู้ปกครองชุมชนบ้านคลองม่วง"
KRABI_REASON = "ผลการอ่านปี 2566 ต่ำกว่าที่คาด จึงปรับเป้าให้ทำได้จริง"
PHUKET_REFLECTION = "สรุปบทเรียนวง PLC ออนไลน์ของครูภูเก็ต"
PHUKET_SO_WHAT = "ครูแลกเปลี่ยนกันบ่อยขึ้นเมื่อใช้วง PLC ออนไลน์"
PHUKET_QUESTION = "ครูนำสิ่งที่ได้จาก PLC ไปใช้ในห้องเรียนจริงหรือไม่"


@dataclass
class World:
    krabi_reflection: int
    krabi_outcome: int
    krabi_adaptation: int
    phuket_reflection: int
    phuket_question: int


def make_lessons(session: Session) -> World:
    """Krabi (learner quality, LP1): a reflection on its KPI (AY2567), an outcome of its action
    (AY2567) and a KPI target changed with a reason. Phuket (teacher capacity, IC2): a reflection
    on its KRA (AY2566) and a learning question that reflection answered."""
    krabi, phuket = f.area(session, "krabi"), f.area(session, "phuket")
    plan = f.make_full_plan(session, "krabi", kras=1)
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id)).one()
    action = session.exec(select(Action).where(Action.plan_id == plan.id)).one()
    reflection = reflections.create_reflection(
        session,
        actor=f.ACTOR,
        area=krabi,
        reflection_in={
            "held_on": "2024-06-20",
            "title": KRABI_REFLECTION,
            "what": "ร้อยละการอ่านออกเพิ่มเป็น 68",
            "so_what": KRABI_SO_WHAT,
            "now_what": "ขยายกิจกรรมนิทานไปทุกโรงเรียน",
            "elements": [f"kpi:{kpi.id}"],
        },
    )
    outcome = outcomes.create_outcome(
        session,
        actor=f.ACTOR,
        area=krabi,
        outcome_in={
            "observed_on": "2024-11-20",
            "who": KRABI_OUTCOME,
            "change": "อ่านนิทานกับลูกทุกคืน",
            "action_ids": [action.id],
        },
    )
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"target_value": "70"},
        partial=True,
        reason=KRABI_REASON,
        reason_category="feasibility",
    )
    adaptation = session.exec(select(AuditEvent.id).where(AuditEvent.reason == KRABI_REASON)).one()
    phuket_plan = f.make_plan(session, "phuket")
    kra = f.make_kra(
        session,
        phuket_plan,
        doe_item_ids=[f.doe_item(session, "IC2").id],
        theme_id=f.theme(session, "teacher_capacity").id,
    )
    theirs = reflections.create_reflection(
        session,
        actor=f.ACTOR,
        area=phuket,
        reflection_in={
            "held_on": "2023-08-10",
            "title": PHUKET_REFLECTION,
            "so_what": PHUKET_SO_WHAT,
            "elements": [f"kra:{kra.id}"],
        },
    )
    question = reflections.create_question(
        session,
        actor=f.ACTOR,
        area=phuket,
        question_in={
            "question": PHUKET_QUESTION,
            "state": "answered",
            "answer": "นำไปใช้ราวครึ่งหนึ่ง",
            "answered_on": "2023-09-01",
            "answer_reflection_id": theirs.id,
        },
    )
    return World(reflection.id, outcome.id, adaptation, theirs.id, question.id)


def _view(session: Session, principal: Principal = EVERY_AREA, **filters: object):
    params = {k: v for k, v in filters.items() if k not in ("areas", "kinds")}
    parsed = lessons.Filters.parse(
        params, list(filters.get("areas", [])), list(filters.get("kinds", []))
    )
    return lessons.lessons_view(session, principal, parsed)


def _found(view: lessons.LessonsView) -> set[tuple[str, str]]:
    return {(i.kind, i.area.slug) for i in view.lessons}


def test_a_reviewer_reads_the_items_of_every_area_tagged_by_theme_and_aspect(
    session: Session,
) -> None:
    world = make_lessons(session)
    view = _view(session)
    assert _found(view) == {
        ("reflection", "krabi"),
        ("outcome", "krabi"),
        ("adaptation", "krabi"),
        ("reflection", "phuket"),
        ("question", "phuket"),
    }
    by_id = {(i.kind, i.record_id): i for i in view.lessons}
    krabi = by_id["reflection", world.krabi_reflection]
    assert [t.code for t in krabi.themes] == ["learner_quality"]
    assert [a.code for a in krabi.aspects] == ["LP"]
    assert krabi.year == "AY2567" and KRABI_SO_WHAT in krabi.text
    question = by_id["question", world.phuket_question]  # tagged like the reflection behind it
    assert [t.code for t in question.themes] == ["teacher_capacity"]
    assert [a.code for a in question.aspects] == ["IC"]
    adaptation = by_id["adaptation", world.krabi_adaptation]
    assert KRABI_REASON in adaptation.text and [t.code for t in adaptation.themes] == [
        "learner_quality"
    ]
    assert view.counts == {"reflection": 2, "outcome": 1, "adaptation": 1, "question": 1}
    names = [a.name_th for a in view.areas]  # Thai order: เชียงใหม่ sorts under ช
    assert names.index("กระบี่") < names.index("เชียงใหม่") < names.index("ภูเก็ต")


def test_an_area_viewer_reads_only_their_own_area(session: Session) -> None:
    make_lessons(session)
    phuket = f.area(session, "phuket")
    viewer = Principal(grants=(Grant(Role.viewer, phuket.id),))
    view = _view(session, viewer)
    assert _found(view) == {("reflection", "phuket"), ("question", "phuket")}
    assert [a.slug for a in view.areas] == ["phuket"]
    with pytest.raises(ValidationFailed) as refused:  # another area cannot be asked for
        _view(session, viewer, areas=["krabi"])
    assert set(refused.value.errors) == {"area"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"areas": ["phuket"]}, {("reflection", "phuket"), ("question", "phuket")}),
        (
            {"theme": "learner_quality"},
            {("reflection", "krabi"), ("outcome", "krabi"), ("adaptation", "krabi")},
        ),
        ({"aspect": "IC"}, {("reflection", "phuket"), ("question", "phuket")}),
        ({"year": "ay2566"}, {("reflection", "phuket"), ("question", "phuket")}),
        ({"kinds": ["reflection"]}, {("reflection", "krabi"), ("reflection", "phuket")}),
        ({"q": "PLC ออนไลน์"}, {("reflection", "phuket")}),
        ({"q": "นิทานท้องถิ่น", "kinds": ["outcome"]}, set()),
    ],
)
def test_each_filter_narrows_the_items(
    session: Session, filters: dict, expected: set[tuple[str, str]]
) -> None:
    make_lessons(session)
    assert _found(_view(session, **filters)) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "FY2567"}, "year"),
        ({"year": "ปีที่แล้ว"}, "year"),
        ({"by": "colour"}, "by"),
        ({"q": "ก" * 201}, "q"),
    ],
)
def test_malformed_filters_are_refused_beside_their_field(params: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        lessons.Filters.parse(params, [], [])
    assert set(refused.value.errors) == {field}


def test_an_unknown_kind_theme_or_aspect_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        lessons.Filters.parse({}, [], ["gossip"])
    assert set(refused.value.errors) == {"kind"}
    with pytest.raises(ValidationFailed) as refused:
        _view(session, theme="no_such_theme", aspect="ZZ")
    assert set(refused.value.errors) == {"theme", "aspect"}


def test_a_day_belongs_to_the_academic_year_that_began_before_it() -> None:
    assert lessons.academic_year(date(2024, 5, 15)) == "AY2566"
    assert lessons.academic_year(date(2024, 5, 16)) == "AY2567"


def test_the_workbook_carries_the_rows_shown_and_never_a_formula(session: Session) -> None:
    world = make_lessons(session)
    reflection = session.get(Reflection, world.phuket_reflection)
    reflection.title = '=HYPERLINK("http://evil.example")'
    session.add(reflection)
    session.commit()
    view = _view(session, areas=["phuket"])
    body = lessons.lessons_workbook(view, lambda i: f"https://phonlap.example/{i.record_id}")
    sheet = load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(view.lessons) == 2
    titles = {r[4] for r in rows}
    assert titles == {reflection.title, PHUKET_QUESTION}
    cell = next(c for c in sheet["E"][1:] if c.value == reflection.title)
    assert cell.data_type == "s" and cell.quotePrefix
    assert all(r[1] == "ภูเก็ต" for r in rows)
    assert any(PHUKET_SO_WHAT in (r[6] or "") for r in rows)


def test_items_are_read_in_the_same_number_of_queries_for_more_areas_and_items(
    session: Session, count_queries: QueryCounter
) -> None:
    make_lessons(session)
    count_queries.count = 0
    _view(session)
    small = count_queries.count
    satun = f.area(session, "satun")
    plan = f.make_full_plan(session, "satun", kras=3)
    kras = session.exec(select(KeyResultArea).where(KeyResultArea.plan_id == plan.id)).all()
    for n, kra in enumerate(kras):
        reflections.create_reflection(
            session,
            actor=f.ACTOR,
            area=satun,
            reflection_in={
                "held_on": "2024-07-01",
                "title": f"ทบทวนรอบที่ {n}",
                "elements": [f"kra:{kra.id}"],
            },
        )
        outcomes.create_outcome(
            session,
            actor=f.ACTOR,
            area=satun,
            outcome_in={"observed_on": "2024-07-02", "who": f"ครูกลุ่ม {n}", "change": "ร่วมวง PLC"},
        )
    count_queries.count = 0
    view = _view(session)
    assert count_queries.count == small
    assert len(view.lessons) == 5 + 6
