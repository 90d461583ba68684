"""Every script under benchmarks/ still runs in the environment `make test` installs: each is
imported in a fresh interpreter (their imports, the app names they use), and the import
benchmark runs end to end at a tiny size."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))

IMPORT_EACH = """
import importlib.util, sys
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location(path.rsplit("/", 1)[-1][:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.main), path
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_every_benchmark_imports_in_a_fresh_interpreter() -> None:
    assert {p.name for p in SCRIPTS} >= {"live_map.py", "plan_pages.py", "progress_import.py"}
    done = _run("-c", IMPORT_EACH, *map(str, SCRIPTS))
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_import_benchmark_runs_at_a_tiny_size() -> None:
    done = _run("benchmarks/progress_import.py", "--kpis", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "changed values" in done.stdout and " 40 " in done.stdout  # 2 KPIs × 20 quarters
