"""The live brokers: the server picks one from the database URL; on PostgreSQL an event goes out
in the writing transaction (delivered on commit, never for a rollback), payloads stay under
PostgreSQL's limit, and a listener that lost its connection comes back and tells its streams to
resync. The PostgreSQL tests need PostgreSQL (`.ci/postgres.sh`) and skip on SQLite."""

import json
import queue
from collections.abc import Iterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import live
from app.models import Plan
from app.services import plans
from tests import factories as f
from tests.loops import in_a_thread

Heard = queue.Queue[tuple[str, live.Event]]
WAIT = 10  # seconds at most for something that normally takes milliseconds


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (run through .ci/postgres.sh)")
    return database_url


@pytest.fixture
def pg_broker(pg_url: str, engine: Engine) -> Iterator[live.PostgresBroker]:
    broker = live.PostgresBroker(live.conninfo_of(pg_url))
    assert broker.start(wait=WAIT), "the broker did not start listening"
    yield broker
    broker.stop()


@pytest.fixture
def heard(pg_broker: live.PostgresBroker) -> Iterator[Heard]:
    got: Heard = queue.Queue()
    unsubscribe = pg_broker.subscribe(lambda channel, event: got.put((channel, event)))
    yield got
    unsubscribe()


def test_sqlite_keeps_the_in_process_broker() -> None:
    before = live.broker
    stop = live.start("sqlite:///var/any.db")
    assert live.broker is before and isinstance(before, live.InProcessBroker)
    stop()
    assert live.broker is before


def test_postgresql_gets_a_listening_broker_for_the_server_and_gives_it_back(
    pg_url: str, engine: Engine
) -> None:
    before = live.broker
    stop = live.start(pg_url)
    try:
        assert isinstance(live.broker, live.PostgresBroker) and live.broker.listening
    finally:
        stop()
    assert live.broker is before


def test_a_committed_write_is_delivered_and_a_rolled_back_one_never(
    engine: Engine, pg_broker: live.PostgresBroker, heard: Heard
) -> None:
    with Session(engine) as s:
        pg_broker.publish("area:1", {"type": "plan.changed", "id": 1}, session=s)
        s.rollback()
    with Session(engine) as s:
        pg_broker.publish("area:1", {"type": "plan.changed", "id": 2}, session=s)
        s.commit()
    # Only the committed one arrives, though the rolled-back one was sent first.
    assert heard.get(timeout=WAIT) == ("area:1", {"type": "plan.changed", "id": 2})
    pg_broker.publish("area:2", {"type": "plan.changed", "id": 3})  # after a commit elsewhere
    assert heard.get(timeout=WAIT) == ("area:2", {"type": "plan.changed", "id": 3})
    assert heard.empty()


def test_a_service_write_reaches_the_listeners_of_every_worker(
    session: Session, pg_broker: live.PostgresBroker, heard: Heard
) -> None:
    other = live.PostgresBroker(pg_broker._conninfo)  # a second worker, with its own connection
    assert other.start(wait=WAIT)
    there: Heard = queue.Queue()
    other.subscribe(lambda channel, event: there.put((channel, event)))
    previous = live.install(pg_broker)
    try:
        plan = f.make_plan(session)
        kra = f.make_kra(session, plan)
    finally:
        live.install(previous)
        other.stop()
    channel = live.area_channel(plan.area_id)
    for got in (heard, there):
        assert got.get(timeout=WAIT) == (channel, _plan_event(plan.id, "plan", plan.id))
        assert got.get(timeout=WAIT) == (channel, _plan_event(plan.id, "kra", kra.id))


