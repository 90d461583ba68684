"""`phonlap backup DIR` and `phonlap restore DIR`: a filled database and its evidence files come
back whole in a fresh database; a damaged backup or a database already in use is refused."""

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from app import __version__, migrate
from app.cli import main
from app.config import get_settings
from app.db import get_session, make_engine, sessions_on
from app.main import create_app
from app.models import KPI, AuditEvent, EvidenceFile, User
from app.services import accounts, evidence, progress, seeding
from app.storage import digest_of
from tests import factories as f
from tests.conftest import sign_in

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # every byte value, so nothing is re-encoded


@pytest.fixture
def use_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, Path], None]]:
    """Point the `phonlap` command (and the app's settings) at a database and var directory."""

    def use(database_url: str, var_dir: Path) -> None:
        monkeypatch.setenv("PHONLAP_DATABASE_URL", database_url)
        monkeypatch.setenv("PHONLAP_VAR_DIR", str(var_dir))
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()  # the environment is put back after this


def _with_evidence(session: Session) -> EvidenceFile:
    """A plan built through the services, with a value whose evidence is a file."""
    plan = f.make_full_plan(session, "satun")
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id, KPI.code == "KPI1")).one()
    progress.save_measurement(
        session,
        actor=f.ACTOR,
        plan=plan,
        kpi_id=kpi.id,
        period="AY2567",
        details_in={"value": "68.2", "n_measured": "1830", "note": "สอบครบทุกโรงเรียน"},
        upload=evidence.Upload("ผลสอบ RT ปี 2567.png", PNG),
    )
    return session.exec(select(EvidenceFile).where(EvidenceFile.sha256 == digest_of(PNG))).one()


def _client(engine: Engine) -> TestClient:
    application = create_app()

    application.dependency_overrides[get_session] = sessions_on(engine)
    return TestClient(application, raise_server_exceptions=False)


def _documents(engine: Engine, token: str) -> dict[str, Any]:
    """What the API says: every readable area's plan, and each KPI's values per period."""
    docs: dict[str, Any] = {}
    with _client(engine) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for area in client.get("/api/v1/areas").json():
            plan = client.get(f"/api/v1/areas/{area['slug']}/plan")
            if plan.status_code == 404:
                continue
            assert plan.status_code == 200
            docs[area["slug"]] = plan.json()
            for kpi in plan.json()["kpis"]:
                values = client.get(f"/api/v1/kpis/{kpi['id']}/measurements")
                assert values.status_code == 200
                docs[f"kpi-{kpi['id']}"] = values.json()
    return docs


