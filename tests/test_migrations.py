"""Migrations: an empty database upgrades to head, matches the models, and downgrades; a
database filled at the first revision upgrades to head with nothing lost."""

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, Table, delete, inspect, text
from sqlmodel import Session, select

from app import ROOT, migrate
from app.db import make_engine
from app.models import KPI, Area, AuditEvent, Measurement, Plan
from app.services import plans
from app.services.audit import Actor
from app.services.plan_views import plan_view


@pytest.fixture
def empty_database_url(new_database: Callable[[str], str]) -> str:
    return new_database("phonlap_migration_test")


def test_upgrade_check_and_downgrade(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    tables = set(inspect(engine).get_table_names())
    assert {"area", "plan", "kpi", "action", "audit_event", "alembic_version"} <= tables
    migrate.check(empty_database_url)  # raises when models and migrations drift
    migrate.downgrade(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


# --- upgrades keep data ------------------------------------------------------------------------
# A database made at the first revision, filled with plain INSERTs fitting each schema as it
# stood (more rows as later revisions add tables), is upgraded to head: every row is still there
# with the values it was given, and the app reads and writes it. SQLite's batch migrations
# rebuild tables with foreign keys on, where dropping a parent table deletes its children by
# cascade: this is the test that catches it.

FIRST, ACCOUNTS, PROGRESS, REVIEW = "9ed0cb54e4b2", "4c319c2dac48", "8cdd02d96194", "22d243de4465"
AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


class Rows:
    """Inserts rows into the tables as they are at the current revision, and remembers them."""

    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.put: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, table_name: str, /, **values: Any) -> int | None:
        table = Table(table_name, MetaData(), autoload_with=self.conn)
        result = self.conn.execute(table.insert().values(**values))
        row = dict(values)
        if "id" in table.c and "id" not in values:
            row["id"] = result.inserted_primary_key[0]
        self.put.setdefault(table_name, []).append(row)
        return row.get("id")


def _first_schema(put: Rows) -> dict[str, int]:
    put("agency_type", code="esa", name_th="สพท.", name_en="ESA office", position=1)
    ids = {
        "krabi": put(
            "area",
            slug="krabi",
            iso_code="TH-81",
            name_th="กระบี่",
            name_en="Krabi",
            cohort="2562",
            designated_on=date(2019, 5, 1),
            status="active",
        )
    }
    put(
        "area",
        slug="phuket",
        iso_code="TH-83",
        name_th="ภูเก็ต",
        name_en="Phuket",
        cohort="2562",
        designated_on=None,
        status="active",
    )
    group = put("area_group", slug="de-2566", name_th="กลุ่ม DE", name_en="DE", is_default=True)
    put("area_group_member", group_id=group, area_id=ids["krabi"])
    framework = put(
        "doe_framework", code="doe", version=2561, name_th="มาตรฐาน", name_en="DOE", is_current=True
    )
    aspect = put(
        "doe_aspect",
        framework_id=framework,
        code="L",
        name_th="ผู้เรียนรู้",
        name_en="Learner",
        position=1,
    )
    item = put(
        "doe_item", aspect_id=aspect, code="LP1", name_th="อ่านออก", name_en="Reads", position=1
    )
    theme = put(
        "strategy_theme",
        code="learner_quality",
        name_th="คุณภาพผู้เรียน",
        name_en="Learner quality",
        position=1,
    )
    agency = put(
        "agency",
        area_id=ids["krabi"],
        code="esa-primary-1",
        name_th="สพป.กระบี่",
        name_en="Krabi PESAO",
        type_id=1,
        position=1,
        version=1,
    )
    plan = put(
        "plan",
        area_id=ids["krabi"],
        title="แผนพื้นที่นวัตกรรมการศึกษา กระบี่",
        span_start_be=2566,
        span_end_be=2570,
        status="adopted",
        vision="ผู้เรียนเก่ง ดี มีสุข",
        is_demo=False,
        version=3,
        created_at=AT,
    )
    statement = put("doe_statement", plan_id=plan, position=1, text="อ่านออกเขียนได้", version=1)
    put("doe_statement_item", statement_id=statement, item_id=item)
    problem = put(
        "problem_entry",
        id=7,  # not the id its node will have
        plan_id=plan,
        position=1,
        problem="เด็กอ่านไม่คล่อง",
        causes="ขาดครู",
        evidence="ผลสอบ RT",
        affected_groups="ป.1",
        version=2,
    )
    kras, kpis = [], []
    for n in (1, 2):
        kra = put(
            "key_result_area",
            plan_id=plan,
            position=n,
            code=f"KRA{n}",
            title=f"ผลลัพธ์หลัก {n}",
            description="",
            theme_id=theme,
            version=1,
        )
        put("kra_doe_item", kra_id=kra, item_id=item)
        kpi = put(
            "kpi",
            plan_id=plan,
            position=n,
            code=f"KPI{n}",
            name=f"ร้อยละอ่านออก {n}",
            definition="",
            unit="%",
            kind="percentage",
            direction="higher",
            period_type="academic_year",
            baseline_value=62.5,
            baseline_period="AY2565",
            target_value=75.0,
            target_period="AY2570",
            data_source="RT",
            lead_agency_id=agency,
            version=2,
        )
        put("kpi_kra", kpi_id=kpi, kra_id=kra)
        put("kpi_co_owner", kpi_id=kpi, agency_id=agency)
        action = put(
            "action",
            plan_id=plan,
            position=n,
            code=f"ACT{n}",
            title=f"พัฒนาครู {n}",
            description="",
            lead_agency_id=agency,
            budget_thb=450_000 * n,
            start_on=date(2024, 5, 16),
            end_on=None,
            status="on_track",
            autonomy_domain="academic",
            version=1,
        )
        put("action_kpi", action_id=action, kpi_id=kpi)
        put("action_kra", action_id=action, kra_id=kra)
        put("action_partner", action_id=action, agency_id=agency)
        kras.append(kra)
        kpis.append(kpi)
    for op, before, after in (
        ("create", None, {"code": "KPI1", "baseline_value": 62.5}),
        ("update", {"target_value": 70}, {"target_value": 75}),
        ("delete", {"code": "KPI9", "name": "ตัวชี้วัดที่ลบ"}, None),
    ):
        put(
            "audit_event",
            at=AT,
            actor="สมชาย ใจดี",
            area_id=ids["krabi"],
            entity_type="kpi",
            entity_id=kpis[0],
            op=op,
            before=before,
            after=after,
            reason="ตามมติที่ประชุม",
        )
    return {
        "area": ids["krabi"],
        "plan": plan,
        "agency": agency,
        "kpi": kpis[0],
        "kra": kras[0],
        "problem": problem,
    }


def _accounts(put: Rows, ids: dict[str, int]) -> None:
    user = put(
        "user_account",
        email="somchai@example.go.th",
        display_name="สมชาย",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        is_active=True,
        created_at=AT,
        last_login_at=AT,
        version=1,
    )
    put("role_grant", user_id=user, role="editor", area_id=ids["area"], created_at=AT)
    put(
        "api_token",
        user_id=user,
        name="สคริปต์",
        token_hash="a" * 64,
        prefix="phl_abcd",
        created_at=AT,
        last_used_at=None,
        revoked_at=None,
    )
    put(
        "login_session",
        token_hash="b" * 64,
        user_id=user,
        created_at=AT,
        expires_at=AT + timedelta(hours=12),
    )
    put("login_failure", at=AT, email="somchai@example.go.th", address="203.0.113.9")
    put(
        "audit_event",
        at=AT,
        actor="สมชาย",
        actor_id=user,
        area_id=ids["area"],
        entity_type="action",
        entity_id=None,
        op="update",
        before={"status": "not_started"},
        after={"status": "on_track"},
        reason=None,
    )
    ids["user"] = user


def _progress(put: Rows, ids: dict[str, int]) -> None:
    file = put(
        "evidence_file",
        area_id=ids["area"],
        filename="ผลสอบ RT 2567.pdf",
        content_type="application/pdf",
        size=14,
        sha256="c" * 64,
        uploaded_by=ids["user"],
        uploaded_at=AT,
    )
    unit = put("org_unit", area_id=ids["area"], kind="school", name="โรงเรียนบ้านคลองยาง", position=1)
    put(
        "review_round",
        area_id=ids["area"],
        period="AY2567",
        state="submitted",
        comment="",
        submitted_by=ids["user"],
        submitted_at=AT,
        decided_by=None,
        decided_at=None,
        version=1,
    )
    action = put(
        "action",
        plan_id=ids["plan"],
        position=3,
        code="ACT3",
        title="ห้องสมุด",
        description="",
        lead_agency_id=None,
        budget_thb=None,
        start_on=None,
        end_on=None,
        status="delayed",
        autonomy_domain=None,
        version=1,
    )
    put(
        "action_update",
        action_id=action,
        on_date=date(2025, 3, 1),
        status="delayed",
        percent_complete=40,
        what_changed="จัดซื้อหนังสือ",
        next_steps="อบรมครู",
        confidence=3,
        spent_thb=120_000,
        evidence_url="",
        evidence_id=file,
        entered_by=ids["user"],
        created_at=AT,
        version=1,
    )
    put("kpi_target", kpi_id=ids["kpi"], period="AY2567", value=68.0)
    for period, value in (("AY2566", 64.2), ("AY2567", 68.25)):
        m = put(
            "measurement",
            kpi_id=ids["kpi"],
            period=period,
            value=value,
            n_measured=1830,
            note="สอบครบทุกโรงเรียน",
            evidence_url="https://example.go.th/rt",
            evidence_id=file,
            entered_by=ids["user"],
            entered_at=AT,
            version=1,
        )
        put("unit_measurement", measurement_id=m, unit_id=unit, value=value, n_measured=1830)
    put(
        "kpi",
        plan_id=ids["plan"],
        position=3,
        code="KPI3",
        name="จำนวนโรงเรียนนำร่อง",
        definition="",
        unit="แห่ง",
        kind="count",
        direction="higher",
        period_type="semester",
        baseline_value=10.0,
        baseline_period="S2565-1",
        target_value=40.0,
        target_period="S2570-2",
        data_source="",
        lead_agency_id=None,
        version=1,
        aggregation="running_sum",
        rollup="sum",
        tolerance=2.5,
    )


def _review(put: Rows, ids: dict[str, int]) -> None:
    indicator = put(
        "common_indicator",
        code="P1_READING",
        name_th="อ่านออก",
        name_en="Reading",
        definition="",
        unit="%",
        kind="percentage",
        direction="higher",
        period_type="academic_year",
        data_source="",
        needs_count=True,
        theme_id=None,
        aspect_id=None,
        position=1,
        is_active=True,
        version=1,
    )
    kpi = put(
        "kpi",
        plan_id=ids["plan"],
        position=4,
        code="KPI4",
        name="อ่านคล่อง ป.3",
        definition="",
        unit="%",
        kind="percentage",
        direction="higher",
        period_type="academic_year",
        baseline_value=None,
        baseline_period=None,
        target_value=None,
        target_period=None,
        data_source="",
        lead_agency_id=None,
        version=1,
        aggregation="standalone",
        rollup="mean",
        tolerance=None,
        indicator_id=indicator,
    )
    put(
        "measurement",
        kpi_id=kpi,
        period="AY2567",
        value=55.0,
        n_measured=None,
        note="",
        evidence_url="",
        evidence_id=None,
        entered_by=None,
        entered_at=AT,
        version=1,
    )
    thread = put(
        "comment",
        area_id=ids["area"],
        target_type="kpi",
        target_id=kpi,
        period=None,
        parent_id=None,
        visibility="committee",
        body="ค่านี้มาจากไหน",
        author_id=ids["user"],
        author_name="สมชาย",
        created_at=AT,
        resolved_at=None,
        resolved_by=None,
        version=1,
    )
    put(
        "comment",
        area_id=ids["area"],
        target_type="kpi",
        target_id=kpi,
        period=None,
        parent_id=thread,
        visibility="committee",
        body="จาก สพป.",
        author_id=None,
        author_name="ผู้ตรวจ",
        created_at=AT,
        resolved_at=None,
        resolved_by=None,
        version=1,
    )
    put("seen_mark", user_id=ids["user"], seen_at=AT)


LATER_STAGES = ((ACCOUNTS, _accounts), (PROGRESS, _progress), (REVIEW, _review))


def _plain(value: Any) -> Any:
    """SQLite keeps no time zone: compare datetimes as UTC wall-clock time."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


DROPPED = {
    "login_failure",  # 5e1a7c93b0d4: a 15-minute count, replaced by login_throttle
    "problem_entry",  # 5d2e8f1a9b37: the problem tree (problem_node) holds the problems
}


def _assert_all_there(conn: Connection, put: dict[str, list[dict[str, Any]]]) -> None:
    for name, rows in put.items():
        if name in DROPPED:
            assert not inspect(conn).has_table(name)
            continue
        table = Table(name, MetaData(), autoload_with=conn)
        key_columns = [c.name for c in table.primary_key.columns]
        found = {
            tuple(r[k] for k in key_columns): r
            for r in (dict(row._mapping) for row in conn.execute(select(table)))
        }
        assert len(found) == len(rows), f"{name}: {len(found)} rows, {len(rows)} put in"
        for row in rows:
            there = found[tuple(row[k] for k in key_columns)]
            assert {k: _plain(there[k]) for k in row} == {k: _plain(v) for k, v in row.items()}


def test_a_database_filled_at_the_first_revision_upgrades_to_head_with_nothing_lost(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_base() == FIRST
    put = Rows()
    migrate.upgrade(empty_database_url, FIRST)
    with engine.begin() as put.conn:
        ids = _first_schema(put)
    for revision, fill in LATER_STAGES:
        migrate.upgrade(empty_database_url, revision)
        with engine.begin() as put.conn:
            fill(put, ids)

    with engine.begin() as put.conn:  # a comment on the flat problem: it moves to its node
        put(
            "comment",
            area_id=ids["area"],
            target_type="problems",
            target_id=ids["problem"],
            visibility="area",
            body="ปัญหานี้มีข้อมูลไหม",
            author_name="ผู้ตรวจ",
            created_at=AT,
            version=1,
        )
    migrate.upgrade(empty_database_url)

    with engine.connect() as conn:
        top = conn.execute(text("SELECT min(id) FROM problem_node")).scalar_one()
        put.put["comment"][-1]["target_id"] = top  # what pointed at the entry points at its node
        _assert_all_there(conn, put.put)
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            scripts.get_current_head()
        )
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        # the problem entry became a problem with its causes as one cause under it (h20)
        nodes = conn.execute(
            text(
                "SELECT id, parent_id, plan_id, text, note, affected_groups FROM problem_node ORDER BY id"
            )
        ).all()
        assert [(n.parent_id, n.plan_id, n.text, n.note, n.affected_groups) for n in nodes] == [
            (None, ids["plan"], "เด็กอ่านไม่คล่อง", "ผลสอบ RT", "ป.1"),
            (nodes[0].id, ids["plan"], "ขาดครู", "", ""),
        ]
        # and what pointed at the entry points at its node (5d2e8f1a9b37)
        assert (
            conn.execute(
                text("SELECT target_id FROM comment WHERE target_type = 'problems'")
            ).scalar_one()
            == nodes[0].id
        )
    with Session(engine, expire_on_commit=False) as session:
        area = session.get(Area, ids["area"])
        view = plan_view(session, area)
        assert [k.code for k in view.tree.kpis] == ["KPI1", "KPI2", "KPI3", "KPI4"]
        kpi3 = session.exec(select(KPI).where(KPI.code == "KPI3")).one()
        assert (kpi3.aggregation, kpi3.rollup, kpi3.tolerance) == ("running_sum", "sum", 2.5)
        kpi1 = session.get(KPI, ids["kpi"])
        assert (kpi1.aggregation, kpi1.indicator_id) == ("standalone", None)  # defaults
        # the app writes to the upgraded database (PostgreSQL's sequences moved on, too)
        plan = session.get(Plan, ids["plan"])
        actor = Actor.process("upgrade test")
        plans.create_element(
            session,
            actor=actor,
            plan=plan,
            kind="kras",
            element_in={"code": "KRA3", "title": "ใหม่"},
        )
        # and the foreign keys still cascade: a plan takes its KPIs and their values with it
        session.exec(delete(Plan).where(Plan.id == plan.id))
        session.commit()
        assert session.exec(select(Measurement)).all() == []
        assert session.exec(select(AuditEvent)).all() != []  # the trail stays
    engine.dispose()  # no connection left for the collector to find open


def test_migrate_works_from_any_directory(tmp_path) -> None:  # noqa: ANN001
    """The Alembic configuration comes from the package, not from the checkout's pyproject."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "PHONLAP_DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    engine = make_engine(env["PHONLAP_DATABASE_URL"])
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    engine.dispose()
