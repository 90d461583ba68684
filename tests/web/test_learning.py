"""Adaptations with reasons, named plan versions and their comparison, the timeline and its key
developments: what a committee sees when it asks how and why its plan changed."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.i18n import local_time
from app.models import KPI, AuditEvent, KeyDevelopment, KeyResultArea, PlanVersion
from app.services import evidence, plans, reflections, reviews, versions
from tests import factories as f
from tests.conftest import sign_in

HX = {"HX-Request": "true"}


def _row(html: str, row_id: str) -> str:
    """One row of the comparison table."""
    match = re.search(rf'<tr class="change-\w+" id="{row_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row {row_id}"
    return match.group(0)


def _name_version(client: TestClient, name: str, **extra: str) -> None:
    response = client.post(
        "/areas/krabi/versions", data={"name": name, **extra}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def test_a_target_changed_with_a_reason_shows_on_the_timeline_and_in_the_comparison(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, kras=1)
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id)).one()
    _name_version(client, "v1 ผลจากเวทีประชุมเชิงปฏิบัติการ มิ.ย. 2566")
    form = client.get(f"/areas/krabi/plan/kpis/{kpi.id}/edit", headers=HX).text
    assert "เหตุใดจึงเปลี่ยน" in form  # the reason is asked for
    values = {
        "code": "KPI1",
        "name": kpi.name,
        "kind": "percentage",
        "period_type": "academic_year",
        "baseline_value": "62.5",
        "baseline_period": "AY2565",
        "target_value": "70",
        "target_period": "AY2570",
        "kra_ids": [str(k.id) for k in session.exec(select(KeyResultArea)).all()],
        "version": str(kpi.version),
        "reason_category": "feasibility",
        "reason": "ผลการอ่านปี 2566 ต่ำกว่าที่คาด จึงปรับเป้าให้ทำได้จริง",
    }
    saved = client.put(f"/areas/krabi/plan/kpis/{kpi.id}", headers=HX, data=values)
    assert saved.status_code == 200, saved.text
    event = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "kpi", AuditEvent.op == "update")
    ).one()
    assert (event.reason_category, event.reason) == ("feasibility", values["reason"])

    timeline = client.get("/areas/krabi/timeline").text
    assert values["reason"] in timeline and "ความเป็นไปได้" in timeline  # the category, in Thai
    assert "v1 ผลจากเวทีประชุมเชิงปฏิบัติการ" in timeline

    v1 = session.exec(select(PlanVersion)).one()
    compared = client.get(f"/areas/krabi/versions/compare?a=v{v1.id}&b=now")
    assert compared.status_code == 200
    row = _row(compared.text, f"cmp-kpi-{kpi.id}")
    assert "เปลี่ยนแปลง" in row and "ค่าเป้าหมาย" in row
    assert ">75<" in row and ">70<" in row  # before and after, side by side
    assert values["reason"] in row and "ความเป็นไปได้" in row


def test_comparing_two_versions_marks_added_removed_and_changed(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kept = f.make_kra(session, plan, "KRA1", title="ยกระดับการอ่าน")
    dropped = f.make_kra(session, plan, "KRA2", title="ลดการออกกลางคัน")
    untouched = f.make_kra(session, plan, "KRA3", title="ครูเป็นโค้ช")
    _name_version(client, "v1")
    added = client.post(
        "/areas/krabi/plan/kras",
        headers=HX,
        data={"code": "KRA4", "title": "โรงเรียนเป็นศูนย์เรียนรู้ชุมชน", "reason": "ข้อเสนอจาก อบต."},
    )
    assert added.status_code == 200
    removed = client.delete(
        f"/areas/krabi/plan/kras/{dropped.id}?reason_category=context_changed&reason=รวมกับ+KRA1",
        headers=HX,
    )
    assert removed.status_code == 200
    changed = client.put(
        f"/areas/krabi/plan/kras/{kept.id}",
        headers=HX,
        data={"code": "KRA1", "title": "ยกระดับการอ่านและการเขียน", "version": str(kept.version)},
    )
    assert changed.status_code == 200
    _name_version(client, "v2 หลังการทบทวน")
    v1, v2 = session.exec(select(PlanVersion).order_by(PlanVersion.id)).all()

    page = client.get(f"/areas/krabi/versions/compare?a=v{v1.id}&b=v{v2.id}").text
    assert "เพิ่ม 1" in page and "นำออก 1" in page and "เปลี่ยน 1" in page
    new_kra = session.exec(select(KeyResultArea).where(KeyResultArea.code == "KRA4")).one()
    assert "เพิ่มใหม่" in _row(page, f"cmp-kra-{new_kra.id}")
    assert "ข้อเสนอจาก อบต." in _row(page, f"cmp-kra-{new_kra.id}")
    gone = _row(page, f"cmp-kra-{dropped.id}")
    assert "นำออก" in gone and "ลดการออกกลางคัน" in gone and "รวมกับ KRA1" in gone
    assert "บริบทเปลี่ยน" in gone
    edited = _row(page, f"cmp-kra-{kept.id}")
    assert "ยกระดับการอ่านและการเขียน" in edited and "ไม่ได้บันทึกเหตุผล" in edited
    assert f'id="cmp-kra-{untouched.id}"' not in page  # unchanged elements are not listed

    # the versions are copies: v1 still shows the KRA that was dropped, and the old title
    v1_page = client.get(f"/areas/krabi/versions/{v1.id}").text
    assert "ลดการออกกลางคัน" in v1_page and "ยกระดับการอ่าน<" in v1_page.replace("</li>", "<")


def test_a_version_named_for_a_past_date_copies_the_plan_as_it_stood(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    f.make_kra(session, plan, "KRA1")
    for event in session.exec(select(AuditEvent)).all():  # the plan and KRA1: ten days ago
        event.at = event.at - timedelta(days=10)
        session.add(event)
    session.commit()
    f.make_kra(session, plan, "KRA2", title="เพิ่มภายหลัง")
    day = (local_time(datetime.now(UTC)) - timedelta(days=5)).date()
    _name_version(client, "v0 ร่างแรก", as_of=day.isoformat())
    row = session.exec(select(PlanVersion)).one()
    assert versions.element_counts(row.snapshot)["kra"] == 1
    page = client.get(f"/areas/krabi/versions/{row.id}").text
    assert "เพิ่มภายหลัง" not in page and "ผลลัพธ์หลัก KRA1" in page


def test_bad_input_changes_nothing(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan, "KRA1", title="ยกระดับการอ่าน")
    bad_reason = client.put(
        f"/areas/krabi/plan/kras/{kra.id}",
        headers=HX,
        data={"code": "KRA1", "title": "ชื่อใหม่", "reason_category": "whim", "reason": "เพราะ"},
    )
    assert bad_reason.status_code == 422 and "เลือกจากตัวเลือก" in bad_reason.text
    assert 'value="ชื่อใหม่"' in bad_reason.text  # the input is kept
    session.refresh(kra)
    assert kra.title == "ยกระดับการอ่าน"
    bad_cite = client.put(
        f"/areas/krabi/plan/kras/{kra.id}",
        headers=HX,
        data={"code": "KRA1", "title": "ชื่อใหม่", "cites": "reflection:999999"},
    )
    assert bad_cite.status_code == 422
    bad_delete = client.delete(f"/areas/krabi/plan/kras/{kra.id}?reason_category=x", headers=HX)
    assert bad_delete.status_code == 422 and "เลือกจากตัวเลือก" in bad_delete.text
    assert session.get(KeyResultArea, kra.id) is not None

    _name_version(client, "v1")
    again = client.post("/areas/krabi/versions", data={"name": "v1"})
    assert again.status_code == 422 and "มีฉบับชื่อนี้แล้ว" in again.text
    future = client.post("/areas/krabi/versions", data={"name": "v9", "as_of": "2999-01-01"})
    assert future.status_code == 422 and 'value="v9"' in future.text
    assert session.exec(select(func.count()).select_from(PlanVersion)).one() == 1

    nowhere = client.get("/areas/krabi/versions/compare?a=v999999&b=now")
    assert nowhere.status_code == 422 and 'aria-invalid="true"' in nowhere.text
    refused = client.get("/areas/krabi/timeline?kind=gossip&since=yesterday")
    assert refused.status_code == 422
    assert "cmp" not in refused.text and 'id="tl-since-error"' in refused.text


def test_key_developments_and_the_timeline_filters(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan, "KRA1")
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kras",
        element_id=kra.id,
        element_in={"title": "ยกระดับการอ่าน"},
        partial=True,
        reason="ข้อมูลใหม่",
        reason_category="new_evidence",
    )
    empty = client.post("/areas/krabi/timeline/developments", data={"kind": "milestone"})
    assert empty.status_code == 422 and "จำเป็นต้องกรอกช่องนี้" in empty.text
    made = client.post(
        "/areas/krabi/timeline/developments",
        data={
            "happened_on": "2024-05-16",
            "kind": "context_change",
            "title": "จังหวัดได้ผู้ว่าราชการคนใหม่",
            "description": "นโยบายเน้นการศึกษาปฐมวัย",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    page = client.get("/areas/krabi/timeline").text
    assert "จังหวัดได้ผู้ว่าราชการคนใหม่" in page and "พฤษภาคม 2567" in page
    assert "16 พ.ค. 2567" in page and "ข้อมูลใหม่" in page
    only = client.get("/areas/krabi/timeline?kind=development").text
    assert "จังหวัดได้ผู้ว่าราชการคนใหม่" in only and "ข้อมูลใหม่" not in only
    by_reason = client.get("/areas/krabi/timeline?category=new_evidence").text
    assert "ข้อมูลใหม่" in by_reason and "จังหวัดได้ผู้ว่าราชการคนใหม่" not in by_reason
    until = client.get("/areas/krabi/timeline?until=2024-05-15").text
    assert "จังหวัดได้ผู้ว่าราชการคนใหม่" not in until

    row = session.exec(select(KeyDevelopment)).one()
    gone = client.post(
        f"/areas/krabi/timeline/developments/{row.id}/delete", follow_redirects=False
    )
    assert gone.status_code == 303
    assert session.exec(select(func.count()).select_from(KeyDevelopment)).one() == 0


def test_another_areas_editor_writes_nothing(app_client: Callable, session: Session) -> None:
    f.make_plan(session)
    outsider = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    tried = outsider.post("/areas/krabi/versions", data={"name": "v1"})
    assert tried.status_code == 403
    tried = outsider.post(
        "/areas/krabi/timeline/developments",
        data={"happened_on": "2024-05-16", "kind": "milestone", "title": "x"},
    )
    assert tried.status_code == 403
    assert session.exec(select(func.count()).select_from(PlanVersion)).one() == 0
    assert session.exec(select(func.count()).select_from(KeyDevelopment)).one() == 0
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    page = viewer.get("/areas/krabi/versions").text
    assert "ตั้งชื่อฉบับนี้" not in page
    assert (
        'action="/areas/krabi/timeline/developments"'
        not in viewer.get("/areas/krabi/timeline").text
    )


def test_review_decisions_are_on_the_timeline(client: TestClient, session: Session) -> None:
    f.make_full_plan(session, kras=1)
    area = f.area(session)
    for action, comment in (("submit", ""), ("return", "ขอหลักฐานผลการอ่านเพิ่ม")):
        reviews.step_round(
            session, actor=f.ACTOR, area=area, period="AY2566", action=action, comment=comment
        )
    page = client.get("/areas/krabi/timeline?kind=review").text
    assert "ส่งกลับให้แก้ไข" in page and "ขอหลักฐานผลการอ่านเพิ่ม" in page
    assert page.count('class="timeline-entry kind-review"') == 1  # a submission is no decision


def test_a_change_cites_the_reflection_or_the_evidence_behind_it(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan, "KRA1", title="ยกระดับการอ่าน")
    area = f.area(session)
    seen = reflections.create_reflection(
        session,
        actor=f.ACTOR,
        area=area,
        reflection_in={"held_on": "2024-06-20", "title": "ทบทวนผลการอ่านปี 2566"},
    )
    pdf = evidence.store(
        session,
        actor=f.ACTOR,
        area_id=area.id,
        upload=evidence.Upload("ผลการอ่าน.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    session.commit()
    form = client.get(f"/areas/krabi/plan/kras/{kra.id}/edit", headers=HX).text
    assert f'value="reflection:{seen.id}"' in form and f'value="evidence_file:{pdf.id}"' in form
    for cites, title in ((f"reflection:{seen.id}", "ใหม่ 1"), (f"evidence_file:{pdf.id}", "ใหม่ 2")):
        current = session.exec(select(KeyResultArea)).one()
        session.refresh(current)
        saved = client.put(
            f"/areas/krabi/plan/kras/{kra.id}",
            headers=HX,
            data={"code": "KRA1", "title": title, "cites": cites, "version": current.version},
        )
        assert saved.status_code == 200, saved.text
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.op == "update", AuditEvent.entity_type == "kra")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.cites_type, e.cites_id) for e in events] == [
        ("reflection", seen.id),
        ("evidence_file", pdf.id),
    ]
    timeline = client.get("/areas/krabi/timeline?kind=adaptation").text
    assert f'href="/areas/krabi/reflections/{seen.id}"' in timeline
    assert f'href="/areas/krabi/progress/evidence/{pdf.id}"' in timeline
