"""The problem tree: depth, moves without cycles, links only within the plan's area, subtree
deletion with confirmation, versions, the audit trail and the checks."""

import pytest
from sqlmodel import Session, select

from app.i18n import thai_today
from app.models import AuditEvent, ProblemNode, ProblemNodeKRA
from app.services import maps, problems, versions
from app.services.errors import Conflict, ValidationFailed
from tests import factories as f


def _events(session: Session) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "problem_node")
            .order_by(AuditEvent.id)
        ).all()
    )


def _chain(session: Session, plan, depth: int) -> list[ProblemNode]:  # noqa: ANN001
    nodes = [f.make_node(session, plan, "นักเรียนอ่านไม่คล่อง")]
    for n in range(1, depth):
        nodes.append(f.make_node(session, plan, f"สาเหตุชั้นที่ {n}", nodes[-1]))
    return nodes


def test_a_tree_of_any_depth_reads_back_with_kinds_by_position(session: Session) -> None:
    plan = f.make_plan(session)
    chain = _chain(session, plan, 5)
    sibling = f.make_node(session, plan, "ครูย้ายบ่อย", chain[0])
    view = problems.tree_view(session, plan)
    assert len(view.roots) == 1
    root = view.roots[0]
    assert root.kind == "problem"
    assert [c.node.text for c in root.children] == ["สาเหตุชั้นที่ 1", "ครูย้ายบ่อย"]
    deepest = view.nodes()[4]
    assert (deepest.depth, deepest.kind) == (4, "root_cause")
    assert root.children[0].kind == "cause" and root.children[1].kind == "root_cause"
    assert sibling.position == 1
    assert [e.op for e in _events(session)] == ["create"] * 6


def test_moving_a_node_under_its_own_descendant_is_refused_and_nothing_changes(
    session: Session,
) -> None:
    plan = f.make_plan(session)
    chain = _chain(session, plan, 3)
    for target in (chain[2], chain[1]):
        with pytest.raises(ValidationFailed) as error:
            problems.move_node(
                session,
                actor=f.ACTOR,
                plan=plan,
                node_id=chain[0].id,
                move_in={"parent_id": str(target.id)},
            )
        assert error.value.errors["parent_id"].msgid == problems.CYCLE
    session.expire_all()
    assert session.get(ProblemNode, chain[0].id).parent_id is None
    assert len(_events(session)) == 3


def test_a_cause_moves_under_another_problem_with_its_causes(session: Session) -> None:
    plan = f.make_plan(session)
    chain = _chain(session, plan, 3)
    other = f.make_node(session, plan, "ผู้ปกครองไม่มีเวลา")
    moved = problems.move_node(
        session,
        actor=f.ACTOR,
        plan=plan,
        node_id=chain[1].id,
        move_in={"parent_id": other.id},
        expected_version=1,
    )
    assert moved.version == 2
    view = problems.tree_view(session, plan)
    assert [n.node.text for n in view.roots[1].walk()] == [
        "ผู้ปกครองไม่มีเวลา",
        "สาเหตุชั้นที่ 1",
        "สาเหตุชั้นที่ 2",
    ]
    assert view.roots[0].kind == "problem" and not view.roots[0].children
    event = _events(session)[-1]
    assert (event.op, event.before["cause_of"], event.after["cause_of"]) == (
        "update",
        chain[0].id,
        other.id,
    )


def test_links_to_another_areas_kra_or_data_item_are_refused(session: Session) -> None:
    plan = f.make_plan(session)
    other_plan = f.make_plan(session, "phuket")
    their_kra = f.make_kra(session, other_plan)
    their_item = f.data_item(session, other_plan.area_id, "จำนวนนักเรียนภูเก็ต")
    for field, value in (("kra_ids", their_kra.id), ("data_item_ids", their_item.id)):
        with pytest.raises(ValidationFailed) as error:
            f.make_node(session, plan, "ปัญหา", **{field: [value]})
        assert field in error.value.errors
    assert session.exec(select(ProblemNode)).all() == []


def test_a_cause_cannot_hang_under_another_plans_node(session: Session) -> None:
    plan = f.make_plan(session)
    theirs = f.make_node(session, f.make_plan(session, "phuket"), "ปัญหาภูเก็ต")
    node = f.make_node(session, plan, "ปัญหากระบี่")
    with pytest.raises(ValidationFailed):
        problems.move_node(
            session, actor=f.ACTOR, plan=plan, node_id=node.id, move_in={"parent_id": theirs.id}
        )


