"""National workshops on the web: organisers create an event at /workshops, its page lists
the stations and attendance, the national projector counts per station live, filters its
combined board by step; facilitators attach their own sessions; guests say hall or online."""

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app import live
from app.i18n import thai_today
from app.models import Contribution, WorkshopEvent, WorkshopParticipant, WorkshopSession
from app.models.workshops import ContributionKind
from app.services import votes, workshop_events
from tests import factories as f
from tests.conftest import QueryCounter, sign_in
from tests.loops import in_a_thread
from tests.services.test_workshop_events import make_event
from tests.web.test_events import _events
from tests.web.test_workshops import _csrf, _guest, _send


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _stations(session: Session, event: WorkshopEvent) -> dict[str, WorkshopSession]:
    rows = session.exec(select(WorkshopSession).where(WorkshopSession.event_id == event.id)).all()
    slugs = {f.area(session, s).id: s for s in ("krabi", "phuket", "trat")}
    return {slugs.get(w.area_id, str(w.area_id)): w for w in rows}


def test_an_organiser_creates_an_event_with_the_eleven_areas_chosen(client: TestClient) -> None:
    page = client.get("/workshops")
    assert page.status_code == 200
    boxes = re.findall(r'name="area_ids" value="(\d+)"( checked)?', page.text)
    assert sum(1 for _, checked in boxes if checked) == 11
    today = thai_today().isoformat()
    data = {
        "title": "เวทีระดับชาติ 11 พื้นที่",
        "station_title": "สถานี DOE",
        "starts_on": today,
        "ends_on": today,
        "area_ids": [v for v, checked in boxes if checked],
        "csrf_token": _csrf(page.text),
    }
    made = client.post("/workshops", data=data, follow_redirects=False)
    assert made.status_code == 303
    event_page = client.get(made.headers["location"])
    assert event_page.status_code == 200
    codes = re.findall(r'class="join-code-inline">([A-Z0-9]{4}-[A-Z0-9]{4})<', event_page.text)
    assert len(set(codes)) == 11
    assert "กระบี่" in event_page.text and "/present" in event_page.text
    assert "เวทีระดับชาติ 11 พื้นที่" in client.get("/workshops").text


def test_bad_input_is_refused_beside_the_field_and_kept(
    client: TestClient, session: Session
) -> None:
    page = client.get("/workshops")
    data = {
        "title": "",
        "station_title": "สถานีที่ยังไม่มีชื่องาน",
        "starts_on": thai_today().isoformat(),
        "area_ids": [str(f.area(session, "krabi").id)],
        "csrf_token": _csrf(page.text),
    }
    refused = client.post("/workshops", data=data)
    assert refused.status_code == 422
    assert 'id="event-title-error"' in refused.text
    assert "สถานีที่ยังไม่มีชื่องาน" in refused.text
    assert _count(session, WorkshopEvent) == 0 and _count(session, WorkshopSession) == 0


def test_facilitators_cannot_create_events_and_unknown_events_are_404(
    app_client: Callable[[], TestClient], client: TestClient, session: Session
) -> None:
    facilitator = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    assert facilitator.get("/workshops").status_code == 403
    refused = facilitator.post("/workshops", data={"title": "งานของฉัน"})
    assert refused.status_code == 403
    assert _count(session, WorkshopEvent) == 0
    assert client.get("/workshops/999999").status_code == 404
    assert client.get("/workshops/999999/present").status_code == 404


def test_the_projector_shows_each_stations_counts(
    app_client: Callable[[], TestClient], client: TestClient, session: Session
) -> None:
    event = make_event(session, ["krabi", "phuket"])
    a, b = _stations(session, event)["krabi"], _stations(session, event)["phuket"]
    phones = [_guest(app_client, a, name) for name in ("ครูสมศรี", "ครูสมชาย", "ผอ.วิไล")]
    for i in range(5):
        assert _send(phones[i % 3], a, text=f"ปัญหาที่ {i + 1}").status_code == 303
    page = client.get(f"/workshops/{event.id}/present")
    assert page.status_code == 200
    tile_a = re.search(rf'id="tile-{a.id}".*?</li>', page.text, re.S).group(0)
    tile_b = re.search(rf'id="tile-{b.id}".*?</li>', page.text, re.S).group(0)
    assert re.findall(r"<strong>(\d+)</strong>", tile_a) == ["3", "5"]
    assert re.findall(r"<strong>(\d+)</strong>", tile_b) == ["0", "0"]
    assert "ปัญหาที่ 5" in page.text  # the newest, in the highlights and on the problem board
    part = client.get(f"/workshops/{event.id}/present?part=stations")
    assert part.status_code == 200 and "<html" not in part.text and f"tile-{a.id}" in part.text


