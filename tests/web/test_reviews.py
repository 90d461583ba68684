"""Review rounds on the progress page: submit, return with a comment, approve (locks), reopen."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, Measurement, ReviewRound
from tests import factories as f
from tests.conftest import sign_in

HX = {"HX-Request": "true"}


def _step(client: TestClient, action: str, period: str = "AY2567", **data: str):  # noqa: ANN202
    return client.post(
        f"/areas/krabi/progress/rounds/{period}/{action}", data=data, follow_redirects=False
    )


def test_a_round_from_submission_to_approval_and_reopening(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    editor = sign_in(app_client(), session, f.make_user(session, "editor", "krabi"))
    reviewer = sign_in(app_client(), session, f.make_user(session, "reviewer", None))

    assert _step(reviewer, "submit").status_code == 403  # submitting is the committee's
    assert _step(editor, "approve").status_code == 403  # approving is the reviewer's
    assert _step(editor, "submit").status_code == 303
    page = editor.get("/areas/krabi/progress").text
    assert "ส่งตรวจแล้ว" in page

    returned = _step(reviewer, "return", comment="")
    assert returned.status_code == 422 and "โปรดระบุเหตุผล" in returned.text
    assert _step(reviewer, "return", comment="ค่า ป.1 ยังไม่ครบทุกโรงเรียน").status_code == 303
    page = editor.get("/areas/krabi/progress").text
    assert "ส่งกลับให้แก้ไข" in page and "ค่า ป.1 ยังไม่ครบทุกโรงเรียน" in page

    assert _step(editor, "submit").status_code == 303
    assert _step(reviewer, "approve").status_code == 303
    locked = editor.put(
        f"/areas/krabi/progress/kpis/{kpi.id}/AY2567/actual", headers=HX, data={"value": "70"}
    )
    assert locked.status_code == 422
    assert session.exec(select(Measurement)).all() == []

    assert _step(editor, "reopen", comment="แก้ไข").status_code == 403
    assert _step(reviewer, "reopen", comment="โรงเรียนส่งข้อมูลเพิ่ม").status_code == 303
    opened = editor.put(
        f"/areas/krabi/progress/kpis/{kpi.id}/AY2567/actual", headers=HX, data={"value": "70"}
    )
    assert opened.status_code == 200
    round_ = session.exec(select(ReviewRound)).one()
    assert round_.state == "open"
    reasons = session.exec(
        select(AuditEvent.reason)
        .where(AuditEvent.entity_type == "review_round")
        .order_by(AuditEvent.id)
    ).all()
    assert reasons == [None, "ค่า ป.1 ยังไม่ครบทุกโรงเรียน", None, None, "โรงเรียนส่งข้อมูลเพิ่ม"]


def test_a_step_from_a_stale_page_is_refused(client: TestClient, session: Session) -> None:
    f.make_kpi(session, f.make_plan(session))
    assert _step(client, "submit").status_code == 303
    again = _step(client, "submit")
    assert again.status_code == 409 and "หน้านี้ไม่เป็นปัจจุบัน" in again.text
    assert _step(client, "approve", period="AY2567-S1").status_code == 422
    assert _step(client, "dance").status_code == 404
    assert session.exec(select(ReviewRound.state)).all() == ["submitted"]


def test_a_year_that_has_not_begun_cannot_be_submitted(
    client: TestClient, session: Session
) -> None:
    f.make_kpi(session, f.make_plan(session))
    page = client.get("/areas/krabi/progress").text
    assert 'id="round-AY2566"' in page and 'id="round-AY2570"' not in page  # begins May 2027
    refused = _step(client, "submit", period="AY2570")
    assert refused.status_code == 422 and "ปีนี้ยังไม่เริ่ม" in refused.text
    assert session.exec(select(ReviewRound)).all() == []
