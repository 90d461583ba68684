"""The area's live stream: a committed change arrives as a named server-sent event, only on
its own area's stream; a viewer of another area cannot open it."""

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import live
from app.web import events, vote_panels
from tests import factories as f
from tests.conftest import sign_in
from tests.loops import in_a_thread


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


def _paced(
    events_in: list[tuple[float, dict]], every: float | None
) -> list[tuple[float, str, dict]]:
    """What `events.paced` lets through of events put at the given moments (seconds), with the
    moment each came out."""

    async def run() -> list[tuple[float, str, dict]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict] = asyncio.Queue(100)
        start = loop.time()
        for at, event in events_in:
            loop.call_at(start + at, queue.put_nowait, event)
        wait = every if every is not None else max(events.PACE.values())
        loop.call_at(start + events_in[-1][0] + 3 * wait, queue.put_nowait, events.END)
        return [
            (loop.time() - start, name, event)
            async for name, event, _ in events.paced(queue, events.event_name, every)
        ]

    return in_a_thread(run)


def test_a_burst_of_dots_reaches_a_board_paced_and_always_with_its_last_one() -> None:
    """A hall's dots would reload a projector dozens of times a second: a stream passes the
    first at once, then at most one per pace with the newest held back, never losing the last;
    other kinds of change pass at once, and nothing paced is held without a timer."""
    dots = [(i * 0.01, {"type": "vote.cast", "id": i}) for i in range(10)]  # 100 a second
    plan = (0.015, {"type": "plan.changed", "id": 99})
    out = _paced([*dots[:2], plan, *dots[2:]], every=0.2)
    assert [(name, event["id"]) for _, name, event in out] == [
        ("vote", 0),
        ("plan", 99),  # not held behind the dots
        ("vote", 9),  # the newest, once the pace allows; dots 1–8 folded into it
    ]
    assert out[1][0] < 0.1 and 0.19 <= out[2][0] < 0.35
    spaced = [(i * 0.1, {"type": "contribution.created", "id": i}) for i in range(3)]
    assert [e["id"] for _, _, e in _paced(spaced, every=0.05)] == [0, 1, 2]  # far apart: all


def test_a_votes_dots_come_faster_than_new_cards_within_the_half_second_a_projector_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each kind at its own pace: the wait for the next panel is part of the half second in
    which a dot shows on the projector; new cards each fetch the board's new part."""
    monkeypatch.setattr(events, "PACE", {"vote": 0.1, "contribution": 0.3, "participant": 0.3})
    burst = [(i * 0.03, {"type": "vote.cast", "id": i}) for i in range(8)]  # over 0.21 s
    burst += [(i * 0.03 + 0.01, {"type": "contribution.created", "id": 10 + i}) for i in range(8)]
    out = _paced(sorted(burst, key=lambda pair: pair[0]), every=None)
    for name, pace, first, last, count in (
        ("vote", 0.1, 0, 7, 3),
        ("contribution", 0.3, 10, 17, 2),
    ):
        sent = [(at, e["id"]) for at, kind, e in out if kind == name]
        assert sent[0][1] == first and sent[-1][1] == last  # the first at once, the last kept
        assert len(sent) >= count and len(sent) <= count + 1
        assert all(b[0] - a[0] >= pace - 0.01 for a, b in zip(sent, sent[1:], strict=False))


def test_the_last_card_of_a_burst_comes_within_its_pace_on_the_servers_event_loop() -> None:
    """uvloop (what uvicorn runs) keeps time in milliseconds: a timer may fire a moment before
    the time it was set for. A held event then waited for the stream's next event: a card a
    guest posted after another reached the board seconds later, or never when it was the
    last. Paces that are not whole milliseconds, as the event loop's times are not."""
    uvloop = pytest.importorskip("uvloop")

    async def run(every: float) -> list[tuple[float, int]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict] = asyncio.Queue(100)
        start = loop.time()
        for i, at in enumerate((0.0, 0.013, 0.027)):
            loop.call_at(start + at, queue.put_nowait, {"type": "contribution.created", "id": i})
        loop.call_at(start + every + 0.3, queue.put_nowait, events.END)
        return [
            (loop.time() - start, event["id"])
            async for _, event, _ in events.paced(queue, events.event_name, every)
        ]

    for k in range(12):
        every = 0.05 + k * 0.0037
        out = in_a_thread(lambda every=every: run(every), runner=uvloop.run)
        assert [i for _, i in out] == [0, 2], every  # the first at once, the last kept
        assert out[1][0] < every + 0.25, every  # when its pace allowed, not at the end


def test_paced_streams_skip_what_their_page_does_not_show() -> None:
    async def run() -> list[str]:
        queue: asyncio.Queue[dict] = asyncio.Queue(10)
        for event in ({"type": "skip"}, {"type": "vote.cast"}, events.END):
            queue.put_nowait(event)

        def only_votes(event: dict) -> str | None:
            return "vote" if event["type"] == "vote.cast" else None

        return [name async for name, _, _ in events.paced(queue, only_votes, 0.05)]

    assert in_a_thread(run) == ["vote"]


