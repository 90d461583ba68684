"""The input boundary's rules, as a user or a client meets them (app.inputs, app.api.body)."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import KPI, Action, Contribution
from app.services import plans
from tests import factories as f


def test_a_stale_patch_of_an_action_is_a_409_with_its_dates(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    action = f.make_action(session, plan, start_on="2024-06-01", end_on="2025-03-31")
    url = f"/api/v1/areas/krabi/plan/actions/{action.id}"
    assert client.patch(url, json={"title": "อบรมครู", "version": 1}).status_code == 200
    stale = client.patch(url, json={"title": "อบรมครูรุ่นสอง", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["current"]["start_on"] == "2024-06-01"
    assert stale.json()["current"]["title"] == "อบรมครู"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/kpis/abc/measurements", 404),
        ("/api/v1/kpis/9223372036854775808/measurements", 404),
        ("/api/v1/kpis/0/measurements", 404),
        ("/api/v1/kpis/2147483648/measurements", 404),
        ("/api/v1/kpis/²/measurements", 404),
        ("/areas/krabi/plan/kpis/99999999999999999999/edit", 404),
    ],
)
def test_ids_outside_1_to_2_31_name_nothing(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status


@pytest.mark.parametrize("version", ["²", "9" * 5000, "-1", "1.5"])
def test_a_malformed_version_in_the_editor_changes_nothing(
    client: TestClient, session: Session, version: str
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    values = plans.element_values(session, plans.get_spec("kpis"), kpi)
    form = {k: ("" if v is None else v) for k, v in values.items() if not isinstance(v, list)}
    response = client.put(
        f"/areas/krabi/plan/kpis/{kpi.id}",
        data={**form, "name": "ชื่อใหม่", "version": version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code < 500
    session.expire_all()
    stored = session.get(KPI, kpi.id)
    # an unreadable version is no version: the save is taken as "mine", never a crash
    assert stored.name in ("ชื่อใหม่", kpi.name)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_measured", "1" * 25, "Must be at most"),
        ("value", [1, 2], "not a list or an object"),
        ("note", {"a": 1}, "not a list or an object"),
        ("units", [1], "Send the units as an object"),
        ("version", "²", "Send the version you read"),
    ],
)
def test_json_of_the_wrong_type_is_a_422_naming_the_field(
    client: TestClient, session: Session, field: str, value: object, message: str
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    client.cookies["phonlap_lang"] = "en"
    response = client.put(
        f"/api/v1/kpis/{kpi.id}/measurements/AY2566",
        json={"value": 50, field: value},
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(key.startswith(field) for key in errors), errors
    assert message in " ".join(errors.values())


def test_a_budget_of_25_digits_is_refused_beside_the_field(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    client.cookies["phonlap_lang"] = "en"
    response = client.post(
        "/api/v1/areas/krabi/plan/actions",
        json={"code": "ACT7", "name": "ห้องเรียนคุณภาพ", "budget_thb": 10**25},
    )
    assert response.status_code == 422
    assert "budget_thb" in response.json()["errors"]
    assert session.exec(select(Action).where(Action.plan_id == plan.id)).all() == []


def test_control_characters_never_reach_the_database(client: TestClient, session: Session) -> None:
    """NUL and other C0 characters are removed where text comes in (forms and JSON alike);
    tab and line breaks stay."""
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    api = client.patch(
        f"/api/v1/areas/krabi/plan/kpis/{kpi.id}",
        json={"name": "อ่าน\x00ออก\x07เขียนได้", "definition": "บรรทัดหนึ่ง\nบรรทัดสอง\tแท็บ"},
    )
    assert api.status_code == 200, api.text
    session.expire_all()
    stored = session.get(KPI, kpi.id)
    assert stored.name == "อ่านออกเขียนได้"
    assert stored.definition == "บรรทัดหนึ่ง\nบรรทัดสอง\tแท็บ"


def test_a_guest_contribution_with_a_nul_is_stored_without_it(
    anonymous: TestClient, session: Session
) -> None:
    workshop = f.make_workshop(session, "krabi")
    anonymous.get("/login")
    from app.web import auth

    anonymous.headers[auth.CSRF_HEADER] = auth._mac("csrf", anonymous.cookies[auth.CSRF_COOKIE])
    joined = anonymous.post(
        f"/join/{workshop.join_code}", data={"display_name": "ครู\x00แดง"}, follow_redirects=True
    )
    assert joined.status_code == 200, joined.text[:500]
    posted = anonymous.post(
        f"/join/{workshop.join_code}/contributions",
        data={"kind": "problem", "text": "เด็ก\x00อ่านไม่ออก\x1b"},
    )
    assert posted.status_code in (200, 201, 303), posted.text[:500]
    texts = session.exec(select(Contribution.text)).all()
    assert texts == ["เด็กอ่านไม่ออก"]


def test_the_error_page_shows_the_person_after_a_failed_write(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch, admin: object
) -> None:
    """A write that fails inside its transaction rolls back, which expires the signed-in
    person's row; the error page must still render, with their name in the header."""
    plan = f.make_plan(session)
    f.make_kpi(session, plan)

    def broken(session: Session, **_: object) -> None:
        session.rollback()
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(plans, "update_plan", broken)
    response = client.put("/areas/krabi/plan/vision", data={"vision": "ใหม่", "version": "1"})
    assert response.status_code == 500
    assert admin.display_name in response.text
    assert "Traceback" not in response.text and "the disk is full" not in response.text


@pytest.mark.parametrize("path", ["/areas/%00/plan", "/api/v1/areas/krabi%01/plan"])
def test_a_control_character_in_a_path_names_nothing(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_control_characters_are_removed_from_query_values(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)
    response = client.get("/areas/krabi/history?person=%00&type=kpi%00")
    assert response.status_code in (200, 422)


@pytest.mark.parametrize(
    "header",
    [
        'phonlap_lang="en',
        "=;;=;phonlap_lang",
        "phonlap_lang=en; phonlap_lang=th;\x7f=1",
        "a" * 8000,
    ],
)
def test_a_garbled_cookie_header_gets_the_page_not_an_error(app_client, header: str) -> None:  # noqa: ANN001
    """The middleware reads the cookies as the routes do, once per request: whatever a client
    sends in its Cookie header, the page comes (in a language it can name, else Thai)."""
    with app_client() as fresh:
        page = fresh.get("/", headers={"Cookie": header})
        assert fresh.cookies.get("phonlap_csrf")  # its forms get a token
    assert page.status_code == 200
    assert "Traceback" not in page.text
    assert 'lang="th"' in page.text or 'lang="en"' in page.text
