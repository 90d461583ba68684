"""The plan write services: validation, links, ordering, deletion, versions and the audit trail."""

import inspect

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app import live
from app.models import KPI, KPIKRA, ActionKPI, AuditEvent, KeyResultArea, Plan
from app.services import plans
from app.services.audit import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from tests import factories as f


def _events(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def test_creating_a_kpi_stores_values_links_and_one_audit_event(session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    lead = f.agency(session, "krabi")
    kpi = f.make_kpi(
        session,
        plan,
        baseline_value="๖๒.๕",
        target_value="75%",
        kra_ids=[kra.id],
        lead_agency_id=lead.id,
        co_owner_ids=[lead.id],
    )
    stored = session.get(KPI, kpi.id)
    assert stored.baseline_value == 62.5 and stored.target_value == 75.0
    assert stored.baseline_period == "AY2565"
    links = plans.element_links(session, plans.get_spec("kpis"), kpi.id)
    assert links == {"kra_ids": [kra.id], "co_owner_ids": [lead.id], "data_item_ids": []}
    event = _events(session)[-1]
    assert (event.entity_type, event.entity_id, event.op) == ("kpi", kpi.id, "create")
    assert event.after["kra_ids"] == [kra.id] and event.after["baseline_value"] == 62.5
    assert event.actor == f.ACTOR.label and event.area_id == plan.area_id


def test_invalid_input_is_refused_with_field_messages_and_writes_nothing(session: Session) -> None:
    plan = f.make_plan(session)
    before = len(_events(session))
    with pytest.raises(ValidationFailed) as caught:
        f.make_kpi(session, plan, name="", baseline_value="N/A", target_period="FY2570")
    assert set(caught.value.errors) == {"name", "baseline_value", "target_period"}
    assert session.exec(select(func.count()).select_from(KPI)).one() == 0
    assert len(_events(session)) == before


def test_links_to_another_plans_elements_are_refused(session: Session) -> None:
    krabi, phuket = f.make_plan(session, "krabi"), f.make_plan(session, "phuket")
    phuket_kra = f.make_kra(session, phuket)
    phuket_agency = f.agency(session, "phuket")
    with pytest.raises(ValidationFailed) as caught:
        f.make_kpi(session, krabi, kra_ids=[phuket_kra.id], lead_agency_id=phuket_agency.id)
    assert set(caught.value.errors) == {"kra_ids", "lead_agency_id"}
    assert session.exec(select(func.count()).select_from(KPIKRA)).one() == 0


def test_an_element_of_another_plan_is_not_found(session: Session) -> None:
    krabi, phuket = f.make_plan(session, "krabi"), f.make_plan(session, "phuket")
    kra = f.make_kra(session, phuket, title="ของภูเก็ต")
    with pytest.raises(NotFound):
        plans.update_element(
            session,
            actor=Actor.process("x"),
            plan=krabi,
            kind="kras",
            element_id=kra.id,
            element_in={"code": "KRA1", "title": "แก้"},
        )
    assert session.get(KeyResultArea, kra.id).title == "ของภูเก็ต"


def test_codes_are_unique_within_a_plan_only(session: Session) -> None:
    krabi, phuket = f.make_plan(session, "krabi"), f.make_plan(session, "phuket")
    f.make_kra(session, krabi, "KRA1")
    f.make_kra(session, phuket, "KRA1")
    with pytest.raises(ValidationFailed) as caught:
        f.make_kra(session, krabi, "kra1")
    assert set(caught.value.errors) == {"code"}
    assert plans.suggest_code(session, plan=krabi, kind="kras") == "KRA2"


def test_update_replaces_links_and_records_before_and_after(session: Session) -> None:
    plan = f.make_plan(session)
    kra1, kra2 = f.make_kra(session, plan, "KRA1"), f.make_kra(session, plan, "KRA2")
    kpi = f.make_kpi(session, plan, kra_ids=[kra1.id])
    plans.update_element(
        session,
        actor=Actor.process("editor"),
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"target_value": "80", "kra_ids": [kra1.id, kra2.id]},
        partial=True,
    )
    stored = session.get(KPI, kpi.id)
    assert stored.target_value == 80 and stored.version == 2
    event = _events(session)[-1]
    assert event.op == "update" and event.actor == "editor"
    assert (event.before["target_value"], event.after["target_value"]) == (75.0, 80.0)
    assert (event.before["kra_ids"], event.after["kra_ids"]) == ([kra1.id], [kra1.id, kra2.id])


def test_a_stale_version_is_refused_and_nothing_is_overwritten(session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan, title="เดิม")
    values = {"code": "KRA1", "title": "แก้ครั้งแรก"}
    plans.update_element(
        session,
        actor=Actor.process("a"),
        plan=plan,
        kind="kras",
        element_id=kra.id,
        element_in=values,
        expected_version=1,
    )
    with pytest.raises(Conflict) as caught:
        plans.update_element(
            session,
            actor=Actor.process("b"),
            plan=plan,
            kind="kras",
            element_id=kra.id,
            element_in={"code": "KRA1", "title": "แก้ซ้อน"},
            expected_version=1,
        )
    assert caught.value.current["title"] == "แก้ครั้งแรก" and caught.value.current["version"] == 2
    assert session.get(KeyResultArea, kra.id).title == "แก้ครั้งแรก"


def test_deleting_a_linked_kpi_first_lists_what_would_be_unlinked(session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    kpi = f.make_kpi(session, plan, kra_ids=[kra.id])
    action = f.make_action(session, plan, kpi_ids=[kpi.id])
    with pytest.raises(Conflict) as caught:
        plans.delete_element(
            session, actor=Actor.process("x"), plan=plan, kind="kpis", element_id=kpi.id
        )
    unlinks = {(d["kind"], d["label"]) for d in caught.value.current["unlinks"]}
    assert unlinks == {("kras", "KRA1"), ("actions", "ACT1")}
    assert session.get(KPI, kpi.id) is not None

    plans.delete_element(
        session, actor=Actor.process("x"), plan=plan, kind="kpis", element_id=kpi.id, force=True
    )
    assert session.get(KPI, kpi.id) is None
    assert session.exec(select(ActionKPI).where(ActionKPI.action_id == action.id)).all() == []
    event = _events(session)[-1]
    assert event.op == "delete" and {"kind": "actions", "id": action.id} in event.before["unlinked"]


def test_deleting_an_agency_clears_it_as_lead(session: Session) -> None:
    plan = f.make_plan(session)
    agency = f.make(
        session, plan, "agencies", name_th="มูลนิธิทดสอบ", type_id=f.agency(session, "krabi").type_id
    )
    kpi = f.make_kpi(session, plan, lead_agency_id=agency.id, co_owner_ids=[agency.id])
    plans.delete_element(
        session,
        actor=Actor.process("x"),
        plan=plan,
        kind="agencies",
        element_id=agency.id,
        force=True,
    )
    assert session.get(KPI, kpi.id).lead_agency_id is None
    assert plans.element_links(session, plans.get_spec("kpis"), kpi.id)["co_owner_ids"] == []


def test_moving_swaps_neighbours_and_stops_at_the_ends(session: Session) -> None:
    plan = f.make_plan(session)
    a, b, c = (f.make_kra(session, plan, f"KRA{n}") for n in (1, 2, 3))
    plans.move_element(
        session, actor=Actor.process("x"), plan=plan, kind="kras", element_id=c.id, direction="up"
    )
    order = session.exec(
        select(KeyResultArea.code)
        .where(KeyResultArea.plan_id == plan.id)
        .order_by(KeyResultArea.position)
    ).all()
    assert order == ["KRA1", "KRA3", "KRA2"]
    plans.move_element(
        session, actor=Actor.process("x"), plan=plan, kind="kras", element_id=a.id, direction="up"
    )
    assert (
        session.exec(
            select(KeyResultArea.code)
            .where(KeyResultArea.plan_id == plan.id)
            .order_by(KeyResultArea.position)
        ).all()
        == order
    )
    assert b.id  # unchanged neighbour


def test_plan_span_and_vision_are_validated(session: Session) -> None:
    plan = f.make_plan(session)
    with pytest.raises(ValidationFailed) as caught:
        plans.update_plan(
            session,
            actor=Actor.process("x"),
            plan=plan,
            plan_in={"span_start_be": 2570, "span_end_be": 2566},
        )
    assert set(caught.value.errors) == {"span_end_be"}
    plans.update_plan(
        session, actor=Actor.process("x"), plan=plan, plan_in={"vision": "  เด็กภูเก็ตเก่ง ดี มีสุข  "}
    )
    stored = session.get(Plan, plan.id)
    assert stored.vision == "เด็กภูเก็ตเก่ง ดี มีสุข" and stored.title == plan.title


def test_every_write_publishes_after_commit(session: Session) -> None:
    received: list[tuple[str, dict]] = []
    unsubscribe = live.broker.subscribe(lambda channel, event: received.append((channel, event)))
    try:
        plan = f.make_plan(session)
        kra = f.make_kra(session, plan)
    finally:
        unsubscribe()
    assert [e["entity"] for _, e in received] == ["plan", "kra"]
    assert received[-1] == (
        live.area_channel(plan.area_id),
        {"type": "plan.changed", "plan_id": plan.id, "entity": "kra", "id": kra.id, "op": "create"},
    )


WRITES = {
    "create_plan",
    "update_plan",
    "create_element",
    "update_element",
    "delete_element",
    "move_element",
    "restore",
}


def test_every_service_write_records_exactly_one_audit_event(session: Session) -> None:
    public = {
        name
        for name, fn in inspect.getmembers(plans, inspect.isfunction)
        if fn.__module__ == plans.__name__ and not name.startswith("_")
    }
    readers = {
        "get_spec",
        "get_element",
        "element_links",
        "element_values",
        "dependents",
        "suggest_code",
        "restorable",
    }
    assert public - readers == WRITES, "a new write function must be added to this walk"

    def writes_one(call) -> None:  # noqa: ANN001
        before = len(_events(session))
        call()
        assert len(_events(session)) == before + 1

    area = f.area(session)
    holder: dict = {}
    writes_one(
        lambda: holder.setdefault(
            "plan",
            plans.create_plan(
                session,
                actor=Actor.process("x"),
                area=area,
                plan_in={"title": "t", "span_start_be": 2566, "span_end_be": 2570},
            ),
        )
    )
    plan = holder["plan"]
    writes_one(
        lambda: plans.update_plan(
            session, actor=Actor.process("x"), plan=plan, plan_in={"title": "u"}
        )
    )
    writes_one(
        lambda: plans.update_plan(
            session, actor=Actor.process("x"), plan=plan, plan_in={"vision": "v"}
        )
    )
    for kind in plans.SPECS:
        values = _minimal(session, kind)
        writes_one(
            lambda k=kind, v=values: holder.__setitem__(
                k,
                plans.create_element(
                    session, actor=Actor.process("x"), plan=plan, kind=k, element_in=v
                ),
            )
        )
        if "code" in values:
            values = {**values, "code": values["code"] + "b"}
        writes_one(
            lambda k=kind, v=values: plans.create_element(
                session, actor=Actor.process("x"), plan=plan, kind=k, element_in=v
            )
        )
        writes_one(
            lambda k=kind: plans.update_element(
                session,
                actor=Actor.process("x"),
                plan=plan,
                kind=k,
                element_id=holder[k].id,
                element_in={},
                partial=True,
            )
        )
        writes_one(
            lambda k=kind: plans.move_element(
                session,
                actor=Actor.process("x"),
                plan=plan,
                kind=k,
                element_id=holder[k].id,
                direction="down",
            )
        )
    for kind in plans.SPECS:
        writes_one(
            lambda k=kind: plans.delete_element(
                session,
                actor=Actor.process("x"),
                plan=plan,
                kind=k,
                element_id=holder[k].id,
                force=True,
            )
        )
    deletions = [e for e in _events(session) if e.op == "delete"]
    for event in deletions:  # bring each one back: one audited restore each
        writes_one(
            lambda e=event: plans.restore(
                session, actor=Actor.process("x"), plan=plan, event_id=e.id
            )
        )
    vision_change = next(e for e in _events(session) if e.after and e.after.get("vision") == "v")
    writes_one(
        lambda: plans.restore(
            session, actor=Actor.process("x"), plan=plan, event_id=vision_change.id
        )
    )
    events = _events(session)
    assert all(e.before or e.after for e in events)
    assert [e.op for e in events[-len(deletions) - 1 :]] == ["restore"] * (len(deletions) + 1)


def _minimal(session: Session, kind: str) -> dict:
    return {
        "doe": {"text": "ผลลัพธ์"},
        "kras": {"code": "KRA1", "title": "ผลลัพธ์หลัก"},
        "kpis": {"code": "KPI1", "name": "ตัวชี้วัด", "kind": "count", "period_type": "fiscal_year"},
        "actions": {"code": "ACT1", "title": "กิจกรรม"},
        "agencies": {"name_th": "หน่วยงาน", "type_id": f.agency(session, "krabi").type_id},
    }[kind]
