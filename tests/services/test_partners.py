"""The outcome-mapping service: which markers are rated when, what refuses a write, and the demo's
partners climbing their ladders."""

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import AuditEvent, BoundaryPartner, ProgressMarker, ProgressMarkerRating
from app.services import partners, seeding
from app.services.errors import ValidationFailed
from tests import factories as f


def _marker(session: Session, partner: BoundaryPartner, **values: str) -> ProgressMarker:
    marker_in = {"level": "like", "text": "ผู้ปกครองอ่านนิทานกับลูกที่บ้าน", **values}
    return partners.add_marker(
        session, actor=f.ACTOR, area=f.area(session), partner=partner, marker_in=marker_in
    )


def _partner(session: Session) -> BoundaryPartner:
    f.make_plan(session, "krabi")
    return partners.create_partner(
        session, actor=f.ACTOR, area=f.area(session), partner_in={"name": "ผู้ปกครอง"}
    )


def _rate(session: Session, partner: BoundaryPartner, period: str, ratings_in: dict) -> int:
    return partners.save_ratings(
        session,
        actor=f.ACTOR,
        area=f.area(session),
        partner=partner,
        period=period,
        ratings_in=ratings_in,
    )


def test_a_marker_is_rated_from_its_added_semester_until_before_its_retirement(
    session: Session,
) -> None:
    partner = _partner(session)
    marker = _marker(session, partner, added_period="ay2567-s2")  # the code in any case
    assert marker.added_period == "AY2567-S2"
    assert not partners.active_in(marker, "AY2567-S1")
    assert partners.active_in(marker, "AY2567-S2")
    with pytest.raises(ValidationFailed) as early:
        _rate(session, partner, "AY2567-S1", {marker.id: {"rating": "low"}})
    assert f"rating-{marker.id}" in early.value.errors
    assert _rate(session, partner, "AY2567-S2", {marker.id: {"rating": "low"}}) == 1

    area = f.area(session)
    with pytest.raises(ValidationFailed) as before_added:
        partners.retire_marker(
            session,
            actor=f.ACTOR,
            area=area,
            partner=partner,
            marker_id=marker.id,
            retire_in={"retired_period": "AY2567-S1"},
        )
    assert "retired_period" in before_added.value.errors
    session.rollback()
    partners.retire_marker(
        session,
        actor=f.ACTOR,
        area=area,
        partner=partner,
        marker_id=marker.id,
        retire_in={"retired_period": "AY2568-S2"},
    )
    assert partners.active_in(marker, "AY2568-S1") and not partners.active_in(marker, "AY2569-S1")
    sheet = partners.rating_sheet(session, area, partner, "AY2568-S2", today=date(2026, 6, 1))
    assert sheet.markers == [] and sheet.period == "AY2568-S2"
    assert partners.rating_sheet(session, area, partner, None, today=date(2026, 6, 1)).period == (
        "AY2569-S1"  # the newest semester begun
    )


def test_a_note_needs_a_rating_and_a_semester_must_have_begun(session: Session) -> None:
    partner = _partner(session)
    marker = _marker(session, partner)
    with pytest.raises(ValidationFailed) as note:
        _rate(session, partner, "AY2567-S1", {marker.id: {"rating": "", "note": "ยังไม่เห็น"}})
    assert set(note.value.errors) == {f"rating-{marker.id}"}
    with pytest.raises(ValidationFailed) as later:
        partners.save_ratings(
            session,
            actor=f.ACTOR,
            area=f.area(session),
            partner=partner,
            period="AY2567-S2",
            ratings_in={marker.id: {"rating": "high"}},
            today=date(2024, 10, 1),  # semester 2 of 2567 begins on 1 Nov 2024
        )
    assert set(later.value.errors) == {"period"}
    with pytest.raises(ValidationFailed):
        _rate(session, partner, "AY2567-S1", {marker.id: {"rating": "excellent"}})
    assert session.exec(select(func.count()).select_from(ProgressMarkerRating)).one() == 0


def test_the_demo_partners_climb_their_ladders(session: Session) -> None:
    seeding.seed_demo(session)
    for slug in ("krabi", "phuket"):
        view = partners.partners_view(session, f.area(session, slug))
        names = [pv.partner.name for pv in view.partners]
        assert names == ["ครูโรงเรียนนำร่อง", "ผู้ปกครอง", "อปท./อบต."], slug
        retired = [row for pv in view.partners for row in pv.retired]
        assert len(retired) == 1, slug
        for pv in view.partners:
            assert pv.partner.outcome_challenge
            assert all(2 <= len(rows) <= 4 for rows in pv.levels.values()), pv.partner.name
            assert len(pv.steps) >= 3
            first, last = pv.steps[0], pv.steps[-1]
            # more of each rung reached at the end than at the start, the love rung last
            assert sum(r.reached for r in last.rungs) > sum(r.reached for r in first.rungs)
            assert last.rung("expect").share >= last.rung("love").share
    rated = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity_type == "progress_marker_rating")
    ).one()
    assert rated == session.exec(select(func.count()).select_from(ProgressMarkerRating)).one()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "progress_marker_rating")
    ).all()
    first = [e.at.date() for e in events if e.after["period"] == "AY2567-S1"]
    assert first and set(first) == {date(2024, 11, 25)}  # 45 days after the semester ended
