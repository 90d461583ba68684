"""Voting in a workshop session: one vote open at a time, N dots or one choice per guest, the
allowance held under a lock, items only from the vote's column or group, closed votes and
sessions refused, results kept."""

import pytest
from sqlmodel import Session, select

from app.models import AuditEvent, WorkshopBallot
from app.services import votes, workshops
from app.services.errors import Conflict, ValidationFailed
from app.services.workshops import SessionEnded
from tests import factories as f


def _board(session: Session):  # noqa: ANN202
    f.make_plan(session)
    workshop = f.make_workshop(session)
    somsri, _ = f.make_guest(session, workshop, "ครูสมศรี")
    anan, _ = f.make_guest(session, workshop, "โต๊ะ 2")
    ideas = [
        f.make_contribution(session, workshop, somsri, "action_idea", text=t)
        for t in ("ค่ายภาษา", "ห้องสมุดเคลื่อนที่", "ครูพี่เลี้ยง")
    ]
    problem = f.make_contribution(session, workshop, anan, "problem", text="ครูย้ายบ่อย")
    return workshop, somsri, anan, ideas, problem


def _dots(session: Session) -> int:
    return len(session.exec(select(WorkshopBallot)).all())


def test_dots_up_to_the_allowance_taken_back_and_counted(session: Session) -> None:
    workshop, somsri, anan, ideas, problem = _board(session)
    vote = votes.open_vote(
        session,
        actor=f.ACTOR,
        workshop=workshop,
        vote_in={"kind": "action_idea", "mode": "dots", "dots": "2"},
    )
    cast = {"workshop": workshop, "vote_id": vote.id}
    votes.cast(session, participant=somsri, contribution_id=ideas[0].id, **cast)
    dots = votes.cast(session, participant=somsri, contribution_id=ideas[0].id, **cast)
    assert dots.mine[ideas[0].id] == 2 and dots.left == 0
    with pytest.raises(Conflict):  # the third dot: none left, nothing changed
        votes.cast(session, participant=somsri, contribution_id=ideas[1].id, **cast)
    with pytest.raises(ValidationFailed):  # a problem is not in the action ideas' vote
        votes.cast(session, participant=anan, contribution_id=problem.id, **cast)
    assert _dots(session) == 2
    dots = votes.cast(
        session, participant=somsri, contribution_id=ideas[0].id, take_back=True, **cast
    )
    assert dots.mine[ideas[0].id] == 1 and dots.left == 1
    with pytest.raises(Conflict):  # no dot of hers there to take back
        votes.cast(session, participant=somsri, contribution_id=ideas[2].id, take_back=True, **cast)
    votes.cast(session, participant=anan, contribution_id=ideas[1].id, **cast)
    tally = votes.latest(session, workshop)
    assert (tally.voters, dict(tally.counts)) == (2, {ideas[0].id: 1, ideas[1].id: 1})


def test_one_vote_at_a_time_a_closed_vote_keeps_its_results_and_refuses_dots(
    session: Session,
) -> None:
    workshop, somsri, _anan, ideas, _problem = _board(session)
    vote = votes.open_vote(
        session, actor=f.ACTOR, workshop=workshop, vote_in={"kind": "action_idea"}
    )
    with pytest.raises(Conflict):
        votes.open_vote(session, actor=f.ACTOR, workshop=workshop, vote_in={"kind": "problem"})
    votes.cast(
        session, workshop=workshop, participant=somsri, vote_id=vote.id, contribution_id=ideas[2].id
    )
    votes.close_vote(session, actor=f.ACTOR, workshop=workshop, vote_id=vote.id)
    with pytest.raises(Conflict):
        votes.cast(
            session,
            workshop=workshop,
            participant=somsri,
            vote_id=vote.id,
            contribution_id=ideas[2].id,
        )
    closed = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "workshop_vote", AuditEvent.op == "update"
        )
    ).one()
    assert closed.after["results"] == {str(ideas[2].id): 1}
    tally = votes.latest(session, workshop)
    assert not tally.is_open and tally.counts[ideas[2].id] == 1
    again = votes.open_vote(  # now a new one may open, on a group
        session, actor=f.ACTOR, workshop=workshop, vote_in={"group_label": "ครู"}
    )
    assert again.group_label == "ครู"


