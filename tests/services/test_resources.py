"""The resources service: writes with their checks, the read models, and contributions that
become resources."""

import pytest
from sqlmodel import Session, select

from app.models import KPI, Action, AuditEvent, Contribution, DataItem, Resource
from app.services import plans, resources, workshops
from app.services.errors import Conflict, NotFound, ValidationFailed
from tests import factories as f


def test_a_resource_names_only_its_area_agencies_and_current_actions(session: Session) -> None:
    krabi = f.area(session, "krabi")
    plan = f.make_full_plan(session, "krabi", kras=1)
    action = session.exec(select(Action).where(Action.plan_id == plan.id)).one()
    row = resources.create_resource(
        session,
        actor=f.ACTOR,
        area=krabi,
        resource_in={
            "dimension": "operations",
            "name": " งบ กสศ. ทุนเสมอภาค ",
            "owner_agency_id": f.agency(session, "krabi", "pao").id,
            "action_ids": [action.id],
        },
    )
    assert (row.name, row.position) == ("งบ กสศ. ทุนเสมอภาค", 0)
    inv = resources.inventory(session, krabi)
    entry = inv.entry(row.id)
    assert entry.owner.code == "pao" and entry.action_ids == [action.id]
    assert [a.id for a in inv.actions] == [action.id] and inv.total == 1
    phuket_agency = f.agency(session, "phuket", "pao").id
    with pytest.raises(ValidationFailed) as failed:
        resources.update_resource(
            session,
            actor=f.ACTOR,
            area=krabi,
            resource_id=row.id,
            resource_in={"dimension": "budget", "name": "ก", "owner_agency_id": phuket_agency},
        )
    assert set(failed.value.errors) == {"dimension"}  # the schema first, then the references
    with pytest.raises(ValidationFailed) as failed:
        resources.update_resource(
            session,
            actor=f.ACTOR,
            area=krabi,
            resource_id=row.id,
            resource_in={"dimension": "data", "name": "ก", "owner_agency_id": phuket_agency},
        )
    assert set(failed.value.errors) == {"owner_agency_id"}
    with pytest.raises(NotFound):
        resources.delete_resource(
            session, actor=f.ACTOR, area=f.area(session, "phuket"), resource_id=row.id
        )


def test_a_cited_data_item_is_deleted_only_with_force(session: Session) -> None:
    krabi = f.area(session, "krabi")
    plan = f.make_full_plan(session, "krabi", kras=1)
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id)).one()
    item = resources.create_data_item(
        session, actor=f.ACTOR, area=krabi, item_in={"name": "ข้อมูล iSEE ของ กสศ."}
    )
    assert (item.frequency, item.access) == ("yearly", "on_request")
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"data_item_ids": [item.id]},
        partial=True,
    )
    assert [k.id for k in resources.catalogue(session, krabi).entry(item.id).kpis] == [kpi.id]
    with pytest.raises(Conflict) as refused:
        resources.delete_data_item(session, actor=f.ACTOR, area=krabi, item_id=item.id)
    assert refused.value.current == {"kpis": [kpi.id]}
    resources.delete_data_item(session, actor=f.ACTOR, area=krabi, item_id=item.id, force=True)
    session.expire_all()
    assert session.get(DataItem, item.id) is None
    assert plans.element_values(session, plans.get_spec("kpis"), kpi)["data_item_ids"] == []


def test_a_replaced_plan_no_longer_counts_as_citing(session: Session) -> None:
    krabi = f.area(session, "krabi")
    old = f.make_plan(session)
    kpi = f.make_kpi(session, old)
    item = resources.create_data_item(
        session, actor=f.ACTOR, area=krabi, item_in={"name": "ผลการอ่าน RT"}
    )
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=old,
        kind="kpis",
        element_id=kpi.id,
        element_in={"data_item_ids": [item.id]},
        partial=True,
    )
    f.make_plan(session, span_start_be=2571, span_end_be=2575)  # the area's next plan
    assert resources.catalogue(session, krabi).entry(item.id).kpis == []


def test_a_long_resource_contribution_keeps_its_whole_text(session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    text = "เครือข่ายผู้ปกครอง " * 30  # 570 characters: longer than a name may be
    idea = f.make_contribution(
        session, workshop, guest, "resource", text=text[:500], dimension="policy_social"
    )
    workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=idea.id)
    made = session.get(Resource, idea.accepted_id)
    assert len(made.name) == resources.NAME_MAX and made.name.endswith("…")
    assert made.description == idea.text and made.contribution_id == idea.id
    types = session.exec(
        select(AuditEvent.entity_type).where(AuditEvent.op == "create").order_by(AuditEvent.id)
    ).all()
    assert types[-2:] == ["contribution", "resource"]  # posted, then accepted into the inventory


def test_accepting_a_resource_with_a_failing_write_changes_nothing(session: Session) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(session, workshop, guest, "resource", dimension="data")
    idea.dimension = "money"  # as if the vocabulary had changed since it was posted
    session.add(idea)
    session.commit()
    with pytest.raises(ValidationFailed):
        workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=idea.id)
    session.expire_all()
    assert session.get(Contribution, idea.id).state == "new"
    assert session.exec(select(Resource)).all() == []
