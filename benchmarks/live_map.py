"""The two speed requirements of the outcome map and live updates (issue 6):

1. The map as JSON (`/api/v1/areas/{slug}/map`) for a plan of 8 KRAs, 40 KPIs (each linked to
   1-2 KRAs), 80 actions (each linked to 1-3 KPIs) and 12 semesters of values per KPI: median
   and p95 server time and SQL queries, through the HTTP route (signed in, TestClient) and as
   direct calls (the read model, the figure, the route's function). Target: under 50 ms.
2. One uvicorn worker (a subprocess on 127.0.0.1, its own SQLite database) holding 1,000 open
   event streams; each edit (a PATCH of a KRA through the API) reaches every stream. Delivery
   latency per stream and edit is the time its `plan` event arrived minus the time just before
   the PATCH was sent (one warm-up edit first, not counted). Target: p99 under 250 ms.
   Streams open in waves of `--open-batch` (10); `--open-batch 0` opens them all at once, as
   browsers reconnecting after a restart would, and reports a stall if they are not all ready
   within `--open-timeout` seconds.

    .venv/bin/python benchmarks/live_map.py [--rounds 30] [--gc-freeze] [--streams 1000]
        [--edits 10] [--spacing 0.5] [--open-batch 10] [--open-timeout 90] [--only map|live]
"""

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx2 as httpx  # the dev extras install httpx2 (as Starlette's TestClient wants)
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session
from starlette.requests import Request

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.api.maps import read_map  # noqa: E402
from app.db import get_session, make_engine, sessions_on  # noqa: E402
from app.i18n import set_locale  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Plan  # noqa: E402
from app.outcome_map import map_figure  # noqa: E402
from app.periods import period_span, periods_of  # noqa: E402
from app.services import accounts, maps, progress, seeding  # noqa: E402
from app.web import auth  # noqa: E402
from app.web.maps import figure_names  # noqa: E402
from tests.factories import (  # noqa: E402
    ACTOR,
    agency,
    area,
    doe_item,
    make,
    make_action,
    make_kpi,
    make_kra,
    make_plan,
    make_user,
    theme,
)

SLUG = "krabi"
PERIODS = 12


# ---- part 1: the map as JSON ----------------------------------------------------------------


def semesters_begun(today: date, count: int) -> list[str]:
    """The last `count` semesters that had begun by `today`, in time order."""
    year = today.year + 543
    found = periods_of("semester", year - count, year + 1)
    return [p for p in found if period_span(p).starts_on <= today][-count:]


