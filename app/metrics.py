"""Request counts and latencies by route template, kept by this worker process, and the
Prometheus text format for `/metrics`.

Written by hand (no client library): a request costs one dictionary update and one bisect.
Each worker process counts its own requests; the `worker` label (its process id) keeps the
series of several workers apart.
"""

import bisect
import gc
import os
import time
from collections import defaultdict
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # requests no route answered (404s): one series, not one per path
STARTED = time.time()


class Registry:
    def __init__(self) -> None:
        self.requests: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        # route -> counts per bucket (not cumulative; the last one is +Inf), then the sum
        self.latency: dict[str, list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        counts = self.latency.get(route)
        if counts is None:
            counts = self.latency[route] = [0] * (len(BUCKETS) + 1) + [0.0]
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        counts[-1] += seconds


REGISTRY = Registry()


# The server's own `send`, kept in the scope by the outermost middleware: once an event stream's
# status and headers have passed through the middleware, its frames (thousands of streams woken
# by each change in a hall) go straight to the server.
SERVER_SEND = "phonlap.server_send"


class MetricsMiddleware:
    """Counts every HTTP request by method, route template (`/areas/{slug}`) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        scope[SERVER_SEND] = send  # for an event stream's frames (app.web.events.EventStream)

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            REGISTRY.observe(scope["method"], route, status, time.perf_counter() - start)


def render(*, streams: int, pool: dict[str, int], registry: Registry = REGISTRY) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    worker = {"worker": str(os.getpid())}
    lines = [
        *_family("phonlap_info", "gauge", "Phonlap's version.", [({"version": __version__}, 1)]),
        *_family(
            "phonlap_process_start_time_seconds",
            "gauge",
            "When this worker process started (Unix time).",
            [(worker, round(STARTED, 3))],
        ),
        *_family(
            "phonlap_requests_total",
            "counter",
            "HTTP requests by method, route template and status.",
            [
                ({"method": m, "route": r, "status": str(s), **worker}, n)
                for (m, r, s), n in sorted(registry.requests.items())
            ],
        ),
        "# HELP phonlap_request_duration_seconds Time to answer, by route template.",
        "# TYPE phonlap_request_duration_seconds histogram",
    ]
    for route, counts in sorted(registry.latency.items()):
        labels = {"route": route, **worker}
        running = 0
        for bound, count in zip((*BUCKETS, "+Inf"), counts[:-1], strict=True):
            running += int(count)
            lines.append(
                _sample(
                    "phonlap_request_duration_seconds_bucket", {**labels, "le": str(bound)}, running
                )
            )
        lines.append(_sample("phonlap_request_duration_seconds_sum", labels, round(counts[-1], 6)))
        lines.append(_sample("phonlap_request_duration_seconds_count", labels, running))
    lines += _family(
        "phonlap_event_streams_open",
        "gauge",
        "Server-sent event streams open on this worker.",
        [(worker, streams)],
    )
    for name, value in pool.items():
        lines += _family(
            f"phonlap_db_pool_{name}",
            "gauge",
            f"Database connection pool: {name}.",
            [(worker, value)],
        )
    lines += _family(
        "phonlap_gc_frozen_objects",
        "gauge",
        "Objects moved out of the garbage collector's scans at start-up (gc.freeze).",
        [(worker, gc.get_freeze_count())],
    )
    return "\n".join(lines) + "\n"


def pool_figures(pool: object) -> dict[str, int]:
    """Size, connections in use and overflow of a SQLAlchemy QueuePool (others report none)."""
    figures = {}
    for name, method in (("size", "size"), ("checked_out", "checkedout"), ("overflow", "overflow")):
        read = getattr(pool, method, None)
        if callable(read):
            figures[name] = int(read())
    return figures


def _family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
) -> list[str]:
    return [
        f"# HELP {name} {help_text}",
        f"# TYPE {name} {kind}",
        *(_sample(name, labels, value) for labels, value in samples),
    ]


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    inner = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
    return f"{name}{{{inner}}} {value}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
