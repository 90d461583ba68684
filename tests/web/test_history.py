"""The audit trail on screen, and restoring from it."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import KPI, AuditEvent, KeyResultArea
from app.services import plans
from tests import factories as f


def test_element_history_shows_who_changed_what_and_restores_an_earlier_value(
    client: TestClient, session: Session, admin
) -> None:  # noqa: ANN001
    plan = f.make_plan(session, "phuket")
    kpi = f.make_kpi(session, plan)
    client.put(
        f"/areas/phuket/plan/kpis/{kpi.id}",
        data={
            "version": "1",
            "code": "KPI1",
            "name": "อัตราการอ่านคล่อง",
            "kind": "percentage",
            "period_type": "academic_year",
            "target_value": "80",
            "target_period": "AY2570",
        },
        headers={"HX-Request": "true"},
    )
    page = client.get(f"/areas/phuket/history/kpi/{kpi.id}")
    assert page.status_code == 200
    assert admin.email in page.text and f.ACTOR.label in page.text
    assert "อัตราการอ่านคล่อง" in page.text and "2569" in page.text  # B.E. date of today
    created = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "kpi",
            AuditEvent.entity_id == kpi.id,
            AuditEvent.op == "create",
        )
    ).one()
    restored = client.post(
        f"/areas/phuket/history/{created.id}/restore",
        data={"reason": "ย้อนกลับตามมติที่ประชุม"},
        follow_redirects=False,
    )
    assert restored.status_code == 303
    session.expire_all()
    stored = session.get(KPI, kpi.id)
    assert stored.name == "ร้อยละนักเรียน ป.1 อ่านออก (KPI1)" and stored.target_value == 75.0
    last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (last.op, last.reason, last.actor_id) == ("restore", "ย้อนกลับตามมติที่ประชุม", admin.id)
    assert last.before["target_value"] == 80.0 and last.after["target_value"] == 75.0


def test_a_deleted_kra_comes_back_with_its_links(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session, "phuket")
    kra = f.make_kra(session, plan)
    kpi = f.make_kpi(session, plan, kra_ids=[kra.id])
    action = f.make_action(session, plan, kra_ids=[kra.id], kpi_ids=[kpi.id])
    plans.delete_element(
        session, actor=f.ACTOR, plan=plan, kind="kras", element_id=kra.id, force=True
    )
    assert plans.element_links(session, plans.get_spec("kpis"), kpi.id)["kra_ids"] == []
    deletion = session.exec(select(AuditEvent).where(AuditEvent.op == "delete")).one()
    area_page = client.get("/areas/phuket/history?type=kra").text
    assert "ลบ" in area_page and "KRA1" in area_page
    assert (
        client.post(
            f"/areas/phuket/history/{deletion.id}/restore", follow_redirects=False
        ).status_code
        == 303
    )
    session.expire_all()
    assert session.get(KeyResultArea, kra.id).code == "KRA1"
    assert plans.element_links(session, plans.get_spec("kpis"), kpi.id)["kra_ids"] == [kra.id]
    assert plans.element_links(session, plans.get_spec("actions"), action.id)["kra_ids"] == [kra.id]
    again = client.post(f"/areas/phuket/history/{deletion.id}/restore")
    assert again.status_code == 409 and "กู้คืน" in again.text


def test_area_history_filters_by_person_type_and_date(
    client: TestClient, session: Session, admin
) -> None:  # noqa: ANN001
    plan = f.make_plan(session, "phuket")
    plans.update_plan(
        session, actor=admin_actor(admin), plan=plan, plan_in={"vision": "ภูเก็ตเมืองแห่งการเรียนรู้"}
    )
    f.make_kra(session, plan)
    everyone = client.get("/areas/phuket/history").text
    assert everyone.count('class="history-entry') == 3
    mine = client.get(f"/areas/phuket/history?person={admin.id}").text
    assert mine.count('class="history-entry') == 1 and "ภูเก็ตเมืองแห่งการเรียนรู้" in mine
    kras = client.get("/areas/phuket/history?type=kra").text
    assert kras.count('class="history-entry') == 1
    future = client.get("/areas/phuket/history?since=2999-01-01").text
    assert 'class="history-entry' not in future
    krabi = client.get("/areas/krabi/history").text  # another area's trail is its own
    assert 'class="history-entry' not in krabi


def admin_actor(user):  # noqa: ANN001, ANN201
    from app.services.audit import Actor

    return Actor(user.id, user.email)
