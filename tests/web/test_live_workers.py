"""Two real server processes on one PostgreSQL database, as `--workers 2` or two hosts would
be: an edit made through one reaches the event streams held by both, within a second. Needs
PostgreSQL (`.ci/postgres.sh`); skips on SQLite, which serves one worker only."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlmodel import Session

from app import ROOT
from app.services import accounts, workshop_events
from app.services.audit import Actor
from app.web import auth
from tests import factories as f
from tests.services.test_workshop_events import make_event

SLUG = "krabi"


class Server:
    def __init__(self, database_url: str, log: Path) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)  # connections wait here until the server has started
        self.sock.set_inheritable(True)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        env = {**os.environ, "PHONLAP_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
        command = [
            sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
            "--fd", str(self.sock.fileno()), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=out, pass_fds=[self.sock.fileno()]
            )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.sock.close()


@pytest.fixture(scope="module")
def servers(database_url: str, engine, tmp_path_factory) -> Iterator[tuple[Server, Server]]:  # noqa: ANN001
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (run through .ci/postgres.sh)")
    logs = tmp_path_factory.mktemp("servers")
    pair = (Server(database_url, logs / "a.log"), Server(database_url, logs / "b.log"))
    yield pair
    for server in pair:
        server.stop()


def _events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    name, data = "message", ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data += line.split(":", 1)[1].strip()
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "message", ""


def test_an_edit_through_one_server_reaches_the_streams_held_by_both(
    servers: tuple[Server, Server], session: Session
) -> None:
    a, b = servers
    plan = f.make_plan(session, SLUG)
    kpi = f.make_kpi(session, plan)
    admin = f.make_user(session, "admin")
    cookies = {auth.SESSION_COOKIE: auth.sign(accounts.start_session(session, user=admin))}
    _, token = accounts.create_token(
        session, actor=Actor.process("test"), user=admin, token_in={"name": "workers"}
    )
    for server in servers:  # the first request waits in the socket until the server started
        up = httpx.get(server.base + "/healthz", timeout=60)
        assert up.json()["dialect"] == "postgresql", server.log.read_text()
    timeout = httpx.Timeout(10.0, read=5.0)
    with (
        httpx.Client(base_url=a.base, cookies=cookies, timeout=timeout) as on_a,
        httpx.Client(base_url=b.base, cookies=cookies, timeout=timeout) as on_b,
        httpx.Client(base_url=b.base, timeout=timeout) as editor,
        on_a.stream("GET", f"/areas/{SLUG}/events") as stream_a,
        on_b.stream("GET", f"/areas/{SLUG}/events") as stream_b,
    ):
        assert (stream_a.status_code, stream_b.status_code) == (200, 200), a.log.read_text()
        events_a, events_b = _events(stream_a), _events(stream_b)
        assert next(events_a) == ("ready", {}) and next(events_b) == ("ready", {})
        url = f"/api/v1/areas/{SLUG}/plan/kpis/{kpi.id}"
        headers = {"Authorization": f"Bearer {token}"}
        stale = editor.patch(url, json={"target_value": 90, "version": 99}, headers=headers)
        assert stale.status_code == 409  # refused and rolled back: nothing is sent for it
        saved = editor.patch(url, json={"target_value": 85}, headers=headers)
        answered = time.perf_counter()  # committed (and notified) before it answered
        assert saved.status_code == 200, saved.text
        expected = {"type": "plan.changed", "plan_id": plan.id, "entity": "kpi", "id": kpi.id,
                    "op": "update"}  # fmt: skip
        assert next(events_a) == ("plan", expected)  # the other server's stream
        arrived_a = time.perf_counter() - answered
        assert next(events_b) == ("plan", expected)  # the editing server's own stream
    assert arrived_a < 1.0, f"the edit reached the other server {arrived_a:.2f} s after its answer"


def test_a_station_write_reaches_the_national_projector_streams_of_both_servers(
    servers: tuple[Server, Server], session: Session
) -> None:
    event = make_event(session, ["krabi", "phuket"])
    station = f.make_workshop(session, "phuket", "ห้องย่อยภูเก็ต")
    admin = f.make_user(session, "admin")
    cookies = {auth.SESSION_COOKIE: auth.sign(accounts.start_session(session, user=admin))}
    for server in servers:
        assert httpx.get(server.base + "/healthz", timeout=60).status_code == 200
    timeout = httpx.Timeout(10.0, read=5.0)
    url = f"/workshops/{event.id}/events"
    with (
        httpx.Client(base_url=servers[0].base, cookies=cookies, timeout=timeout) as on_a,
        httpx.Client(base_url=servers[1].base, cookies=cookies, timeout=timeout) as on_b,
        on_a.stream("GET", url) as stream_a,
        on_b.stream("GET", url) as stream_b,
    ):
        assert (stream_a.status_code, stream_b.status_code) == (200, 200)
        events_a, events_b = _events(stream_a), _events(stream_b)
        assert next(events_a) == ("ready", {}) and next(events_b) == ("ready", {})
        # a session attached (the event's own channel), from a third process
        workshop_events.attach(session, actor=f.ACTOR, event=event, workshop=station)
        expected = {"type": "workshop_event.changed", "event_id": event.id}
        assert next(events_a) == ("stations", expected)
        assert next(events_b) == ("stations", expected)
    with on_a_stream(servers[0].base, cookies, url, timeout) as events_a:
        guest, _ = f.make_guest(session, station, "ครูภูเก็ต")  # the area's channel
        name, change = next(events_a)
        assert (name, change["session_id"], change["id"]) == ("participant", station.id, guest.id)


class on_a_stream:  # noqa: N801 - reads as a context manager
    def __init__(self, base: str, cookies: dict, url: str, timeout: httpx.Timeout) -> None:
        self.client = httpx.Client(base_url=base, cookies=cookies, timeout=timeout)
        self.url = url

    def __enter__(self) -> Iterator[tuple[str, dict]]:
        self.stream = self.client.stream("GET", self.url)
        response = self.stream.__enter__()
        events = _events(response)
        assert next(events) == ("ready", {})
        return events

    def __exit__(self, *exc: object) -> None:
        self.stream.__exit__(*exc)
        self.client.close()
