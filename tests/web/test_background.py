"""A phone's poll waits for its turn (app.web.background): after the requests waiting for the
routes' threads, one poll at a time, never longer than the lane's longest wait."""

import asyncio
import threading

import anyio
from anyio import to_thread

from app.web.background import Lane
from tests.loops import in_a_thread


def _run(scenario) -> list[str]:  # noqa: ANN001
    """Run `scenario(lane, log)` on a loop whose routes have one thread; the log it wrote."""
    log: list[str] = []

    async def main() -> None:
        to_thread.current_default_thread_limiter().total_tokens = 1
        await scenario(Lane(max_wait=5.0, tick=0.001), log)

    in_a_thread(main, timeout=30)
    return log


async def _route(name: str, log: list[str], hold: threading.Event | None = None) -> None:
    """A route's work on the routes' thread pool (held until `hold` is set)."""

    def work() -> None:
        if hold is not None:
            hold.wait(5)
        log.append(name)

    await to_thread.run_sync(work)


async def _poll(lane: Lane, name: str, log: list[str]) -> None:
    await lane.enter()
    try:
        await _route(name, log)
    finally:
        lane.leave()


def test_a_poll_waits_for_the_dots_that_wait_for_the_routes_thread() -> None:
    async def scenario(lane: Lane, log: list[str]) -> None:
        hold = threading.Event()
        busy = asyncio.create_task(_route("dot 1", log, hold))  # takes the only thread
        await asyncio.sleep(0.01)
        poll = asyncio.create_task(_poll(lane, "poll", log))  # came first ...
        await asyncio.sleep(0.01)
        dot = asyncio.create_task(_route("dot 2", log))  # ... than this dot
        await asyncio.sleep(0.01)
        hold.set()
        await asyncio.gather(busy, poll, dot)

    assert _run(scenario) == ["dot 1", "dot 2", "poll"]


def test_polls_go_one_at_a_time_in_the_order_they_came() -> None:
    async def scenario(lane: Lane, log: list[str]) -> None:
        to_thread.current_default_thread_limiter().total_tokens = 4
        running: list[int] = []
        most = 0

        async def poll(n: int) -> None:
            nonlocal most
            await lane.enter()
            try:
                running.append(n)
                most = max(most, len(running))
                await anyio.sleep(0.005)
                log.append(f"poll {n}")
                running.remove(n)
            finally:
                lane.leave()

        await asyncio.gather(*(poll(n) for n in range(5)))
        assert most == 1

    assert _run(scenario) == [f"poll {n}" for n in range(5)]


def test_a_poll_goes_after_its_longest_wait_even_while_the_routes_are_busy() -> None:
    async def scenario(lane: Lane, log: list[str]) -> None:
        lane.max_wait = 0.05
        hold = threading.Event()
        busy = asyncio.create_task(_route("report", log, hold))  # holds the thread for long
        await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await lane.enter()
        waited = loop.time() - started
        log.append("poll's turn")
        lane.leave()
        hold.set()
        await busy
        assert 0.04 <= waited < 1

    assert _run(scenario) == ["poll's turn", "report"]


def test_a_poll_whose_phone_went_away_passes_its_turn_on() -> None:
    async def scenario(lane: Lane, log: list[str]) -> None:
        hold = threading.Event()
        busy = asyncio.create_task(_route("dot", log, hold))
        await asyncio.sleep(0.01)
        gone = asyncio.create_task(_poll(lane, "gone", log))
        kept = asyncio.create_task(_poll(lane, "kept", log))
        await asyncio.sleep(0.01)
        gone.cancel()
        hold.set()
        await asyncio.gather(busy, kept)
        assert gone.cancelled() and not lane.busy and not lane.waiting

    assert _run(scenario) == ["dot", "kept"]
