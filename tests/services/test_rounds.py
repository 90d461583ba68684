"""World Café rounds: tables with hosts and questions, timed rounds that seat and rotate the
guests (hosts stay, nobody at the same table twice in a row), contributions carrying their table
and round, posts into an ended round refused, one summary per host, table and round, and the
contribution rate limit holding when a guest's posts arrive at the same moment."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.models import AuditEvent, Contribution, WorkshopRound, WorkshopSeat
from app.services import rounds, workshops
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.workshops import RateLimited
from tests import factories as f

QUESTIONS = ("ทำอย่างไรให้เด็กอ่านออก", "ชุมชนช่วยอะไรได้บ้าง", "ครูต้องการอะไร")


def _cafe(session: Session, guests: int = 7):  # noqa: ANN202
    workshop = f.make_workshop(session)
    people = [f.make_guest(session, workshop, f"ครู {i}")[0] for i in range(guests)]
    host = people[0]
    tables = rounds.set_tables(
        session,
        actor=f.ACTOR,
        workshop=workshop,
        count="3",
        tables_in={
            1: {"question": QUESTIONS[0], "host_participant_id": str(host.id)},
            2: {"question": QUESTIONS[1], "host_name": "ผอ.สมชาย"},
            3: {"question": QUESTIONS[2]},
        },
    )
    return workshop, people, tables


def _start(session: Session, workshop, minutes: str = "15", **values: str) -> WorkshopRound:  # noqa: ANN001
    return rounds.start_round(
        session, actor=f.ACTOR, workshop=workshop, round_in={"minutes": minutes, **values}
    )


def _seats(session: Session, row: WorkshopRound) -> dict[int, int]:
    seats = session.exec(select(WorkshopSeat).where(WorkshopSeat.round_id == row.id)).all()
    return {s.participant_id: s.table_id for s in seats}


def test_rounds_seat_evenly_keep_hosts_and_move_everyone_else(session: Session) -> None:
    workshop, people, tables = _cafe(session)
    host = people[0]
    assert [t.host_name for t in tables] == ["ครู 0", "ผอ.สมชาย", ""]
    first = _start(session, workshop)
    seats = _seats(session, first)
    assert seats[host.id] == tables[0].id
    per_table = sorted(list(seats.values()).count(t.id) for t in tables)
    assert per_table == [2, 2, 3]  # seven guests, the host among them: spread evenly
    with pytest.raises(Conflict):  # one round at a time
        _start(session, workshop)
    rounds.end_round(session, actor=f.ACTOR, workshop=workshop, round_id=first.id)
    previous = seats
    for _ in range(3):
        row = _start(session, workshop)
        seats = _seats(session, row)
        assert seats[host.id] == tables[0].id
        for p in people[1:]:
            assert seats[p.id] != previous[p.id]
        # the guests of one table do not move on together
        table_mates = [p for p in people[1:] if previous[p.id] == tables[1].id]
        assert len({seats[p.id] for p in table_mates}) == len(table_mates)
        rounds.end_round(session, actor=f.ACTOR, workshop=workshop, round_id=row.id)
        previous = seats
    assert row.number == 4
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "workshop_round"))
    assert len(events.all()) == 8  # four starts, four ends


def test_a_guest_joining_during_a_round_sits_at_the_emptiest_table(session: Session) -> None:
    workshop, people, tables = _cafe(session, guests=4)  # 2, 1, 1 with the host at table 1
    row = _start(session, workshop)
    late, _ = f.make_guest(session, workshop, "ครูมาสาย")
    assert _seats(session, row)[late.id] == tables[1].id
    view = rounds.guest_view(session, workshop, late)
    assert view["cafe_table"].number == 2 and view["cafe_table_question"] == QUESTIONS[1]


def test_contributions_carry_table_and_round_and_an_ended_round_refuses(
    session: Session,
) -> None:
    workshop, people, tables = _cafe(session)
    guest = people[1]
    between = f.make_contribution(session, workshop, guest, "action_idea", text="ก่อนเริ่มรอบ")
    assert (between.table_id, between.round_id) == (None, None)
    row = _start(session, workshop)
    table = _seats(session, row)[guest.id]
    idea = f.make_contribution(
        session, workshop, guest, "action_idea", text="ห้องสมุดเคลื่อนที่", round_id=str(row.id)
    )
    assert (idea.table_id, idea.round_id) == (table, row.id)
    stale = f.make_contribution(session, workshop, guest, "problem", text="ไม่มีรอบในฟอร์ม")
    assert stale.round_id == row.id  # a phone that missed the start: the running round
    rounds.end_round(session, actor=f.ACTOR, workshop=workshop, round_id=row.id)
    count = len(session.exec(select(Contribution)).all())
    with pytest.raises(Conflict) as refused:
        f.make_contribution(
            session, workshop, guest, "action_idea", text="ส่งช้า", round_id=str(row.id)
        )
    assert refused.value.message.msgid == rounds.ROUND_ENDED
    assert len(session.exec(select(Contribution)).all()) == count


def test_a_round_whose_time_ran_out_refuses_posts_too(session: Session) -> None:
    workshop, people, _ = _cafe(session)
    row = _start(session, workshop, minutes="1")
    row.ends_at = row.started_at - timedelta(seconds=1)  # as if a minute had passed
    session.add(row)
    session.commit()
    assert not rounds.is_running(row)
    with pytest.raises(Conflict):
        f.make_contribution(session, workshop, people[2], text="หมดเวลา", round_id=str(row.id))
    _start(session, workshop)  # and the next round may start


def test_only_the_host_sends_one_summary_per_table_and_round(session: Session) -> None:
    workshop, people, tables = _cafe(session)
    host, guest = people[0], people[1]
    with pytest.raises(ValidationFailed):  # before any round
        f.make_contribution(session, workshop, host, "table_summary", text="สรุป")
    row = _start(session, workshop)
    with pytest.raises(ValidationFailed) as refused:  # not a host
        f.make_contribution(session, workshop, guest, "table_summary", text="สรุปแทน")
    assert refused.value.errors["kind"].msgid == rounds.ONLY_HOST
    summary = f.make_contribution(
        session, workshop, host, "table_summary", text="โต๊ะ 1: อ่านทุกวัน", round_id=str(row.id)
    )
    assert (summary.table_id, summary.round_id) == (tables[0].id, row.id)
    rounds.end_round(session, actor=f.ACTOR, workshop=workshop, round_id=row.id)
    again = f.make_contribution(  # after the round, before the next: it replaces the first
        session, workshop, host, "table_summary", text="โต๊ะ 1: อ่านทุกวัน กับผู้ปกครอง"
    )
    assert again.id == summary.id and again.version == 2
    summaries = session.exec(select(Contribution).where(Contribution.kind == "table_summary"))
    assert [c.text for c in summaries.all()] == ["โต๊ะ 1: อ่านทุกวัน กับผู้ปกครอง"]
    cafe = rounds.board_view(session, workshop)
    assert cafe.summaries[tables[0].id].text.endswith("ผู้ปกครอง")
    nxt = _start(session, workshop)
    with pytest.raises(Conflict):  # the summary of a round that is not the newest
        f.make_contribution(
            session, workshop, host, "table_summary", text="ช้าไป", round_id=str(row.id)
        )
    assert rounds.board_view(session, workshop).round.id == nxt.id


def test_bad_tables_and_rounds_are_refused(session: Session) -> None:
    workshop, people, tables = _cafe(session)
    other = f.make_workshop(session, title="อีกเวที")
    stranger, _ = f.make_guest(session, other, "คนนอก")
    with pytest.raises(ValidationFailed) as refused:
        rounds.set_tables(
            session,
            actor=f.ACTOR,
            workshop=workshop,
            count="0",
            tables_in={
                1: {"question": "ก" * 301},
                2: {"host_participant_id": str(stranger.id)},  # another session's guest
            },
        )
    assert set(refused.value.errors) == {"count", "question_1", "host_participant_id_2"}
    with pytest.raises(ValidationFailed):
        _start(session, workshop, minutes="0")
    with pytest.raises(Conflict):  # a session without tables
        _start(session, other)
    row = _start(session, workshop)
    with pytest.raises(Conflict):  # tables stay put during a round
        rounds.set_tables(session, actor=f.ACTOR, workshop=workshop, count="2", tables_in={})
    other_tables = rounds.set_tables(
        session, actor=f.ACTOR, workshop=other, count="2", tables_in={}
    )
    other_row = _start(session, other)
    with pytest.raises(ValidationFailed):  # posting with another session's round
        f.make_contribution(session, workshop, people[1], text="ข้ามเวที", round_id=str(other_row.id))
    with pytest.raises(NotFound):  # ending another session's round through this one
        rounds.end_round(session, actor=f.ACTOR, workshop=workshop, round_id=other_row.id)
    session.refresh(other_row)
    assert other_tables and row.number == 1 and rounds.is_running(other_row)


def test_fewer_tables_keep_their_contributions(session: Session) -> None:
    workshop, people, tables = _cafe(session)
    row = _start(session, workshop)
    at_three = next(p for p in people if _seats(session, row)[p.id] == tables[2].id)
    idea = f.make_contribution(session, workshop, at_three, "kra_idea", text="โต๊ะสาม")
    rounds.end_round(session, actor=f.ACTOR, workshop=workshop, round_id=row.id)
    left = rounds.set_tables(session, actor=f.ACTOR, workshop=workshop, count="2", tables_in={})
    assert [t.number for t in left] == [1, 2]
    session.refresh(idea)
    assert idea.table_id is None and idea.round_id == row.id


def test_parallel_posts_of_one_guest_cannot_pass_the_rate_limit(
    session: Session, engine: Engine
) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop, "ครูรีบ")
    for i in range(workshops.PER_PARTICIPANT_PER_MINUTE - 1):
        f.make_contribution(session, workshop, guest, "question", text=f"คำถาม {i}")
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def post(i: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            w = own.get(type(workshop), workshop.id)
            p = own.get(type(guest), guest.id)
            barrier.wait()
            try:
                workshops.contribute(
                    own,
                    workshop=w,
                    participant=p,
                    contribution_in={"kind": "question", "text": f"พร้อมกัน {i}"},
                )
                outcomes.append("sent")
            except RateLimited:
                outcomes.append("limited")
            except Exception as exc:  # noqa: BLE001 (a locked database would show here)
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["limited"] * 5 + ["sent"]
    mine = session.exec(select(Contribution).where(col(Contribution.participant_id) == guest.id))
    assert len(mine.all()) == workshops.PER_PARTICIPANT_PER_MINUTE


def test_the_harvest_has_table_and_round_columns_and_a_sheet_per_table_and_round(
    session: Session,
) -> None:
    import io

    from openpyxl import load_workbook

    from app.services import harvest as harvests

    workshop, people, tables = _cafe(session)
    row = _start(session, workshop)
    seats = _seats(session, row)
    guest = people[1]
    f.make_contribution(session, workshop, guest, "action_idea", text="อ่านกับยาย")
    f.make_contribution(session, workshop, people[0], "table_summary", text="สรุปโต๊ะหนึ่ง")
    f.make_contribution(session, workshop, people[2], "question", text="=1+1")
    crop = harvests.harvest(session, workshop)
    assert crop.has_rounds
    cells = {(c.round.number, c.table.number): c for c in crop.cafe}
    assert len(cells) == 3 and cells[(1, 1)].summary == "สรุปโต๊ะหนึ่ง"
    guest_table = next(t.number for t in tables if t.id == seats[guest.id])
    assert cells[(1, guest_table)].items >= 1
    book = load_workbook(io.BytesIO(harvests.workbook(crop)))
    assert book.sheetnames[-1] == "โต๊ะและรอบ"
    sheet = book["โต๊ะและรอบ"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("รอบ", "โต๊ะ", "คำถาม", "เจ้าภาพโต๊ะ")
    assert rows[1][:3] == (1, 1, QUESTIONS[0]) and rows[1][5] == "สรุปโต๊ะหนึ่ง"
    harvest_rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = harvest_rows[0]
    idea = next(r for r in harvest_rows if "อ่านกับยาย" in r)
    assert idea[header.index("รอบ")] == 1 and idea[header.index("โต๊ะ")] == guest_table


def test_a_phones_poll_key_names_the_newest_round_and_whether_it_runs(session: Session) -> None:
    workshop, _people, _tables = _cafe(session, guests=3)
    assert rounds.guest_key(session, workshop) == "none"
    first = _start(session, workshop)
    assert rounds.guest_key(session, workshop) == f"r{first.id}-running"
    rounds.end_round(session, actor=f.ACTOR, workshop=workshop, round_id=first.id)
    assert rounds.guest_key(session, workshop) == f"r{first.id}-ended"
    second = _start(session, workshop)
    assert rounds.latest(session, workshop).id == second.id
    second.ends_at = second.started_at - timedelta(seconds=1)  # its time ran out
    session.add(second)
    session.commit()
    assert rounds.guest_key(session, workshop) == f"r{second.id}-ended"