def test_a_quiet_stream_pings_so_that_proxies_keep_it_open(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.make_plan(session, "krabi")
    monkeypatch.setattr(events, "PING", 0.05)
    monkeypatch.setattr(events, "LIFETIME", 0.4)
    with client.stream("GET", "/areas/krabi/events") as stream:
        assert stream.headers["x-accel-buffering"] == "no"  # nginx passes each event at once
        lines = list(stream.iter_lines())
    assert lines[:3] == ["event: ready", "retry: 2000", "data: {}"]
    assert lines.count(": ping") >= 3


def test_open_streams_are_kept_out_of_full_collections_and_thawed_when_they_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """5,000 streams made each full collection pause every stream for 0.8 s: once the open
    streams have grown and settled they are frozen; when they have all closed (or every
    lifetime) they are thawed and collected, so that nothing frozen with them stays."""
    calls: list[str] = []
    clock = [100.0]

    class FakeGC:
        def freeze(self) -> None:
            calls.append("freeze")

        def unfreeze(self) -> None:
            calls.append("unfreeze")

        def collect(self) -> None:
            calls.append("collect")

    monkeypatch.setattr(events, "gc", FakeGC())
    monkeypatch.setattr(events.time, "monotonic", lambda: clock[0])
    collector = events._Collector()

    def at(moment: float, count: int) -> list[str]:
        clock[0] = 100.0 + moment
        calls.clear()
        collector.streams_open(count)
        return list(calls)

    assert at(0, 300) == []  # a hall opening its streams
    assert at(5, 2000) == []
    assert at(10, 5000) == ["freeze"]  # grown for SETTLE seconds
    assert at(30, 5000) == []  # nothing new to freeze
    assert at(31, 4000) == []  # some left: the rest are still frozen
    assert at(40, 0) == ["unfreeze", "collect", "freeze"]  # all gone: their garbage collected
    assert at(41, 0) == []
    assert at(50, 10) == [] and at(60, 10) == ["freeze"]
    lifetime = 60 + events.LIFETIME + 1
    assert at(lifetime, 10) == ["unfreeze", "collect", "freeze"]  # every stream reconnected since
    assert at(lifetime + 1, 10) == []


def test_one_change_is_encoded_once_per_name_it_is_sent_under() -> None:
    """The area's stream and the national projector's name the same change differently: the
    frame kept for one must not be sent on the other."""
    change = {"type": "workshop.changed", "entity": "workshop_ballot", "id": 3}
    as_area = events.frame("workshop", change)
    assert events.frame("workshop", change) is as_area  # encoded once for every stream
    assert events.frame("vote", change).startswith(b"event: vote\r\ndata: {")
    assert as_area.startswith(b"event: workshop\r\n")


def test_the_screens_sending_one_dot_share_one_render_of_the_panel_a_later_dot_renders_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two dozen screens send each paced dot: its panel is rendered once per language for all
    of them, and a dot that arrives after a render started gets a render of its own (which read
    the dot); an error is not kept."""
    renders: list[tuple[int, str]] = []

    def render(engine, workshop_id: int, locale: str) -> str:  # noqa: ANN001
        renders.append((workshop_id, locale))
        time.sleep(0.02)
        if renders.count((8, "th")) == 1:  # the first for session 8 fails
            raise OSError("database gone")
        return f"{workshop_id} {locale} {renders.count((workshop_id, locale))}"

    monkeypatch.setattr(vote_panels, "_render", render)
    monkeypatch.setattr(vote_panels, "engine_of", lambda app: None)

    async def run() -> list:
        panels, loop = vote_panels.Panels(), asyncio.get_running_loop()
        dot, arrived = {"type": "vote.cast", "session_id": 7}, loop.time()
        screens = [panels.html(None, dot, arrived, "th") for _ in range(5)]
        out = await asyncio.gather(*screens, panels.html(None, dot, arrived, "en"))
        out.append(await panels.html(None, dot, loop.time(), "th"))  # a later dot
        out.append(await panels.html(None, dot, arrived, "th"))  # the newest render will do
        other = {"type": "vote.cast", "session_id": 8}
        with pytest.raises(OSError):
            await panels.html(None, other, loop.time(), "th")
        out.append(await panels.html(None, other, arrived, "th"))
        return out

    assert in_a_thread(run) == [*["7 th 1"] * 5, "7 en 1", "7 th 2", "7 th 2", "8 th 2"]
    assert len(renders) == 5


def test_the_streams_of_one_change_are_told_when_it_reached_the_worker_not_when_each_took_it() -> (
    None
):
    """The board and the projector take a dot from their queues a moment apart: both say it
    arrived when it reached the worker, so the second shares the panel the first started (with
    each stream's own moment, every dot was rendered twice). A change that did not come through
    the hub arrives when it is taken."""

    async def run() -> tuple[list[float], float, float, float]:
        loop = asyncio.get_running_loop()
        hub = live.Hub(live.InProcessBroker())
        async with hub.listen("area:1") as board, hub.listen("area:1") as projector:
            dot = {"type": "vote.cast", "session_id": 7}
            before = loop.time()
            hub._deliver("area:1", dot)
            await asyncio.sleep(0.03)
            took = []
            for queue in (board, projector):
                event = await queue.get()
                took.append(hub.arrived(event, loop.time()))
                await asyncio.sleep(0.02)
            stranger = hub.arrived({"type": "vote.cast"}, 123.0)
            return took, before, loop.time(), stranger

    (on_board, on_projector), before, after, stranger = in_a_thread(run)
    assert on_board == on_projector and before <= on_board < before + 0.02 < after
    assert stranger == 123.0
