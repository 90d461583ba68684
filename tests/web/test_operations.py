"""What an operator sees: /healthz with the schema revision, /metrics for Prometheus."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import migrate
from tests import factories as f
from tests.conftest import sign_in


def test_healthz_reports_the_schema_revision(anonymous: TestClient) -> None:
    body = anonymous.get("/healthz").json()
    assert body["status"] == "ok" and body["revision"] == body["head"] == migrate.head()


def test_metrics_count_requests_by_route_template_for_administrators(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session)
    assert client.get("/areas/krabi").status_code == 200
    client.get("/no/such/page")
    page = client.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    text = page.text
    assert 'phonlap_requests_total{method="GET",route="/areas/{slug}",status="200",' in text
    assert 'route="unmatched",status="404"' in text and "/no/such/page" not in text
    assert 'phonlap_request_duration_seconds_bucket{route="/areas/{slug}",' in text
    assert "# TYPE phonlap_request_duration_seconds histogram" in text
    for family in ("phonlap_event_streams_open", "phonlap_db_pool_checked_out", "phonlap_info"):
        assert f"\n{family}{{" in text, family


def test_metrics_are_hidden_from_everyone_else_except_loopback(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "phuket"))
    assert viewer.get("/metrics").status_code == 403
    anonymous = app_client().get("/metrics", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    app = app_client().app
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get("/metrics").status_code == 200  # a scraper on the server itself
        forwarded = local.get(
            "/metrics", headers={"X-Forwarded-For": "203.0.113.5"}, follow_redirects=False
        )
        assert forwarded.status_code == 303  # ...but not a visitor a local proxy forwarded
