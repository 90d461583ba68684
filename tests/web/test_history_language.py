"""The history speaks the reader's language: no column, entity or enum name, no ISO time, no
bare id on any rendered entry, in Thai and in English."""

import enum
import html
import inspect
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

import app.models
from app.models import Area, AuditEvent
from app.services import (
    committee,
    plans,
    problems,
    progress,
    reference_admin,
    seeding,
    versions,
    workshops,
)
from app.services.audit import Actor
from app.services.plan_tree import current_plans
from tests import factories as f
from tests.reference_reset import reference_reset  # noqa: F401
from tests.web.test_reports import pdf_text

ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?")
ENTRY = re.compile(r'(?s)<li class="history-entry[^"]*"[^>]*>(.*?)</li>')
ROW = re.compile(r'(?s)<tr data-field="([^"]+)"><th scope="row">(.*?)</th>(.*?)</tr>')
CELL = re.compile(r"(?s)<td[^>]*>(.*?)</td>")
ENTITY = re.compile(r'(?s)<span class="entity">(.*?)</span>')
ACTOR = re.compile(r'(?s)<strong class="actor"[^>]*>(.*?)</strong>')
THAI = re.compile(r"[\u0e00-\u0e7f]")


def text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def enum_values() -> set[str]:
    found = set()
    for module in (m for name, m in vars(app.models).items() if inspect.ismodule(m)):
        for _, kind in inspect.getmembers(module, inspect.isclass):
            if issubclass(kind, enum.Enum) and kind.__module__.startswith("app.models"):
                found |= {str(member.value) for member in kind}
    return {v for v in found if not v.isdigit()}


def raw_names(session: Session) -> set[str]:
    """Every name the database knows a thing by: columns, snapshot keys (link lists...),
    entity types; so a field added later is caught without editing this test."""
    names = {c.name for t in SQLModel.metadata.tables.values() for c in t.columns}
    for event in session.exec(select(AuditEvent)).all():
        names |= set(event.before or {}) | set(event.after or {}) | {event.entity_type}
    return names


@pytest.fixture
def busy_area(session: Session, admin, reference_reset) -> Area:  # noqa: ANN001, F811
    """Krabi's demo plan (values, updates, workshop, DE records...) and then a signed-in
    person's day: every kind of element added, changed, deleted and put back, a value entered,
    a workshop opened, a guest's idea promoted into the plan."""
    area = f.area(session, "krabi")
    seeding.load_demo_plan(session, area, seeding.load_yaml(seeding.SEEDS / "demo" / "krabi.yaml"))
    plan = current_plans(session, [area.id])[area.id]
    me = Actor(admin.id, admin.email)
    lead = f.agency(session, "krabi").id
    agency_type = session.exec(select(app.models.AgencyType.id)).first()
    made = {
        "kras": {"code": "KRA9", "title": "ผู้เรียนรู้เท่าทันสื่อ"},
        "kpis": {
            "code": "KPI99",
            "name": "ร้อยละนักเรียนรู้เท่าทันสื่อ",
            "kind": "percentage",
            "period_type": "academic_year",
            "target_value": "70",
            "target_period": "AY2570",
            "lead_agency_id": lead,
        },
        "actions": {
            "code": "ACT99",
            "title": "ค่ายรู้เท่าทันสื่อ",
            "status": "not_started",
            "autonomy_domain": "academic",
            "lead_agency_id": lead,
        },
        "doe": {"text": "ผู้เรียนรู้เท่าทันสื่อ"},
        "agencies": {"name_th": "ชมรมผู้ปกครองกระบี่", "type_id": agency_type},
    }
    for kind, values in made.items():
        row = plans.create_element(session, actor=me, plan=plan, kind=kind, element_in=values)
        changed = {
            "kras": {"title": "ผู้เรียนรู้เท่าทันสื่อดิจิทัล"},
            "kpis": {"target_value": "75"},
            "actions": {"status": "delayed"},
            "doe": {"text": "ผู้เรียนรู้เท่าทันสื่อดิจิทัล"},
            "agencies": {"name_th": "ชมรมผู้ปกครอง จ.กระบี่"},
        }
        plans.update_element(
            session,
            actor=me,
            plan=plan,
            kind=kind,
            element_id=row.id,
            element_in=changed[kind],
            partial=True,
        )
        plans.delete_element(session, actor=me, plan=plan, kind=kind, element_id=row.id, force=True)
        deletion = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        plans.restore(session, actor=me, plan=plan, event_id=deletion.id)
    _problem_tree_day(session, me, plan)
    plans.update_plan(session, actor=me, plan=plan, plan_in={"vision": "กระบี่เมืองแห่งการเรียนรู้"})
    kpi = session.exec(select(app.models.KPI).where(app.models.KPI.code == "KPI99")).one()
    progress.write_measurement(session, me, plan, kpi, "AY2567", {"value": 61.5, "note": "ทดลอง"})
    workshop = workshops.create_session(
        session, actor=me, area_id=area.id, workshop_in={"title": "เวทีทบทวนแผน"}
    )
    guest, _ = f.make_guest(session, workshop, "ครูสมศรี")
    idea = f.make_contribution(session, workshop, guest, text="เด็กเกาะลันตาอ่านไม่คล่อง")
    workshops.accept(session, actor=me, workshop=workshop, contribution_id=idea.id)
    workshops.close_session(session, actor=me, workshop=workshop)
    _committee_day(session, me, area, plan)
    # an administrator's changes to the area's reference data (app/services/reference_admin.py)
    area_in = {k: getattr(area, k) for k in ("slug", "iso_code", "name_th", "name_en", "cohort")}
    reference_admin.update_area(
        session,
        actor=me,
        area=area,
        area_in={**area_in, "programme": area.programme, "pilot_schools": "12"},
    )
    reference_admin.add_status_change(
        session,
        actor=me,
        area=area,
        status_in={"status": "withdrawn", "changed_on": "2026-03-01", "instrument": "มติ ครม."},
    )
    esa = reference_admin.create_agency(
        session,
        actor=me,
        agency_in={
            "area_id": area.id,
            "code": "esa-primary-2",
            "name_th": "สพป.กระบี่ เขต 2",
            "type_id": agency_type,
        },
    )
    reference_admin.delete_agency(session, actor=me, agency=esa)
    return area