def _trail(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        return [e.model_dump() for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]


def _files(var_dir: Path) -> dict[str, bytes]:
    folder = var_dir / evidence.FOLDER
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def test_a_backup_restores_into_a_fresh_database_with_the_same_plans_trail_and_files(
    session: Session,
    engine: Engine,
    database_url: str,
    admin: User,
    new_database: Callable[[str], str],
    use_settings: Callable[[str, Path], None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a demo plan (values, check-ins, reviews, comments, DE records, a dated trail)
    demo = seeding.load_yaml(seeding.SEEDS / "demo" / "mae-hong-son.yaml")
    seeding.load_demo_plan(session, f.area(session, "mae-hong-son"), demo)
    stored = _with_evidence(session)
    _, token = accounts.create_token(session, actor=f.ACTOR, user=admin, token_in={"name": "t"})
    var_dir = Path(os.environ["PHONLAP_VAR_DIR"])
    before = {"api": _documents(engine, token), "trail": _trail(engine), "files": _files(var_dir)}
    assert {"mae-hong-son", "satun"} <= before["api"].keys() and len(before["trail"]) > 50
    assert before["files"][stored.sha256] == PNG

    use_settings(database_url, var_dir)
    assert main(["backup", str(tmp_path / "backup")]) == 0
    assert "backup written to" in capsys.readouterr().out
    restored_url, restored_var = new_database("phonlap_restore_test"), tmp_path / "restored-var"
    use_settings(restored_url, restored_var)
    assert main(["restore", str(tmp_path / "backup")]) == 0
    said = capsys.readouterr().out
    assert "restored" in said and "phonlap migrate" not in said  # already at this schema

    restored = make_engine(restored_url)
    try:
        assert _trail(restored) == before["trail"]
        assert _files(restored_var) == before["files"]
        assert _documents(restored, token) == before["api"]
        # the restored site serves the evidence file from its own var directory
        with _client(restored) as client, Session(restored) as s:
            sign_in(client, s, s.get(User, admin.id))
            download = client.get(f"/areas/satun/progress/evidence/{stored.id}")
            assert download.status_code == 200 and download.content == PNG
    finally:
        restored.dispose()


def test_a_damaged_backup_or_a_database_in_use_is_refused_and_nothing_is_written(
    session: Session,
    database_url: str,
    new_database: Callable[[str], str],
    use_settings: Callable[[str, Path], None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stored = _with_evidence(session)
    backup = tmp_path / "backup"
    use_settings(database_url, Path(os.environ["PHONLAP_VAR_DIR"]))
    assert main(["backup", str(backup)]) == 0
    assert main(["backup", str(backup)]) == 1  # each backup has a directory of its own
    assert "is not empty" in capsys.readouterr().err

    events = len(session.exec(select(AuditEvent)).all())
    assert main(["restore", str(backup)]) == 1  # over the database it came from
    assert "The target database is not empty" in capsys.readouterr().err
    assert len(session.exec(select(AuditEvent)).all()) == events

    copy = backup / evidence.FOLDER / stored.sha256
    copy.write_bytes(copy.read_bytes()[:-1] + b"\x00")
    empty_url, empty_var = new_database("phonlap_restore_test"), tmp_path / "restored-var"
    use_settings(empty_url, empty_var)
    assert main(["restore", str(backup)]) == 1
    assert "does not match its checksum" in capsys.readouterr().err
    empty = make_engine(empty_url)
    assert inspect(empty).get_table_names() == [] and _files(empty_var) == {}
    empty.dispose()

    assert main(["restore", str(tmp_path)]) == 1
    assert "not a Phonlap backup" in capsys.readouterr().err


def test_a_backup_of_an_older_schema_restores_and_asks_for_phonlap_migrate(
    new_database: Callable[[str], str],
    use_settings: Callable[[str, Path], None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    older = new_database("phonlap_older_test")
    first = ScriptDirectory.from_config(migrate.alembic_config()).get_base()
    migrate.upgrade(older, first)
    use_settings(older, tmp_path / "var")
    assert main(["backup", str(tmp_path / "backup")]) == 0
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"]["revision"] == first and manifest["app_version"] == __version__

    target = new_database("phonlap_restore_test")
    use_settings(target, tmp_path / "restored-var")
    assert main(["restore", str(tmp_path / "backup")]) == 0
    assert "run `phonlap migrate`" in capsys.readouterr().out
    migrate.upgrade(target)


def test_a_backup_from_a_newer_version_or_another_kind_of_database_is_refused(
    session: Session,
    database_url: str,
    use_settings: Callable[[str, Path], None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backup = tmp_path / "backup"
    use_settings(database_url, Path(os.environ["PHONLAP_VAR_DIR"]))
    assert main(["backup", str(backup)]) == 0
    kind = make_url(database_url).get_backend_name()
    other = (
        f"sqlite:///{tmp_path / 'other.db'}"
        if kind == "postgresql"
        else "postgresql+psycopg://nobody@127.0.0.1:9/nothing"
    )
    use_settings(other, tmp_path / "other-var")
    assert main(["restore", str(backup)]) == 1
    assert f"This backup holds a {kind} database" in capsys.readouterr().err

    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["database"]["revision"] = "0123456789ab"
    (backup / "manifest.json").write_text(json.dumps(manifest))
    use_settings(database_url, tmp_path / "other-var")
    assert main(["restore", str(backup)]) == 1
    assert "made by a newer version" in capsys.readouterr().err
