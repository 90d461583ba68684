"""Many event streams on one area beside plain sse-starlette (issue 20): one uvicorn worker of
Phonlap on SQLite holding `--streams` open streams of one area (5,000 by default), each edit a
PATCH of a KRA through the API; then, in the same run, one worker of plain sse-starlette
(benchmarks/plain_sse_app.py) holding as many streams, each "edit" a POST that broadcasts one
event. Delivery latency per stream and edit: the time its event arrived minus the time just
before the request was sent. Goal: Phonlap's p99 under 500 ms and within 10 % of the plain one.

    .venv/bin/python benchmarks/live_streams.py [--streams 5000] [--edits 10] [--spacing 1]
        [--open-batch 100] [--open-timeout 240]
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PHONLAP_SECRET_KEY", "benchmark-" + "k" * 40)  # a server as deployed

from benchmarks.live_workers import (  # noqa: E402
    SLUG,
    Tally,
    cpu_seconds,
    open_streams,
    percentile,
    prepare,
    raise_fd_limit,
    start_server,
)


async def trial(host: str, pid: int, cookie: str, path: str, edit, ids: list[int], args) -> dict:  # noqa: ANN001
    """Open the streams, make the edits, and read when each event arrived."""
    tally = Tally(args.streams)
    started = time.perf_counter()
    transports, readers = await open_streams([host], cookie, tally, args, path=path)
    opened = time.perf_counter() - started
    sent: dict[int, float] = {}
    cpu = 0.0
    if tally.ready == tally.count:
        await asyncio.sleep(1.0)
        await edit(ids[0])  # the route's first call, not counted
        await asyncio.sleep(args.spacing)
        before = cpu_seconds(pid)
        for kra_id in ids[1 : args.edits + 1]:
            sent[kra_id] = time.perf_counter()
            await edit(kra_id)
            await asyncio.sleep(args.spacing)
        await asyncio.sleep(3)
        cpu = (cpu_seconds(pid) - before) * 1000 / max(1, len(sent))
    tally.closing = True
    for transport in transports:
        transport.close()
    for reader in readers:
        reader.settle()
    latencies = [(a[i] - t0) * 1000 for i, t0 in sent.items() for a in tally.arrivals if i in a]
    per_edit = [
        percentile([(a[i] - t0) * 1000 for a in tally.arrivals if i in a] or [0], 99)
        for i, t0 in sent.items()
    ]
    return {"tally": tally, "opened": opened, "sent": len(sent), "latencies": latencies,
            "cpu": cpu, "per_edit": per_edit}  # fmt: skip


def line(name: str, r: dict, streams: int) -> str:
    tally, lat = r["tally"], r["latencies"]
    if tally.ready != tally.count:
        return f"{name:22} STALLED: {tally.ready} of {tally.count} streams ready"
    expected = streams * r["sent"]
    return (
        f"{name:22} {100 * len(lat) / expected:8.2f} % {percentile(lat, 50):8.0f} "
        f"{percentile(lat, 95):8.0f} {percentile(lat, 99):8.0f} {max(lat):8.0f} "
        f"{r['cpu']:10.0f} {r['opened']:8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between edits")
    parser.add_argument("--open-batch", type=int, default=100, help="streams opened per wave")
    parser.add_argument("--open-timeout", type=float, default=240)
    args = parser.parse_args()
    raise_fd_limit(args.streams * 2 + 1024)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/live.db"
        cookie, token, ids = prepare(url, args.edits + 1)
        for name, target in (
            ("plain sse-starlette", "benchmarks.plain_sse_app:create_app"),
            ("Phonlap", "app.main:create_app"),
        ):
            process, host, sock = start_server(url, tmp, Path(tmp) / "server.log", target)
            try:
                results[name] = asyncio.run(_run(name, host, process.pid, cookie, token, ids, args))
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:  # streams still closing: no need to wait
                    process.kill()
                    process.wait()
                sock.close()
    print(
        f"\n{args.streams} streams on one area, one worker, {args.edits} edits "
        f"{args.spacing:g} s apart; latencies in ms (goal: Phonlap p99 < 500, within 10 %)"
    )
    head = f"{'':22} {'delivered':>10} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
    print(f"{head} {'CPU/edit':>10} {'open s':>8}")
    for name, r in results.items():
        print(line(name, r, args.streams))
    for name, r in results.items():
        print(f"{name:22} p99 of each edit: {' '.join(f'{v:.0f}' for v in r['per_edit'])}")
    plain, ours = (results[n]["latencies"] for n in ("plain sse-starlette", "Phonlap"))
    if plain and ours:
        ratio = percentile(ours, 99) / percentile(plain, 99)
        print(f"Phonlap's p99 / plain p99: {ratio:.2f} (goal ≤ 1.10)")
    print(f"machine load average: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


async def _run(name: str, host: str, pid: int, cookie: str, token: str, ids, args) -> dict:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=120) as client:
        for _ in range(600):  # until the server has started
            try:
                await client.get("/healthz" if name == "Phonlap" else "/docs")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        if name == "Phonlap":
            headers = {"Authorization": f"Bearer {token}"}

            async def edit(kra_id: int) -> None:
                answer = await client.patch(
                    f"/api/v1/areas/{SLUG}/plan/kras/{kra_id}",
                    json={"title": f"แก้ไข {kra_id}"},
                    headers=headers,
                )
                assert answer.status_code == 200, answer.text[:300]

            return await trial(host, pid, cookie, f"/areas/{SLUG}/events", edit, ids, args)

        async def fire(event_id: int) -> None:
            assert (await client.post(f"/fire/{event_id}")).status_code == 200

        return await trial(host, pid, cookie, "/events", fire, ids, args)


if __name__ == "__main__":
    main()