def test_deleting_a_subtree_needs_confirmation_and_is_audited_whole(session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    chain = _chain(session, plan, 3)
    problems.update_node(
        session,
        actor=f.ACTOR,
        plan=plan,
        node_id=chain[2].id,
        node_in={"text": "ขาดครูภาษาไทย", "kra_ids": [kra.id]},
    )
    with pytest.raises(Conflict):
        problems.delete_node(session, actor=f.ACTOR, plan=plan, node_id=chain[0].id)
    assert len(session.exec(select(ProblemNode)).all()) == 3
    problems.delete_node(session, actor=f.ACTOR, plan=plan, node_id=chain[0].id, force=True)
    assert session.exec(select(ProblemNode)).all() == []
    assert session.exec(select(ProblemNodeKRA)).all() == []
    event = _events(session)[-1]
    assert event.op == "delete"
    assert sorted(event.before["subtree"]) == ["ขาดครูภาษาไทย", "สาเหตุชั้นที่ 1"]
    # a leaf goes without asking
    leaf = f.make_node(session, plan, "ปัญหาเดี่ยว")
    problems.delete_node(session, actor=f.ACTOR, plan=plan, node_id=leaf.id)


def test_a_stale_edit_is_a_conflict(session: Session) -> None:
    plan = f.make_plan(session)
    node = f.make_node(session, plan, "ปัญหา")
    problems.update_node(
        session,
        actor=f.ACTOR,
        plan=plan,
        node_id=node.id,
        node_in={"text": "ปัญหาใหม่"},
        expected_version=1,
    )
    with pytest.raises(Conflict):
        problems.update_node(
            session,
            actor=f.ACTOR,
            plan=plan,
            node_id=node.id,
            node_in={"text": "ช้าไป"},
            expected_version=1,
        )
    assert session.get(ProblemNode, node.id).text == "ปัญหาใหม่"


def test_bad_web_addresses_are_refused(session: Session) -> None:
    plan = f.make_plan(session)
    with pytest.raises(ValidationFailed) as error:
        f.make_node(session, plan, "ปัญหา", urls="https://example.org/a\nไม่ใช่ที่อยู่")
    assert "urls" in error.value.errors


def test_checks_name_kras_without_problems_and_root_causes_without_actions(
    session: Session,
) -> None:
    plan = f.make_plan(session)
    kra1, kra2 = f.make_kra(session, plan, "KRA1"), f.make_kra(session, plan, "KRA2")
    action = f.make_action(session, plan)
    problem = f.make_node(session, plan, "อ่านไม่คล่อง", kra_ids=[kra1.id])
    f.make_node(session, plan, "ขาดครู", problem, action_ids=[action.id])
    f.make_node(session, plan, "ไม่มีหนังสือ", problem)
    checks = problems.tree_view(session, plan).checks
    assert [(c.kind, c.target_id) for c in checks] == [
        ("kra_without_problem", kra2.id),
        ("root_cause_without_action", checks[1].target_id),
    ]
    assert session.get(ProblemNode, checks[1].target_id).text == "ไม่มีหนังสือ"


def test_a_named_version_keeps_the_tree_as_it_stood_and_the_replay_keeps_its_shape(
    session: Session,
) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    problem = f.make_node(session, plan, "นักเรียนอ่านไม่คล่อง", kra_ids=[kra.id])
    cause = f.make_node(session, plan, "ครูย้ายบ่อย", problem)
    area = f.area(session)
    kept = versions.name_version(
        session, actor=f.ACTOR, area=area, plan=plan, version_in={"name": "ก่อนปรับ"}
    )
    problems.update_node(
        session, actor=f.ACTOR, plan=plan, node_id=cause.id, node_in={"text": "ครูไม่ครบชั้น"}
    )
    f.make_node(session, plan, "เด็กหลุดออกจากระบบ")
    then = versions.thaw(session, area, kept).tree
    assert [(n.text, n.parent_id) for n in then.problem_nodes] == [
        ("นักเรียนอ่านไม่คล่อง", None),
        ("ครูย้ายบ่อย", problem.id),  # as it was named, under its problem
    ]
    assert then.node_kras == {problem.id: [kra.id], cause.id: []}
    now = maps.state_at(session, area, plan, maps.end_of(thai_today()))
    changes = {(d.key, d.change) for d in maps.compare(versions.thaw(session, area, kept), now)}
    assert (f"problem:{cause.id}", "changed") in changes
    assert any(key.startswith("problem:") and change == "added" for key, change in changes)
