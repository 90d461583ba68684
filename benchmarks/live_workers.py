"""Live updates across workers (issue 19): two uvicorn workers on one PostgreSQL database (two
processes on two loopback ports, which is what `--workers 2` or two hosts are to the broker),
each holding `--streams` open event streams (2,500 by default). Each edit (a PATCH of a KRA
through the API, made on the two servers in turn) must reach every stream of both: delivery in
percent, and latency (the time a stream's `plan` event arrived minus the time just before the
PATCH was sent) as p50/p95/p99/max. Target: 100 % delivered, p99 under 500 ms.

The streams are read by raw asyncio connections (an HTTP/1.1 GET, the answer scanned for
`event:`/`data:` lines), so that the client costs little beside the servers.

    .ci/postgres.sh .venv/bin/python benchmarks/live_workers.py [--streams 2500] [--edits 10]
        [--spacing 0.5] [--open-batch 50] [--open-timeout 180] [--database-url URL]

It empties the database it is given (PHONLAP_TEST_DATABASE_URL, as set by .ci/postgres.sh).
"""

import argparse
import asyncio
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.services import accounts, seeding  # noqa: E402
from app.web import auth  # noqa: E402
from tests.factories import ACTOR, make_kra, make_plan, make_user  # noqa: E402

SLUG = "krabi"
EVENT = re.compile(rb"event: ?(\w+)\r?\ndata: ?([^\r\n]*)\r?\n")


@dataclass
class Tally:
    count: int
    ready: int = 0
    failed: list[str] = field(default_factory=list)
    other: int = 0  # events other than ready/plan (resync, ...)
    closing: bool = False  # the benchmark is closing the streams itself
    arrivals: list[dict[int, float]] = field(default_factory=list)  # per stream: KRA id -> time

    def __post_init__(self) -> None:
        self.arrivals = [{} for _ in range(self.count)]


