"""Text copied out of every PDF the app makes comes back as typed: SARA AM (ำ) stays ำ, a plain
SARA AA (า) stays า, and a tone mark before ำ is kept (น้ำ). The PDFs are Sarabun as patched by
app/thai_font.py; without the patch "จำนวน" came back as "จานวน" or "สำนักงาน" as "สำนักงำน"."""

from fastapi.testclient import TestClient
from fontTools.ttLib import TTFont
from sqlmodel import Session

from app import ROOT
from app.services import committee
from app.thai_font import is_fixed
from tests import factories as f
from tests.services.test_harvest import make_harvest_workshop
from tests.services.test_reports import report_plan
from tests.web.test_committee import _meeting, _members
from tests.web.test_reports import pdf_text

# ำ before า and า before ำ, and tone marks inside ำ: each order has garbled in its own way
WORDS = "จำนวนโรงเรียนนำร่อง สำนักงานการศึกษา น้ำดื่ม ค่ำ ตามจำนวน"
TYPED = "".join(WORDS.split())


def test_the_vendored_thai_fonts_carry_the_sara_am_fix() -> None:
    for weight in (400, 700):
        path = ROOT / f"static/vendor/fonts/sarabun/sarabun-thai-{weight}-normal.woff2"
        assert is_fixed(TTFont(path)), path


def test_the_briefs_copy_sara_am_as_typed(client: TestClient, session: Session) -> None:
    data = report_plan(session)
    kpi = data.kpis["KPI3"]
    kpi.name = WORDS
    session.add(kpi)
    session.commit()
    for url in ("/areas/krabi/brief.pdf?period=AY2567", "/review/briefs.pdf?group=all"):
        text = pdf_text(client.get(url).content)
        assert TYPED in text, url
        assert "ร้อยละนักเรียนป.1อ่านออก" in text  # า elsewhere on the page, untouched


def test_the_minutes_and_the_harvest_copy_sara_am_as_typed(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session, "krabi", kras=1)
    meeting = _meeting(session, _members(session))
    committee.add_resolution(
        session,
        actor=f.ACTOR,
        area=f.area(session, "krabi"),
        meeting_id=meeting.id,
        resolution_in={"text": WORDS},
        citations=[],
    )
    minutes = pdf_text(client.get(f"/areas/krabi/meetings/{meeting.id}.pdf").content)
    assert TYPED in minutes and "รายงานการประชุม" in minutes
    w = make_harvest_workshop(session, "phuket")
    guest, _ = f.make_guest(session, w.session, "ครูสมศรี")
    f.make_contribution(session, w.session, guest, "problem", text=WORDS)
    harvest = pdf_text(client.get(f"/areas/phuket/workshops/{w.session.id}/harvest.pdf").content)
    assert TYPED in harvest and "ค่ายภาษาไทยช่วงปิดเทอม" in harvest
