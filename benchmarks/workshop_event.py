"""A national workshop on one server (issue 23): one uvicorn worker on SQLite (or on the
PostgreSQL database of `--database-url`), 11 stations (one open workshop session per area),
720 guests joining over 2 minutes from their "phones", each posting 3 contributions and putting
5 dots on the vote its station's facilitator opens; each station has a facilitator's board and a
projector (the read-only board) listening to the area's event stream and reloading the board on
its events as the page's htmx does (per element one request in flight, the next one queued): a
guest's post or join (`contribution`, `participant`) fetches the new cards only (`part=new`), a
dot (`vote`) the vote's panel (`part=vote`), any other change (`workshop`) the whole board;
each guest's phone loads the guest page after joining, and its poller asks every 20 s whether its
vote or round section changed, with the keys of what they show, as the page's htmx does (204
while both hold);
an editor saves plan changes through the API meanwhile.

Figures (goal: contribution → board p99 < 500 ms, vote → projector p99 < 500 ms, no errors,
server RSS < 400 MB):
- contribution → board: from just before a guest's POST to the first board reload (on that
  station's facilitator board) whose HTML holds the contribution's text.
- vote → projector: from just before a guest's dot POST to the end of the first projector reload
  showing as many dots as had been cast with it: the k-th dot answered at a station counts as
  shown when the projector shows k dots or more (dots are only added, never taken back, here).
- errors: any answer other than the one expected (with its route and status), streams that failed.

    .venv/bin/python benchmarks/workshop_event.py [--guests 720] [--stations 11]
        [--join-seconds 120] [--database-url URL]
"""

import argparse
import asyncio
import html
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from app import migrate  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.middleware import SESSION_COOKIE  # noqa: E402
from app.models import Area  # noqa: E402
from app.services import accounts, seeding, workshops  # noqa: E402
from app.web import auth  # noqa: E402
from benchmarks.live_workers import (  # noqa: E402
    cpu_seconds,
    percentile,
    raise_fd_limit,
    rss_mib,
    start_server,
)
from tests.factories import ACTOR, make_kra, make_plan, make_user  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MARKER = re.compile(r"M\d+x\d+x\d")
VOTE_FORM = re.compile(r'action="(/join/[^"]+/votes/\d+)"')
VOTE_ITEM = re.compile(r'name="contribution_id" value="(\d+)"')
POLLER = re.compile(r'id="guest-poll" hidden hx-get="([^"]+)"')
DOTS_SHOWN = re.compile(
    r'class="vote-facts">.*?<strong>[\d,]+</strong>.*?<strong>([\d,]+)</strong>'
)
KINDS = ("problem", "kpi_idea", "action_idea")
VOTED_KIND = "kpi_idea"
EVENT = re.compile(rb"event: ?([\w-]+)\r?\n")
AFTER = re.compile(r'id="board-after-\d+" name="after" value="(\d+)"')
PARTS = {b"contribution": "new", b"participant": "new", b"workshop": "whole", b"resync": "whole"}


@dataclass
class Station:
    slug: str
    workshop_id: int
    code: str
    kra_id: int
    posts: dict[str, float] = field(default_factory=dict)  # marker -> sent
    dots: list[tuple[float, float]] = field(default_factory=list)  # (sent, answered)


@dataclass
class Listener:
    """A board on a screen: its event stream and its reloads (start, end, HTML)."""

    station: Station
    path: str
    events: int = 0
    after: int = 0  # the newest card shown
    busy: set[str] = field(default_factory=set)  # the parts being fetched
    queued: set[str] = field(default_factory=set)
    reloads: list[tuple[float, float]] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)  # marker -> first shown
    dots: list[tuple[float, int]] = field(default_factory=list)  # (reloaded, dots shown)
    readonly: bool = False
    failed: list[str] = field(default_factory=list)


@dataclass
class Run:
    errors: Counter = field(default_factory=Counter)
    rss: list[float] = field(default_factory=list)
    requests: int = 0
    done: bool = False
    cpu: tuple[float, float] = (0.0, 0.0)  # CPU seconds: the server's, this client's
    cpu_at: list[tuple[float, float]] = field(default_factory=list)  # (time, server CPU seconds)
    t0: float = 0.0  # when the guests started