class StreamReader(asyncio.Protocol):
    """One event stream: sends the GET, then notes when each `plan` event arrived."""

    def __init__(self, request: bytes, index: int, tally: Tally) -> None:
        self.request, self.index, self.tally = request, index, tally
        self.chunks: list[tuple[float, bytes]] = []
        self.started = self.ready = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        # Only the time and the bytes here (read later, in `settle`): the client's own work
        # must not delay the arrival times it measures.
        self.chunks.append((time.perf_counter(), data))
        if not self.started:
            self.started = True
            if not data.startswith(b"HTTP/1.1 200"):
                self.tally.failed.append(data[:12].decode(errors="replace"))
        if not self.ready and b"event: ready" in data:
            self.ready = True
            self.tally.ready += 1

    def settle(self) -> None:
        """Read what arrived: when each `plan` event (by KRA id) came, and other events."""
        buffer = b""
        for at, data in self.chunks:
            buffer += data
            end = 0
            for match in EVENT.finditer(buffer):
                end = match.end()
                name = match.group(1)
                if name == b"plan":
                    self.tally.arrivals[self.index][json.loads(match.group(2))["id"]] = at
                elif name != b"ready":
                    self.tally.other += 1
            buffer = buffer[end:]
        self.chunks = []

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.tally.closing:
            self.tally.failed.append(f"closed ({type(exc).__name__ if exc else 'by server'})")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(url: str, kras: int) -> tuple[str, str, list[int]]:
    """An empty schema, migrated and seeded; a plan with one KRA per edit, an administrator with
    a browser session and an API token."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":  # a database an earlier run left; SQLite: a new file
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(url)
    with Session(engine, expire_on_commit=False) as session:
        seeding.seed_reference(session)
        plan = make_plan(session, SLUG, vision="ผู้เรียนเก่ง ดี มีสุข")
        ids = [make_kra(session, plan, f"KRA{n}").id for n in range(1, kras + 1)]
        admin = make_user(session, "admin")
        cookie = auth.sign(accounts.start_session(session, user=admin))
        _, token = accounts.create_token(session, actor=ACTOR, user=admin, token_in={"name": "b"})
    engine.dispose()
    return cookie, token, ids


def start_server(
    url: str, var: str, log: Path, target: str = "app.main:create_app"
) -> tuple[subprocess.Popen, str, socket.socket]:
    """One single-worker uvicorn on a socket bound here: requests wait until it has started."""
    sock = socket.socket()
    # what uvicorn sets when it binds the socket itself: without it, a header and a body written
    # apart wait for the client's delayed acknowledgement (40 ms a request)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    sock.set_inheritable(True)
    env = {**os.environ, "PHONLAP_DATABASE_URL": url, "PHONLAP_VAR_DIR": var,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    # as deployed: a developer's PHONLAP_DEV makes the server look at every template's file on
    # each use (Jinja's auto_reload): 7% of a dot's time under the workshop benchmark's load
    env.pop("PHONLAP_DEV", None)
    command = [
        sys.executable, "-m", "uvicorn", target, "--factory",
        "--fd", str(sock.fileno()), "--no-access-log", "--log-level", "warning",
        "--backlog", "4096",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=out, pass_fds=[sock.fileno()]
        )
    return process, f"127.0.0.1:{sock.getsockname()[1]}", sock


async def open_streams(
    hosts: list[str],
    cookie: str,
    tally: Tally,
    args: argparse.Namespace,
    path: str = f"/areas/{SLUG}/events",
) -> tuple[list[asyncio.Transport], list[StreamReader]]:
    """`--streams` on each host, in waves of `--open-batch` per host, each wave waiting for its
    `ready` events; gives up after `--open-timeout` seconds."""
    loop = asyncio.get_running_loop()
    transports: list[asyncio.Transport] = []
    readers: list[StreamReader] = []
    deadline = time.perf_counter() + args.open_timeout
    per_host = args.streams
    opened = 0
    while opened < per_host and time.perf_counter() < deadline:
        wave = range(opened, min(per_host, opened + args.open_batch))
        for k, host in enumerate(hosts):
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                f"Cookie: {auth.SESSION_COOKIE}={cookie}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
            ip, port = host.split(":")
            for i in wave:
                index = k * per_host + i
                transport, reader = await loop.create_connection(
                    lambda r=request, n=index: StreamReader(r, n, tally), ip, int(port)
                )
                transports.append(transport)
                readers.append(reader)
        opened = wave.stop
        while tally.ready + len(tally.failed) < len(transports):
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.01)
    return transports, readers


async def run(hosts: list[str], pids: list[int], cookie: str, token: str, kra_ids: list[int],
              args: argparse.Namespace) -> dict[str, object]:  # fmt: skip
    tally = Tally(args.streams * len(hosts))
    result: dict[str, object] = {}
    editors = [
        httpx.AsyncClient(base_url=f"http://{h}", timeout=60,
                          headers={"Authorization": f"Bearer {token}"})
        for h in hosts
    ]  # fmt: skip
    for editor in editors:  # waits until each server has started
        assert (await editor.get("/healthz")).json()["dialect"] == "postgresql"
    result["rss_idle"] = [rss_mib(p) for p in pids]
    started = time.perf_counter()
    transports, readers = await open_streams(hosts, cookie, tally, args)
    result.update(open_s=time.perf_counter() - started, ready=tally.ready)
    result["rss_open"] = [rss_mib(p) for p in pids]
    sent: dict[int, float] = {}
    patch_ms: list[float] = []
    if tally.ready == tally.count:
        await asyncio.sleep(1.0)  # let the accepts and the first writes settle
        warm_ups, measured = kra_ids[: len(hosts)], kra_ids[len(hosts) :]
        for editor, kra_id in zip(editors, warm_ups, strict=True):  # each route's first call
            await patch(editor, kra_id, "แก้ไขก่อนวัด")
        await asyncio.sleep(args.spacing)
        cpu = [cpu_seconds(p) for p in pids]
        for k, kra_id in enumerate(measured[: args.edits]):
            editor = editors[k % len(editors)]
            sent[kra_id] = time.perf_counter()
            await patch(editor, kra_id, f"แก้ไขครั้งที่ {k + 1}")
            patch_ms.append((time.perf_counter() - sent[kra_id]) * 1000)
            await asyncio.sleep(args.spacing)
        await asyncio.sleep(5)  # the last edit's events (read afterwards, in `settle`)
        result["cpu_ms"] = [(cpu_seconds(p) - c) * 1000 for p, c in zip(pids, cpu, strict=True)]
        result["load"] = os.getloadavg()
        result["rss_after"] = [rss_mib(p) for p in pids]
    tally.closing = True
    for transport in transports:
        transport.close()
    for reader in readers:
        reader.settle()
    for editor in editors:
        await editor.aclose()
    latencies = [
        (a[kra_id] - t0) * 1000
        for kra_id, t0 in sent.items()
        for a in tally.arrivals
        if kra_id in a
    ]
    per_edit = [
        [(a[kra_id] - t0) * 1000 for a in tally.arrivals if kra_id in a]
        for kra_id, t0 in sent.items()
    ]
    per_server = []
    for k in range(len(hosts)):
        own = tally.arrivals[k * args.streams : (k + 1) * args.streams]
        per_server.append(sum(1 for a in own for kra_id in sent if kra_id in a))
    result.update(latencies=latencies, edits=len(sent), patch_ms=patch_ms, tally=tally,
                  per_server=per_server, per_edit=per_edit)  # fmt: skip
    return result


async def patch(editor: httpx.AsyncClient, kra_id: int, title: str) -> None:
    r = await editor.patch(f"/api/v1/areas/{SLUG}/plan/kras/{kra_id}", json={"title": title})
    assert r.status_code == 200, r.text[:300]


def report(args: argparse.Namespace, r: dict[str, object], logs: list[str]) -> None:
    tally: Tally = r["tally"]  # type: ignore[assignment]
    latencies: list[float] = r["latencies"]  # type: ignore[assignment]
    servers = len(logs)
    print(
        f"\nlive updates across {servers} workers on PostgreSQL: {args.streams} streams each, "
        f"{r['edits']} edits {args.spacing} s apart, made on the workers in turn "
        "(target: 100 % delivered, p99 under 500 ms)"
    )
    print(f"{'streams ready (got `ready`)':44} {tally.ready:>10} of {tally.count}")
    print(f"{'time to open them':44} {r['open_s']:10.2f} s")
    if tally.failed:
        kinds = {k: tally.failed.count(k) for k in set(tally.failed)}
        print(f"{'streams that failed or closed':44} {len(tally.failed):>10} {kinds}")
    if tally.ready != tally.count:
        print(f"STALLED: not every stream was ready after {args.open_timeout:.0f} s; no edits.")
        return
    expected = tally.count * int(r["edits"])  # type: ignore[call-overload]
    share = 100 * len(latencies) / expected if expected else 0.0
    print(f"{'events delivered':44} {len(latencies):>10} of {expected} ({share:.2f} %)")
    for k, got in enumerate(r["per_server"]):  # type: ignore[attr-defined]
        print(f"{'  to the streams of worker ' + 'AB'[k]:44} {got:>10} of {expected // servers}")
    if tally.other:
        print(f"{'other events (resync, ...)':44} {tally.other:>10}")
    if latencies:
        for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
            print(f"{'delivery latency ' + name:44} {percentile(latencies, q):10.1f} ms")
        print(f"{'delivery latency max':44} {max(latencies):10.1f} ms")
    per_edit: list[list[float]] = r["per_edit"]  # type: ignore[assignment]
    medians = ", ".join(f"{statistics.median(e):.0f}" if e else "-" for e in per_edit)
    print(f"{'median per edit (ms)':44} {medians}")
    lasts = ", ".join(f"{max(e):.0f}" if e else "-" for e in per_edit)
    print(f"{'last stream reached, per edit (ms)':44} {lasts}")
    cpu: list[float] = r["cpu_ms"]  # type: ignore[assignment]
    edits = int(r["edits"])  # type: ignore[call-overload]
    shown = " / ".join(f"{c / edits:.0f}" for c in cpu)
    print(f"{'server CPU per edit (ms, A / B)':44} {shown:>10}  (PATCH, NOTIFY, fan-out, pings)")
    load = ", ".join(f"{v:.1f}" for v in r["load"])  # type: ignore[attr-defined]
    print(f"{'machine load average (1, 5, 15 min)':44} {load:>10}  on {os.cpu_count()} CPUs")
    patch_ms: list[float] = r["patch_ms"]  # type: ignore[assignment]
    print(f"{'PATCH response time median':44} {statistics.median(patch_ms):10.1f} ms")
    for label, key in (("idle", "rss_idle"), ("streams open", "rss_open"), ("after", "rss_after")):
        values = r.get(key) or []
        shown = " / ".join(f"{v:.0f}" if v else "?" for v in values)  # type: ignore[union-attr]
        print(f"{'server RSS (MiB, A / B), ' + label:44} {shown:>10}")
    for k, text_ in enumerate(logs):
        errors = [ln for ln in text_.splitlines() if "Error" in ln or "ERROR" in ln]
        if errors:
            print(f"worker {'AB'[k]} log: {len(errors)} error lines, e.g. {errors[-1][:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=2500, help="open streams per worker")
    parser.add_argument("--edits", type=int, default=10, help="edits broadcast to the streams")
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between edits")
    parser.add_argument("--open-batch", type=int, default=50, help="streams per wave and worker")
    parser.add_argument("--open-timeout", type=float, default=180, help="seconds to open them")
    parser.add_argument(
        "--database-url", default=os.environ.get("PHONLAP_TEST_DATABASE_URL", ""),
        help="a PostgreSQL database to empty and use (default: PHONLAP_TEST_DATABASE_URL)",
    )  # fmt: skip
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("needs PostgreSQL: run it through .ci/postgres.sh or pass --database-url")
    raise_fd_limit(args.streams * 4 + 1024)
    cookie, token, kra_ids = prepare(args.database_url, args.edits + 2)
    with tempfile.TemporaryDirectory() as tmp:
        servers = [start_server(args.database_url, f"{tmp}/var", Path(tmp) / f"{n}.log")
                   for n in "ab"]  # fmt: skip
        try:
            hosts = [host for _, host, _ in servers]
            pids = [process.pid for process, _, _ in servers]
            result = asyncio.run(run(hosts, pids, cookie, token, kra_ids, args))
        finally:
            for process, _, sock in servers:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                sock.close()
        logs = [(Path(tmp) / f"{n}.log").read_text(errors="replace") for n in "ab"]
    report(args, result, logs)


if __name__ == "__main__":
    main()