def build_map_plan(session: Session, seed: int = 6) -> tuple[Plan, list[str]]:
    """8 KRAs, 40 semester KPIs (1-2 KRAs each), 80 actions (1-3 KPIs each) and 12 semesters of
    values per KPI, through the services as in real use. Returns the plan and its periods."""
    rng = random.Random(seed)
    periods = semesters_begun(date.today(), PERIODS)
    first, last = int(periods[0][2:6]), int(periods[-1][2:6]) + 1
    plan = make_plan(session, SLUG, vision="ผู้เรียนเก่ง ดี มีสุข", span_start_be=first,
                     span_end_be=last)  # fmt: skip
    lp1 = doe_item(session, "LP1").id
    make(session, plan, "doe", text="ผู้เรียนอ่านออกเขียนได้", item_ids=[lp1])
    make(session, plan, "problems", problem="เด็กอ่านไม่คล่อง", causes="ขาดครู")
    lead = agency(session, SLUG).id
    kras = [
        make_kra(session, plan, f"KRA{n}", doe_item_ids=[lp1], theme_id=theme(session).id).id
        for n in range(1, 9)
    ]
    kpis = []
    for n in range(1, 41):
        kpi = make_kpi(
            session,
            plan,
            f"KPI{n}",
            period_type="semester",
            baseline_period=periods[0],
            baseline_value="60",
            target_period=f"AY{last}-S2",
            target_value="80",
            kra_ids=rng.sample(kras, rng.randint(1, 2)),
            lead_agency_id=lead,
        )
        kpis.append(kpi)
    for n in range(1, 81):
        linked = rng.sample(kpis, rng.randint(1, 3))
        make_action(
            session,
            plan,
            f"ACT{n}",
            kpi_ids=[k.id for k in linked],
            kra_ids=[rng.choice(kras)],
            lead_agency_id=lead,
            status=rng.choice(["not_started", "on_track", "delayed", "done"]),
        )
    for kpi in kpis:  # a value for every semester: one commit (and one live event) per KPI
        level = rng.uniform(55, 70)
        for period in periods:
            level = min(100.0, max(0.0, level + rng.uniform(-2, 3)))
            progress.write_measurement(
                session, ACTOR, plan, kpi, period, {"value": round(level, 1)}
            )
        progress.finish(session, plan, "measurement", kpi.id)
    return plan, periods


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class GcWatch:
    """Full (generation 2) garbage collections and their pauses while active."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((time.perf_counter() - self._start) * 1000)

    def __enter__(self) -> "GcWatch":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


Row = tuple[str, float, float, float, int, list[float]]


def timed(name: str, rounds: int, run, queries: dict[str, int]) -> Row:  # noqa: ANN001
    """Median, p95 and max in ms over `rounds` calls (after one warm-up), queries per call, and
    the pauses of full garbage collections meanwhile."""
    run()
    times = []
    with GcWatch() as watch:
        for _ in range(rounds):
            queries["n"] = 0
            start = time.perf_counter()
            run()
            times.append((time.perf_counter() - start) * 1000)
    return (
        name,
        statistics.median(times),
        percentile(times, 95),
        max(times),
        queries["n"],
        watch.pauses,
    )


def map_benchmark(rounds: int, freeze: bool = False) -> None:
    set_locale("th")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/map.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            seeding.seed_reference(session)
            plan, periods = build_map_plan(session)
            admin = make_user(session, "admin")
            cookie = auth.sign(accounts.start_session(session, user=admin))
        print(f"built the plan in {time.perf_counter() - started:.1f} s")
        queries = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *a: queries.update(n=queries["n"] + 1))
        app = create_app()

        app.dependency_overrides[get_session] = sessions_on(engine)
        middle = periods[len(periods) // 2]
        if freeze:  # what a server could do after start-up: older objects skip full collections
            gc.collect()
            gc.freeze()
        with Session(engine, expire_on_commit=False) as session:
            the_area = area(session, SLUG)
            request = Request({"type": "http", "app": app, "method": "GET", "headers": []})
            link = lambda layer, i: f"/{layer}/{i}"  # noqa: E731
            view = maps.map_view(session, the_area, plan, link)
            names = figure_names(the_area)
            steps = len(view.periods)
            nodes = {layer: 0 for layer in ("doe", "vision", "kra", "kpi", "action")}
            for node in view.data.nodes:
                nodes[node.layer] = nodes.get(node.layer, 0) + 1
            print(
                f"plan: {nodes['kra']} KRAs, {nodes['kpi']} KPIs, {nodes['action']} actions, "
                f"{len(view.data.edges)} links; slider: {steps} periods "
                f"({view.periods[0]} .. {view.periods[-1]}), shown: {view.period}"
            )
            assert steps >= PERIODS and all(len(r.actuals) == PERIODS for r in view.rows.values())
            body = read_map(request, the_area, plan, session).body
            print(f"JSON size: {len(body) / 1024:.0f} KiB")
            session.expire_all()
            calls = {
                "map_view() (the read model)": lambda: maps.map_view(session, the_area, plan, link),
                "map_figure() (Plotly dict)": lambda: map_figure(view.data, names),
                "map_figure() + json.dumps": lambda: json.dumps(
                    map_figure(view.data, names), ensure_ascii=False
                ),
                "read_map() (the route's function, direct)": lambda: read_map(
                    request, the_area, plan, session
                ),
            }
            rows = [timed(name, rounds, call, queries) for name, call in calls.items()]
        with TestClient(app) as client:
            client.cookies.set(auth.SESSION_COOKIE, cookie)
            for path in (f"/api/v1/areas/{SLUG}/map", f"/api/v1/areas/{SLUG}/map?period={middle}"):

                def get(path: str = path) -> None:
                    response = client.get(path)
                    assert response.status_code == 200, response.text[:300]

                rows.append(timed(f"GET {path} (HTTP)", rounds, get, queries))
        engine.dispose()
    frozen = ", after gc.freeze()" if freeze else ""
    print(f"\nmap JSON, {rounds} rounds{frozen} (target: under 50 ms server time)")
    head = f"{'':52} {'median ms':>9} {'p95 ms':>7} {'max ms':>7} {'queries':>7}  full GCs"
    print(head)
    for name, median, p95, most, n, pauses in rows:
        gcs = f"{len(pauses)} ({', '.join(f'{p:.0f}' for p in pauses)} ms)" if pauses else "0"
        print(f"{name:52} {median:9.1f} {p95:7.1f} {most:7.1f} {n:7d}  {gcs}")


# ---- part 2: 1,000 event streams ------------------------------------------------------------


@dataclass
class Streams:
    count: int
    ready: int = 0
    failed: list[str] = field(default_factory=list)
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: list[dict[int, float]] = field(default_factory=list)  # per stream: KRA id -> time
    other: int = 0  # events other than ready/plan (resync, ...)

    def __post_init__(self) -> None:
        self.arrivals = [{} for _ in range(self.count)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        print(f"file descriptors: soft limit {soft} -> {new}")


def prepare_live_database(url: str, kras: int) -> tuple[str, str, list[int]]:
    """Reference data, a plan with one KRA per edit, an administrator with a browser session
    and an API token. Returns the signed session cookie, the token and the KRA ids."""
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        seeding.seed_reference(session)
        plan = make_plan(session, SLUG, vision="ผู้เรียนเก่ง ดี มีสุข")
        ids = [make_kra(session, plan, f"KRA{n}").id for n in range(1, kras + 1)]
        admin = make_user(session, "admin")
        cookie = auth.sign(accounts.start_session(session, user=admin))
        _, token = accounts.create_token(
            session, actor=ACTOR, user=admin, token_in={"name": "benchmark"}
        )
    engine.dispose()
    return cookie, token, ids


async def read_stream(client: httpx.AsyncClient, url: str, index: int, streams: Streams) -> None:
    try:
        async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as r:
            if r.status_code != 200:
                streams.failed.append(f"HTTP {r.status_code}")
                return
            name = None
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:") and name is not None:
                    now = time.perf_counter()
                    if name == "plan":
                        streams.arrivals[index][json.loads(line[5:])["id"]] = now
                    elif name == "ready":
                        streams.ready += 1
                        if streams.ready == streams.count:
                            streams.all_ready.set()
                    else:
                        streams.other += 1
                elif not line:
                    name = None
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - counted and reported
        streams.failed.append(type(exc).__name__)


async def wait_healthy(base: str, server: subprocess.Popen, log: Path) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log.read_text()[-3000:]}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"the server did not answer /healthz:\n{log.read_text()[-3000:]}")


async def open_streams(
    readers: httpx.AsyncClient, streams: Streams, args: argparse.Namespace
) -> list[asyncio.Task]:
    """Open the streams in waves of `--open-batch` (all at once with 0), each wave waiting for
    its `ready` events; give up after `--open-timeout` seconds."""
    url = f"/areas/{SLUG}/events"
    batch = args.open_batch or args.streams
    deadline = time.perf_counter() + args.open_timeout
    tasks: list[asyncio.Task] = []
    while len(tasks) < args.streams and time.perf_counter() < deadline:
        wave = range(len(tasks), min(args.streams, len(tasks) + batch))
        tasks += [asyncio.create_task(read_stream(readers, url, i, streams)) for i in wave]
        while streams.ready + len(streams.failed) < len(tasks):
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.01)
    return tasks


async def edit(editor: httpx.AsyncClient, kra_id: int, title: str) -> float:
    """PATCH one KRA through the API; returns the time the request was about to be sent."""
    sent = time.perf_counter()
    r = await editor.patch(f"/api/v1/areas/{SLUG}/plan/kras/{kra_id}", json={"title": title})
    assert r.status_code == 200, r.text[:300]
    return sent


async def live_run(
    base: str, pid: int, cookie: str, token: str, kra_ids: list[int], args: argparse.Namespace
) -> dict[str, object]:
    streams = Streams(args.streams)
    result: dict[str, object] = {"rss_idle": rss_mib(pid), "edits": 0}
    limits = httpx.Limits(max_connections=args.streams + 100, max_keepalive_connections=None)
    async with (
        httpx.AsyncClient(
            base_url=base,
            limits=limits,
            timeout=httpx.Timeout(None),
            cookies={auth.SESSION_COOKIE: cookie},
        ) as readers,
        httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as editor,
    ):
        started = time.perf_counter()
        tasks = await open_streams(readers, streams, args)
        result.update(open_s=time.perf_counter() - started, ready=streams.ready)
        result["rss_open"] = rss_mib(pid)
        sent: dict[int, float] = {}
        patch_ms = []
        if streams.ready == args.streams:
            await asyncio.sleep(1.0)  # let the accepts and the first writes settle
            warm_up, *measured = kra_ids
            t0 = await edit(editor, warm_up, "แก้ไขก่อนวัด")  # the route's first call is slow
            result["warm_up_ms"] = (time.perf_counter() - t0) * 1000
            await asyncio.sleep(args.spacing)
            for k, kra_id in enumerate(measured[: args.edits]):
                sent[kra_id] = await edit(editor, kra_id, f"แก้ไขครั้งที่ {k + 1}")
                patch_ms.append((time.perf_counter() - sent[kra_id]) * 1000)
                await asyncio.sleep(args.spacing)
            deadline = time.perf_counter() + 5
            expected = streams.ready * len(sent)
            while time.perf_counter() < deadline:
                if sum(1 for a in streams.arrivals for k in sent if k in a) >= expected:
                    break
                await asyncio.sleep(0.05)
            result["rss_after"] = rss_mib(pid)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = []
    per_edit_max = []
    for kra_id, t0 in sent.items():
        got = [(a[kra_id] - t0) * 1000 for a in streams.arrivals if kra_id in a]
        latencies.extend(got)
        per_edit_max.append(max(got) if got else float("nan"))
    result.update(
        latencies=latencies,
        per_edit_max=per_edit_max,
        patch_ms=patch_ms,
        edits=len(sent),
        complete=sum(1 for a in streams.arrivals if sent and all(k in a for k in sent)),
        failed=streams.failed,
        other=streams.other,
    )
    return result


def live_benchmark(args: argparse.Namespace) -> None:
    raise_fd_limit(args.streams * 2 + 512)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/live.db"
        cookie, token, kra_ids = prepare_live_database(url, args.edits + 1)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PHONLAP_DATABASE_URL": url,
            "PHONLAP_DEMO": "1",
            "PHONLAP_VAR_DIR": f"{tmp}/var",
        }
        command = [
            sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            asyncio.run(wait_healthy(base, server, log))
            result = asyncio.run(live_run(base, server.pid, cookie, token, kra_ids, args))
        finally:
            server.terminate()  # threads stuck on the connection pool delay a clean stop
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log_text = log.read_text(errors="replace")
    report_live(args, result, log_text)


def report_live(args: argparse.Namespace, r: dict[str, object], log_text: str) -> None:
    latencies: list[float] = r["latencies"]  # type: ignore[assignment]
    failed: list[str] = r["failed"]  # type: ignore[assignment]
    waves = f"waves of {args.open_batch}" if args.open_batch else "all at once"
    print(
        f"\nlive updates: {args.streams} streams opened {waves}, {r['edits']} edits "
        f"{args.spacing} s apart (target: p99 under 250 ms)"
    )
    print(f"{'streams ready (got `ready`)':44} {r['ready']:>10} of {args.streams}")
    print(f"{'time to open them':44} {r['open_s']:10.2f} s")
    if failed:
        kinds = {k: failed.count(k) for k in set(failed)}
        print(f"{'streams that failed':44} {len(failed):>10} {kinds}")
    if r["ready"] != args.streams:
        pool = log_text.count("QueuePool limit")
        print(
            f"STALLED: not every stream was ready after {args.open_timeout:.0f} s; no edits made. "
            f"Server log: {pool} lines 'QueuePool limit ... timed out' (each error is logged "
            "twice)."
        )
        return
    print(f"{'streams that got every event':44} {r['complete']:>10} of {args.streams}")
    expected = int(r["ready"]) * int(r["edits"])  # type: ignore[call-overload]
    print(f"{'events delivered':44} {len(latencies):>10} of {expected}")
    if r["other"]:
        print(f"{'other events (resync, ...)':44} {r['other']:>10}")
    if latencies:
        for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
            print(f"{'delivery latency ' + name:44} {percentile(latencies, q):10.1f} ms")
        print(f"{'delivery latency max':44} {max(latencies):10.1f} ms")
        print(f"{'delivery latency mean':44} {statistics.fmean(latencies):10.1f} ms")
    edge = ", ".join(f"{v:.0f}" for v in r["per_edit_max"])  # type: ignore[attr-defined]
    print(f"{'last stream reached, per edit (ms)':44} {edge}")
    print(f"{'warm-up edit before measuring (ms, PATCH)':44} {r['warm_up_ms']:10.1f}")
    patch: list[float] = r["patch_ms"]  # type: ignore[assignment]
    print(f"{'PATCH response time median':44} {statistics.median(patch):10.1f} ms")
    for label, key in (("idle", "rss_idle"), ("streams open", "rss_open"), ("after", "rss_after")):
        value = r.get(key)
        text = f"{value:10.1f} MiB" if isinstance(value, float) else "         ?"
        print(f"{'server RSS, ' + label:44} {text}")
    errors = [ln for ln in log_text.splitlines() if "Error" in ln or "ERROR" in ln]
    if errors:
        print(f"server log: {len(errors)} error lines, e.g. {errors[-1][:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="map requests per measurement")
    parser.add_argument("--streams", type=int, default=1000, help="open event streams")
    parser.add_argument("--edits", type=int, default=10, help="edits broadcast to the streams")
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between edits")
    parser.add_argument(
        "--open-batch", type=int, default=10, help="streams opened at a time (0: all at once)"
    )
    parser.add_argument("--open-timeout", type=float, default=90, help="seconds to open them")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="map: gc.freeze() before measuring"
    )
    parser.add_argument("--only", choices=["map", "live"], help="run one part only")
    args = parser.parse_args()
    if args.only != "live":
        map_benchmark(args.rounds, args.gc_freeze)
    if args.only != "map":
        live_benchmark(args)


if __name__ == "__main__":
    main()