def prepare(url: str, stations: int) -> tuple[str, str, list[Station]]:
    """A migrated, seeded database: a plan with a KRA and an open workshop per station's area,
    an administrator (who may facilitate every area) with a browser session and an API token."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(url)
    out: list[Station] = []
    with Session(engine, expire_on_commit=False) as session:
        seeding.seed_reference(session)
        admin = make_user(session, "admin")
        cookie = auth.sign(accounts.start_session(session, user=admin))
        _, token = accounts.create_token(session, actor=ACTOR, user=admin, token_in={"name": "b"})
        areas = session.exec(select(Area).order_by(Area.id)).all()[:stations]
        for area in areas:
            plan = make_plan(session, area.slug, vision="ผู้เรียนเก่ง ดี มีสุข")
            kra = make_kra(session, plan, "KRA1")
            workshop = workshops.create_session(
                session,
                actor=ACTOR,
                area_id=area.id,
                workshop_in={"title": f"สถานี {area.name_th}"},
            )
            out.append(Station(area.slug, workshop.id, workshop.join_code, kra.id))
    engine.dispose()
    return cookie, token, out


def cookies_of(answer: httpx.Response, jar: dict[str, str]) -> None:
    for header in answer.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


class Streams(asyncio.Protocol):
    """One event stream read raw: tells its listener of each event (name, data)."""

    def __init__(self, request: bytes, on_event, listener: Listener) -> None:  # noqa: ANN001
        self.request, self.on_event, self.listener = request, on_event, listener
        self.ready = asyncio.get_running_loop().create_future()
        self.closing = False
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        *events, self.buffer = (self.buffer + data).split(b"\r\n\r\n")
        for event in events:
            if not (found := EVENT.search(event)):
                continue
            name = found.group(1)
            if name == b"ready" and not self.ready.done():
                self.ready.set_result(True)
            elif name.startswith(b"vote-"):  # the vote's panel itself, as the page swaps it in
                self.listener.events += 1
                if shown := DOTS_SHOWN.search(event.decode()):
                    dots = int(shown.group(1).replace(",", ""))
                    self.listener.dots.append((time.perf_counter(), dots))
            elif name in PARTS:
                self.listener.events += 1
                self.on_event(self.listener, PARTS[name])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            self.listener.failed.append(type(exc).__name__ if exc else "closed by server")
        if not self.ready.done():
            self.ready.set_result(False)


async def main_async(args: argparse.Namespace, host: str, pid: int, cookie: str, token: str,
                     stations: list[Station]) -> tuple[Run, list[Listener], float]:  # fmt: skip
    run = Run()
    rng = random.Random(23)
    # A connection idle for uvicorn's keep-alive timeout (5 s) is closed by the server; one the
    # client reuses at that moment fails ("Server disconnected"). A browser sends such a request
    # again on a new connection; httpx does not, so its idle connections expire first (4 s).
    limits = httpx.Limits(
        max_connections=args.connections,
        max_keepalive_connections=args.connections,
        keepalive_expiry=4,
    )
    client = httpx.AsyncClient(base_url=f"http://{host}", timeout=60, limits=limits)
    for _ in range(600):  # until the server has started
        try:
            await client.get("/healthz")
            break
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    admin = {SESSION_COOKIE: cookie}

    async def request(kind: str, method: str, url: str, jar: dict[str, str] | None = None,
                      expect: tuple[int, ...] = (200,), **kw) -> httpx.Response | None:  # fmt: skip
        headers = kw.pop("headers", {})
        if jar is not None:
            headers["Cookie"] = cookie_header(jar)
        run.requests += 1
        try:
            answer = await client.request(method, url, headers=headers, **kw)
        except httpx.HTTPError as exc:
            run.errors[(kind, type(exc).__name__)] += 1
            return None
        if jar is not None:
            cookies_of(answer, jar)
        if answer.status_code not in expect:
            run.errors[(kind, answer.status_code)] += 1
            return None
        return answer

    # the screens: a facilitator's board and a projector per station
    listeners: list[Listener] = []
    loop = asyncio.get_running_loop()

    def on_event(listener: Listener, part: str) -> None:
        if part in listener.busy:
            listener.queued.add(part)
        else:
            listener.busy.add(part)
            loop.create_task(reload(listener, part))

    async def reload(listener: Listener, part: str) -> None:
        while True:
            listener.queued.discard(part)
            started = time.perf_counter()
            params = {"part": "new", "after": listener.after} if part == "new" else {}
            if listener.readonly:
                params = {**params, "readonly": "true"}
            answer = await request(f"board {part}", "GET", listener.path, dict(admin),
                                   headers={"HX-Request": "true"}, params=params)  # fmt: skip
            ended = time.perf_counter()
            listener.reloads.append((started, ended))
            if answer is not None:
                if shown_after := AFTER.search(answer.text):
                    listener.after = int(shown_after.group(1))
                for marker in set(MARKER.findall(answer.text)):
                    listener.seen.setdefault(marker, ended)
                if shown := DOTS_SHOWN.search(answer.text):  # (a whole board)
                    listener.dots.append((ended, int(shown.group(1).replace(",", ""))))
            if part not in listener.queued:
                listener.busy.discard(part)
                return

    transports = []
    admin_cookie = f"{SESSION_COOKIE}={cookie}"
    for station in stations:
        base = f"/areas/{station.slug}/workshops/{station.workshop_id}/board"
        for path in (base, base + "?readonly=true"):  # the facilitator's, the projector's
            listener = Listener(station, path.replace("?readonly=true", ""))
            if path.endswith("readonly=true"):
                listener.readonly = True
            listeners.append(listener)
            raw = (f"GET /areas/{station.slug}/events HTTP/1.1\r\nHost: {host}\r\n"
                   f"Cookie: {admin_cookie}\r\nAccept: text/event-stream\r\n\r\n").encode()  # fmt: skip
            ip, port = host.split(":")
            transport, protocol = await loop.create_connection(
                lambda r=raw, li=listener: Streams(r, on_event, li), ip, int(port)
            )
            transports.append((transport, protocol))
    for _, protocol in transports:
        await protocol.ready

    # the facilitators' CSRF token (one browser for all the boards)
    page = await request("board page", "GET", f"/areas/{stations[0].slug}/workshops/"
                         f"{stations[0].workshop_id}", admin)  # fmt: skip
    admin_csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]

    t0 = run.t0 = time.perf_counter()
    vote_at = args.join_seconds + args.post_gap * 1.5
    end_at = vote_at + args.vote_seconds + 25

    async def at(moment: float) -> None:
        await asyncio.sleep(max(0.0, t0 + moment - time.perf_counter()))

    async def guest(n: int, station: Station) -> None:
        jar: dict[str, str] = {}
        await at(rng.uniform(0, args.join_seconds))
        page = await request("join page", "GET", f"/join/{station.code}", jar)
        if page is None:
            return
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        joined = await request("join", "POST", f"/join/{station.code}", jar, expect=(303,),
                               data={"display_name": f"ผู้เข้าร่วม {n}", "csrf_token": csrf})  # fmt: skip
        if joined is None:
            return
        page = await request("guest page", "GET", joined.headers["location"], jar)
        if page is None:
            return
        started = time.perf_counter() - t0
        hx = {"HX-Request": "true"}
        # the page's poller asks every 20 s, as htmx does, with the keys of the vote and round
        # sections it shows (204 while both hold; else the new sections and keys)
        found = POLLER.search(page.text)
        poller = html.unescape(found.group(1)) if found else None
        dots_cast = asyncio.Event()

        async def poll(every: float) -> None:
            nonlocal poller
            next_poll = time.perf_counter() - t0 + every
            while time.perf_counter() - t0 < end_at and poller:
                await at(next_poll)
                next_poll += every
                answer = await request("poll", "GET", poller, jar, headers=dict(hx),
                                       expect=(200, 204))  # fmt: skip
                if answer is None or answer.status_code == 204:
                    continue
                if found := POLLER.search(answer.text):
                    poller = html.unescape(found.group(1))
                if not dots_cast.is_set() and (form := VOTE_FORM.search(answer.text)):
                    dots_cast.set()
                    await vote(form.group(1), VOTE_ITEM.findall(answer.text))

        async def vote(url: str, items: list[str]) -> None:
            for _ in range(args.dots if items else 0):  # 5 dots a few seconds apart
                await asyncio.sleep(rng.uniform(1, args.dot_gap))
                sent = time.perf_counter()
                answer = await request("dot", "POST", url, jar, headers=dict(hx),
                                       data={"contribution_id": rng.choice(items),
                                             "csrf_token": csrf})  # fmt: skip
                if answer is not None:
                    station.dots.append((sent, time.perf_counter()))

        polls = [asyncio.create_task(poll(20))]
        for i, kind in enumerate(KINDS):
            await at(started + args.post_gap * (i + rng.uniform(0.2, 0.8)))
            marker = f"M{n}x{station.workshop_id}x{i}"
            sent = time.perf_counter()
            station.posts[marker] = sent
            text = f"{marker} แนวคิดจากโต๊ะ: ครูและชุมชนร่วมกันพัฒนาผู้เรียนด้านการอ่าน"
            await request("contribution", "POST", f"/join/{station.code}/contributions", jar,
                          data={"kind": kind, "text": text, "csrf_token": csrf},
                          headers=dict(hx))  # fmt: skip
        await asyncio.gather(*polls)

    async def facilitator(station: Station) -> None:
        await at(vote_at + rng.uniform(0, 5))
        base = f"/areas/{station.slug}/workshops/{station.workshop_id}"
        await request("vote open", "POST", f"{base}/votes", dict(admin), expect=(303,),
                      data={"scope": f"kind:{VOTED_KIND}", "mode": "dots", "dots": str(args.dots),
                            "csrf_token": admin_csrf})  # fmt: skip

    async def editor() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        k = 0
        while time.perf_counter() - t0 < end_at:
            station = stations[k % len(stations)]
            await request("plan edit", "PATCH",
                          f"/api/v1/areas/{station.slug}/plan/kras/{station.kra_id}",
                          json={"title": f"ผลลัพธ์หลักที่ปรับในเวที ครั้งที่ {k + 1}"},
                          headers=headers)  # fmt: skip
            k += 1
            await asyncio.sleep(args.edit_gap)

    async def sample_rss() -> None:
        while not run.done:
            if (value := rss_mib(pid)) is not None:
                run.rss.append(value)
            run.cpu_at.append((time.perf_counter(), cpu_seconds(pid)))
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample_rss())
    cpu_before, client_before = cpu_seconds(pid), time.process_time()
    per_station = [args.guests // len(stations) + (1 if i < args.guests % len(stations) else 0)
                   for i in range(len(stations))]  # fmt: skip
    tasks = [guest(n, station) for station, count in zip(stations, per_station, strict=True)
             for n in range(count)]  # fmt: skip
    tasks += [facilitator(s) for s in stations] + [editor()]
    await asyncio.gather(*tasks)
    await asyncio.sleep(3)  # the last paced events arrive
    while any(listener.busy for listener in listeners):
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - t0
    run.cpu = (cpu_seconds(pid) - cpu_before, time.process_time() - client_before)
    run.done = True
    await sampler
    for transport, protocol in transports:
        protocol.closing = True
        transport.close()
    await client.aclose()
    return run, listeners, elapsed


def figures(run: Run, listeners: list[Listener], stations: list[Station]) -> dict[str, object]:
    board_ms: list[float] = []
    board_at: list[tuple[float, float]] = []  # (sent, ms), for the timeline
    missing = 0
    for listener in listeners:
        if listener.readonly:
            continue
        for marker, sent in listener.station.posts.items():
            if marker in listener.seen:
                board_ms.append((listener.seen[marker] - sent) * 1000)
                board_at.append((sent, board_ms[-1]))
            else:
                missing += 1
    vote_ms: list[float] = []
    vote_at: list[tuple[float, float]] = []
    for listener in listeners:
        if not listener.readonly:
            continue
        answered = sorted(listener.station.dots, key=lambda dot: dot[1])
        for k, (sent, _) in enumerate(answered, start=1):
            shown = next((at for at, total in listener.dots if total >= k), None)
            if shown is None:
                missing += 1
            else:
                vote_ms.append((shown - sent) * 1000)
                vote_at.append((sent, vote_ms[-1]))
    reloads = [(end - start) * 1000 for li in listeners for start, end in li.reloads]
    answers = [(answered - sent) * 1000 for s in stations for sent, answered in s.dots]
    return {"board": board_ms, "vote": vote_ms, "missing": missing, "reloads": reloads,
            "dots": answers, "board_at": board_at, "vote_at": vote_at}  # fmt: skip


def timeline(pairs: list[tuple[float, float]], t0: float, width: float = 30) -> str:
    """p99 (ms) of what was sent in each `width` seconds of the run: where the time goes up."""
    windows: dict[int, list[float]] = {}
    for sent, ms in pairs:
        windows.setdefault(int((sent - t0) // width), []).append(ms)
    return "  ".join(
        f"{int(k * width)}s:{percentile(v, 99):.0f}" for k, v in sorted(windows.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", type=int, default=720)
    parser.add_argument("--stations", type=int, default=11)
    parser.add_argument("--join-seconds", type=float, default=120, help="guests join over this")
    parser.add_argument(
        "--post-gap", type=float, default=30, help="seconds between a guest's posts"
    )
    parser.add_argument("--dots", type=int, default=5, help="dots per guest")
    parser.add_argument("--dot-gap", type=float, default=8, help="at most this between dots")
    parser.add_argument("--vote-seconds", type=float, default=60, help="the vote stays open")
    parser.add_argument("--edit-gap", type=float, default=2, help="seconds between plan edits")
    parser.add_argument("--connections", type=int, default=200, help="client connections")
    parser.add_argument("--database-url", default="", help="PostgreSQL to empty and use")
    args = parser.parse_args()
    raise_fd_limit(4096)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/event.db"
        cookie, token, stations = prepare(url, args.stations)
        process, host, sock = start_server(url, f"{tmp}/var", Path(tmp) / "server.log")
        try:
            run, listeners, elapsed = asyncio.run(
                main_async(args, host, process.pid, cookie, token, stations)
            )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            sock.close()
        log = (Path(tmp) / "server.log").read_text(errors="replace")
    r = figures(run, listeners, stations)
    board, vote, reloads = r["board"], r["vote"], r["reloads"]
    posts = sum(len(s.posts) for s in stations)
    dots = sum(len(s.dots) for s in stations)
    dialect = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"\nA national workshop on one worker ({dialect}): {len(stations)} stations, "
        f"{args.guests} guests joining over {args.join_seconds:.0f} s, {posts} contributions, "
        f"{dots} dots, {len(listeners)} boards and projectors listening, plan edits every "
        f"{args.edit_gap:g} s; {run.requests} requests in {elapsed:.0f} s"
    )
    print(f"{'':34} {'n':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  (ms; goal p99 < 500)")
    for name, values in (("contribution → board", board), ("vote → projector", vote),
                         ("a board fetch (any part)", reloads),
                         ("a dot's answer", r["dots"])):  # fmt: skip
        if values:
            print(f"{name:34} {len(values):7} {percentile(values, 50):7.0f} "
                  f"{percentile(values, 95):7.0f} {percentile(values, 99):7.0f} "
                  f"{max(values):7.0f}")  # fmt: skip
    for name, key in (("contribution → board", "board_at"), ("vote → projector", "vote_at")):
        if r[key]:
            print(f"  {name} p99 by when sent: {timeline(r[key], run.t0)}")  # type: ignore[arg-type]
    failed = [f for li in listeners for f in li.failed]
    errors = sum(run.errors.values()) + len(failed) + int(r["missing"])  # type: ignore[call-overload]
    print(f"{'errors':34} {errors:7}  {dict(run.errors)} streams failed: {len(failed)}, "
          f"not shown: {r['missing']}")  # fmt: skip
    print(f"{'server RSS peak':34} {max(run.rss or [0]):7.0f} MiB (goal < 400)")
    server_cpu, client_cpu = run.cpu
    print(f"{'CPU busy (server, this client)':34} {100 * server_cpu / elapsed:6.0f} % "
          f"{100 * client_cpu / elapsed:6.0f} %  of one core, over the run")  # fmt: skip
    later = run.cpu_at[20:]  # 10 s after each sample
    spans = zip(run.cpu_at[: len(later)], later, strict=True)
    busiest = max(((c2 - c1) / (t2 - t1) for (t1, c1), (t2, c2) in spans), default=0.0)
    print(f"{'CPU busy, the busiest 10 s (server)':34} {100 * busiest:6.0f} %  of one core")
    print(
        f"machine load average: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs"
    )
    tracebacks = log.count("Traceback")
    if tracebacks:  # each one's exception (its last line), counted, and the first one whole
        raised = Counter(
            next((line for line in part.splitlines() if line and not line[0].isspace()), "?")
            for part in log.split("Traceback (most recent call last):")[1:]
        )
        print(f"server log: {tracebacks} tracebacks: {dict(raised.most_common(5))}")
        print(log[log.index("Traceback") :][:4000])


if __name__ == "__main__":
    main()
