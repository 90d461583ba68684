"""The import page: upload, a preview with every change and problem, confirm; and downloads."""

import io
import os
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from app.models import Measurement, PendingImport
from app.models.base import utcnow
from app.services import progress
from tests import factories as f
from tests.conftest import sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filled_template(client: TestClient, edit: dict[tuple[str, str], object]) -> bytes:
    response = client.get("/areas/krabi/progress/template.xlsx")
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert "phonlap-krabi-template-" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["ความก้าวหน้า"]
    for row in sheet.iter_rows(min_row=2):
        if (row[0].value, row[3].value) in edit:
            row[5].value = edit[(row[0].value, row[3].value)]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, data: bytes, name: str = "กระบี่-2568.xlsx"):  # noqa: ANN202
    return client.post("/areas/krabi/progress/import", files={"file": (name, data, XLSX)})


def test_upload_shows_the_changes_and_saves_them_only_when_confirmed(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    progress.save_cell(
        session, actor=f.ACTOR, plan=plan, kpi_id=kpi.id, period="AY2566", cell="actual", text="64"
    )
    data = _filled_template(client, {("KPI1", "AY2566"): 65.5, ("KPI1", "AY2567"): "๖๗"})

    preview = _upload(client, data)
    assert preview.status_code == 200
    assert "2 รายการเปลี่ยนแปลง ตรวจแล้วพร้อมบันทึก" in preview.text
    assert "<del>64</del> → <ins>65.5</ins>" in preview.text
    assert "ปีการศึกษา 2567" in preview.text and "<ins>67</ins>" in preview.text
    assert session.exec(select(Measurement.value)).all() == [64]  # nothing saved yet

    action = preview.text.split('action="/areas/krabi/progress/import/')[1].split('"')[0]
    done = client.post(
        f"/areas/krabi/progress/import/{action}",
        data={"filename": "กระบี่-2568.xlsx"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?imported=2")
    session.expire_all()
    stored = session.exec(select(Measurement.period, Measurement.value)).all()
    assert sorted(stored) == [("AY2566", 65.5), ("AY2567", 67)]
    page = client.get(done.headers["location"]).text
    assert "นำเข้าแล้ว บันทึก 2 รายการเปลี่ยนแปลง" in page

    again = client.post(f"/areas/krabi/progress/import/{action}", data={"filename": "x.xlsx"})
    assert again.status_code == 422 and "โปรดอัปโหลดไฟล์อีกครั้ง" in again.text


def test_a_preview_made_on_one_worker_is_confirmed_on_another_and_only_in_its_own_area(
    client: TestClient,
    app_client,
    session: Session,
    admin,  # noqa: ANN001
) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)
    f.make_plan(session, "phuket")
    data = _filled_template(client, {("KPI1", "AY2567"): 70})
    preview = _upload(client, data)
    digest = preview.text.split('action="/areas/krabi/progress/import/')[1].split('"')[0]
    held = session.exec(select(PendingImport)).one()  # in the database, not on this server's disk
    assert (held.sha256, held.data) == (digest, data)
    assert not (Path(os.environ["PHONLAP_VAR_DIR"]) / "imports").exists()

    other = sign_in(app_client(), session, admin)  # another worker (or host): a new app
    elsewhere = other.post(f"/areas/phuket/progress/import/{digest}", data={"filename": "x.xlsx"})
    assert elsewhere.status_code == 422 and "โปรดอัปโหลดไฟล์อีกครั้ง" in elsewhere.text
    done = other.post(
        f"/areas/krabi/progress/import/{digest}",
        data={"filename": "x.xlsx"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?imported=1")
    session.expire_all()
    assert session.exec(select(Measurement.value)).all() == [70]
    assert session.exec(select(PendingImport)).all() == []  # it stopped waiting with the import


def test_a_workbook_waits_a_day_at_most(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)
    old = _filled_template(client, {("KPI1", "AY2567"): 70})
    digest = _upload(client, old).text.split("progress/import/")[1].split('"')[0]
    held = session.exec(select(PendingImport)).one()
    held.created_at = utcnow() - timedelta(days=1, minutes=1)
    session.add(held)
    session.commit()
    late = client.post(f"/areas/krabi/progress/import/{digest}", data={"filename": "x.xlsx"})
    assert late.status_code == 422 and "โปรดอัปโหลดไฟล์อีกครั้ง" in late.text
    _upload(client, _filled_template(client, {("KPI1", "AY2567"): 71}))  # clears the old one
    session.expire_all()
    assert [p.sha256 == digest for p in session.exec(select(PendingImport))] == [False]
    assert session.exec(select(Measurement)).all() == []


def test_a_bad_file_is_refused_with_row_numbers_and_nothing_is_saved(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)
    data = _filled_template(client, {("KPI1", "AY2566"): "ดี", ("KPI1", "AY2567"): 70})
    response = _upload(client, data)
    assert response.status_code == 422
    assert "พบปัญหา 1 จุด จึงไม่ได้บันทึกสิ่งใด" in response.text
    assert "โปรดระบุเป็นตัวเลข" in response.text
    assert "import/" not in response.text.split("import-preview")[1]  # no confirm button
    assert session.exec(select(Measurement)).all() == []

    junk = _upload(client, b"just text", "notes.xlsx")
    assert junk.status_code == 422 and "ไม่ใช่สมุดงาน Excel" in junk.text
    empty = client.post("/areas/krabi/progress/import", data={})
    assert empty.status_code == 422 and "โปรดเลือกไฟล์" in empty.text


def test_exports_download_as_xlsx_and_csv(client: TestClient, session: Session) -> None:
    plan = f.make_plan(session)
    f.make_kpi(session, plan)
    page = client.get("/areas/krabi/progress").text
    assert "/areas/krabi/progress/export.xlsx" in page and "/areas/krabi/progress/import" in page
    book = client.get("/areas/krabi/progress/export.xlsx")
    sheets = load_workbook(io.BytesIO(book.content)).sheetnames
    assert sheets == ["ความก้าวหน้า", "แผน", "รายงานความคืบหน้ากิจกรรม"]
    csv = client.get("/areas/krabi/progress/export/plan.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "ร้อยละนักเรียน ป.1 อ่านออก (KPI1)" in csv.content.decode("utf-8-sig")
    assert client.get("/areas/krabi/progress/export/secrets.csv").status_code == 404
