"""What `/metrics` costs every request (issue 19): the MetricsMiddleware's time per request.

1. The middleware around a trivial ASGI app (nothing else measured): microseconds per request.
2. `/healthz` of the whole app (a temporary migrated SQLite database), called as ASGI in this
   process, alternating rounds with and without the middleware: median microseconds per request.

    .venv/bin/python benchmarks/metrics_overhead.py [--requests 20000] [--rounds 7]
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="phonlap-metrics-bench-"))
os.environ["PHONLAP_DATABASE_URL"] = f"sqlite:///{WORK / 'bench.db'}"
os.environ["PHONLAP_VAR_DIR"] = str(WORK / "var")
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.main import create_app  # noqa: E402
from app.metrics import MetricsMiddleware  # noqa: E402


def scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def receive() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(_message: dict) -> None:
    return None


async def per_request(app, path: str, n: int) -> float:  # noqa: ANN001
    start = time.perf_counter()
    for _ in range(n):
        await app(scope(path), receive, send)
    return (time.perf_counter() - start) / n * 1e6


async def trivial(s, r, sd) -> None:  # noqa: ANN001
    await sd({"type": "http.response.start", "status": 200, "headers": []})
    await sd({"type": "http.response.body", "body": b"ok"})


def app_without_metrics():  # noqa: ANN201
    app = create_app()
    app.user_middleware = [m for m in app.user_middleware if m.cls is not MetricsMiddleware]
    return app


async def main(requests: int, rounds: int) -> None:
    bare, wrapped = [], []
    for _ in range(rounds):
        bare.append(await per_request(trivial, "/x", requests))
        wrapped.append(await per_request(MetricsMiddleware(trivial), "/x", requests))
    extra = statistics.median(wrapped) - statistics.median(bare)
    print(
        f"trivial app: {statistics.median(bare):.2f} µs bare, "
        f"{statistics.median(wrapped):.2f} µs with the middleware: +{extra:.2f} µs a request"
    )

    migrate.upgrade()
    with_metrics, without = create_app(), app_without_metrics()
    n = max(requests // 20, 200)
    await per_request(with_metrics, "/healthz", 50)  # warm: imports, first connection, head()
    await per_request(without, "/healthz", 50)
    on, off = [], []
    for _ in range(rounds):
        off.append(await per_request(without, "/healthz", n))
        on.append(await per_request(with_metrics, "/healthz", n))
    print(
        f"/healthz ({n} requests x {rounds} rounds, median): "
        f"{statistics.median(off):.0f} µs without, {statistics.median(on):.0f} µs with "
        f"(+{statistics.median(on) - statistics.median(off):.0f} µs)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
