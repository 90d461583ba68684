"""Reports on the web: the brief page and its PDF, the briefs of many areas, the annual summary
and the cross-area workbook, each for the areas its reader may read."""

import io
import os
import re
import shutil
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.services import plans, reports
from tests import factories as f
from tests.conftest import sign_in
from tests.services.test_reports import report_plan

PDF_HEAD = b"%PDF"


def pdf_text(body: bytes) -> str:
    """The PDF's text (poppler's pdftotext), with all white space removed: Thai table cells wrap."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("PHONLAP_REQUIRE_BROWSER") == "1":
            pytest.fail("pdftotext is missing (apt-get install poppler-utils)")
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    done = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True)
    return "".join(done.stdout.decode("utf-8").split())


def _row(page: str, dom_id: str) -> str:
    match = re.search(rf'<tr id="{dom_id}">(.*?)</tr>', page, re.S)
    assert match, dom_id
    return match.group(1)


def test_the_brief_shows_the_area_its_values_and_the_years_reasoned_changes(
    client: TestClient, session: Session
) -> None:
    data = report_plan(session)
    page = client.get("/areas/krabi/brief")
    assert page.status_code == 200
    text = page.text
    assert "กระบี่" in text and "Krabi" in text and "ปีการศึกษา 2567" in text
    for code, value in (("KPI1", "70"), ("KPI2", "60"), ("KPI3", "30"), ("KPI4", "55")):
        cells = _row(text, f"brief-krabi-kpi-{data.kpis[code].id}")
        assert f'<td class="num value">{value}</td>' in cells, code
    assert "O-NET กลายเป็นการสอบแบบสมัครใจ" in text  # a change of AY2567 with its reason
    assert "คณะกรรมการขยายพื้นที่" not in text  # one of AY2568
    assert "ขอให้แนบผลการทดสอบการอ่านรายโรงเรียน" in text  # the reviewer's words
    assert "ข้อมูลตัวอย่าง" not in text
    later = client.get("/areas/krabi/brief?period=AY2568").text
    assert "คณะกรรมการขยายพื้นที่" in later and "O-NET กลายเป็นการสอบแบบสมัครใจ" not in later
    assert "/areas/krabi/brief" in client.get("/areas/krabi").text  # the overview links to it


def test_a_year_the_plan_lacks_is_refused_beside_the_field(
    client: TestClient, session: Session
) -> None:
    report_plan(session)
    page = client.get("/areas/krabi/brief?period=AY2400")
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text and "AY2567" in page.text
    assert client.get("/areas/krabi/brief.pdf?period=AY2400").status_code == 422


def test_a_demo_plan_is_labelled_as_demo_data(client: TestClient, session: Session) -> None:
    values = {"title": "แผนภูเก็ต (ตัวอย่าง)", "span_start_be": 2566, "span_end_be": 2570}
    plans.create_plan(
        session, actor=f.ACTOR, area=f.area(session, "phuket"), plan_in=values, is_demo=True
    )
    page = client.get("/areas/phuket/brief").text
    assert "ภูเก็ต" in page and "ข้อมูลตัวอย่าง" in page


def test_the_brief_pdf_carries_the_thai_area_name_and_its_kpis(
    client: TestClient, session: Session
) -> None:
    report_plan(session)
    response = client.get("/areas/krabi/brief.pdf?period=AY2567")
    assert response.status_code == 200 and response.content.startswith(PDF_HEAD)
    assert response.headers["content-type"] == "application/pdf"
    disposition = 'attachment; filename="phonlap-krabi-brief-AY2567.pdf"'
    assert response.headers["content-disposition"] == disposition
    text = pdf_text(response.content)
    assert "กระบี่" in text and "Krabi" in text
    assert "ร้อยละนักเรียนป.1อ่านออก(KPI1)" in text


def test_without_its_libraries_the_pdf_route_says_so(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_plan(session)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # importing it now fails
    response = client.get("/areas/krabi/brief.pdf")
    assert response.status_code == 503
    assert "Pango" in response.text and "Traceback" not in response.text


def test_the_briefs_of_the_review_give_one_page_per_readable_area(
    client: TestClient, session: Session, app_client
) -> None:  # noqa: ANN001
    report_plan(session)
    report_plan(session, "phuket")
    page = client.get("/review/briefs?group=all&year=AY2567").text
    assert 'id="brief-krabi"' in page and 'id="brief-phuket"' in page
    assert 'id="brief-bangkok"' in page  # an area without a plan says so on its page
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "phuket"))
    response = viewer.get("/review/briefs.pdf?group=all&year=AY2567")
    assert response.status_code == 200 and response.content.startswith(PDF_HEAD)
    text = pdf_text(response.content)
    assert "ภูเก็ต" in text and "กระบี่" not in text


def _sheet_rows(sheet, columns, key: str) -> dict:  # noqa: ANN001
    keys = [c.key for c in columns]
    rows = {}
    for values in sheet.iter_rows(min_row=2, max_col=len(keys), values_only=True):
        row = dict(zip(keys, values, strict=True))
        rows[row[key]] = row
    return rows


def test_the_annual_summary_page_and_workbook_agree_with_the_database(
    client: TestClient, session: Session
) -> None:
    report_plan(session)
    page = client.get("/review/annual?year=AY2567&group=all")
    assert page.status_code == 200
    row = _row(page.text, "annual-krabi")
    assert '<td class="num">4</td>' in row and "900,000" in row and "100,000" in row
    assert "ขอให้แนบผลการทดสอบการอ่านรายโรงเรียน" in page.text
    book = client.get("/review/annual.xlsx?year=AY2567&group=all")
    assert book.headers["content-disposition"].endswith('phonlap-annual-AY2567.xlsx"')
    sheets = load_workbook(io.BytesIO(book.content)).worksheets
    krabi = _sheet_rows(sheets[0], reports.ANNUAL_COLUMNS, "name_en")["Krabi"]
    assert (krabi["kpis"], krabi["met"], krabi["not_met"]) == (4, 2, 2)
    assert (krabi["budget_thb"], krabi["spent_thb"]) == (900000, 100000)
    kpis = _sheet_rows(sheets[1], reports.ANNUAL_KPI_COLUMNS, "code")
    assert kpis["KPI3"]["result"] == 30 and kpis["KPI3"]["period"] == "ปีงบประมาณ 2567"
    assert client.get("/review/annual?year=FY2567").status_code == 422
    assert client.get("/review/annual.xlsx?year=FY2567").status_code == 422


def test_the_cross_area_workbook_has_a_summary_and_a_sheet_per_area(
    client: TestClient, session: Session
) -> None:
    report_plan(session)
    f.make_full_plan(session, "phuket", kras=1)
    response = client.get("/review/export.xlsx?group=all&year=AY2567")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = _sheet_rows(book.worksheets[0], reports.SUMMARY_COLUMNS, "name_en")
    assert rows["Krabi"]["name_th"] == "กระบี่" and rows["Krabi"]["completeness"] == 1
    assert (rows["Krabi"]["budget_thb"], rows["Phuket"]["budget_thb"]) == (900000, 450000)
    assert book.sheetnames[1:] == list(rows)  # a sheet per area, named in English
    krabi = book["Krabi"]
    header = [c.value for c in krabi[1]]
    kpi2 = next(r for r in krabi.iter_rows(min_row=2, values_only=True) if r[0] == "KPI2")
    assert kpi2[header.index("ปีการศึกษา 2567")] == 60
    assert client.get("/review/export.xlsx?year=2567").status_code == 422


def test_a_viewer_of_phuket_gets_only_phuket(session: Session, app_client) -> None:  # noqa: ANN001
    report_plan(session)
    report_plan(session, "phuket")
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "phuket"))
    assert viewer.get("/areas/krabi/brief").status_code == 403
    assert viewer.get("/areas/krabi/brief.pdf").status_code == 403
    assert viewer.get("/areas/phuket/brief").status_code == 200
    book = load_workbook(io.BytesIO(viewer.get("/review/export.xlsx?group=all").content))
    assert book.sheetnames[1:] == ["Phuket"]
    assert list(_sheet_rows(book.worksheets[0], reports.SUMMARY_COLUMNS, "name_en")) == ["Phuket"]
    annual = viewer.get("/review/annual.xlsx?year=AY2567&group=all").content
    summary = load_workbook(io.BytesIO(annual)).worksheets[0]
    names = list(_sheet_rows(summary, reports.ANNUAL_COLUMNS, "name_th"))
    assert "ภูเก็ต" in names and "กระบี่" not in names and len(names) == 2  # and the totals
    page = viewer.get("/review/annual?year=AY2567&group=all").text
    assert 'id="annual-phuket"' in page and 'id="annual-krabi"' not in page
