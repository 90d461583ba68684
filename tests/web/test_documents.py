"""Reports in Word on the web: where they are linked, what they are named, who gets which
areas, and the queries the cross-area file costs."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services.documents import DOCX_TYPE
from tests import factories as f
from tests.conftest import QueryCounter, sign_in
from tests.services.test_documents import OUTCOME, REFLECTION, annual_data, docx_text


def test_the_areas_annual_report_downloads_as_a_word_file_named_by_area_and_year(
    client: TestClient, session: Session
) -> None:
    annual_data(session)
    response = client.get("/areas/krabi/annual.docx?year=ay2567")
    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX_TYPE
    assert 'filename="phonlap-krabi-annual-AY2567.docx"' in response.headers["content-disposition"]
    text = docx_text(response.content)
    assert "กระบี่" in text and REFLECTION in text and "ปีการศึกษา 2567" in text
    thai = docx_text(client.get("/areas/krabi/annual.docx?year=AY2567&digits=thai").content)
    assert "ปีการศึกษา ๒๕๖๗" in thai
    plan = client.get("/areas/krabi/plan.docx")
    assert plan.headers["content-type"] == DOCX_TYPE
    assert 'filename="phonlap-krabi-plan.docx"' in plan.headers["content-disposition"]
    assert "KPI3" in docx_text(plan.content)


def test_the_default_year_is_the_newest_with_data_and_an_unknown_one_is_refused(
    client: TestClient, session: Session
) -> None:
    annual_data(session)
    default = client.get("/areas/krabi/annual.docx")
    assert "AY2567.docx" in default.headers["content-disposition"]  # AY2568 has no value yet
    refused = client.get("/areas/krabi/annual.docx?year=AY2400")
    assert refused.status_code == 422  # as the brief's PDF refuses it
    assert client.get("/review/annual.docx?year=FY2568").status_code == 422


def test_the_word_files_are_linked_beside_the_pdf_and_the_workbook(
    client: TestClient, session: Session
) -> None:
    annual_data(session)
    brief = client.get("/areas/krabi/brief?period=AY2567").text
    assert "/areas/krabi/annual.docx?year=AY2567" in brief and "/areas/krabi/plan.docx" in brief
    assert "/areas/krabi/plan.docx" in client.get("/areas/krabi/plan").text
    annual = client.get("/review/annual?year=AY2567&group=all").text
    assert "/review/annual.docx?year=AY2567&amp;group=all" in annual


def test_a_viewer_gets_only_their_areas_in_word(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    annual_data(session)
    annual_data(session, "phuket")
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "phuket"))
    assert viewer.get("/areas/krabi/annual.docx").status_code == 403
    assert viewer.get("/areas/krabi/plan.docx").status_code == 403
    response = viewer.get("/review/annual.docx?year=AY2567&group=all")
    assert response.status_code == 200
    assert 'filename="phonlap-annual-AY2567.docx"' in response.headers["content-disposition"]
    text = docx_text(response.content)
    assert "ภูเก็ต" in text and "กระบี่" not in text and text.count(OUTCOME) == 1


def test_the_cross_area_file_reads_the_same_queries_for_more_areas_and_records(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    annual_data(session)
    url = "/review/annual.docx?year=AY2567&group=all"
    client.get(url)  # the reference data kept between requests is read once
    count_queries.count = 0
    assert client.get(url).status_code == 200
    small = count_queries.count
    for slug in ("phuket", "chiang-mai", "satun"):
        annual_data(session, slug)
    count_queries.count = 0
    assert client.get(url).status_code == 200
    assert count_queries.count == small
