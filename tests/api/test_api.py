from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import KPI, AuditEvent
from app.services import seeding
from tests import factories as f


def test_list_areas_in_thai_order_with_plan_status(client: TestClient, session: Session) -> None:
    seeding.seed_demo(session)
    areas = client.get("/api/v1/areas").json()
    assert len(areas) == 20
    assert areas[0]["name_th"] == "กระบี่" and areas[0]["iso_code"] == "TH-81"
    phuket = next(a for a in areas if a["slug"] == "phuket")
    assert phuket["plan"]["is_demo"] is True and phuket["plan"]["completeness"] == 1.0
    assert next(a for a in areas if a["slug"] == "trat")["plan"] is None


def test_read_a_whole_plan_as_one_document(client: TestClient, session: Session) -> None:
    f.make_full_plan(session, kras=2)
    doc = client.get("/api/v1/areas/krabi/plan").json()
    assert doc["area"]["slug"] == "krabi" and doc["vision"] == "ผู้เรียนเก่ง ดี มีสุข"
    assert [k["code"] for k in doc["kras"]] == ["KRA1", "KRA2"]
    kpi = doc["kpis"][0]
    assert kpi["kra_ids"] == [doc["kras"][0]["id"]]
    assert kpi["action_ids"] == [doc["actions"][0]["id"]]
    assert doc["doe"][0]["items"] == ["LP1"] and doc["kras"][0]["theme"] == "learner_quality"
    assert doc["checks"] == [] and doc["completeness"]["ratio"] == 1.0


def test_create_update_delete_an_element(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    created = client.post(
        "/api/v1/areas/krabi/plan/kpis",
        json={
            "code": "KPI9",
            "name": "อัตราการออกกลางคัน",
            "kind": "rate",
            "direction": "lower",
            "period_type": "academic_year",
            "baseline_value": 3.1,
            "baseline_period": "AY2565",
            "target_value": "1.5",
            "target_period": "AY2570",
            "kra_ids": [kra.id],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["direction"] == "lower" and body["kra_ids"] == [kra.id] and body["version"] == 1
    patched = client.patch(
        f"/api/v1/areas/krabi/plan/kpis/{body['id']}", json={"target_value": 1.2, "version": 1}
    )
    assert patched.status_code == 200 and patched.json()["target_value"] == 1.2
    assert patched.json()["kra_ids"] == [kra.id]  # untouched by a partial update
    stale = client.patch(
        f"/api/v1/areas/krabi/plan/kpis/{body['id']}", json={"target_value": 1.0, "version": 1}
    )
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 2
    linked = client.delete(f"/api/v1/areas/krabi/plan/kpis/{body['id']}")
    assert linked.status_code == 409
    assert linked.json()["current"]["unlinks"][0]["label"] == "KRA1"
    gone = client.delete(f"/api/v1/areas/krabi/plan/kpis/{body['id']}?force=true")
    assert gone.status_code == 204
    assert client.get(f"/api/v1/areas/krabi/plan/kpis/{body['id']}").status_code == 404
    ops = session.exec(
        select(AuditEvent.op).where(AuditEvent.entity_type == "kpi").order_by(AuditEvent.id)
    ).all()
    assert ops == ["create", "update", "delete"]


def test_invalid_json_gets_field_errors_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)
    response = client.post(
        "/api/v1/areas/krabi/plan/kpis",
        json={
            "code": "K1",
            "name": "x" * 600,
            "kind": "score",
            "period_type": "academic_year",
            "target_value": "N/A",
        },
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "kind", "target_value"}
    assert errors["kind"] == "โปรดเลือกจากตัวเลือกที่มี"
    assert session.exec(select(func.count()).select_from(KPI)).one() == 0
    assert (
        client.post(
            "/api/v1/areas/krabi/plan/kpis",
            content=b"{not json",
            headers={"content-type": "application/json"},
        ).status_code
        == 422
    )


def test_unknown_things_are_json_404s(client: TestClient, session: Session) -> None:
    missing = client.get("/api/v1/areas/atlantis/plan")
    assert missing.status_code == 404 and missing.json() == {"detail": "ไม่พบหน้าที่ต้องการ"}
    assert client.get("/api/v1/areas/trat/plan").status_code == 404  # no plan yet
    phuket = f.make_plan(session, "phuket")
    f.make_plan(session, "krabi")
    kpi = f.make_kpi(session, phuket)
    assert client.get(f"/api/v1/areas/krabi/plan/kpis/{kpi.id}").status_code == 404
    assert (
        client.patch(f"/api/v1/areas/krabi/plan/kpis/{kpi.id}", json={"name": "x"}).status_code
        == 404
    )


def test_openapi_documents_the_element_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/areas/{slug}/plan/kpis/{element_id}" in spec["paths"]
    body = spec["paths"]["/api/v1/areas/{slug}/plan/kpis"]["post"]["requestBody"]
    assert "baseline_value" in str(body)
    assert client.get("/docs").status_code == 200


def test_openapi_and_docs_list_only_the_json_api(client: TestClient) -> None:
    """The HTML pages and their fragments (over a hundred routes) stay out of the API's document."""
    spec = client.get("/openapi.json").json()
    paths = list(spec["paths"])
    assert len(paths) > 10
    assert [p for p in paths if not p.startswith("/api/v1/")] == []
    editor = client.get("/areas/krabi/plan")  # an HTML page the app serves, not in the document
    assert editor.status_code == 200 and editor.headers["content-type"].startswith("text/html")
    docs = client.get("/docs").text
    assert 'data-openapi-url="/openapi.json"' in docs  # /docs shows this same document
