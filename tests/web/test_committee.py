"""The area's committee (issue 22 part 1): members and working groups, meetings with attendance
and resolutions, the records a resolution decided showing it back, the minutes as a PDF; with
Thai data, as an area's editor (its secretary) and a reader see them."""

import re
import sys
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import (
    AuditEvent,
    ChangeProposal,
    CommitteeMember,
    Meeting,
    MeetingAttendance,
    PlanVersion,
    Resolution,
    ResolutionCitation,
    WorkingGroup,
)
from app.services import committee, reflections, versions
from app.services.errors import Conflict, ValidationFailed
from tests import factories as f
from tests.conftest import sign_in
from tests.web.test_reports import PDF_HEAD, pdf_text

CHAIR = "นายสมชาย ใจดี (สาธิต)"
SECRETARY = "นางสาวสุดา รักเรียน (สาธิต)"
MEMBER = "นายวิชัย มีสุข (สาธิต)"


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _members(session: Session, slug: str = "krabi") -> dict[str, CommitteeMember]:
    area = f.area(session, slug)
    esa = f.agency(session, slug)
    made = {}
    for name, role, title in (
        (MEMBER, "member", "นายกองค์การบริหารส่วนจังหวัด"),
        (SECRETARY, "secretary", "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาประถมศึกษา"),
        (CHAIR, "chair", "รองผู้ว่าราชการจังหวัด"),
    ):
        made[role] = committee.create_member(
            session,
            actor=f.ACTOR,
            area=area,
            member_in={"name": name, "title": title, "agency_id": esa.id, "role": role},
        )
    return made


@pytest.fixture
def editor(app_client: Callable[[], TestClient], session: Session) -> TestClient:
    """Krabi's editor: the committee's secretary in Phonlap."""
    return sign_in(app_client(), session, f.make_user(session, "editor", "krabi"))


# ---- members and working groups -------------------------------------------------------------