def _committee_day(session: Session, me: Actor, area: Area, plan: app.models.Plan) -> None:
    """The committee's records: a member added and changed, a working group, a meeting with a
    resolution adopting a version, and a member removed."""
    chair = committee.create_member(
        session,
        actor=me,
        area=area,
        member_in={"name": "นายสาธิต ใจดี", "agency_id": f.agency(session, "krabi").id},
    )
    committee.update_member(
        session,
        actor=me,
        area=area,
        member_id=chair.id,
        member_in={"name": "นายสาธิต ใจดี", "title": "รองผู้ว่าราชการจังหวัด", "role": "chair"},
    )
    leaving = committee.create_member(session, actor=me, area=area, member_in={"name": "นางลาออก"})
    committee.create_group(
        session,
        actor=me,
        area=area,
        group_in={"name": "คณะทำงานข้อมูล", "lead_id": chair.id, "members": [leaving.id]},
    )
    meeting = committee.create_meeting(
        session,
        actor=me,
        area=area,
        meeting_in={"held_on": "2024-06-16", "title": "ประชุมครั้งที่ 1/2567", "attendees": [chair.id]},
    )
    version = versions.name_version(
        session, actor=me, area=area, plan=plan, version_in={"name": "แผนฉบับที่ 2"}
    )
    committee.add_resolution(
        session,
        actor=me,
        area=area,
        meeting_id=meeting.id,
        resolution_in={"text": "รับรองแผนฉบับที่ 2"},
        citations=[committee.Citation("plan_version", version.id, "adopt")],
    )
    committee.delete_member(session, actor=me, area=area, member_id=leaving.id)


def _problem_tree_day(session: Session, me: Actor, plan: app.models.Plan) -> None:
    """A problem with a cause and a root cause, linked, edited, moved and deleted whole."""
    kra = session.exec(
        select(app.models.KeyResultArea).where(app.models.KeyResultArea.plan_id == plan.id)
    ).first()
    action = session.exec(
        select(app.models.Action).where(app.models.Action.plan_id == plan.id)
    ).first()
    problem = problems.create_node(
        session, actor=me, plan=plan, node_in={"text": "เด็กติดเกม", "kra_ids": [kra.id]}
    )
    cause = problems.create_node(
        session, actor=me, plan=plan, parent_id=problem.id, node_in={"text": "ไม่มีพื้นที่เล่น"}
    )
    root = problems.create_node(
        session,
        actor=me,
        plan=plan,
        parent_id=cause.id,
        node_in={
            "text": "ชุมชนไม่มีลานกีฬา",
            "action_ids": [action.id],
            "urls": "https://example.org/a",
        },
    )
    problems.update_node(
        session,
        actor=me,
        plan=plan,
        node_id=root.id,
        node_in={"text": "ชุมชนไม่มีลานกีฬาและห้องสมุด", "action_ids": [action.id]},
    )
    problems.move_node(
        session, actor=me, plan=plan, node_id=root.id, move_in={"parent_id": problem.id}
    )
    problems.delete_node(session, actor=me, plan=plan, node_id=problem.id, force=True)