def test_the_combined_board_filters_by_step(
    app_client: Callable[[], TestClient], client: TestClient, session: Session
) -> None:
    event = make_event(session, ["krabi", "phuket"])
    a, b = _stations(session, event)["krabi"], _stations(session, event)["phuket"]
    _send(_guest(app_client, a), a, kind="problem", text="เด็กอ่านไม่ออก")
    _send(_guest(app_client, b), b, kind="kpi_idea", text="ร้อยละนักเรียนอ่านคล่อง")
    board = client.get(f"/workshops/{event.id}/present?part=board&step=kpi_idea").text
    assert "ร้อยละนักเรียนอ่านคล่อง" in board and "เด็กอ่านไม่ออก" not in board
    assert "ภูเก็ต" in board
    page = client.get(f"/workshops/{event.id}/present?step=problem").text
    assert re.search(r'href="[^"]*\?step=problem" aria-current="page"', page)
    tabs = re.findall(r'href="[^"]*\?step=(\w+)"', page)
    assert tabs[:3] == ["doe_statement", "problem", "vision_phrase"]
    assert tabs == [kind.value for kind in ContributionKind]  # the host summaries too
    assert client.get(f"/workshops/{event.id}/present?step=nothing").status_code == 404


def test_the_event_stream_delivers_a_stations_contribution(
    client: TestClient, session: Session
) -> None:
    event = make_event(session, ["krabi", "phuket"])
    a = _stations(session, event)["krabi"]
    other = f.make_workshop(session, "krabi", "ห้องอื่นของกระบี่")  # not a station
    guest_other, _ = f.make_guest(session, other)
    with client.stream("GET", f"/workshops/{event.id}/events") as stream:
        assert stream.status_code == 200
        events = _events(stream.iter_lines())
        assert next(events) == ("ready", {})
        f.make_contribution(session, other, guest_other, text="ไม่ใช่ของสถานี")
        guest, _ = f.make_guest(session, a, "ครูออนไลน์")
        name, change = next(events)
        assert (name, change["entity"], change["session_id"]) == (
            "participant",
            "workshop_participant",
            a.id,
        )
        made = f.make_contribution(session, a, guest, text="เด็กอ่านไม่ออก")
        name, change = next(events)
        assert (name, change["id"], change["session_id"]) == ("contribution", made.id, a.id)
        # a new station: the stream says so and ends, so the browser listens to the new set
        workshop_events.attach(session, actor=f.ACTOR, event=event, workshop=other)
        assert next(events) == (
            "stations",
            {"type": "workshop_event.changed", "event_id": event.id},
        )
        assert next(events, None) is None
    assert live.hub.count() == 0


def test_a_stream_on_several_channels_hears_a_resync_once() -> None:
    async def listen() -> int:
        async with live.hub.listen("area:1", "area:2", "workshop_event:1") as queue:
            live.hub._deliver(live.EVERY, live.RESYNC)
            return queue.qsize()

    assert in_a_thread(listen) == 1