def test_the_committee_lists_the_chair_first_and_the_secretary_adds_a_member(
    editor: TestClient, session: Session
) -> None:
    _members(session)
    page = editor.get("/areas/krabi/committee").text
    names = [n for n in re.findall(r'<th scope="row">(.*?)</th>', page)]
    assert names == [CHAIR, SECRETARY, MEMBER]
    assert "ประธาน" in page and "เลขานุการ" in page and "รองผู้ว่าราชการจังหวัด" in page
    esa = f.agency(session, "krabi")
    response = editor.post(
        "/areas/krabi/committee/members",
        data={
            "name": "นางมาลี ศรีสุข (สาธิต)",
            "title": "พัฒนาสังคมและความมั่นคงของมนุษย์จังหวัด",
            "agency_id": str(esa.id),
            "role": "vice_chair",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = editor.get(response.headers["location"]).text
    names = re.findall(r'<th scope="row">(.*?)</th>', page)
    assert names[:2] == [CHAIR, "นางมาลี ศรีสุข (สาธิต)"]  # vice-chair right after the chair
    event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.entity_type, event.op, event.after["role"]) == (
        "committee_member",
        "create",
        "vice_chair",
    )


def test_a_member_from_another_areas_agency_is_refused_beside_the_field_nothing_stored(
    editor: TestClient, session: Session
) -> None:
    f.area(session, "krabi")
    other = f.agency(session, "phuket")
    before = _count(session, CommitteeMember), _count(session, AuditEvent)
    response = editor.post(
        "/areas/krabi/committee/members",
        data={"name": "นายทดสอบ ข้ามจังหวัด", "agency_id": str(other.id), "role": "member"},
    )
    assert response.status_code == 422
    error = re.search(r'<p class="error" id="member-new-agency_id-error">(.*?)</p>', response.text)
    assert error and other.name_th in error.group(1) and "ไม่ใช่หน่วยงานของพื้นที่นี้" in error.group(1)
    assert 'value="นายทดสอบ ข้ามจังหวัด"' in response.text  # the input is kept
    assert (_count(session, CommitteeMember), _count(session, AuditEvent)) == before


def test_a_stale_save_of_a_member_is_a_conflict_and_changes_nothing(
    editor: TestClient, session: Session
) -> None:
    chair = _members(session)["chair"]
    committee.update_member(
        session,
        actor=f.ACTOR,
        area=f.area(session, "krabi"),
        member_id=chair.id,
        member_in={"name": CHAIR, "title": "ผู้ว่าราชการจังหวัด", "role": "chair"},
        expected_version=1,
    )
    response = editor.post(
        f"/areas/krabi/committee/members/{chair.id}",
        data={"name": "ชื่อที่พิมพ์ทับ", "role": "chair", "version": "1"},
    )
    assert response.status_code == 409
    assert "มีผู้อื่นแก้ไข" in response.text or "Someone else" in response.text
    session.expire_all()
    assert session.get(CommitteeMember, chair.id).title == "ผู้ว่าราชการจังหวัด"


def test_a_working_group_takes_members_of_this_committee_only_and_its_lead_joins_it(
    editor: TestClient, session: Session
) -> None:
    made = _members(session)
    stranger = _members(session, "phuket")["member"]
    before = _count(session, WorkingGroup)
    response = editor.post(
        "/areas/krabi/committee/groups",
        data={"name": "คณะทำงานด้านข้อมูล", "members": [str(made["member"].id), str(stranger.id)]},
    )
    assert response.status_code == 422
    assert "ไม่ได้เป็นกรรมการของพื้นที่นี้" in response.text and MEMBER in response.text
    assert _count(session, WorkingGroup) == before
    response = editor.post(
        "/areas/krabi/committee/groups",
        data={
            "name": "คณะทำงานด้านข้อมูล",
            "remit": "รวบรวมข้อมูลผลสัมฤทธิ์",
            "lead_id": str(made["secretary"].id),
            "members": [str(made["member"].id)],
            "others": "นายเอก มหาวิทยาลัยราชภัฏ (สาธิต)",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    group_id = int(response.headers["location"].rsplit("group-", 1)[1])
    card = editor.get("/areas/krabi/committee").text.split(f'id="group-{group_id}"', 1)[1]
    card = card.split("</article>", 1)[0]
    assert SECRETARY in card and MEMBER in card and "มหาวิทยาลัยราชภัฏ" in card
    assert committee.group_values(session, session.get(WorkingGroup, group_id))[
        "members"
    ] == sorted([made["member"].id, made["secretary"].id])


def test_readers_see_the_committee_without_forms(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    _members(session)
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    page = viewer.get("/areas/krabi/committee").text
    assert CHAIR in page and "committee/members" not in page


# ---- meetings and resolutions ---------------------------------------------------------------


def _meeting(session: Session, made: dict[str, CommitteeMember]) -> Meeting:
    return committee.create_meeting(
        session,
        actor=f.ACTOR,
        area=f.area(session, "krabi"),
        meeting_in={
            "held_on": "2024-06-16",
            "title": "ประชุมคณะกรรมการ ครั้งที่ 1/2567",
            "place": "ห้องประชุมศาลากลางจังหวัดกระบี่",
            "agenda": "เรื่องที่ประธานแจ้งให้ที่ประชุมทราบ\nรับรองแผนฉบับปรับปรุง",
            "attendees": [made["chair"].id, made["member"].id],
            "guests": "ผู้แทนมูลนิธิ (สาธิต)",
        },
    )


def test_a_meeting_with_an_attendee_from_another_area_is_refused_nothing_stored(
    editor: TestClient, session: Session
) -> None:
    _members(session)
    stranger = _members(session, "phuket")["chair"]
    before = _count(session, Meeting), _count(session, MeetingAttendance)
    response = editor.post(
        "/areas/krabi/meetings",
        data={"held_on": "16/6/2567", "title": "ประชุมครั้งที่ 1", "attendees": [str(stranger.id)]},
    )
    assert response.status_code == 422
    assert "ไม่ได้เป็นกรรมการของพื้นที่นี้" in response.text and 'value="ประชุมครั้งที่ 1"' in response.text
    assert (_count(session, Meeting), _count(session, MeetingAttendance)) == before


def test_the_meetings_are_newest_first_with_thai_dates(
    editor: TestClient, session: Session
) -> None:
    made = _members(session)
    _meeting(session, made)
    response = editor.post(
        "/areas/krabi/meetings",
        data={"held_on": "5/9/2567", "title": "ประชุมคณะกรรมการ ครั้งที่ 2/2567"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = editor.get("/areas/krabi/meetings").text
    assert page.index("ครั้งที่ 2/2567") < page.index("ครั้งที่ 1/2567")
    assert "5 ก.ย. 2567" in page and "16 มิ.ย. 2567" in page


def test_a_resolution_citing_another_areas_version_is_refused_naming_it(
    editor: TestClient, session: Session
) -> None:
    meeting = _meeting(session, _members(session))
    plan = f.make_full_plan(session, "phuket", kras=1)
    theirs = versions.name_version(
        session,
        actor=f.ACTOR,
        area=f.area(session, "phuket"),
        plan=plan,
        version_in={"name": "แผนภูเก็ต ฉบับที่ 2"},
    )
    before = _count(session, Resolution), _count(session, ResolutionCitation)
    response = editor.post(
        f"/areas/krabi/meetings/{meeting.id}/resolutions",
        data={"text": "รับรองแผน", "cite": [f"plan_version:{theirs.id}"], "cite_kind": ["adopt"]},
    )
    assert response.status_code == 422
    assert "แผนภูเก็ต ฉบับที่ 2 ไม่ใช่ข้อมูลของพื้นที่นี้" in response.text
    assert ">รับรองแผน</textarea>" in response.text
    assert (_count(session, Resolution), _count(session, ResolutionCitation)) == before


def test_a_resolution_adopting_a_version_shows_on_the_version_and_the_proposal(
    editor: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=1)
    area = f.area(session, "krabi")
    meeting = _meeting(session, _members(session))
    version = versions.name_version(
        session, actor=f.ACTOR, area=area, plan=plan, version_in={"name": "แผนฉบับที่ 2 หลังทบทวน"}
    )
    proposal = reflections.create_proposal(
        session, actor=f.ACTOR, area=area, proposal_in={"text": "เพิ่มโรงเรียนนำร่องบนเกาะ"}
    )
    response = editor.post(
        f"/areas/krabi/meetings/{meeting.id}/resolutions",
        data={
            "text": "ที่ประชุมมีมติรับรองแผนฉบับที่ 2 และเห็นชอบข้อเสนอเพิ่มโรงเรียนนำร่อง",
            "cite": [f"plan_version:{version.id}", f"change_proposal:{proposal.id}", ""],
            "cite_kind": ["adopt", "approve", "note"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = editor.get(f"/areas/krabi/meetings/{meeting.id}").text
    assert "มติที่ 1" in page and "รับรอง" in page and "แผนฉบับที่ 2 หลังทบทวน" in page
    shown = editor.get(f"/areas/krabi/versions/{version.id}").text
    back = re.search(r'<p class="decided-by small">(.*?)</p>', shown, re.S)
    assert back and "ตัดสินโดยมติที่ 1 ของการประชุมวันที่ 16 มิ.ย. 2567" in back.group(1)
    assert f'href="/areas/krabi/meetings/{meeting.id}"' in back.group(1)
    proposals = editor.get("/areas/krabi/proposals").text
    card = proposals.split(f'id="proposal-{proposal.id}"', 1)[1].split("</li>", 1)[0]
    assert "ตัดสินโดยมติที่ 1" in card and "เห็นชอบ" in card
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "resolution")).one()
    assert event.after["adopted_version_ids"] == [version.id]
    history = editor.get("/areas/krabi/history").text
    assert "มติ" in history and "ฉบับของแผนที่รับรอง" in history


def test_a_stale_resolution_save_is_a_conflict(session: Session) -> None:
    area = f.area(session, "krabi")
    meeting = _meeting(session, _members(session))
    row = committee.add_resolution(
        session,
        actor=f.ACTOR,
        area=area,
        meeting_id=meeting.id,
        resolution_in={"text": "รับทราบ"},
        citations=[],
    )
    committee.update_resolution(
        session,
        actor=f.ACTOR,
        area=area,
        meeting_id=meeting.id,
        resolution_id=row.id,
        resolution_in={"text": "รับทราบและมอบหมาย"},
        citations=[],
        expected_version=1,
    )
    with pytest.raises(Conflict):
        committee.update_resolution(
            session,
            actor=f.ACTOR,
            area=area,
            meeting_id=meeting.id,
            resolution_id=row.id,
            resolution_in={"text": "ข้อความเก่า"},
            citations=[],
            expected_version=1,
        )
    with pytest.raises(ValidationFailed) as refused:
        committee.parse_citations(["kpi:abc"], ["note"])
    assert "citations" in refused.value.errors


def test_a_member_who_leaves_stays_in_the_minutes_of_meetings_they_attended(
    editor: TestClient, session: Session
) -> None:
    made = _members(session)
    meeting = _meeting(session, made)
    leaving = made["member"].id
    response = editor.post(
        f"/areas/krabi/committee/members/{leaving}/delete",
        data={"version": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(CommitteeMember, leaving) is None
    page = editor.get(f"/areas/krabi/meetings/{meeting.id}").text
    attendance = page.split('id="h-attendance"', 1)[1].split("</section>", 1)[0]
    assert MEMBER in attendance and "พ้นจากคณะกรรมการแล้ว" in attendance and CHAIR in attendance


def test_the_minutes_print_as_a_thai_pdf(editor: TestClient, session: Session) -> None:
    plan = f.make_full_plan(session, "krabi", kras=1)
    area = f.area(session, "krabi")
    meeting = _meeting(session, _members(session))
    version = versions.name_version(
        session, actor=f.ACTOR, area=area, plan=plan, version_in={"name": "แผนฉบับที่2"}
    )
    committee.add_resolution(
        session,
        actor=f.ACTOR,
        area=area,
        meeting_id=meeting.id,
        resolution_in={"text": "รับรองแผนฉบับที่2"},
        citations=[committee.Citation("plan_version", version.id, "adopt")],
    )
    response = editor.get(f"/areas/krabi/meetings/{meeting.id}.pdf")
    assert response.status_code == 200 and response.content.startswith(PDF_HEAD)
    assert response.headers["content-disposition"] == (
        'attachment; filename="phonlap-krabi-minutes-2024-06-16.pdf"'
    )
    text = pdf_text(response.content)
    assert "กระบี่" in text and "16มิ.ย.2567" in text
    assert "รายงานการประชุม" in text and "รับรองแผนฉบับที่2" in text
    assert "นายสมชายใจดี(สาธิต)" in text and "รับรองแผนฉบับปรับปรุง" in text


def test_without_its_libraries_the_minutes_pdf_says_so(
    editor: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = _meeting(session, _members(session))
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = editor.get(f"/areas/krabi/meetings/{meeting.id}.pdf")
    assert response.status_code == 503 and "Traceback" not in response.text


def test_a_meeting_of_another_area_is_not_found_here(editor: TestClient, session: Session) -> None:
    _members(session, "krabi")
    theirs = committee.create_meeting(
        session,
        actor=f.ACTOR,
        area=f.area(session, "phuket"),
        meeting_in={"held_on": "2024-06-16", "title": "ประชุมภูเก็ต"},
    )
    assert editor.get(f"/areas/krabi/meetings/{theirs.id}").status_code == 404
    response = editor.post(
        f"/areas/krabi/meetings/{theirs.id}/resolutions", data={"text": "มติแทรก"}
    )
    assert response.status_code == 404
    assert _count(session, Resolution) == 0


def test_every_committee_write_is_audited_for_the_area(session: Session) -> None:
    made = _members(session)
    meeting = _meeting(session, made)
    area = f.area(session, "krabi")
    committee.create_group(
        session,
        actor=f.ACTOR,
        area=area,
        group_in={"name": "คณะทำงาน", "members": [made["chair"].id]},
    )
    committee.add_resolution(
        session,
        actor=f.ACTOR,
        area=area,
        meeting_id=meeting.id,
        resolution_in={"text": "รับทราบ"},
        citations=[],
    )
    committee.delete_meeting(session, actor=f.ACTOR, area=area, meeting_id=meeting.id)
    kinds = session.exec(
        select(AuditEvent.entity_type, AuditEvent.op).where(AuditEvent.area_id == area.id)
    ).all()
    assert kinds.count(("committee_member", "create")) == 3
    assert {
        ("meeting", "create"),
        ("working_group", "create"),
        ("resolution", "create"),
        ("meeting", "delete"),
    } <= set(kinds)
    assert _count(session, Resolution) == 0 and _count(session, ChangeProposal) == 0
    assert _count(session, PlanVersion) == 0
