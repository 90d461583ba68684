"""`/review/learning`: what a reviewer and an area's viewer find there, how the filters read from
the address, and the lessons workbook of the same filters."""

import io

from docx import Document
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from tests import factories as f
from tests.conftest import sign_in
from tests.services.test_lessons import (
    KRABI_OUTCOME,
    KRABI_REASON,
    KRABI_REFLECTION,
    PHUKET_QUESTION,
    PHUKET_REFLECTION,
    PHUKET_SO_WHAT,
    make_lessons,
)


def _as(client: TestClient, session: Session, role: str, slug: str | None = None) -> TestClient:
    return sign_in(client, session, f.make_user(session, role, slug))


def test_a_reviewer_reads_the_lessons_of_every_area_each_linking_to_its_area(
    client: TestClient, session: Session
) -> None:
    world = make_lessons(session)
    reviewer = _as(client, session, "reviewer")
    page = reviewer.get("/review/learning")
    assert page.status_code == 200
    html = page.text
    for text in (KRABI_REFLECTION, KRABI_OUTCOME, KRABI_REASON, PHUKET_REFLECTION, PHUKET_QUESTION):
        assert text in html
    assert f'href="/areas/krabi/reflections/{world.krabi_reflection}"' in html
    assert f'href="/areas/krabi/outcomes/{world.krabi_outcome}"' in html
    assert f'href="/areas/phuket/questions#question-{world.phuket_question}"' in html
    assert (
        f'href="/areas/krabi/timeline?kind=adaptation#adaptation-{world.krabi_adaptation}"' in html
    )
    assert "คุณภาพผู้เรียน" in html  # the reflection's theme, named in Thai
    # the adaptation's link lands on its entry of the timeline
    timeline = reviewer.get("/areas/krabi/timeline?kind=adaptation").text
    assert f'id="adaptation-{world.krabi_adaptation}"' in timeline


def test_an_area_viewer_finds_only_their_own_areas_lessons(
    client: TestClient, session: Session
) -> None:
    make_lessons(session)
    viewer = _as(client, session, "viewer", "phuket")
    html = viewer.get("/review/learning").text
    assert PHUKET_SO_WHAT in html and PHUKET_QUESTION in html
    assert KRABI_REFLECTION not in html and KRABI_OUTCOME not in html and KRABI_REASON not in html
    refused = viewer.get("/review/learning?area=krabi")  # not one of theirs: refused, not shown
    assert refused.status_code == 422
    assert KRABI_REFLECTION not in refused.text
    body = viewer.get("/review/learning.xlsx")
    sheet = load_workbook(io.BytesIO(body.content)).active
    assert {r[1] for r in sheet.iter_rows(min_row=2, values_only=True)} == {"ภูเก็ต"}


def test_filters_from_the_address_narrow_the_list_and_group_it_by_area(
    client: TestClient, session: Session
) -> None:
    make_lessons(session)
    html = client.get("/review/learning?theme=teacher_capacity&by=area").text
    assert PHUKET_REFLECTION in html and PHUKET_QUESTION in html
    assert KRABI_REFLECTION not in html
    assert 'id="lessons-phuket"' in html and 'id="lessons-krabi"' not in html
    html = client.get("/review/learning?kind=outcome&kind=adaptation").text
    assert KRABI_OUTCOME in html and KRABI_REASON in html
    assert KRABI_REFLECTION not in html and PHUKET_REFLECTION not in html
    html = client.get("/review/learning?year=AY2566").text
    assert PHUKET_REFLECTION in html and KRABI_REFLECTION not in html and KRABI_OUTCOME not in html
    html = client.get("/review/learning?q=นิทานท้องถิ่น").text
    assert KRABI_REFLECTION in html and PHUKET_REFLECTION not in html


def test_a_malformed_year_is_refused_beside_its_field_with_the_input_kept(
    client: TestClient, session: Session
) -> None:
    make_lessons(session)
    page = client.get("/review/learning?year=ปีหน้า&aspect=IC")
    assert page.status_code == 422
    assert 'id="lessons-year-error"' in page.text
    assert 'value="ปีหน้า"' in page.text  # what was typed stays in the field
    assert PHUKET_REFLECTION in page.text and KRABI_REFLECTION not in page.text  # aspect kept
    assert client.get("/review/learning?theme=gossip").status_code == 422
    assert client.get("/review/learning.xlsx?year=FY2567").status_code == 422


def test_the_workbook_carries_the_rows_the_page_shows(client: TestClient, session: Session) -> None:
    make_lessons(session)
    query = "aspect=LP&by=area"
    page = client.get(f"/review/learning?{query}").text
    assert f"/review/learning.xlsx?{query.replace('&', '&amp;')}" in page
    body = client.get(f"/review/learning.xlsx?{query}")
    assert body.status_code == 200
    assert body.headers["content-disposition"].startswith('attachment; filename="phonlap-lessons-')
    rows = list(load_workbook(io.BytesIO(body.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("ประเภท", "พื้นที่", "วันที่")
    assert {(r[0], r[1]) for r in rows[1:]} == {
        ("การสะท้อนคิด", "กระบี่"),
        ("ผลลัพธ์ที่เกิดขึ้นใหม่", "กระบี่"),
        ("การปรับแผน", "กระบี่"),
    }
    titles = [r[4] for r in rows[1:]]
    assert KRABI_REFLECTION in titles and KRABI_OUTCOME in titles
    assert all(t in page for t in titles)  # the rows the page shows
    assert all(r[9].startswith("http://testserver/areas/krabi/") for r in rows[1:])


def test_the_review_and_the_areas_learning_hub_link_to_it(
    client: TestClient, session: Session
) -> None:
    viewer = _as(client, session, "viewer", "phuket")
    for page in ("/review", "/areas/phuket/learning"):
        assert 'href="/review/learning"' in viewer.get(page).text


def test_the_word_document_carries_the_items_of_the_same_filters(
    client: TestClient, session: Session
) -> None:
    make_lessons(session)
    page = client.get("/review/learning?area=phuket").text
    assert "/review/learning.docx?area=phuket" in page
    body = client.get("/review/learning.docx?area=phuket")
    assert body.status_code == 200
    assert body.headers["content-disposition"].endswith('.docx"')
    text = "\n".join(p.text for p in Document(io.BytesIO(body.content)).paragraphs)
    assert PHUKET_REFLECTION in text and PHUKET_SO_WHAT in text and PHUKET_QUESTION in text
    assert KRABI_REFLECTION not in text
    assert "http://testserver/areas/phuket/questions#question-" in text
