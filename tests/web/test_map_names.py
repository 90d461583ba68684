"""Names: the results-chain map (DOE → vision → KRA → KPI → action) is not called by the Thai
name of Outcome Mapping ("แผนที่ผลลัพธ์"), which the boundary-partners page keeps."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import catalog
from tests import factories as f

OUTCOME_MAPPING_TH = "แผนที่ผลลัพธ์"


def _text(value: str | tuple[str, ...]) -> str:
    return value if isinstance(value, str) else " ".join(value)


def test_only_outcome_mapping_is_called_by_its_thai_name_in_the_catalogue() -> None:
    thai = catalog.read("th")
    for message in thai:
        if message.id and OUTCOME_MAPPING_TH in _text(message.string):
            assert "outcome mapping" in _text(message.id).lower(), message.id
    assert thai.get("Results chain map").string == "แผนภาพห่วงโซ่ผลลัพธ์"


def test_the_map_page_and_its_tab_say_results_chain_and_partners_say_outcome_mapping(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session, "phuket", kras=1)
    page = client.get("/areas/phuket/map").text
    assert "<h1>แผนภาพห่วงโซ่ผลลัพธ์ของภูเก็ต</h1>" in page
    assert OUTCOME_MAPPING_TH not in page
    assert OUTCOME_MAPPING_TH not in client.get("/areas/phuket/present").text
    assert "การทำแผนที่ผลลัพธ์ (Outcome Mapping)" in client.get("/areas/phuket/partners").text


DOE_CAVEAT = "รายการย่อยเรียบเรียงจากเอกสาร ยังไม่ได้ตรวจกับประกาศฉบับทางการ"


def test_the_doe_items_are_said_to_be_a_reconstruction_where_they_are_shown(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session, "phuket", kras=1)
    assert DOE_CAVEAT in client.get("/areas/phuket").text
    assert DOE_CAVEAT in client.get("/areas/phuket/plan").text
    assert DOE_CAVEAT in client.get("/areas/phuket/plan/doe/new").text
    assert DOE_CAVEAT not in client.get("/areas/phuket/progress").text


def test_the_resource_dimensions_use_the_seed_documents_words(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session, "phuket", kras=1)
    page = client.get("/areas/phuket/resources").text
    assert "การดำเนินงาน (งบประมาณ บุคลากร หน่วยงาน องค์กร)" in page
    assert "องค์ความรู้/ชุดความรู้/นวัตกรรม" in page
