"""National workshops: an event opens one station per area with its own code, counts per
station, the combined board, attaching and detaching, closing, audit and live events."""

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app import live
from app.i18n import thai_today
from app.models import AuditEvent, WorkshopEvent, WorkshopSession
from app.models.workshops import ContributionKind
from app.services import votes, workshop_events, workshops
from app.services.errors import Conflict, ValidationFailed
from app.services.reference import default_group, group_areas
from tests import factories as f

TITLE = "เวทีขับเคลื่อนพื้นที่นวัตกรรมการศึกษา 11 พื้นที่"


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def make_event(session: Session, slugs: list[str] | None = None, **values: object) -> WorkshopEvent:
    if slugs is None:
        areas = group_areas(session, default_group(session))
    else:
        areas = [f.area(session, slug) for slug in slugs]
    today = thai_today().isoformat()
    event_in = {
        "title": TITLE,
        "station_title": "สถานี: ผลลัพธ์ที่พึงประสงค์และสภาพปัญหา",
        "starts_on": today,
        "ends_on": today,
        "area_ids": [a.id for a in areas],
        **values,
    }
    return workshop_events.create_event(session, actor=f.ACTOR, event_in=event_in)


def _stations(session: Session, event: WorkshopEvent) -> list[WorkshopSession]:
    query = select(WorkshopSession).where(WorkshopSession.event_id == event.id)
    return list(session.exec(query).all())


def test_creating_an_event_opens_eleven_stations_with_distinct_codes(session: Session) -> None:
    event = make_event(session)
    stations = _stations(session, event)
    assert len(stations) == 11
    assert len({s.join_code for s in stations}) == 11
    assert len({s.area_id for s in stations}) == 11
    assert all(workshops.is_open(s) for s in stations)
    audited = session.exec(
        select(AuditEvent.entity_type, func.count()).group_by(AuditEvent.entity_type)
    ).all()
    assert dict(audited)["workshop_event"] == 1
    assert dict(audited)["workshop_session"] == 11


def test_the_projector_counts_each_station_apart(session: Session) -> None:
    event = make_event(session, ["krabi", "phuket"])
    a, b = sorted(_stations(session, event), key=lambda s: s.area_id != f.area(session, "krabi").id)
    guests = [f.make_guest(session, a, name)[0] for name in ("ครูสมศรี", "ครูสมชาย", "ผอ.วิไล")]
    workshops.join(
        session, workshop=a, participant_in={"display_name": "ศน.ออนไลน์", "attends": "online"}
    )
    for i in range(5):
        f.make_contribution(session, a, guests[i % 3], text=f"ปัญหาที่ {i + 1}")
    view = workshop_events.event_view(session, event)
    station = {s.workshop.id: s for s in view.stations}
    assert (station[a.id].onsite, station[a.id].online, station[a.id].contributions) == (3, 1, 5)
    assert (station[b.id].participants, station[b.id].contributions) == (0, 0)
    assert station[a.id].by_kind["problem"] == 5
    names = [p.display_name for p in workshop_events.attendance(session, view)]
    assert names == ["ครูสมศรี", "ครูสมชาย", "ผอ.วิไล", "ศน.ออนไลน์"]


def test_the_combined_board_shows_one_step_from_every_station(session: Session) -> None:
    event = make_event(session, ["krabi", "phuket"])
    a, b = _stations(session, event)
    ga, _ = f.make_guest(session, a)
    gb, _ = f.make_guest(session, b)
    f.make_contribution(session, a, ga, kind="problem", text="เด็กอ่านไม่ออก")
    f.make_contribution(session, b, gb, kind="problem", text="ครูย้ายบ่อย")
    f.make_contribution(session, b, gb, kind="kpi_idea", text="ร้อยละนักเรียนอ่านคล่อง")
    view = workshop_events.event_view(session, event)
    problems = workshop_events.combined_board(session, view, ContributionKind.problem)
    assert [c.text for _, c in problems] == ["ครูย้ายบ่อย", "เด็กอ่านไม่ออก"]
    kpis = workshop_events.combined_board(session, view, ContributionKind.kpi_idea)
    assert [(s.workshop.id, c.text) for s, c in kpis] == [(b.id, "ร้อยละนักเรียนอ่านคล่อง")]
    newest = workshop_events.highlights(session, view)
    assert [c.text for _, c in newest][0] == "ร้อยละนักเรียนอ่านคล่อง"