def test_a_single_choice_moves_and_bad_votes_are_refused(session: Session) -> None:
    workshop, somsri, _anan, ideas, _problem = _board(session)
    for bad in (
        {},
        {"kind": "action_idea", "group_label": "ครู"},
        {"kind": "idea"},
        {"kind": "action_idea", "dots": "11"},
        {"kind": "action_idea", "dots": "0"},
        {"kind": "action_idea", "mode": "ranked"},
    ):
        with pytest.raises(ValidationFailed):
            votes.open_vote(session, actor=f.ACTOR, workshop=workshop, vote_in=bad)
    vote = votes.open_vote(
        session,
        actor=f.ACTOR,
        workshop=workshop,
        vote_in={"kind": "action_idea", "mode": "single", "dots": "5"},
    )
    assert vote.dots == 1
    cast = {"workshop": workshop, "participant": somsri, "vote_id": vote.id}
    votes.cast(session, contribution_id=ideas[0].id, **cast)
    dots = votes.cast(session, contribution_id=ideas[1].id, **cast)
    assert dict(dots.mine) == {ideas[1].id: 1}  # her one choice moved
    assert dict(votes.latest(session, workshop).counts) == {ideas[1].id: 1}
    workshops.archive(session, actor=f.ACTOR, workshop=workshop, contribution_id=ideas[2].id)
    with pytest.raises(ValidationFailed):  # archived: out of the vote
        votes.cast(session, contribution_id=ideas[2].id, **cast)
    other = f.make_workshop(session, title="รอบที่ 2")
    stranger, _ = f.make_guest(session, other, "แขก")
    theirs = f.make_contribution(session, other, stranger, "action_idea", text="ของรอบอื่น")
    with pytest.raises(ValidationFailed):  # another session's item
        votes.cast(session, contribution_id=theirs.id, **cast)
    workshops.close_session(session, actor=f.ACTOR, workshop=workshop)
    with pytest.raises(SessionEnded):
        votes.cast(session, contribution_id=ideas[0].id, **cast)
    assert dict(votes.latest(session, workshop).counts) == {ideas[1].id: 1}


def test_a_phones_poll_key_counts_the_votes_items_as_its_section_lists_them(
    session: Session,
) -> None:
    # the key a phone's poller sends back (204 while it holds) changes when an item joins or
    # leaves the vote: in its column or group, not archived, and only while the vote is open
    workshop, somsri, anan, ideas, problem = _board(session)
    assert votes.guest_key(session, workshop) == "none"
    vote = votes.open_vote(
        session, actor=f.ACTOR, workshop=workshop, vote_in={"kind": "action_idea"}
    )
    assert votes.guest_key(session, workshop) == f"v{vote.id}-3"
    assert [r.id for r in votes.item_rows(session, vote)] == [i.id for i in ideas]
    f.make_contribution(session, workshop, anan, "action_idea", text="เพิ่มครูอาสา")
    workshops.archive(session, actor=f.ACTOR, workshop=workshop, contribution_id=ideas[1].id)
    assert votes.guest_key(session, workshop) == f"v{vote.id}-3"
    assert len(votes.item_rows(session, vote)) == 3
    votes.close_vote(session, actor=f.ACTOR, workshop=workshop, vote_id=vote.id)
    assert votes.guest_key(session, workshop) == "none"
    # a vote on a group: its members of any kind, not the column of the same name
    for item in (ideas[0], problem):
        workshops.set_group(
            session,
            actor=f.ACTOR,
            workshop=workshop,
            contribution_id=item.id,
            group_in={"group_label": "ครู"},
        )
    grouped = votes.open_vote(
        session, actor=f.ACTOR, workshop=workshop, vote_in={"group_label": "ครู"}
    )
    assert votes.guest_key(session, workshop) == f"v{grouped.id}-2"
    rows = votes.item_rows(session, grouped)
    assert [r.id for r in rows] == [ideas[0].id, problem.id]
    assert rows[1].text == "ครูย้ายบ่อย"
