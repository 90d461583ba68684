"""Backups that can be restored: the database (PostgreSQL: `pg_dump`'s custom format; SQLite: its
online backup API) and the evidence files under the var directory, with a manifest naming the
schema revision, the database kind, the app version, the time and every file's SHA-256.

A restore checks every checksum before it writes anything and goes only into an empty database.
The database is dumped before the evidence files are copied: a file is stored before the row
that names it commits, so every row in the dump finds its file in the same backup.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from app import __version__, migrate
from app.db import make_engine
from app.services.evidence import FOLDER as EVIDENCE

MANIFEST = "manifest.json"
FORMAT = 1
DUMP_FILE = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
PG_BIN_DIRS = "/usr/lib/postgresql/*/bin"  # Debian's server and client packages, one per major
_EVIDENCE_NAME = re.compile(rf"^{EVIDENCE}/[0-9a-f]{{64}}$")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Outcome:
    manifest: dict
    folder: Path
    evidence_files: int
    needs_migrate: bool = False  # restored a schema older than this version's


def backup(
    target: Path, *, database_url: str, var_dir: Path, pg_bin: Path | None = None
) -> Outcome:
    """Write a complete backup into `target`, a new or empty directory."""
    target = Path(target).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not empty: give each backup a new directory.")
    target.parent.mkdir(parents=True, exist_ok=True)
    # written beside the target and renamed at the end: a half-made backup never looks whole
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.partial-"))
    try:
        kind, revision = _dump(database_url, work, pg_bin)
        count = _copy_evidence(Path(var_dir) / EVIDENCE, work / EVIDENCE)
        manifest = _manifest(work, kind, revision)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Outcome(manifest, target, count)


def restore(
    source: Path, *, database_url: str, var_dir: Path, pg_bin: Path | None = None
) -> Outcome:
    """Restore a backup into an empty database and its evidence files into the var directory."""
    source = Path(source).absolute()
    manifest = verify(source)
    kind = manifest["database"]["kind"]
    if _kind(database_url) != kind:
        raise BackupError(
            f"This backup holds a {kind} database; PHONLAP_DATABASE_URL names a "
            f"{_kind(database_url)} one. Restore it into a {kind} database."
        )
    revision = manifest["database"]["revision"]
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    if revision not in {s.revision for s in scripts.walk_revisions()}:
        raise BackupError(
            f"The backup's schema revision {revision} is unknown to Phonlap {__version__}: "
            "it was made by a newer version. Install that version (or a newer one) to restore it."
        )
    _refuse_non_empty(database_url)
    count = _restore_evidence(source, manifest, Path(var_dir) / EVIDENCE)
    restore_database = _pg_restore if kind == "postgresql" else _sqlite_restore
    restore_database(source / manifest["database"]["file"], database_url, pg_bin)
    restored = _revision_of(database_url)
    if restored != revision:
        raise BackupError(f"The restored database is at revision {restored}, not {revision}.")
    return Outcome(manifest, source, count, needs_migrate=revision != scripts.get_current_head())


def verify(source: Path) -> dict:
    """The backup's manifest, once every file it lists has the checksum it records."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} holds no {MANIFEST}: it is not a Phonlap backup.") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{source / MANIFEST} is damaged (not JSON).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            f"{source / MANIFEST} is not a Phonlap backup manifest of format {FORMAT}."
        )
    database = manifest.get("database", {})
    files = manifest.get("files", {})
    if database.get("file") not in files or DUMP_FILE.get(database.get("kind")) != database["file"]:
        raise BackupError(f"{source / MANIFEST} names no database file.")
    bad = [name for name in files if name != database["file"] and not _EVIDENCE_NAME.match(name)]
    if bad:
        raise BackupError(f"{source / MANIFEST} lists unexpected files: {', '.join(sorted(bad))}.")
    for name, expected in sorted(files.items()):
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup.")
        if _sha256(path) != expected.get("sha256"):
            raise BackupError(f"{path} does not match its checksum: the backup is damaged.")
    return manifest


# --- the manifest and the evidence files ------------------------------------------------------


def _manifest(work: Path, kind: str, revision: str) -> dict:
    files = sorted(p for p in work.rglob("*") if p.is_file())
    return {
        "format": FORMAT,
        "app": "phonlap",
        "app_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {"kind": kind, "revision": revision, "file": DUMP_FILE[kind]},
        "files": {
            p.relative_to(work).as_posix(): {"sha256": _sha256(p), "size": p.stat().st_size}
            for p in files
        },
    }


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _copy_evidence(folder: Path, into: Path) -> int:
    into.mkdir()
    names = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
    kept = [n for n in names if _EVIDENCE_NAME.match(f"{EVIDENCE}/{n}")]  # not temporary files
    for name in kept:
        shutil.copyfile(folder / name, into / name)
    return len(kept)


def _restore_evidence(source: Path, manifest: dict, folder: Path) -> int:
    names = [n for n in manifest["files"] if _EVIDENCE_NAME.match(n)]
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = folder / Path(name).name
        if target.is_file() and _sha256(target) == manifest["files"][name]["sha256"]:
            continue  # stored by digest: the same name with the right bytes is the same file
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".restore-")
        os.close(fd)
        shutil.copyfile(source / name, tmp)
        os.replace(tmp, target)
    return len(names)


