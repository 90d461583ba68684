"""Two saves carrying one version, fired at the same moment at a live server: exactly one wins.

The server is uvicorn on a loopback port in this process, serving the app on the test database
(the SQLite file or PostgreSQL), so the two requests run on two threads with two connections,
as two browsers would. The loser gets 409 with the record as the winner left it, and the audit
trail holds one event per accepted version.
"""

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import get_session, sessions_on
from app.main import create_app
from app.models import KPI, AuditEvent, DataItem, DataValue, Measurement
from app.services import accounts, plans, shared_data
from app.web import auth
from tests import factories
from tests.serving import serving

TRIALS = 12


@pytest.fixture(scope="module")
def live(engine: Engine) -> Iterator[str]:
    application = create_app()

    application.dependency_overrides[get_session] = sessions_on(engine)
    with serving(application) as url:
        yield url


def _send(method: str, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"html": raw.decode()}


def _race(*calls: Callable[[], tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Run the calls on their own threads, released at the same instant."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, dict]] = [(0, {})] * len(calls)

    def run(i: int, call: Callable[[], tuple[int, dict]]) -> None:
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def editor_token(session: Session) -> str:
    user = factories.make_user(session, "editor", "krabi")
    _, token = accounts.create_token(
        session, actor=factories.ACTOR, user=user, token_in={"name": "race"}
    )
    return token


def _api(live: str, token: str) -> Callable[[str, str, dict], Callable[[], tuple[int, dict]]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: dict) -> Callable[[], tuple[int, dict]]:
        return lambda: _send(method, live + path, json.dumps(body).encode(), headers)

    return call


def _versions_recorded(session: Session, entity_type: str, entity_id: int) -> list[int]:
    session.expire_all()
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id
        )
    ).all()
    return [e.after["version"] for e in events if e.after and "version" in e.after]


def test_two_api_patches_of_one_kpi_version_never_both_win(
    live: str, session: Session, editor_token: str
) -> None:
    plan = factories.make_plan(session)
    kpi = factories.make_kpi(session, plan)
    api = _api(live, editor_token)
    path = f"/api/v1/areas/krabi/plan/kpis/{kpi.id}"
    for trial in range(TRIALS):
        session.expire_all()
        version = session.get(KPI, kpi.id).version
        results = _race(
            api("PATCH", path, {"name": f"ของสมชาย {trial}", "version": version}),
            api("PATCH", path, {"name": f"ของสมหญิง {trial}", "version": version}),
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], (trial, results)
        winner = next(body for status, body in results if status == 200)
        loser = next(body for status, body in results if status == 409)
        assert loser["current"]["name"] == winner["name"]  # the loser sees what won
        session.expire_all()
        stored = session.get(KPI, kpi.id)
        assert (stored.name, stored.version) == (winner["name"], version + 1)
    recorded = _versions_recorded(session, "kpi", kpi.id)
    assert sorted(recorded) == list(range(1, TRIALS + 2))  # one event per accepted version


def test_two_measurement_saves_of_one_version_never_both_win(
    live: str, session: Session, editor_token: str
) -> None:
    plan = factories.make_plan(session)
    kpi = factories.make_kpi(session, plan)
    api = _api(live, editor_token)
    path = f"/api/v1/kpis/{kpi.id}/measurements/AY2566"
    for trial in range(TRIALS):
        session.expire_all()
        row = session.exec(select(Measurement).where(Measurement.kpi_id == kpi.id)).first()
        version = row.version if row else 0  # 0: "it was empty when I looked"
        results = _race(
            api("PUT", path, {"value": 40 + trial, "version": version}),
            api("PUT", path, {"value": 60 + trial, "version": version}),
        )
        assert sorted(status for status, _ in results) == [200, 409], (trial, results)
        winner = next(body for status, body in results if status == 200)
        session.expire_all()
        stored = session.exec(select(Measurement).where(Measurement.kpi_id == kpi.id)).one()
        assert stored.value == winner["value"]
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "measurement")).all()
    assert len(events) == TRIALS  # one accepted save per trial, the first one a create


