"""A workshop session's harvest on the web: the board links to it, the workbook and the Thai PDF
download under the area's slug and the session's date, for its area's facilitators only."""

import io
import sys
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from app.i18n import format_date, local_time
from app.models import Contribution, WorkshopSession
from app.services import votes, workshops
from tests import factories as f
from tests.conftest import QueryCounter, sign_in
from tests.services.test_harvest import CAUSE, INJECTION, make_harvest_workshop
from tests.web.test_reports import PDF_HEAD, pdf_text
from tests.web.test_workshops import _guest, _send

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _url(workshop_id: int, suffix: str, slug: str = "krabi") -> str:
    return f"/areas/{slug}/workshops/{workshop_id}/harvest.{suffix}"


def _stem(session: Session, workshop_id: int) -> str:
    w = session.get(WorkshopSession, workshop_id)
    return f"phonlap-krabi-harvest-{local_time(w.opened_at).date().isoformat()}"


def test_the_board_links_to_its_harvest(client: TestClient, session: Session) -> None:
    w = make_harvest_workshop(session)
    page = client.get(f"/areas/krabi/workshops/{w.session.id}").text
    assert f'href="{_url(w.session.id, "xlsx")}"' in page
    assert f'href="{_url(w.session.id, "pdf")}"' in page
    assert "ผลการระดมความคิด (Excel)" in page and "ผลการระดมความคิด (PDF)" in page


def test_the_workbook_downloads_with_a_guests_formula_made_inert(
    client: TestClient, session: Session, app_client: Callable[[], TestClient]
) -> None:
    w = make_harvest_workshop(session)
    phone = _guest(app_client, w.session, "แขกไม่ประสงค์ดี")
    assert _send(phone, w.session, kind="question", text=INJECTION).status_code == 303
    response = client.get(_url(w.session.id, "xlsx"))
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{_stem(session, w.session.id)}.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.title == "ผลการระดมความคิด"
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(2)]
    assert len(rows) == 9
    kpi = next(r for r in rows if r["ข้อความ"].value == "ร้อยละนักเรียนที่อ่านหนังสือทุกวัน")
    assert "KPI2" in kpi["สิ่งที่เกิดขึ้นต่อมา"].value
    hostile = next(r for r in rows if r["ข้อความ"].value == INJECTION)
    assert hostile["ข้อความ"].data_type == "s" and hostile["ข้อความ"].quotePrefix
    assert hostile["ผู้เสนอ"].value == "แขกไม่ประสงค์ดี"


def test_the_pdf_is_a_thai_a4_document_of_every_step(client: TestClient, session: Session) -> None:
    w = make_harvest_workshop(session)
    response = client.get(_url(w.session.id, "pdf"))
    assert response.status_code == 200 and response.content.startswith(PDF_HEAD)
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{_stem(session, w.session.id)}.pdf"'
    )
    text = pdf_text(response.content)
    assert "เวทีระดมความคิดรอบที่1" in text and "กระบี่" in text
    assert "".join(format_date(w.session.opened_at).split()) in text  # the B.E. date
    assert "ร้อยละนักเรียนที่อ่านหนังสือทุกวัน" in text
    assert "รับเข้าแผนเป็นKPI2" in text
    assert "รับเข้าแผนผังต้นไม้ปัญหา:นักเรียนย้ายโรงเรียนบ่อย" in text
    assert "ถนนเข้าโรงเรียนเป็นหลุมบ่อ" in text and "เก็บเข้าคลังแล้ว" in text
    assert "ค่ายภาษาไทยช่วงปิดเทอม" in text and "ยังไม่ได้ตัดสิน" in text and "3จุด" in text
    assert "ผู้ปกครองบ้านคลองม่วง" in text and "".join(CAUSE.split()) in text


def test_without_its_libraries_the_harvest_pdf_says_so(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make_harvest_workshop(session)
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = client.get(_url(w.session.id, "pdf"))
    assert response.status_code == 503 and "Traceback" not in response.text


def test_only_the_areas_facilitators_get_its_harvest(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    w = make_harvest_workshop(session)
    own = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    assert own.get(_url(w.session.id, "xlsx")).status_code == 200
    for role, slug in (("facilitator", "phuket"), ("viewer", "phuket"), ("editor", "krabi")):
        other = sign_in(app_client(), session, f.make_user(session, role, slug))
        for suffix in ("xlsx", "pdf"):
            assert other.get(_url(w.session.id, suffix)).status_code == 403, (role, suffix)
    phuket = sign_in(app_client(), session, f.make_user(session, "facilitator", "phuket"))
    for suffix in ("xlsx", "pdf"):  # nor through its own area's address
        assert phuket.get(_url(w.session.id, suffix, "phuket")).status_code == 404


def test_the_workbook_costs_the_same_queries_however_many_contributions(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    w = make_harvest_workshop(session)
    url = _url(w.session.id, "xlsx")
    count_queries.count = 0
    assert client.get(url).status_code == 200
    few = count_queries.count
    vote = votes.open_vote(
        session, actor=f.ACTOR, workshop=w.session, vote_in={"kind": "question", "dots": "3"}
    )
    for n in range(8):
        guest, _ = f.make_guest(session, w.session, f"โต๊ะ {n}")
        for kind in ("kpi_idea", "action_idea", "problem", "resource", "question"):
            extra = {"dimension": "data"} if kind == "resource" else {}
            row = f.make_contribution(session, w.session, guest, kind, text=f"{kind} {n}", **extra)
            workshops.accept(session, actor=f.ACTOR, workshop=w.session, contribution_id=row.id)
        cast = {"workshop": w.session, "participant": guest, "vote_id": vote.id}
        votes.cast(session, contribution_id=row.id, **cast)  # the question just posted
    assert session.exec(select(func.count()).select_from(Contribution)).one() == 48
    count_queries.count = 0
    assert client.get(url).status_code == 200
    assert count_queries.count == few
