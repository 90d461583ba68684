"""Reports in Word: each file opened with python-docx and read as a person would read it."""

import io
from dataclasses import dataclass

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from sqlmodel import Session, select

from app.i18n import thai_sort_key
from app.models import Area
from app.models.enums import Role
from app.services import documents, outcomes, reflections
from app.services.access import Grant, Principal
from app.services.errors import ValidationFailed
from app.services.review import Filters
from tests import factories as f
from tests.services.test_reports import EVERY_AREA, TODAY, ReportPlan, report_plan

REFLECTION = "ครูเห็นว่าการอ่านดีขึ้นเมื่อทำกิจกรรมร่วมกับผู้ปกครอง"
OUTCOME = "ตั้งวง PLC ของตนเองทุกวันพุธ"
PROPOSAL = "เพิ่มตัวชี้วัดจำนวนผู้ปกครองที่ร่วมกิจกรรมการอ่าน"


@dataclass
class AnnualData:
    report: ReportPlan
    area: Area


def annual_data(session: Session, slug: str = "krabi") -> AnnualData:
    """The report plan of tests.services.test_reports, with a reflection, an emergent outcome
    and an adopted proposal in AY2567 (16 May 2024 – 15 May 2025)."""
    report = report_plan(session, slug)
    area = f.area(session, slug)
    reflections.create_reflection(
        session,
        actor=f.ACTOR,
        area=area,
        reflection_in={
            "held_on": "2025-03-20",
            "title": "ทบทวนภาคเรียนที่ 2",
            "what": REFLECTION,
            "so_what": "ผู้ปกครองมีส่วนสำคัญ",
            "now_what": "ชวนผู้ปกครองอ่านกับลูกทุกสัปดาห์",
        },
        today=TODAY,
    )
    outcomes.create_outcome(
        session,
        actor=f.ACTOR,
        area=area,
        outcome_in={"observed_on": "2024-11-20", "who": "ครูโรงเรียนบ้านคลองม่วง", "change": OUTCOME},
    )
    row = reflections.create_proposal(
        session, actor=f.ACTOR, area=area, proposal_in={"text": PROPOSAL}
    )
    reflections.decide(
        session,
        actor=f.ACTOR,
        area=area,
        proposal_id=row.id,
        decision_in={"state": "adopted", "decision_note": "ใช้ในปีถัดไป", "decided_on": "2025-04-01"},
    )
    return AnnualData(report, area)


def docx_text(body: bytes) -> str:
    """Every paragraph's and table cell's text, one a line."""
    doc = Document(io.BytesIO(body))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def opened(body: bytes) -> DocxDocument:
    return Document(io.BytesIO(body))


def headings(doc: DocxDocument, level: int) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name == f"Heading {level}"]


def test_the_annual_report_has_each_section_in_order_with_the_years_figures(
    session: Session,
) -> None:
    data = annual_data(session)
    year, body = documents.annual_docx(session, data.area, "AY2567", today=TODAY)
    assert year == "AY2567"
    doc = opened(body)
    text = docx_text(body)
    assert headings(doc, 1) == ["กระบี่"]
    assert headings(doc, 2) == [
        "สรุปแผน",
        "ผลตัวชี้วัดเทียบกับค่าเป้าหมาย",
        "กิจกรรมและงบประมาณ",
        "การปรับแผนและเหตุผล",
        "การสะท้อนคิด",
        "ผลลัพธ์ที่เกิดขึ้นใหม่",
        "การเปลี่ยนแปลงสำหรับปีถัดไป",
    ]
    assert "ปีการศึกษา 2567" in text
    kpis = doc.tables[0]
    kpi3 = next(r for r in kpis.rows if r.cells[0].text == "KPI3")
    # a fiscal-year KPI counts its FY2567 in AY2567: result 30 against the line's 20, met
    assert kpi3.cells[1].text.endswith("\nปีงบประมาณ 2567")  # the period its result is of
    assert [c.text for c in kpi3.cells[2:6]] == ["10", "20", "30", "บรรลุ"]
    assert "สูงยิ่งดี" in kpi3.cells[6].text  # the rule it was judged by
    assert "O-NET กลายเป็นการสอบแบบสมัครใจ" in text  # the adaptation's reason, AY2567
    assert "คณะกรรมการขยายพื้นที่" not in text  # a change of AY2568
    assert REFLECTION in text and "20 มีนาคม 2568" in text
    assert OUTCOME in text and PROPOSAL in text
    assert "400,000" not in text and "100,000" in text  # spent as of the year's end


def test_tables_repeat_their_header_row_and_the_thai_font_is_set_for_thai_runs(
    session: Session,
) -> None:
    data = annual_data(session)
    doc = opened(documents.annual_docx(session, data.area, "AY2567", today=TODAY)[1])
    assert doc.tables
    for table in doc.tables:
        first = table.rows[0]._tr.trPr
        assert first is not None and first.find(qn("w:tblHeader")) is not None
        body = [r._tr.trPr for r in table.rows[1:]]
        assert all(pr is None or pr.find(qn("w:tblHeader")) is None for pr in body)
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:cs")) == "TH Sarabun New" == fonts.get(qn("w:ascii"))
    section = doc.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.left_margin.cm, 1) == 2.5
    assert "PAGE" in section.footer.paragraphs[0]._p.xml