# --- the database ---------------------------------------------------------------------------


def _kind(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


def _dump(database_url: str, work: Path, pg_bin: Path | None) -> tuple[str, str]:
    kind = _kind(database_url)
    if kind not in DUMP_FILE:
        raise BackupError(f"Backups handle PostgreSQL and SQLite databases, not {kind}.")
    out = work / DUMP_FILE[kind]
    if kind == "sqlite":
        _sqlite_backup(_sqlite_path(database_url, must_exist=True), out)
        revision = _sqlite_revision(out)
    else:
        revision = _revision_of(database_url)
        _pg_dump(database_url, out, pg_bin)
    if revision is None:
        raise BackupError("The database has no schema yet (run `phonlap migrate` first).")
    return kind, revision


def _revision_of(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            if not _tables(conn):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        raise BackupError(f"Cannot read the database: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _tables(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = (
            "SELECT c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'"
        )
    return list(conn.execute(text(query)).scalars())


def _refuse_non_empty(database_url: str) -> None:
    if _kind(database_url) == "sqlite" and not Path(_sqlite_path(database_url)).exists():
        return
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = _tables(conn)
    except SQLAlchemyError as exc:
        raise BackupError(
            f"Cannot open the target database: {_first_line(exc)}. Create an empty one first "
            "(PostgreSQL: createdb -O phonlap phonlap)."
        ) from None
    finally:
        engine.dispose()
    if tables:
        raise BackupError(
            f"The target database is not empty (it has {len(tables)} tables). A backup is "
            "restored only into an empty database: create a new one (PostgreSQL: createdb; "
            "SQLite: a path with no file) and point PHONLAP_DATABASE_URL at it."
        )


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


# SQLite


def _sqlite_path(database_url: str, must_exist: bool = False) -> str:
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("Back up and restore SQLite databases kept in a file, named by a path.")
    if must_exist and not Path(path).is_file():
        raise BackupError(f"There is no database file at {path}.")
    return path


def _sqlite_backup(path: str, out: Path) -> None:
    source, copy = sqlite3.connect(path), sqlite3.connect(out)
    try:
        source.backup(copy)  # a consistent copy while the app keeps writing
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()


def _sqlite_revision(path: Path) -> str | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        return (
            conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] if row else None
        )
    finally:
        conn.close()


def _sqlite_restore(dump: Path, database_url: str, _pg_bin: Path | None) -> None:
    path = Path(_sqlite_path(database_url))
    path.parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(f"file:{dump}?mode=ro", uri=True), sqlite3.connect(path)
    try:
        source.backup(target)  # one step: the target never holds half the pages
        target.execute("PRAGMA journal_mode=WAL")  # as the app runs it
    finally:
        target.close()
        source.close()


# PostgreSQL


def _pg_dump(database_url: str, out: Path, pg_bin: Path | None) -> None:
    dsn, env = _libpq(database_url)
    tool = _pg_tool("pg_dump", _server_major(database_url), pg_bin)
    _run([tool, "--format=custom", "--no-password", f"--file={out}", f"--dbname={dsn}"], env)


def _pg_restore(dump: Path, database_url: str, pg_bin: Path | None) -> None:
    dsn, env = _libpq(database_url)
    tool = _pg_tool("pg_restore", _server_major(database_url), pg_bin)
    # one transaction that stops at the first error: a failed restore leaves the database empty
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run([tool, *options, "--no-password", f"--dbname={dsn}", str(dump)], env)


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the tools; the password goes in the environment, not argv."""
    url: URL = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _server_major(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    except SQLAlchemyError as exc:
        raise BackupError(f"Cannot reach the database: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _pg_tool(name: str, major: int, pg_bin: Path | None) -> str:
    """The tool of the server's major version (a newer one if that is all there is)."""
    if pg_bin is not None:
        tool = Path(pg_bin) / name
        if not tool.is_file():
            raise BackupError(f"There is no {name} in {pg_bin}.")
        return str(tool)
    found = {}
    for folder in Path("/").glob(PG_BIN_DIRS.lstrip("/")):
        if (folder / name).is_file() and folder.parent.name.isdigit():
            found[int(folder.parent.name)] = folder / name
    usable = sorted(v for v in found if v >= major)
    if usable:
        return str(found[major] if major in found else found[usable[-1]])
    on_path = shutil.which(name)
    if on_path and _tool_major(on_path) >= major:
        return on_path
    raise BackupError(
        f"No {name} for PostgreSQL {major} was found: install the postgresql-client-{major} "
        "package, or give its folder with --pg-bin."
    )


def _tool_major(tool: str) -> int:
    words = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.split()
    return int(words[-1].split(".")[0]) if words and words[-1][:1].isdigit() else 0


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip() or f"exit status {done.returncode}"
        raise BackupError(f"{Path(argv[0]).name} failed: {detail}")
