"""`phonlap check`: is this installation ready to serve? Each check says ok, warn or fail."""

import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import ROOT, __version__, migrate
from app.config import Settings
from app.db import make_engine

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    level: str
    topic: str
    detail: str


def run(settings: Settings, workers: int) -> list[Finding]:
    return [
        Finding(OK, "version", f"phonlap {__version__}, files in {ROOT}"),
        *configuration(settings),
        *database(settings),
        var_directory(settings),
        pdf(),
        public_url(settings),
        workers_and_database(settings, workers),
    ]


def configuration(settings: Settings) -> list[Finding]:
    problem = settings.serving_problem()
    found = [Finding(FAIL, "secret key", problem)] if problem else []
    if settings.demo:
        found.append(Finding(WARN, "demo mode", "PHONLAP_DEMO is on: demo accounts, built-in key"))
    elif settings.dev:
        found.append(Finding(WARN, "dev mode", "PHONLAP_DEV is on: the built-in key is allowed"))
    if not found:
        found.append(Finding(OK, "configuration", "secret key set, not demo or dev mode"))
    return found


def database(settings: Settings) -> list[Finding]:
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = migrate.current(conn)
    except Exception as exc:
        return [Finding(FAIL, "database", f"{shown} unreachable: {_first_line(exc)}")]
    finally:
        engine.dispose()
    head = migrate.head()
    reached = Finding(OK, "database", f"{shown} answers")
    if current == head:
        return [reached, Finding(OK, "schema", f"at {head} (head)")]
    return [
        reached,
        Finding(FAIL, "schema", f"at {current or 'nothing'}, head is {head}: run phonlap migrate"),
    ]


def var_directory(settings: Settings) -> Finding:
    folder = Path(settings.var_dir).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-"):
            pass
    except OSError as exc:
        return Finding(FAIL, "var directory", f"{folder} is not writable: {exc.strerror or exc}")
    return Finding(OK, "var directory", f"{folder} is writable (evidence files; back it up)")


def pdf() -> Finding:
    from app.services import reports

    try:
        made = reports.render_pdf("<p>ผลลัพธ์ Phonlap</p>")
    except Exception as exc:  # missing Pango/HarfBuzz shows up as OSError or PDFUnavailable
        return Finding(
            FAIL,
            "PDF",
            f"WeasyPrint cannot render ({_first_line(exc)}): apt-get install "
            "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0",
        )
    return Finding(OK, "PDF", f"WeasyPrint renders ({len(made)} bytes)")


def public_url(settings: Settings) -> Finding:
    url = settings.public_url
    if not url:
        return Finding(
            WARN,
            "public URL",
            "PHONLAP_PUBLIC_URL is not set: workshop QR codes use the "
            "address each request came in on",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Finding(FAIL, "public URL", f"{url} is not an http(s) address")
    if loopback_host(parts.hostname):
        return Finding(WARN, "public URL", f"{url} is this machine only: phones cannot open it")
    if parts.scheme != "https":
        return Finding(WARN, "public URL", f"{url} is not https: cookies are sent in the clear")
    return Finding(OK, "public URL", url)


def workers_and_database(settings: Settings, workers: int) -> Finding:
    problem = settings.workers_problem(workers)
    if problem:
        return Finding(FAIL, "workers", problem)
    kind = "SQLite" if settings.is_sqlite else "PostgreSQL"
    return Finding(OK, "workers", f"{workers} on {kind}")


def loopback_host(host: str) -> bool:
    """localhost, *.localhost, 127.x or ::1: an address only this machine can open."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