def test_two_editor_forms_of_one_kpi_version_never_both_win(live: str, session: Session) -> None:
    plan = factories.make_plan(session)
    kpi = factories.make_kpi(session, plan)
    editor = factories.make_user(session, "editor", "krabi")
    cookie_token = accounts.start_session(session, user=editor)
    seed = "race-seed"
    headers = {
        "Cookie": f"{auth.SESSION_COOKIE}={auth.sign(cookie_token)}; {auth.CSRF_COOKIE}={seed}",
        auth.CSRF_HEADER: auth._mac("csrf", seed),
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    spec = plans.get_spec("kpis")
    url = f"{live}/areas/krabi/plan/kpis/{kpi.id}"
    for trial in range(TRIALS // 2):
        session.expire_all()
        row = session.get(KPI, kpi.id)
        version = row.version
        values = plans.element_values(session, spec, row)

        def form(name: str, values: dict = values, version: int = version) -> bytes:
            fields = [(k, v) for k, v in values.items() if not isinstance(v, list)]
            fields += [(k, i) for k, v in values.items() if isinstance(v, list) for i in v]
            fields = [(k, "" if v is None else v) for k, v in fields if k != "name"]
            return urlencode([*fields, ("name", name), ("version", version)]).encode()

        mine, theirs = form(f"แบบฟอร์ม ก {trial}"), form(f"แบบฟอร์ม ข {trial}")
        results = _race(
            lambda a=mine: _send("PUT", url, a, headers),
            lambda b=theirs: _send("PUT", url, b, headers),
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], (trial, statuses)
        loser_page = next(body["html"] for status, body in results if status == 409)
        session.expire_all()
        stored = session.get(KPI, kpi.id)
        assert stored.name in loser_page  # the conflict view shows theirs beside mine
        assert stored.version == version + 1
    recorded = _versions_recorded(session, "kpi", kpi.id)
    assert len(recorded) == len(set(recorded))


def test_two_custodians_saving_a_ratios_numerator_and_denominator_at_once_leave_it_consistent(
    live: str, session: Session, editor_token: str
) -> None:
    """Each save computes the KPI again; whichever commits last must have read the other's
    values, so the KPI always equals its numerator over its denominator as stored."""
    plan = factories.make_plan(session)
    kpi = factories.make_kpi(session, plan)
    area = factories.area(session)
    items = [
        DataItem(area_id=area.id, name=name, period_type="academic_year")
        for name in ("นักเรียนที่อ่านคล่อง", "นักเรียนที่เข้าสอบ")
    ]
    session.add_all(items)
    session.commit()
    computation = shared_data.check_computation(
        session,
        area,
        kpi,
        {"method": "ratio", "numerator": items[0].id, "denominator": items[1].id, "scale": 100},
    )
    shared_data.set_computation(
        session, actor=factories.ACTOR, area=area, plan=plan, kpi=kpi, computation=computation
    )
    session.commit()
    api = _api(live, editor_token)
    for trial in range(TRIALS):
        num, den = 30 + trial, 60 + 2 * trial + (trial % 3)
        results = _race(
            api("PUT", f"/api/v1/data-items/{items[0].id}/values", _cell(num)),
            api("PUT", f"/api/v1/data-items/{items[1].id}/values", _cell(den)),
        )
        assert [status for status, _ in results] == [200, 200], (trial, results)
        session.expire_all()
        stored = session.exec(select(Measurement).where(Measurement.kpi_id == kpi.id)).one()
        assert stored.value == pytest.approx(num / den * 100), trial


def _cell(value: float) -> dict:
    return {"values": [{"period": "AY2566", "value": value}]}


def test_two_saves_of_one_new_value_at_once_store_one_of_them(
    live: str, session: Session, editor_token: str
) -> None:
    """Values carry no version: the later save wins, or the loser of two inserts of one cell
    is told someone saved it meanwhile (409); never a server error, never two rows."""
    area = factories.area(session)
    item = DataItem(area_id=area.id, name="จำนวนครูที่ผ่านการอบรม", period_type="academic_year")
    session.add(item)
    session.commit()
    api = _api(live, editor_token)
    path = f"/api/v1/data-items/{item.id}/values"
    for trial in range(TRIALS):
        period = f"AY{2555 + trial}"
        results = _race(
            api("PUT", path, {"values": [{"period": period, "value": 10 + trial}]}),
            api("PUT", path, {"values": [{"period": period, "value": 50 + trial}]}),
        )
        assert {status for status, _ in results} <= {200, 409}, (trial, results)
        assert 200 in [status for status, _ in results], (trial, results)
        session.expire_all()
        stored = session.exec(
            select(DataValue.value).where(
                DataValue.data_item_id == item.id, DataValue.period == period
            )
        ).all()
        assert len(stored) == 1 and stored[0] in (10 + trial, 50 + trial), (trial, stored)
