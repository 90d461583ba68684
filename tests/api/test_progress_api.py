"""The progress API: a KPI's values and targets per period and actions' check-ins, with the same
rules as the grid (Thai digits, refused text, locks, stale versions) and JSON errors."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import ActionUpdate, Measurement, ReviewRound
from app.services import progress
from tests import factories as f


def test_put_then_list_measurements_with_status_and_figures(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)  # baseline 62.5 (AY2565), target 75 (AY2570)
    url = f"/api/v1/kpis/{kpi.id}/measurements"
    saved = client.put(
        f"{url}/AY2567", json={"value": "๖๙.๕", "n_measured": 1830, "note": "สอบครบ"}
    )
    assert saved.status_code == 200
    body = saved.json()
    assert (body["value"], body["n_measured"], body["status"]) == (69.5, 1830, "on_track")
    assert body["label"] == "ปีการศึกษา 2567" and body["version"] == 1

    assert client.put(f"/api/v1/kpis/{kpi.id}/targets/AY2568", json={"value": 72}).json()[
        "target_set"
    ]
    listing = client.get(url).json()
    assert listing["kpi"]["code"] == "KPI1" and listing["kpi"]["baseline"]["value"] == 62.5
    periods = {p["period"]: p for p in listing["periods"]}
    assert list(periods) == ["AY2566", "AY2567", "AY2568", "AY2569", "AY2570"]
    assert periods["AY2567"]["note"] == "สอบครบ" and periods["AY2566"]["value"] is None
    assert periods["AY2568"]["target"] == 72 and periods["AY2570"]["status"] == "no_data"

    area = f.area(session)
    units = [
        progress.add_unit(session, actor=f.ACTOR, area=area, unit_in={"kind": "school", "name": n})
        for n in ("โรงเรียนบ้านคลองม่วง", "โรงเรียนเกาะลันตา")
    ]
    by_unit = {str(units[0].id): {"value": 0, "n_measured": 0}, str(units[1].id): {"value": 10}}
    rolled = client.put(f"{url}/AY2569", json={"units": by_unit}).json()
    assert rolled["value"] == 5  # the mean of 0 and 10: a unit's 0 is a value, not a blank
    assert sorted(u["value"] for u in rolled["units"]) == [0, 10]
    stale = client.put(f"{url}/AY2567", json={"value": 70, "version": 9})
    assert stale.status_code == 409
    assert client.delete(f"{url}/AY2567").status_code == 204
    assert session.exec(select(Measurement.period)).all() == ["AY2569"]


def test_bad_values_get_json_errors_and_change_nothing(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    url = f"/api/v1/kpis/{kpi.id}/measurements"
    text = client.put(f"{url}/AY2567", json={"value": "ดี"})
    assert text.status_code == 422 and "value" in text.json()["errors"]
    assert client.put(f"{url}/FY2567", json={"value": 70}).status_code == 422
    session.add(ReviewRound(area_id=plan.area_id, period="AY2567", state="approved"))
    session.commit()
    locked = client.put(f"{url}/AY2567", json={"value": 70})
    assert locked.status_code == 422 and "ล็อก" in locked.json()["errors"]["value"]
    assert client.get("/api/v1/kpis/999999/measurements").status_code == 404
    assert session.exec(select(Measurement)).all() == []


def test_check_ins_through_the_api(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    action = f.make_action(session, plan)
    url = f"/api/v1/actions/{action.id}/updates"
    created = client.post(
        url,
        json={
            "on_date": "2026-10-01",
            "status": "delayed",
            "percent_complete": 40,
            "what_changed": "อบรมครูแกนนำ 2 รุ่น จาก 5 รุ่น",
        },
    )
    assert created.status_code == 201 and created.json()["status"] == "delayed"
    refused = client.post(url, json={"on_date": "2026-10-01", "status": "done", "what_changed": ""})
    assert refused.status_code == 422 and "what_changed" in refused.json()["errors"]
    listed = client.get(url).json()
    assert [u["percent_complete"] for u in listed] == [40]
    assert len(session.exec(select(ActionUpdate)).all()) == 1