def test_a_service_write_whose_commit_fails_sends_nothing(
    session: Session, pg_broker: live.PostgresBroker, heard: Heard
) -> None:
    plan = f.make_plan(session)
    assert heard.get(timeout=WAIT)[1]["entity"] == "plan"  # made before the broker was used
    previous = live.install(pg_broker)

    def refuse(_session: Session) -> None:  # what a failing commit does, after the NOTIFY
        raise RuntimeError("commit refused")

    try:
        event.listen(session, "before_commit", refuse, once=True)
        with pytest.raises(RuntimeError):
            plans.update_plan(session, actor=f.ACTOR, plan=plan, plan_in={"vision": "ไม่บันทึก"})
        session.rollback()
        plans.update_plan(session, actor=f.ACTOR, plan=plan, plan_in={"vision": "บันทึก"})
    finally:
        live.install(previous)
    channel, sent = heard.get(timeout=WAIT)  # the saved one only
    assert (channel, sent["entity"], sent["op"]) == (
        live.area_channel(plan.area_id),
        "plan",
        "update",
    )
    session.expire_all()
    assert session.get(Plan, plan.id).vision == "บันทึก"
    assert heard.empty()


def test_a_write_from_a_process_that_does_not_listen_still_reaches_the_servers(
    session: Session, pg_broker: live.PostgresBroker, heard: Heard
) -> None:
    assert isinstance(live.broker, live.InProcessBroker)  # the command line, a script
    here: list[tuple[str, live.Event]] = []
    unsubscribe = live.broker.subscribe(lambda channel, event: here.append((channel, event)))
    try:
        plan = f.make_plan(session)
    finally:
        unsubscribe()
    expected = (live.area_channel(plan.area_id), _plan_event(plan.id, "plan", plan.id))
    assert here == [expected]  # its own listeners, at once
    assert heard.get(timeout=WAIT) == expected  # and the servers' workers, through PostgreSQL


def _plan_event(plan_id: int, entity: str, entity_id: int) -> dict:
    return {"type": "plan.changed", "plan_id": plan_id, "entity": entity, "id": entity_id,
            "op": "create"}  # fmt: skip


def test_a_lost_listening_connection_comes_back_and_tells_streams_to_resync(
    engine: Engine, pg_broker: live.PostgresBroker, heard: Heard
) -> None:
    first = pg_broker.backend_pid
    with engine.begin() as conn:  # what a database restart or a dropped network does to it
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    assert heard.get(timeout=WAIT) == (live.EVERY, live.RESYNC)
    assert pg_broker.listening and pg_broker.backend_pid != first and pg_broker.connections == 2
    pg_broker.publish("area:1", {"type": "progress.changed", "id": 7})
    assert heard.get(timeout=WAIT) == ("area:1", {"type": "progress.changed", "id": 7})


def test_an_unreachable_database_is_retried_without_blocking_the_start() -> None:
    broker = live.PostgresBroker("postgresql://nobody@127.0.0.1:9/none?connect_timeout=1")
    assert broker.start(wait=0.2) is False
    assert not broker.listening
    broker.stop()  # stops between attempts, without waiting for the database


def test_an_event_too_large_for_notify_becomes_resync_on_its_channel() -> None:
    small = live.encode("area:3", {"type": "plan.changed", "id": 9, "title": "ก" * 100})
    assert live.decode(small) == ("area:3", {"type": "plan.changed", "id": 9, "title": "ก" * 100})
    big = live.encode("area:3", {"type": "plan.changed", "text": "ก" * 3000})  # 9,000 bytes
    assert len(big.encode()) < live.MAX_PAYLOAD
    assert live.decode(big) == ("area:3", live.RESYNC)
    assert live.decode("not json") is None and live.decode(json.dumps({"c": 1})) is None


def test_a_resync_for_every_stream_reaches_the_streams_of_every_channel() -> None:
    source = live.InProcessBroker()
    hub = live.Hub(source)

    async def run() -> list[live.Event]:
        async with hub.listen("area:1") as one, hub.listen("area:2") as two:
            source.publish(live.EVERY, live.RESYNC)
            source.publish("area:2", {"type": "plan.changed"})
            return [await one.get(), await two.get(), await two.get()]

    got = in_a_thread(run, timeout=WAIT)
    assert got == [live.RESYNC, live.RESYNC, {"type": "plan.changed"}]
