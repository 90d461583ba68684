"""The progress grid: cells saved one by one, refused text, statuses, targets and locks."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.i18n import thai_today
from app.models import ActionUpdate, AuditEvent, KPITarget, Measurement, ReviewRound
from tests import factories as f

HX = {"HX-Request": "true"}


def _cell(
    client: TestClient, kpi_id: int, period: str, value: str, cell: str = "actual", **extra: str
):  # noqa: ANN202
    return client.put(
        f"/areas/krabi/progress/kpis/{kpi_id}/{period}/{cell}",
        headers=HX,
        data={"value": value, **extra},
    )


def test_the_grid_shows_each_kpi_by_period_with_interpolated_targets(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)  # baseline 62.5 in AY2565, target 75 in AY2570
    page = client.get("/areas/krabi/progress")
    assert page.status_code == 200
    assert "ความก้าวหน้าของกระบี่" in page.text
    assert "ปีการศึกษา 2566" in page.text and "ปีการศึกษา 2570" in page.text
    assert 'placeholder="≈65"' in page.text  # one fifth of the way from 62.5 to 75
    assert 'placeholder="75"' in page.text  # the end target in its own period


def test_a_value_in_thai_digits_is_stored_and_the_row_comes_back_with_its_status(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    response = _cell(client, kpi.id, "AY2566", "๖๖.๕%")
    assert response.status_code == 200
    assert f'id="kpi-progress-{kpi.id}"' in response.text and "<html" not in response.text
    stored = session.exec(select(Measurement).where(Measurement.kpi_id == kpi.id)).one()
    assert (stored.period, stored.value) == ("AY2566", 66.5)
    assert "status-on_track" in response.text  # 66.5 beats the interpolated 65
    event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "measurement")).one()
    assert event.after["value"] == 66.5 and event.actor_id is not None


def test_text_in_a_number_cell_is_refused_beside_the_cell_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    for text in ("N/A", "ดี", "—", "12 คน"):
        response = _cell(client, kpi.id, "AY2566", text)
        assert response.status_code == 422
        assert "โปรดระบุเป็นตัวเลข" in response.text
        assert f'value="{text}"' in response.text  # what was typed stays in the cell
        assert 'aria-invalid="true"' in response.text
    too_big = _cell(client, kpi.id, "AY2566", "120")
    assert too_big.status_code == 422 and "0 ถึง 100" in too_big.text
    assert session.exec(select(Measurement)).all() == []


def test_an_empty_cell_clears_the_value_and_the_history_keeps_it(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    _cell(client, kpi.id, "AY2566", "70")
    assert _cell(client, kpi.id, "AY2566", "").status_code == 200
    assert session.exec(select(Measurement)).all() == []
    ops = session.exec(
        select(AuditEvent.op).where(AuditEvent.entity_type == "measurement").order_by(AuditEvent.id)
    ).all()
    assert ops == ["create", "delete"]


def test_a_stale_cell_says_who_saved_meanwhile(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    _cell(client, kpi.id, "AY2566", "70")
    _cell(client, kpi.id, "AY2566", "71", version="1")  # now at version 2
    stale = _cell(client, kpi.id, "AY2566", "69", version="1")
    assert stale.status_code == 409 and "มีผู้อื่นบันทึกค่านี้ไปแล้ว" in stale.text
    assert session.exec(select(Measurement.value)).one() == 71


def test_targets_per_period_override_the_line(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    assert _cell(client, kpi.id, "AY2566", "68", cell="target").status_code == 200
    response = _cell(client, kpi.id, "AY2566", "66")
    assert "status-at_risk" in response.text  # short of 68, better than the 62.5 baseline
    assert session.get(KPITarget, (kpi.id, "AY2566")).value == 68


def test_a_period_of_the_wrong_type_or_another_plans_kpi_is_refused(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    assert _cell(client, kpi.id, "FY2567", "70").status_code == 422
    other = f.make_kpi(session, f.make_plan(session, "phuket"))
    assert _cell(client, other.id, "AY2566", "70").status_code == 404
    assert session.exec(select(Measurement)).all() == []


def test_a_submitted_or_approved_period_is_locked(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(
        session,
        plan,
        period_type="semester",
        baseline_period="AY2565-S2",
        target_period="AY2569-S2",
    )
    session.add(ReviewRound(area_id=plan.area_id, period="AY2566", state="approved"))
    session.commit()
    response = _cell(client, kpi.id, "AY2566-S1", "70")
    assert response.status_code == 422 and "อนุมัติแล้วและถูกล็อก" in response.text
    assert session.exec(select(Measurement)).all() == []
    page = client.get("/areas/krabi/progress").text
    cell = f'id="cell-{kpi.id}-AY2566-S1-actual"'
    assert cell in page
    assert "readonly" in page.split(cell)[1].split(">")[0]
    assert _cell(client, kpi.id, "AY2567-S1", "70").status_code == 200


def _check_in(client: TestClient, action_id: int, **values: str):  # noqa: ANN202
    data = {"on_date": "2026-11-01", "status": "delayed", "what_changed": "อบรมครูได้ 2 รุ่น", **values}
    return client.post(f"/areas/krabi/progress/actions/{action_id}/updates", headers=HX, data=data)


def test_a_check_in_is_listed_and_sets_the_action_status(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    action = f.make_action(session, plan)
    response = _check_in(
        client,
        action.id,
        percent_complete="40",
        confidence="7",
        spent_thb="120,000",
        next_steps="อบรมรุ่นที่ 3 เดือนมกราคม",
        evidence_url="https://example.go.th/report.pdf",
    )
    assert response.status_code == 200
    assert "บันทึกความคืบหน้าแล้ว" in response.text and "อบรมครูได้ 2 รุ่น" in response.text
    update = session.exec(select(ActionUpdate)).one()
    assert (update.percent_complete, update.confidence, update.spent_thb) == (40, 7, 120000)
    session.refresh(action)
    assert action.status == "delayed"
    ops = session.exec(
        select(AuditEvent.entity_type)
        .where(AuditEvent.entity_type.in_(["action", "action_update"]))
        .order_by(AuditEvent.id)
    ).all()
    assert ops[-2:] == ["action", "action_update"]  # one transaction: the status and the check-in
    page = client.get("/areas/krabi/progress").text
    assert "ล่าช้า" in page and "40%" in page


def test_a_bad_check_in_keeps_the_text_and_stores_nothing(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    action = f.make_action(session, plan)
    status_before = action.status
    for bad, field in (
        ({"percent_complete": "120"}, "ไม่เกิน 100"),
        ({"confidence": "สูง"}, "จำนวนเต็ม"),
        ({"evidence_url": "ftp://x"}, "http://"),
        ({"what_changed": ""}, "จำเป็นต้องกรอก"),
        ({"on_date": "2099-01-01"}, "ในอนาคต"),
    ):
        response = _check_in(client, action.id, next_steps="ประชุมเครือข่าย", **bad)
        assert response.status_code == 422, bad
        assert field in response.text, bad
        assert "ประชุมเครือข่าย" in response.text  # typed text kept
    assert session.exec(select(ActionUpdate)).all() == []
    session.refresh(action)
    assert action.status == status_before


def test_cells_of_periods_not_begun_are_locked_with_the_reason_and_their_targets_stay_open(
    client: TestClient, session: Session
) -> None:
    import re

    from app.periods import period_span

    plan = f.make_plan(session)  # 2566-2570: the last academic years lie ahead
    kpi = f.make_kpi(session, plan)
    ahead = next(
        p for p in ("AY2568", "AY2569", "AY2570") if period_span(p).starts_on > thai_today()
    )
    page = client.get("/areas/krabi/progress").text

    def cell(period: str, kind: str) -> str:
        return re.search(rf'<input id="cell-{kpi.id}-{period}-{kind}"[^>]*>', page, re.S).group(0)

    locked, open_cell = cell(ahead, "actual"), cell("AY2566", "actual")
    assert "readonly" in locked and "hx-put" not in locked
    assert 'title="ช่วงเวลานี้ยังไม่เริ่ม' in locked and 'placeholder="ยังไม่เริ่ม' in locked
    assert "readonly" not in open_cell and "hx-put" in open_cell
    assert "hx-put" in cell(ahead, "target")  # a future target can still be set
