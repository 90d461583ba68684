"""The area's live stream: a committed change arrives as a named server-sent event, only on
its own area's stream; a viewer of another area cannot open it."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import live
from app.web import events
from tests import factories as f
from tests.conftest import sign_in


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict]]:
    name, data = "message", ""
    for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data += line.split(":", 1)[1].strip()
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "message", ""


def test_a_plan_change_arrives_on_its_area_stream_and_not_on_another(
    client: TestClient, session: Session
) -> None:
    krabi = f.make_plan(session, "krabi")
    phuket = f.make_plan(session, "phuket")
    with client.stream("GET", "/areas/krabi/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _events(stream.iter_lines())
        assert next(events) == ("ready", {})
        # Phuket's change comes first; Krabi's stream must skip it and show Krabi's own.
        f.make_kra(session, phuket, "KRA9", title="ภูเก็ต")
        kra = f.make_kra(session, krabi, "KRA1", title="ครูเปลี่ยน เด็กเปลี่ยน")
        name, event = next(events)
    assert name == "plan"
    assert event == {
        "type": "plan.changed",
        "plan_id": krabi.id,
        "entity": "kra",
        "id": kra.id,
        "op": "create",
    }
    assert live.hub.count() == 0  # the closed stream left the hub


def test_a_progress_value_arrives_as_a_progress_event(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    with client.stream("GET", "/areas/krabi/events") as stream:
        events = _events(stream.iter_lines())
        next(events)
        saved = client.post(f"/areas/krabi/progress/kpis/{kpi.id}/AY2567", data={"value": "70"})
        assert saved.status_code in (200, 303)
        name, event = next(events)
    assert name == "progress" and event["entity"] == "measurement"


def test_only_readers_of_the_area_may_open_its_stream(
    app_client,
    session: Session,  # noqa: ANN001
) -> None:
    f.make_plan(session, "krabi")
    f.make_plan(session, "phuket")
    viewer = f.make_user(session, "viewer", area_slug="phuket")
    other = sign_in(app_client(), session, viewer)
    assert other.get("/areas/krabi/events").status_code in (403, 404)
    assert app_client().get("/areas/krabi/events", follow_redirects=False).status_code in (303, 401)


def test_a_stream_ends_when_its_lifetime_is_over_so_the_browser_checks_access_again(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.make_plan(session, "krabi")
    monkeypatch.setattr(events, "LIFETIME", 0.2)
    with client.stream("GET", "/areas/krabi/events") as stream:
        lines = list(stream.iter_lines())  # returns only because the server ended the stream
    assert "event: ready" in lines and "end" not in "".join(lines)
    assert live.hub.count() == 0
