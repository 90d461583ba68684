"""The outcomes service: what an outcome may link to, and the read models' counts."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.i18n import thai_today
from app.models import Action
from app.services import outcomes
from app.services.errors import ValidationFailed
from app.services.outcomes import Filters
from tests import factories as f

OUTCOME = {
    "observed_on": "2024-11-20",
    "who": "ครูโรงเรียนบ้านคลองม่วง",
    "change": "ตั้งวง PLC ของตนเองทุกวันพุธ",
}


def _action(session: Session, plan_id: int, code: str) -> Action:
    return session.exec(select(Action).where(Action.plan_id == plan_id, Action.code == code)).one()


def test_an_outcome_keeps_its_links_to_an_earlier_plan_and_offers_only_the_current_one(
    session: Session,
) -> None:
    area = f.area(session)
    old = f.make_full_plan(session, "krabi", kras=1)
    old_action = _action(session, old.id, "ACT1")
    row = outcomes.create_outcome(
        session, actor=f.ACTOR, area=area, outcome_in={**OUTCOME, "action_ids": [old_action.id]}
    )
    new = f.make_full_plan(session, "krabi", kras=2)  # the area's plan for the next span
    choices = outcomes.plan_choices(session, area)
    assert [a.code for a in choices.actions] == ["ACT1", "ACT2"]
    assert {a.plan_id for a in choices.actions} == {new.id}
    assert choices.action_names[old_action.id].code == "ACT1"  # still named on the outcome
    view = outcomes.harvest(session, area, Filters(), choices)
    assert view.links["action_ids"][row.id] == [old_action.id]
    with pytest.raises(ValidationFailed) as refused:  # a new link must be to the current plan
        outcomes.create_outcome(
            session, actor=f.ACTOR, area=area, outcome_in={**OUTCOME, "action_ids": [old_action.id]}
        )
    assert set(refused.value.errors) == {"action_ids"}


def test_counts_by_action_counts_only_the_areas_own_outcomes(session: Session) -> None:
    krabi, phuket = f.area(session), f.area(session, "phuket")
    plan = f.make_full_plan(session, "krabi", kras=2)
    act1, act2 = _action(session, plan.id, "ACT1"), _action(session, plan.id, "ACT2")
    for ids in ([act1.id], [act1.id, act2.id]):
        outcomes.create_outcome(
            session, actor=f.ACTOR, area=krabi, outcome_in={**OUTCOME, "action_ids": ids}
        )
    assert outcomes.counts_by_action(session, krabi) == {act1.id: 2, act2.id: 1}
    assert outcomes.counts_by_action(session, phuket) == {}
    assert outcomes.substantiation_counts(session, krabi) == {
        "draft": 2,
        "confirmed": 0,
        "substantiated": 0,
        "disputed": 0,
    }


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("positive", False, False),
        ("positive", "negative", False),
        ("planned", "planned", True),
        ("planned", True, True),
        ("observed_on", thai_today().isoformat(), thai_today()),
    ],
)
def test_the_two_yes_no_fields_take_words_or_booleans(
    session: Session, field: str, value: object, stored: object
) -> None:
    row = outcomes.create_outcome(
        session, actor=f.ACTOR, area=f.area(session), outcome_in={**OUTCOME, field: value}
    )
    assert getattr(row, field) == stored


def test_tomorrow_in_thailand_is_the_future(session: Session) -> None:
    tomorrow = (thai_today() + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationFailed) as refused:
        outcomes.create_outcome(
            session,
            actor=f.ACTOR,
            area=f.area(session),
            outcome_in={**OUTCOME, "observed_on": tomorrow},
        )
    assert (
        refused.value.errors["observed_on"].msgid == "An outcome cannot be observed in the future."
    )