def history_pages(client: TestClient, slug: str) -> list[str]:
    url, pages = f"/areas/{slug}/history", []
    while url:
        page = client.get(url)
        assert page.status_code == 200
        pages.append(page.text)
        older = re.search(r'href="([^"]*before=\d+)"', page.text)
        url = html.unescape(older.group(1)) if older else None
    return pages


def test_every_history_entry_reads_in_the_readers_language(
    client: TestClient, session: Session, busy_area: Area
) -> None:
    thai = history_pages(client, busy_area.slug)
    shown = text("".join(thai))
    assert "From workshop contribution" not in shown and "restored from change" not in shown
    assert "จากข้อเสนอในเวทีประชุม: เวทีทบทวนแผน" in shown  # the promoted idea's reason
    assert "ครูสมศรี" in shown  # her idea is there, under her name...
    assert "ผู้ร่วมเวที" not in text(" ".join(ENTITY.findall("".join(thai))))  # ...not her joining
    assert session.exec(  # which the audit trail keeps
        select(AuditEvent).where(AuditEvent.entity_type == "workshop_participant")
    ).first()
    brief = client.get("/areas/krabi/brief?period=AY2569")  # this year's brief: the same reason
    assert "จากข้อเสนอในเวทีประชุม: เวทีทบทวนแผน" in text(brief.text)
    pdf = pdf_text(client.get("/areas/krabi/brief.pdf?period=AY2569").content)
    assert "จากข้อเสนอในเวทีประชุม:เวทีทบทวนแผน" in pdf and "Fromworkshop" not in pdf
    raw, enums = raw_names(session), enum_values()
    for page in thai:
        assert_plain(page, raw, enums, "th")
    client.post("/lang", data={"lang": "en", "next": "/"}, follow_redirects=False)
    for page in history_pages(client, busy_area.slug):
        assert_plain(page, raw, enums, "en")
    kpi = session.exec(select(app.models.KPI).where(app.models.KPI.code == "KPI99")).one()
    assert_plain(client.get(f"/areas/krabi/history/kpi/{kpi.id}").text, raw, enums, "en")
    value = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "measurement").order_by(AuditEvent.id)
    ).all()[-1]
    page = client.get(f"/areas/krabi/history/measurement/{value.entity_id}").text
    assert_plain(page, raw, enums, "en")  # a value is named by its KPI and period
    assert text(re.search(r"(?s)<h1>(.*?)</h1>", page).group(1)).startswith("KPI value KPI99")


def assert_plain(page: str, raw: set[str], enums: set[str], lang: str) -> None:
    """No entry of the page shows a raw name, an ISO time or a bare id."""
    snake = {n for n in raw | enums if "_" in n}
    entries = ENTRY.findall(page)
    assert entries
    problems = []
    for entry in entries:
        shown = text(re.sub(r"(?s)<form.*?</form>", "", entry))
        problems += [f"{n} in {shown[:80]}" for n in snake if re.search(rf"\b{n}\b", shown)]
        problems += [f"ISO time in {shown[:80]}" for _ in ISO_MOMENT.findall(shown)]
        for who in map(text, ACTOR.findall(entry)):
            if who.isdigit() or who in {"seed", "system"} or who.startswith("guest:"):
                problems.append(f"actor {who}")
        for kind in map(text, ENTITY.findall(entry)):
            if kind in raw or (lang == "th" and not THAI.search(kind)):
                problems.append(f"entity {kind}")
        for field, label, cells in ROW.findall(entry):
            label = text(label)
            if label in raw or (lang == "th" and not THAI.search(label)):
                problems.append(f"field {label}")
            for value in map(text, CELL.findall(cells)):
                if value in enums or value in raw:
                    problems.append(f"{label}: value {value}")
                reference = field.endswith(("_id", "_ids", "_by")) or field == "units"
                if reference and re.fullmatch(r"[#\d, ]+", value):
                    problems.append(f"{label}: id {value}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_kpis_name_their_common_indicator_not_its_code(
    client: TestClient, session: Session
) -> None:
    area = f.area(session, "krabi")
    seeding.load_demo_plan(session, area, seeding.load_yaml(seeding.SEEDS / "demo" / "krabi.yaml"))
    indicator = session.exec(
        select(app.models.CommonIndicator).where(
            app.models.CommonIndicator.code == "p1-reading-good"
        )
    ).one()
    for url in ("/areas/krabi/plan", "/areas/krabi"):
        tags = re.findall(r'(?s)<a class="tag indicator[^"]*"[^>]*>(.*?)</a>', client.get(url).text)
        assert tags and not any("p1-reading-good" in t for t in tags)
        assert any(indicator.name_th in text(t) for t in tags)
