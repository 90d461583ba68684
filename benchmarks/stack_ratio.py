"""Phonlap's pages beside the stack they stand on (issue 20): a trivial FastAPI route rendering a
small Jinja2 template (benchmarks/trivial_app.py) and Phonlap on the demo data, each served by
one uvicorn worker, loaded in the same run by the same client, signed in as the demo editor of
Phuket with gzip, `--connections` keep-alive connections at once.

For each page, in `--rounds` rounds that alternate with the trivial page: requests per second,
and the server's CPU time per request (from /proc, so the client's own cost is not counted).
Printed: the medians, and each page's share of the trivial page's throughput (by requests per
second, and by CPU per request, which a busy machine disturbs less). Goals: the overview,
editor, progress and map pages at 0.10 or more; /healthz at 0.5 or more.

A page asked again unchanged is served from the page cache (app.page_cache); `--cold` turns the
cache off (PHONLAP_PAGE_CACHE_MB=0) to show what a page costs when it must be rendered.

    .venv/bin/python benchmarks/stack_ratio.py [--seconds 2] [--rounds 3] [--connections 8]
        [--cold] [--pages /areas/phuket,/review]
"""

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.services import accounts, seeding  # noqa: E402
from app.web import auth  # noqa: E402
from benchmarks.live_workers import cpu_seconds, rss_mib, start_server  # noqa: E402
from tests.factories import make_user  # noqa: E402

PAGES = (
    "/healthz",
    "/areas/phuket",
    "/areas/phuket/plan",
    "/areas/phuket/progress",
    "/areas/phuket/map",
    "/areas/phuket/present",
    "/review",
    "/",
)
GOALS = {
    "/healthz": 0.5,
    "/areas/phuket": 0.10,
    "/areas/phuket/plan": 0.10,
    "/areas/phuket/progress": 0.10,
    "/areas/phuket/map": 0.10,
}


def prepare(url: str) -> str:
    """The demo database and a signed-in editor of Phuket: the Cookie header a browser sends."""
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        seeding.seed_reference(session)
        seeding.seed_demo(session)
        editor = make_user(session, "editor", "phuket")
        token = accounts.start_session(session, user=editor)
    engine.dispose()
    seed = secrets.token_urlsafe(24)
    return f"{auth.SESSION_COOKIE}={auth.sign(token)}; {auth.CSRF_COOKIE}={seed}"


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def load(host: str, path: str, cookie: str, seconds: float, connections: int) -> int:
    """Requests completed in `seconds` over `connections` keep-alive connections."""
    name, port = host.rsplit(":", 1)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: gzip\r\nCookie: {cookie}\r\n\r\n"
    ).encode()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(name, int(port))
        try:
            while time.perf_counter() < deadline:
                status = await _one(reader, writer, request)
                if status != 200:
                    raise SystemExit(f"{path}: answered {status}")
                done += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done


SERVED = {"n": 0}  # requests Phonlap answered in this run


def measure(host: str, pid: int, path: str, cookie: str, args: argparse.Namespace) -> tuple:
    warm = asyncio.run(load(host, path, cookie, 0.3, args.connections))  # (and fills the cache)
    cpu = cpu_seconds(pid)
    start = time.perf_counter()
    done = asyncio.run(load(host, path, cookie, args.seconds, args.connections))
    wall = time.perf_counter() - start
    SERVED["n"] += warm + done
    return done / wall, (cpu_seconds(pid) - cpu) / done * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--cold", action="store_true", help="turn the page cache off")
    parser.add_argument("--pages", help="comma-separated paths (default: the issue's pages)")
    args = parser.parse_args()
    pages = args.pages.split(",") if args.pages else list(PAGES)
    if args.cold:
        os.environ["PHONLAP_PAGE_CACHE_MB"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        cookie = prepare(url)
        phonlap, phonlap_host, _s1 = start_server(url, tmp, Path(tmp) / "phonlap.log")
        trivial, trivial_host, _s2 = start_server(
            url, tmp, Path(tmp) / "trivial.log", target="benchmarks.trivial_app:create_app"
        )
        try:
            asyncio.run(load(trivial_host, "/", cookie, 0.5, 1))  # both up before measuring
            asyncio.run(load(phonlap_host, "/healthz", cookie, 0.5, 1))
            base_rps, base_cpu, rows = [], [], {p: ([], []) for p in pages}
            for _ in range(args.rounds):
                for page in pages:
                    rps, cpu = measure(trivial_host, trivial.pid, "/", cookie, args)
                    base_rps.append(rps)
                    base_cpu.append(cpu)
                    rps, cpu = measure(phonlap_host, phonlap.pid, page, cookie, args)
                    rows[page][0].append(rps)
                    rows[page][1].append(cpu)
            rss = rss_mib(phonlap.pid)
        finally:
            for process in (phonlap, trivial):
                process.terminate()
                process.wait(10)
    rps0, cpu0 = statistics.median(base_rps), statistics.median(base_cpu)
    mode = "cold (page cache off)" if args.cold else "page cache on"
    print(f"{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s; {mode}")
    print(f"Phonlap's worker: {SERVED['n']} requests served, RSS {rss:.0f} MiB after them")
    print(f"{'page':26} {'req/s':>8} {'CPU ms':>8} {'share':>7} {'by CPU':>7} {'goal':>6}")
    print(f"{'trivial FastAPI+Jinja2':26} {rps0:8.0f} {cpu0:8.2f} {1:7.3f} {1:7.3f}")
    for page, (rps, cpu) in rows.items():
        share, by_cpu = statistics.median(rps) / rps0, cpu0 / statistics.median(cpu)
        goal = GOALS.get(page)
        mark = "" if goal is None else f"{goal:.2f} " + ("ok" if share >= goal else "MISS")
        print(
            f"{page:26} {statistics.median(rps):8.0f} {statistics.median(cpu):8.2f} "
            f"{share:7.3f} {by_cpu:7.3f} {mark:>6}"
        )


if __name__ == "__main__":
    main()