def test_thai_numerals_are_used_for_numbers_and_dates_when_asked(session: Session) -> None:
    data = annual_data(session)
    text = docx_text(documents.annual_docx(session, data.area, "AY2567", True, TODAY)[1])
    assert "ปีการศึกษา ๒๕๖๗" in text and "๒๐ มีนาคม ๒๕๖๘" in text and "๑๐๐,๐๐๐" in text
    assert "KPI3" in text  # codes stay as written
    assert "2567" not in text and "2568" not in text


def test_an_areas_files_hold_none_of_another_areas_data(session: Session) -> None:
    annual_data(session)
    phuket = f.make_full_plan(session, "phuket", kras=1)
    phuket.title = "แผนภูเก็ตเท่านั้น"
    session.add(phuket)
    session.commit()
    area = f.area(session, "phuket")
    text = docx_text(documents.annual_docx(session, area, "AY2567", today=TODAY)[1])
    assert "ภูเก็ต" in text
    for words in ("กระบี่", REFLECTION, OUTCOME, PROPOSAL, "O-NET"):
        assert words not in text
    plan = docx_text(documents.plan_docx(session, area, today=TODAY))
    assert "แผนภูเก็ตเท่านั้น" in plan and "กระบี่" not in plan


def test_a_year_the_plan_lacks_is_refused(session: Session) -> None:
    data = annual_data(session)
    with pytest.raises(ValidationFailed) as refused:
        documents.annual_docx(session, data.area, "AY2400", today=TODAY)
    assert set(refused.value.errors) == {"year"}


def test_the_plan_lists_its_kras_kpis_with_targets_and_actions_with_budgets(
    session: Session,
) -> None:
    data = annual_data(session)
    body = documents.plan_docx(session, data.area, today=TODAY)
    text = docx_text(body)
    assert "กระบี่" in text and data.report.plan.title in text
    assert "จำนวนโรงเรียนนำร่องที่ใช้หลักสูตรท้องถิ่น" in text
    kpi3 = next(r for t in opened(body).tables for r in t.rows if r.cells[0].text == "KPI3")
    assert kpi3.cells[4].text == "50\nปีงบประมาณ 2570"  # the end target and its year
    assert "ACT1" in text and "22 พฤศจิกายน 2569" in text  # as of, in the Buddhist Era


def test_the_cross_area_report_is_an_overview_then_a_chapter_per_readable_area(
    session: Session,
) -> None:
    annual_data(session)
    annual_data(session, "phuket")
    f.make_full_plan(session, "chiang-mai", kras=1)
    year, body = documents.review_annual_docx(
        session, EVERY_AREA, Filters(group="all"), "AY2567", today=TODAY
    )
    assert year == "AY2567"
    doc = opened(body)
    chapters = headings(doc, 1)
    assert chapters[0] == "ภาพรวม"
    every = [a.name_th for a in session.exec(select(Area)).all()]
    assert chapters[1:] == sorted(every, key=thai_sort_key)  # every area, in Thai order
    assert chapters.index("กระบี่") < chapters.index("เชียงใหม่") < chapters.index("ภูเก็ต")
    overview = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert overview[-1][0] == "ทุกพื้นที่"
    assert docx_text(body).count(REFLECTION) == 2


def test_a_readers_cross_area_report_has_only_the_areas_it_may_read(session: Session) -> None:
    annual_data(session)
    annual_data(session, "phuket")
    viewer = f.make_user(session, "viewer", "phuket")
    grants = (Grant(Role.viewer, f.area(session, "phuket").id),)
    body = documents.review_annual_docx(
        session, Principal(user=viewer, grants=grants), Filters(group="all"), "AY2567", today=TODAY
    )[1]
    assert headings(opened(body), 1) == ["ภาพรวม", "ภูเก็ต"]
    assert "กระบี่" not in docx_text(body)


def test_next_years_changes_are_those_adopted_in_the_year_or_still_open_at_its_end(
    session: Session,
) -> None:
    data = annual_data(session)  # PROPOSAL: adopted on 1 Apr 2025, in AY2567
    later = "ขยายโครงการไปยังโรงเรียนขนาดเล็กทุกแห่ง"
    reflections.create_proposal(session, actor=f.ACTOR, area=data.area, proposal_in={"text": later})
    ay2567 = docx_text(documents.annual_docx(session, data.area, "AY2567", today=TODAY)[1])
    assert PROPOSAL in ay2567 and later not in ay2567  # put forward after AY2567 ended
    ay2569 = docx_text(documents.annual_docx(session, data.area, "AY2569", today=TODAY)[1])
    assert later in ay2569 and PROPOSAL not in ay2569  # open now; the other adopted long ago


def test_run_properties_are_in_the_order_word_requires(session: Session) -> None:
    data = annual_data(session)
    doc = opened(documents.annual_docx(session, data.area, "AY2567", today=TODAY)[1])
    order = [qn(t) for t in documents.RPR_ORDER]
    props = [s.element.rPr for s in doc.styles if s.element.rPr is not None]
    props += [r._r.rPr for t in doc.tables for c in t.rows[0].cells for r in c.paragraphs[0].runs]
    for rpr in props:
        tags = [child.tag for child in rpr]
        assert tags == sorted(tags, key=order.index), tags