def test_the_leading_items_of_open_votes_show(session: Session) -> None:
    event = make_event(session, ["krabi"])
    (a,) = _stations(session, event)
    g1, _ = f.make_guest(session, a, "ครูหนึ่ง")
    g2, _ = f.make_guest(session, a, "ครูสอง")
    x = f.make_contribution(session, a, g1, text="อ่านออกเขียนได้")
    y = f.make_contribution(session, a, g2, text="ลดการออกกลางคัน")
    vote = votes.open_vote(session, actor=f.ACTOR, workshop=a, vote_in={"kind": "problem"})
    for guest in (g1, g2):
        votes.cast(session, workshop=a, participant=guest, vote_id=vote.id, contribution_id=y.id)
    votes.cast(session, workshop=a, participant=g1, vote_id=vote.id, contribution_id=x.id)
    view = workshop_events.event_view(session, event)
    leaders = workshop_events.vote_leaders(session, view)
    assert [(lead.contribution.text, lead.dots) for lead in leaders] == [
        ("ลดการออกกลางคัน", 2),
        ("อ่านออกเขียนได้", 1),
    ]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "ก" * 201}, "title"),
        ({"starts_on": "ไม่ใช่วันที่"}, "starts_on"),
        ({"area_ids": []}, "area_ids"),
        ({"area_ids": [999999]}, "area_ids"),
        ({"station_title": ""}, "station_title"),
    ],
)
def test_bad_input_writes_nothing(session: Session, values: dict, field: str) -> None:
    before = (_count(session, WorkshopEvent), _count(session, WorkshopSession))
    with pytest.raises(ValidationFailed) as caught:
        make_event(session, ["krabi"], **values)
    assert field in caught.value.errors
    assert (_count(session, WorkshopEvent), _count(session, WorkshopSession)) == before


def test_dates_must_be_in_order_from_today_and_within_a_week(session: Session) -> None:
    today = thai_today()
    cases = [
        ({"ends_on": (today - timedelta(days=1)).isoformat()}, "ends_on"),
        ({"starts_on": (today - timedelta(days=1)).isoformat()}, "starts_on"),
        ({"ends_on": (today + timedelta(days=7)).isoformat()}, "ends_on"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationFailed) as caught:
            make_event(session, ["krabi"], **values)
        assert field in caught.value.errors
    assert _count(session, WorkshopEvent) == 0
    two_days = make_event(session, ["krabi"], ends_on=(today + timedelta(days=1)).isoformat())
    assert two_days.ends_on == today + timedelta(days=1)


def test_a_session_attaches_to_an_open_event_and_detaches(session: Session) -> None:
    event = make_event(session, ["krabi"])
    own = f.make_workshop(session, "phuket", "ห้องย่อยภูเก็ต")
    workshop_events.attach(session, actor=f.ACTOR, event=event, workshop=own)
    view = workshop_events.event_view(session, event)
    assert own.id in view.session_ids
    workshop_events.detach(session, actor=f.ACTOR, workshop=own)
    assert own.id not in workshop_events.event_view(session, event).session_ids
    assert session.get(WorkshopSession, own.id).event_id is None


def test_closing_the_event_closes_its_stations_and_refuses_attaching(session: Session) -> None:
    event = make_event(session, ["krabi", "phuket"])
    with pytest.raises(Conflict):
        workshop_events.close_event(session, actor=f.ACTOR, event=event, version=event.version + 1)
    workshop_events.close_event(session, actor=f.ACTOR, event=event, version=event.version)
    assert event.closed_at is not None
    assert not any(workshops.is_open(s) for s in _stations(session, event))
    late = f.make_workshop(session, "krabi", "รอบหลัง")
    with pytest.raises(Conflict):
        workshop_events.attach(session, actor=f.ACTOR, event=event, workshop=late)
    assert session.get(WorkshopSession, late.id).event_id is None


def test_writes_publish_on_the_stations_areas_and_the_event(session: Session) -> None:
    heard: list[tuple[str, dict]] = []
    stop = live.broker.subscribe(lambda channel, event: heard.append((channel, event)))
    try:
        event = make_event(session, ["krabi", "phuket"])
    finally:
        stop()
    channels = {channel for channel, _ in heard}
    assert channels == {
        live.area_channel(f.area(session, "krabi").id),
        live.area_channel(f.area(session, "phuket").id),
        live.workshop_event_channel(event.id),
    }


def test_a_guest_online_is_kept_as_online_and_a_bad_choice_refused(session: Session) -> None:
    workshop = f.make_workshop(session, "krabi")
    row, _ = workshops.join(
        session, workshop=workshop, participant_in={"display_name": "ครูแดง", "attends": "online"}
    )
    assert row.attends == "online"
    plain, _ = f.make_guest(session, workshop, "ครูขาว")
    assert plain.attends == "onsite"
    with pytest.raises(ValidationFailed) as caught:
        workshops.join(
            session, workshop=workshop, participant_in={"display_name": "ก", "attends": "moon"}
        )
    assert "attends" in caught.value.errors