def test_the_event_page_lists_attendance_names_and_how_they_attend(
    app_client: Callable[[], TestClient], client: TestClient, session: Session
) -> None:
    event = make_event(session, ["krabi"])
    a = _stations(session, event)["krabi"]
    phone = app_client()
    page = phone.get(f"/join/{a.join_code}")
    assert re.search(r'name="attends" value="onsite" checked', page.text)
    joined = phone.post(
        f"/join/{a.join_code}",
        data={"display_name": "ครูทางไกล", "attends": "online", "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    _guest(app_client, a, "ครูในห้อง")
    names = select(WorkshopParticipant.display_name, WorkshopParticipant.attends)
    attends = dict(session.exec(names).all())
    assert attends == {"ครูทางไกล": "online", "ครูในห้อง": "onsite"}
    text = client.get(f"/workshops/{event.id}").text
    assert "ครูทางไกล" in text and "ครูในห้อง" in text
    assert "2 คน (ในห้องประชุม 1 คน ออนไลน์ 1 คน)" in text


def test_a_facilitator_attaches_their_own_session_only(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    event = make_event(session, ["krabi"])
    own = f.make_workshop(session, "phuket", "ห้องย่อยภูเก็ต")
    theirs = f.make_workshop(session, "trat", "ห้องย่อยตราด")
    facilitator = sign_in(app_client(), session, f.make_user(session, "facilitator", "phuket"))
    board = facilitator.get(f"/areas/phuket/workshops/{own.id}")
    assert f'<option value="{event.id}">' in board.text
    attached = facilitator.post(
        f"/areas/phuket/workshops/{own.id}/event",
        data={"event_id": str(event.id)},
        follow_redirects=False,
    )
    assert attached.status_code == 303
    board = facilitator.get(f"/areas/phuket/workshops/{own.id}").text
    assert "เวทีขับเคลื่อนพื้นที่นวัตกรรมการศึกษา 11 พื้นที่" in board
    refused = facilitator.post(
        f"/areas/trat/workshops/{theirs.id}/event", data={"event_id": str(event.id)}
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(WorkshopSession, own.id).event_id == event.id
    assert session.get(WorkshopSession, theirs.id).event_id is None
    detached = facilitator.post(
        f"/areas/phuket/workshops/{own.id}/event", data={"event_id": ""}, follow_redirects=False
    )
    assert detached.status_code == 303
    session.expire_all()
    assert session.get(WorkshopSession, own.id).event_id is None


def test_closing_the_event_closes_every_station(client: TestClient, session: Session) -> None:
    event = make_event(session, ["krabi", "phuket"])
    page = client.get(f"/workshops/{event.id}")
    closed = client.post(
        f"/workshops/{event.id}/close",
        data={"version": str(event.version), "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    stale = client.post(f"/workshops/{event.id}/close", data={"version": str(event.version)})
    assert stale.status_code == 409
    session.expire_all()
    assert all(w.closed_at is not None for w in _stations(session, event).values())


@pytest.mark.parametrize("persona", ["admin", "reviewer"])
def test_organisers_find_national_workshops_on_the_home_page(
    persona: str, app_client: Callable[[], TestClient], session: Session
) -> None:
    browser = sign_in(app_client(), session, f.make_user(session, persona))
    assert 'href="/workshops"' in browser.get("/").text
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    assert 'href="/workshops"' not in viewer.get("/").text


def _page_queries(client: TestClient, count: QueryCounter, event: WorkshopEvent) -> list[int]:
    urls = [
        f"/workshops/{event.id}",
        f"/workshops/{event.id}/present",
        f"/workshops/{event.id}/present?step=problem",
        f"/workshops/{event.id}/present?part=stations",
        f"/workshops/{event.id}/present?part=highlights",
        f"/workshops/{event.id}/present?part=board&step=problem",
        "/workshops",
    ]
    found = []
    for url in urls:
        count.count = 0
        assert client.get(url).status_code == 200, url
        found.append(count.count)
    return found


def _fill(session: Session, event: WorkshopEvent, guests: int, per_guest: int) -> None:
    stations = session.exec(select(WorkshopSession).where(WorkshopSession.event_id == event.id))
    for station in stations.all():
        people = [f.make_guest(session, station, f"ครูคนที่ {n}")[0] for n in range(guests)]
        for person in people:
            for n in range(per_guest):
                f.make_contribution(session, station, person, text=f"ปัญหา {n}")
        vote = votes.open_vote(
            session, actor=f.ACTOR, workshop=station, vote_in={"kind": "problem"}
        )
        first = session.exec(
            select(Contribution.id).where(Contribution.session_id == station.id)
        ).first()
        votes.cast(
            session, workshop=station, participant=people[0], vote_id=vote.id, contribution_id=first
        )


def test_the_event_pages_read_the_same_queries_for_more_stations_and_contributions(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    small = make_event(session, ["krabi", "phuket"])
    _fill(session, small, guests=1, per_guest=1)
    large = make_event(session)  # eleven stations
    _fill(session, large, guests=3, per_guest=2)
    assert _page_queries(client, count_queries, small) == _page_queries(
        client, count_queries, large
    )
