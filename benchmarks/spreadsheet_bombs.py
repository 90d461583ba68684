"""Hostile workbooks against the progress import: for each, whether it is refused, the message,
the wall time and the memory growth of reading it. Each file is built here (tests/bombs.py),
saved, and read in a fresh subprocess, so one case's memory cannot hide another's.

Cases: empty rows (~250 KB and ~2.5 MB, under a declared size of the whole sheet), compact empty
rows (~250 KB), a shared-strings bomb (~100 KB), one row numbered 1,048,576, one row as wide as
Excel allows, malformed sheet XML, a "billion laughs" DTD, a style sheet of 240,000 cell
formats; and, for comparison, a legitimate workbook of 5,000 filled rows, which must be read,
not refused.

    .venv/bin/python benchmarks/spreadsheet_bombs.py [--unguarded]

--unguarded also reads each file the way the import did before the guards (openpyxl's
read-only mode, every row of the sheet as wide as the sheet says it is), each under a 20 s and
3 GB ceiling.
Goal: the 250 KB empty-rows file refused in under a second with under 50 MB memory growth.
"""

import argparse
import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from tests import bombs  # noqa: E402

TIME_LIMIT, MEMORY_LIMIT = 20, 3 * 1024**3


def legitimate() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Progress"
    sheet.append(bombs.HEADER + ("Number measured", "Note"))
    for i in range(5000):
        note = f"สอบทั้งเขต ยกเว้นโรงเรียนขนาดเล็ก {i} แห่ง" * 3
        sheet.append([f"KPI{i % 60}", "ร้อยละนักเรียน ป.1 อ่านออก", "ร้อยละ", f"AY{2566 + i % 5}",
                      "", i * 1.5, 70, 1830, note])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CASES: dict[str, Callable[[], bytes]] = {
    "empty rows, 250 KB": lambda: bombs.empty_rows(250_000),
    "empty rows, 2.5 MB": lambda: bombs.empty_rows(2_500_000),
    "compact empty rows, 250 KB": lambda: bombs.empty_rows(250_000, compact=True),
    "shared strings, 100 KB": lambda: bombs.shared_strings(100_000),
    "row 1,048,576": bombs.deep_row,
    "16,384 columns": bombs.wide_row,
    "malformed XML": bombs.malformed,
    "billion laughs": bombs.entities,
    "240,000 cell formats": bombs.styles,
    "legitimate, 5,000 rows": legitimate,
}

CHILD = """
import json, resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
mode, path = sys.argv[1], sys.argv[2]
if mode == "unguarded":
    resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from app.i18n import set_locale, gettext
from app.services import spreadsheets
from openpyxl import load_workbook
import io
data = open(path, "rb").read()
set_locale("en")

def unguarded():  # the import's loop before the guards
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    keys, n = {{0: "kpi", 3: "period", 5: "actual", 6: "target"}}, 0
    for line in book["Progress"].iter_rows():
        cells = {{keys[i]: c.value for i, c in enumerate(line) if i in keys}}
        n += 1
    return n, []

def guarded():
    return spreadsheets.read_progress_sheet(data)

def read():
    try:
        rows, problems = guarded() if mode == "guarded" else unguarded()
        return rows, "; ".join(gettext(p.msgid, **p.params) for p in problems), bool(problems)
    except MemoryError:
        return 0, "MemoryError", True

if mode == "guarded":  # warm up: the catalogues, lazy imports
    gettext(spreadsheets.read_progress_sheet(b"")[1][0].msgid)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
rows, message, refused = read()
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()  # a second reading, traced (tracing slows it down several times)
read()
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({{"refused": refused, "message": message, "seconds": seconds,
    "rows": rows if isinstance(rows, int) else len(rows),
    "traced_mb": peak / 2**20, "rss_growth_mb": (after - before) / 1024}}))
"""


def run(mode: str, path: Path) -> dict[str, object]:
    code = CHILD.format(root=str(ROOT), memory=MEMORY_LIMIT)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, mode, str(path)],
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT if mode == "unguarded" else None,
        )
    except subprocess.TimeoutExpired:
        return {"message": f"still running after {TIME_LIMIT} s (stopped)"}
    if done.returncode:
        return {"message": f"crashed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout)


def show(name: str, size: int, mode: str, r: dict[str, object]) -> None:
    if "seconds" not in r:
        print(f"{name:28} {size / 1024:9,.0f} KB  {mode:9}  {r['message']}")
        return
    verdict = "refused" if r["refused"] else f"read {r['rows']} rows"
    print(
        f"{name:28} {size / 1024:9,.0f} KB  {mode:9}  {verdict:15} {r['seconds']:7.3f} s "
        f"{r['rss_growth_mb']:7.1f} MB rss {r['traced_mb']:7.1f} MB traced  {r['message']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unguarded", action="store_true", help="also read without the guards")
    args = parser.parse_args()
    print(f"{'case':28} {'file':>12}  {'reader':9}  {'outcome':15} {'wall':>9} {'growth':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in CASES.items():
            data = make()
            path = Path(folder) / "case.xlsx"
            path.write_bytes(data)
            show(name, len(data), "guarded", run("guarded", path))
            if args.unguarded:
                show(name, len(data), "unguarded", run("unguarded", path))


if __name__ == "__main__":
    main()
