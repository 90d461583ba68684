from sqlmodel import Session, select

from app.models import Action, KeyResultArea
from app.services import plans
from app.services.plan_views import plan_view
from tests import factories as f


def _checks(session: Session, slug: str = "krabi") -> set[tuple[str, str]]:
    view = plan_view(session, f.area(session, slug))
    return {(x.check, x.label) for x in view.findings}


def test_a_complete_chain_has_no_findings(session: Session) -> None:
    f.make_full_plan(session)
    view = plan_view(session, f.area(session))
    assert view.findings == [] and view.completeness == 1.0


def test_each_gap_is_reported(session: Session) -> None:
    plan = f.make_plan(session)
    lp1, ic2 = f.doe_item(session, "LP1").id, f.doe_item(session, "IC2").id
    f.make(session, plan, "doe", text="ผลลัพธ์", item_ids=[lp1, ic2])
    kra = f.make_kra(session, plan, "KRA1", doe_item_ids=[lp1])
    f.make_kra(session, plan, "KRA2")
    f.make_kpi(
        session,
        plan,
        "KPI1",
        kra_ids=[kra.id],
        baseline_value="",
        baseline_period="",
        target_value="",
        target_period="",
    )
    f.make_action(session, plan, "ACT1")
    assert _checks(session) == {
        ("kpi_no_baseline", "KPI1"),
        ("kpi_no_target", "KPI1"),
        ("kpi_no_action", "KPI1"),
        ("action_no_kpi", "ACT1"),
        ("kra_no_kpi", "KRA2"),
        ("doe_item_no_kra", "IC2"),
    }


def test_fixing_a_gap_removes_its_finding(session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    kpi = f.make_kpi(session, plan, kra_ids=[kra.id])
    action = f.make_action(session, plan)
    assert ("kpi_no_action", "KPI1") in _checks(session)
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="actions",
        element_id=action.id,
        element_in={"kpi_ids": [kpi.id]},
        partial=True,
    )
    assert _checks(session) == set()


def test_completeness_counts_the_six_steps(session: Session) -> None:
    plan = f.make_plan(session)
    f.make(session, plan, "doe", text="ผลลัพธ์")
    view = plan_view(session, f.area(session))
    assert view.steps == {
        "doe": True,
        "problems": False,
        "vision": False,
        "kras": False,
        "kpis": False,
        "actions": False,
    }
    assert round(view.completeness, 3) == round(1 / 6, 3)


def test_a_problem_tree_adds_kras_answering_no_problem_and_root_causes_no_action_addresses(
    session: Session,
) -> None:
    plan = f.make_full_plan(session, kras=2, problems=False)
    assert {c for c, _ in _checks(session)} == set()  # no tree yet: no tree checks
    kra1 = session.exec(
        select(KeyResultArea).where(KeyResultArea.plan_id == plan.id, KeyResultArea.code == "KRA1")
    ).one()
    act1 = session.exec(
        select(Action).where(Action.plan_id == plan.id, Action.code == "ACT1")
    ).one()
    problem = f.make_node(session, plan, "เด็กอ่านไม่คล่อง", kra_ids=[kra1.id])
    cause = f.make_node(session, plan, "ขาดครู", problem)
    f.make_node(session, plan, "ครูย้ายบ่อย", cause, action_ids=[act1.id])
    f.make_node(session, plan, "บ้านไม่มีหนังสือ", problem)
    assert _checks(session) == {
        ("kra_no_problem", "KRA2"),
        ("root_cause_no_action", "บ้านไม่มีหนังสือ"),
    }
