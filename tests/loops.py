"""Event loops for tests that run coroutines of the app's live parts (streams, lanes)."""

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def in_a_thread(
    main: Callable[[], Awaitable[T]],
    *,
    runner: Callable[[Any], Any] = asyncio.run,
    timeout: float = 10.0,
) -> T:
    """`main()` run to its end by `runner` (asyncio's, or uvloop's as the server has) on a
    thread of its own: a browser test earlier in the run may hold this thread's loop. The
    coroutine is made on that thread too, so that none is left unawaited when it fails."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: runner(main())).result(timeout=timeout)
