"""Nobody changes another province's plan, and two people never silently overwrite each other."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import KPI, AuditEvent
from app.services import accounts
from tests import factories as f
from tests.conftest import sign_in

HX = {"HX-Request": "true"}


def _phuket_kpi(session: Session) -> KPI:
    plan = f.make_full_plan(session, "phuket", kras=1)
    return session.exec(select(KPI).where(KPI.plan_id == plan.id)).one()


def test_editor_of_krabi_cannot_change_a_phuket_kpi_by_page_fragment_or_api(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    kpi = _phuket_kpi(session)
    f.make_full_plan(session, "krabi", kras=1)
    krabi_editor = f.make_user(session, "editor", "krabi")
    browser = sign_in(app_client(), session, krabi_editor)
    _token, plain = accounts.create_token(
        session, actor=f.ACTOR, user=krabi_editor, token_in={"name": "script"}
    )
    events_before = len(session.exec(select(AuditEvent)).all())
    form = {"code": "KPI1", "name": "แก้โดยกระบี่", "kind": "count", "period_type": "fiscal_year"}
    url = f"/areas/phuket/plan/kpis/{kpi.id}"

    page = browser.put(url, data=form)  # a plain form post to the page route
    fragment = browser.put(url, data=form, headers=HX)  # the htmx fragment
    api = app_client().patch(
        f"/api/v1/areas/phuket/plan/kpis/{kpi.id}",
        json={"name": "แก้โดยกระบี่"},
        headers={"Authorization": f"Bearer {plain}"},
    )
    # ...and the Krabi URL with Phuket's KPI id: Krabi's own plan has no such KPI
    sideways = browser.put(f"/areas/krabi/plan/kpis/{kpi.id}", data=form, headers=HX)

    assert (page.status_code, fragment.status_code, api.status_code) == (403, 403, 403)
    assert "ไม่ได้รับอนุญาต" in page.text and "ไม่ได้รับอนุญาต" in fragment.text
    assert fragment.headers["HX-Retarget"] == "#flash"
    assert api.json()["detail"] == "คุณไม่ได้รับอนุญาตให้ทำรายการนี้"
    assert sideways.status_code == 404
    session.expire_all()
    stored = session.get(KPI, kpi.id)
    assert stored.name == "ร้อยละนักเรียน ป.1 อ่านออก (KPI1)" and stored.version == 1
    assert len(session.exec(select(AuditEvent)).all()) == events_before


def test_two_stale_saves_second_gets_409_and_both_values_survive_in_the_audit_trail(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    kpi = _phuket_kpi(session)
    somchai = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    malee = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    url = f"/areas/phuket/plan/kpis/{kpi.id}"
    # both open the edit form at version 1
    for person in (somchai, malee):
        assert 'name="version" value="1"' in person.get(url + "/edit", headers=HX).text

    def form(target: str, version: int) -> dict:
        return {
            "version": str(version),
            "code": "KPI1",
            "name": "ร้อยละนักเรียน ป.1 อ่านออก (KPI1)",
            "kind": "percentage",
            "period_type": "academic_year",
            "target_value": target,
            "target_period": "AY2570",
        }

    first = somchai.put(url, data=form("80", 1), headers=HX)
    second = malee.put(url, data=form("90", 1), headers=HX)
    assert first.status_code == 200
    assert second.status_code == 409
    # the form comes back with her value kept, theirs shown beside it, and the new version
    assert 'value="90"' in second.text and "ของอีกฝ่าย" in second.text and ">80<" in second.text
    assert 'name="version" value="2"' in second.text
    session.expire_all()
    assert session.get(KPI, kpi.id).target_value == 80.0

    again = malee.put(url, data=form("90", 2), headers=HX)  # she re-applies hers
    assert again.status_code == 200
    changes = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "kpi", AuditEvent.entity_id == kpi.id)
        .order_by(AuditEvent.id)
    ).all()
    targets = [(e.before["target_value"], e.after["target_value"]) for e in changes[1:]]
    assert targets == [(75.0, 80.0), (80.0, 90.0)]
    assert [e.actor_id for e in changes[1:]] == [
        somchai_id := changes[1].actor_id,
        changes[2].actor_id,
    ] and somchai_id != changes[2].actor_id


def test_api_stale_save_gets_409_with_the_current_version(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    kpi = _phuket_kpi(session)
    editor = f.make_user(session, "editor", "phuket")
    _token, plain = accounts.create_token(
        session, actor=f.ACTOR, user=editor, token_in={"name": "sync"}
    )
    api = app_client()
    api.headers["Authorization"] = f"Bearer {plain}"
    url = f"/api/v1/areas/phuket/plan/kpis/{kpi.id}"
    assert api.patch(url, json={"target_value": "80", "version": 1}).status_code == 200
    stale = api.patch(url, json={"target_value": "85", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2
    assert stale.json()["current"]["target_value"] == 80.0


def test_another_areas_id_in_a_form_field_is_refused_beside_the_field(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    kpi = _phuket_kpi(session)
    krabi_kra = f.make_kra(session, f.make_plan(session, "krabi"), "KRA9")
    editor = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    response = editor.put(
        f"/areas/phuket/plan/kpis/{kpi.id}",
        data={
            "version": "1",
            "code": "KPI1",
            "name": "ชื่อใหม่",
            "kind": "count",
            "period_type": "fiscal_year",
            "kra_ids": [str(krabi_kra.id)],
        },
        headers=HX,
    )
    assert response.status_code == 422
    assert "โปรดเลือกจากรายการ" in response.text and 'value="ชื่อใหม่"' in response.text
    session.expire_all()
    assert session.get(KPI, kpi.id).version == 1
