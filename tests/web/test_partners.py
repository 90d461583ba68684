"""Outcome mapping pages: boundary partners, their progress markers, a semester's ratings, the
ladder chart, and the partners' layer on the outcome map."""

import html
import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import (
    KPI,
    AuditEvent,
    BoundaryPartner,
    ProgressMarker,
    ProgressMarkerRating,
)
from app.outcome_map import PARTNER_STYLES
from app.services import partners, progress
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

TEACHERS = "ครูโรงเรียนนำร่อง"
CHALLENGE = "ครูออกแบบการสอนอ่านจากเรื่องในท้องถิ่นและแลกเปลี่ยนกันในชุมชนการเรียนรู้ทางวิชาชีพ"


def make_partner(session: Session, slug: str = "krabi", name: str = TEACHERS) -> BoundaryPartner:
    return partners.create_partner(
        session,
        actor=f.ACTOR,
        area=f.area(session, slug),
        partner_in={"name": name, "outcome_challenge": CHALLENGE},
    )


def make_marker(
    session: Session, partner: BoundaryPartner, level: str, text: str, **values: str
) -> ProgressMarker:
    area = session.get(type(f.area(session)), partner.area_id)
    return partners.add_marker(
        session,
        actor=f.ACTOR,
        area=area,
        partner=partner,
        marker_in={"level": level, "text": text, **values},
    )


def rate(
    session: Session, partner: BoundaryPartner, period: str, *pairs: tuple[ProgressMarker, str]
) -> int:
    area = session.get(type(f.area(session)), partner.area_id)
    return partners.save_ratings(
        session,
        actor=f.ACTOR,
        area=area,
        partner=partner,
        period=period,
        ratings_in={m.id: {"rating": r} for m, r in pairs},
    )


def _count(session: Session, model: type, *where: object) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _events(session: Session, entity_type: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.entity_type == entity_type)
    return list(session.exec(query.order_by(AuditEvent.id)))


def _figure(page: str, marker: str) -> dict:
    """The Plotly figure of the first chart after `marker` in the page."""
    part = page.split(marker, 1)[1]
    return json.loads(html.unescape(part.split("data-figure='", 1)[1].split("'", 1)[0]))


def _teachers(session: Session) -> tuple[BoundaryPartner, list[ProgressMarker]]:
    """Krabi's plan (semesters AY2566-S1 to AY2570-S2), its teachers with two markers per level."""
    f.make_plan(session, "krabi")
    partner = make_partner(session)
    markers = [
        make_marker(session, partner, "expect", "ครูเข้าร่วมวง PLC ทุกเดือน"),
        make_marker(session, partner, "expect", "ครูใช้แบบคัดกรองการอ่าน ป.1"),
        make_marker(session, partner, "like", "ครูทำสื่อการอ่านจากเรื่องท่องเที่ยวในท้องถิ่น"),
        make_marker(session, partner, "like", "ครูเชิญผู้ปกครองมาอ่านกับเด็ก"),
        make_marker(session, partner, "love", "ครูเป็นพี่เลี้ยงให้โรงเรียนนอกเครือข่าย"),
        make_marker(session, partner, "love", "ครูเขียนบทเรียนแลกเปลี่ยนระดับจังหวัด"),
    ]
    return partner, markers


# ---- partners -------------------------------------------------------------------------------


def test_partners_are_added_edited_and_deleted_with_their_markers(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session, "krabi")
    empty = client.post("/areas/krabi/partners", data={"name": "  ", "outcome_challenge": "x"})
    assert empty.status_code == 422
    assert 'id="partner-new-name-error"' in empty.text and ">x</textarea>" in empty.text
    assert _count(session, BoundaryPartner) == 0

    added = client.post(
        "/areas/krabi/partners",
        data={
            "name": TEACHERS,
            "description": "ครู ป.1–3 ใน 12 โรง",
            "outcome_challenge": CHALLENGE,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    partner = session.exec(select(BoundaryPartner)).one()
    assert added.headers["location"].endswith(f"#boundary-partner-{partner.id}")
    page = client.get("/areas/krabi/partners")
    assert page.status_code == 200
    assert TEACHERS in page.text and CHALLENGE in page.text and "ครู ป.1–3 ใน 12 โรง" in page.text

    renamed = client.post(
        f"/areas/krabi/partners/{partner.id}",
        data={"name": "ครูและผู้บริหารโรงเรียนนำร่อง", "outcome_challenge": CHALLENGE, "version": 1},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    stale = client.post(
        f"/areas/krabi/partners/{partner.id}",
        data={"name": "ชื่อเก่า", "version": 1},
    )
    assert stale.status_code == 409 and "ชื่อเก่า" in stale.text
    session.refresh(partner)
    assert partner.name == "ครูและผู้บริหารโรงเรียนนำร่อง" and partner.version == 2

    marker = make_marker(session, partner, "expect", "ครูเข้าร่วมวง PLC ทุกเดือน")
    rate(session, partner, "AY2567-S1", (marker, "high"))
    gone = client.post(f"/areas/krabi/partners/{partner.id}/delete", follow_redirects=False)
    assert gone.status_code == 303
    assert _count(session, BoundaryPartner) == 0
    assert _count(session, ProgressMarker) == _count(session, ProgressMarkerRating) == 0
    ops = [e.op for e in _events(session, "boundary_partner")]
    assert ops == ["create", "update", "delete"]
    assert all(e.area_id == f.area(session).id for e in _events(session, "boundary_partner"))


# ---- markers --------------------------------------------------------------------------------


def test_markers_are_added_edited_retired_and_reinstated(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session, "krabi")
    partner = make_partner(session)
    base = f"/areas/krabi/partners/{partner.id}/markers"
    wrong = client.post(base, data={"level": "expect", "text": "ครูอ่านนิทาน", "added_period": "S1"})
    assert (
        wrong.status_code == 422
        and f'id="marker-new-{partner.id}-added_period-error"' in wrong.text
    )
    assert _count(session, ProgressMarker) == 0

    added = client.post(
        base,
        data={"level": "like", "text": "ครูทำสื่อการอ่านจากเรื่องท้องถิ่น", "added_period": "AY2567-S1"},
        headers={"HX-Request": "true"},
    )
    assert added.status_code == 200
    assert added.text.lstrip().startswith(
        f'<section class="section partner" id="boundary-partner-{partner.id}"'
    )
    marker = session.exec(select(ProgressMarker)).one()
    assert (marker.level, marker.added_period) == ("like", "AY2567-S1")
    assert "ภาคเรียนที่ 1/2567" in added.text.split(f'id="progress-marker-{marker.id}"')[1]

    edited = client.post(
        f"{base}/{marker.id}",
        data={"text": "ครูทำสื่อการอ่านจากเรื่องท่องเที่ยวและประมง", "version": 1},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    rate(session, partner, "AY2567-S2", (marker, "medium"))
    too_early = client.post(
        f"{base}/{marker.id}/retire", data={"retired_period": "AY2567-S2", "version": 2}
    )
    assert too_early.status_code == 422  # it has a rating for that semester
    assert f'id="marker-{marker.id}-retire-retired_period-error"' in too_early.text

    retired = client.post(
        f"{base}/{marker.id}/retire",
        data={"retired_period": "AY2568-S1", "version": 2},
        follow_redirects=False,
    )
    assert retired.status_code == 303
    session.refresh(marker)
    assert marker.retired_period == "AY2568-S1"
    page = client.get("/areas/krabi/partners").text
    shown = page.split('class="retired-markers"')[1]
    assert "ครูทำสื่อการอ่านจากเรื่องท่องเที่ยวและประมง" in shown
    assert "ภาคเรียนที่ 1/2568" in shown  # retired from that semester

    back = client.post(f"{base}/{marker.id}/reinstate", data={"version": 3}, follow_redirects=False)
    assert back.status_code == 303
    session.refresh(marker)
    assert marker.retired_period is None
    ops = [
        (e.op, (e.after or {}).get("retired_period")) for e in _events(session, "progress_marker")
    ]
    assert ops == [("create", None), ("update", None), ("update", "AY2568-S1"), ("update", None)]


# ---- ratings --------------------------------------------------------------------------------


def test_rating_a_semester_stores_one_row_per_marker_and_rerating_updates_it(
    client: TestClient, session: Session
) -> None:
    partner, markers = _teachers(session)
    url = f"/areas/krabi/partners/{partner.id}/ratings"
    sheet = client.get(f"{url}?period=AY2567-S1")
    assert sheet.status_code == 200
    assert all(m.text in sheet.text for m in markers)
    assert f'name="rating-{markers[0].id}"' in sheet.text

    data = {"period": "AY2567-S1"}
    for m, r in zip(markers, ("high", "medium", "low", "not_yet", "", ""), strict=True):
        data[f"rating-{m.id}"] = r
        data[f"note-{m.id}"] = "ครู 9 ใน 12 โรงเข้าร่วม" if r == "high" else ""
    saved = client.post(url, data=data, follow_redirects=False)
    assert saved.status_code == 303 and "done=rated" in saved.headers["location"]
    rows = session.exec(select(ProgressMarkerRating)).all()
    assert sorted((r.marker_id, r.rating) for r in rows) == sorted(
        [(markers[0].id, "high"), (markers[1].id, "medium"), (markers[2].id, "low")]
        + [(markers[3].id, "not_yet")]
    )
    assert next(r for r in rows if r.rating == "high").note == "ครู 9 ใน 12 โรงเข้าร่วม"
    assert len(_events(session, "progress_marker_rating")) == 4

    data[f"rating-{markers[2].id}"] = "medium"  # one changed, one removed, the rest as they were
    data[f"rating-{markers[3].id}"] = ""
    again = client.post(url, data=data, follow_redirects=False)
    assert again.status_code == 303
    session.expire_all()
    rows = session.exec(select(ProgressMarkerRating)).all()
    assert len(rows) == 3  # no duplicate for the same marker and semester
    assert {r.marker_id: r.rating for r in rows}[markers[2].id] == "medium"
    events = _events(session, "progress_marker_rating")
    assert [e.op for e in events[4:]] == ["update", "delete"]
    assert events[4].before["rating"] == "low" and events[4].after["rating"] == "medium"

    same = client.post(url, data=data, follow_redirects=False)
    assert "done=unchanged" in same.headers["location"]
    assert len(_events(session, "progress_marker_rating")) == 6


def test_a_retired_marker_cannot_be_rated_and_nothing_is_written(
    client: TestClient, session: Session
) -> None:
    partner, markers = _teachers(session)
    area = f.area(session)
    partners.retire_marker(
        session,
        actor=f.ACTOR,
        area=area,
        partner=partner,
        marker_id=markers[3].id,
        retire_in={"retired_period": "AY2567-S2"},
    )
    sheet = client.get(f"/areas/krabi/partners/{partner.id}/ratings?period=AY2568-S1").text
    assert markers[3].text not in sheet  # only active markers are on the sheet
    before = _count(session, AuditEvent)
    answer = client.post(
        f"/areas/krabi/partners/{partner.id}/ratings",
        data={
            "period": "AY2568-S1",
            f"rating-{markers[0].id}": "high",
            f"rating-{markers[3].id}": "medium",
        },
    )
    assert answer.status_code == 422
    assert "ภาคเรียนที่ 2/2567" in answer.text.split('role="alert"')[1]  # retired from then
    assert _count(session, ProgressMarkerRating) == 0 and _count(session, AuditEvent) == before
    earlier = rate(session, partner, "AY2567-S1", (markers[3], "low"))  # before it was retired
    assert earlier == 1


def test_a_bad_period_is_refused_beside_the_field(client: TestClient, session: Session) -> None:
    partner, markers = _teachers(session)
    url = f"/areas/krabi/partners/{partner.id}/ratings"
    for period in ("AY2499-S1", "ภาคเรียนที่ 1", "AY2570-S2"):  # not in the plan; not begun yet
        answer = client.post(url, data={"period": period, f"rating-{markers[0].id}": "high"})
        assert answer.status_code == 422, period
        assert 'id="rating-period-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert _count(session, ProgressMarkerRating) == 0
    page = client.get(f"{url}?period=FY2567")
    assert page.status_code == 422 and 'id="rating-period-error"' in page.text


# ---- the ladder -----------------------------------------------------------------------------


def test_the_ladder_is_computed_from_the_stored_ratings(
    client: TestClient, session: Session
) -> None:
    partner, m = _teachers(session)
    rate(session, partner, "AY2567-S1", (m[0], "medium"), (m[1], "low"), (m[2], "not_yet"))
    rate(
        session,
        partner,
        "AY2567-S2",
        (m[0], "high"),
        (m[1], "medium"),
        (m[2], "low"),
        (m[4], "low"),
    )
    # AY2568-S1 not rated; then the like rung moves and a love marker too
    rate(
        session,
        partner,
        "AY2568-S2",
        (m[0], "high"),
        (m[1], "high"),
        (m[2], "high"),
        (m[3], "medium"),
        (m[4], "medium"),
        (m[5], "not_yet"),
    )
    view = partners.partners_view(session, f.area(session)).partner(partner.id)
    table = {s.period: [(r.reached, r.active) for r in s.rungs] for s in view.steps}
    assert table == {
        "AY2567-S1": [(1, 2), (0, 2), (0, 2)],
        "AY2567-S2": [(2, 2), (0, 2), (0, 2)],
        "AY2568-S1": [(0, 2), (0, 2), (0, 2)],  # a semester without ratings reaches nothing
        "AY2568-S2": [(2, 2), (2, 2), (1, 2)],
    }
    assert partners.highest_rung(view.steps[1]) == "expect"
    assert partners.highest_rung(view.steps[-1]) == "love"

    page = client.get("/areas/krabi/partners").text
    figure = _figure(page, f'id="boundary-partner-{partner.id}"')
    expect, like, love = figure["data"]
    assert expect["x"] == [
        "ภาคเรียนที่ 1/2567",
        "ภาคเรียนที่ 2/2567",
        "ภาคเรียนที่ 1/2568",
        "ภาคเรียนที่ 2/2568",
    ]
    assert expect["text"] == ["1/2", "2/2", "0/2", "2/2"]
    assert love["text"][-1] == "1/2" and love["marker"]["symbol"][0] == "square-open"
    assert expect["marker"]["size"][1] > expect["marker"]["size"][0] > expect["marker"]["size"][2]
    assert figure["layout"]["yaxis"]["categoryarray"] == [
        expect["name"],
        like["name"],
        love["name"],
    ]
    rows = page.split('class="chart-table"')[1].split("</tbody>")[0]
    last = rows.split("ภาคเรียนที่ 2/2568")[1].split("</tr>")[0]
    cells = re.findall(r"<td>(\d+)\D+(\d+)</td>", last)
    assert cells == [("2", "2"), ("2", "2"), ("1", "2")]


# ---- who may ---------------------------------------------------------------------------------


def test_an_editor_of_phuket_cannot_write_krabi(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    partner, markers = _teachers(session)
    phuket = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    before = _count(session, AuditEvent)
    base = f"/areas/krabi/partners/{partner.id}"
    for url, data in (
        ("/areas/krabi/partners", {"name": "ผู้ปกครอง"}),
        (base, {"name": "ผู้ปกครอง"}),
        (f"{base}/delete", {}),
        (f"{base}/markers", {"level": "expect", "text": "ผู้ปกครองอ่านกับลูก"}),
        (f"{base}/markers/{markers[0].id}", {"text": "แก้"}),
        (f"{base}/markers/{markers[0].id}/retire", {"retired_period": "AY2567-S2"}),
        (f"{base}/ratings", {"period": "AY2567-S1", f"rating-{markers[0].id}": "high"}),
    ):
        assert phuket.post(url, data=data).status_code == 403, url
    assert phuket.get("/areas/krabi/partners").status_code == 403
    assert _count(session, AuditEvent) == before
    assert _count(session, ProgressMarkerRating) == 0
    # and a marker of Krabi cannot be reached through a partner of Phuket
    f.make_plan(session, "phuket")
    theirs = make_partner(session, "phuket", "ผู้ปกครอง")
    wrong = phuket.post(
        f"/areas/phuket/partners/{theirs.id}/markers/{markers[0].id}", data={"text": "แก้"}
    )
    assert wrong.status_code == 404


def test_a_viewer_sees_the_partners_and_ratings_but_no_forms(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    partner, markers = _teachers(session)
    rate(session, partner, "AY2567-S1", (markers[0], "high"))
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    page = viewer.get("/areas/krabi/partners")
    assert page.status_code == 200
    assert TEACHERS in page.text and markers[0].text in page.text
    assert "<form" not in page.text.split('id="main"')[-1].split("</main>")[0]
    assert "rating-meter rating-high" in page.text
    sheet = viewer.get(f"/areas/krabi/partners/{partner.id}/ratings?period=AY2567-S1")
    assert sheet.status_code == 200 and 'class="ratings"' in sheet.text
    assert 'name="rating-' not in sheet.text
    assert viewer.post("/areas/krabi/partners", data={"name": "x"}).status_code == 403


# ---- the outcome map ------------------------------------------------------------------------


def test_the_map_shows_the_partners_with_their_levels_at_its_period(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=1)
    partner = make_partner(session)
    m = [
        make_marker(session, partner, "expect", "ครูเข้าร่วมวง PLC ทุกเดือน"),
        make_marker(session, partner, "like", "ครูทำสื่อการอ่านจากเรื่องท้องถิ่น"),
        make_marker(session, partner, "love", "ครูเป็นพี่เลี้ยงให้โรงเรียนอื่น"),
    ]
    make_partner(session, name="อบต. คลองท่อมใต้")  # no marker, never rated
    rate(session, partner, "AY2566-S2", (m[0], "medium"), (m[1], "low"))
    rate(session, partner, "AY2567-S2", (m[0], "high"), (m[1], "high"), (m[2], "low"))
    # the map's periods come from the KPIs' values
    k = session.exec(select(KPI).where(KPI.plan_id == plan.id).order_by(KPI.id)).first()
    for period, value in (("AY2566", "60"), ("AY2567", "70")):
        progress.save_cell(
            session, actor=f.ACTOR, plan=plan, kpi_id=k.id, period=period, cell="actual", text=value
        )
    body = client.get("/api/v1/areas/krabi/map").json()
    assert body["period"] == "AY2567"
    layer = {p["name"]: p for p in body["partners"]}
    teachers = layer[TEACHERS]
    assert teachers["period"] == "AY2567-S2" and teachers["rung"] == "like"
    assert teachers["levels"] == [
        {"level": "expect", "reached": 1, "active": 1},
        {"level": "like", "reached": 1, "active": 1},
        {"level": "love", "reached": 0, "active": 1},
    ]
    assert layer["อบต. คลองท่อมใต้"]["rung"] == "none" and layer["อบต. คลองท่อมใต้"]["period"] is None
    nodes = [n for n in body["nodes"] if n["layer"] == "partner"]
    assert {n["title"] for n in nodes} == {TEACHERS, "อบต. คลองท่อมใต้"}
    assert nodes[0]["url"].startswith("/areas/krabi/partners#boundary-partner-")
    data = body["figure"]["data"]
    assert any(TEACHERS in n["text"] for n in body["figure"]["layout"]["annotations"])
    traces = [t for t in data if TEACHERS in " ".join(t.get("hovertext", []))]
    columns = sorted({x for t in data if "hovertext" in t for x in t["x"]})
    assert len(columns) == 6 and traces[0]["x"] == [columns[-1]]  # beyond the actions
    assert traces[0]["marker"]["symbol"] == PARTNER_STYLES["like"][0]

    earlier = client.get("/api/v1/areas/krabi/map?period=AY2566").json()
    teachers = next(p for p in earlier["partners"] if p["name"] == TEACHERS)
    assert teachers["period"] == "AY2566-S2" and teachers["rung"] == "expect"

    hidden = client.get("/api/v1/areas/krabi/map?partners=0").json()
    assert "partners" not in hidden and all(n["layer"] != "partner" for n in hidden["nodes"])
    page = client.get("/areas/krabi/map")
    assert page.status_code == 200 and TEACHERS in page.text
    assert 'name="partners"' in page.text
    assert TEACHERS not in client.get("/areas/krabi/map?partners=0").text
    ticked = client.get("/areas/krabi/map?partners=0&partners=1")  # the hidden 0, then the box
    assert (
        TEACHERS in ticked.text
        and 'id="map-partners" name="partners" value="1" checked' in ticked.text
    )


# ---- queries --------------------------------------------------------------------------------


def _queries(client: TestClient, counter: QueryCounter, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        counter.count = 0
        assert client.get(url).status_code == 200, url
        counts.append(counter.count)
    return counts


def test_the_pages_read_the_same_number_of_queries_for_more_partners(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    f.make_full_plan(session, "krabi", kras=1)
    one = make_partner(session)
    make_marker(session, one, "expect", "ครูเข้าร่วมวง PLC")
    urls = [
        "/areas/krabi/partners",
        f"/areas/krabi/partners/{one.id}/ratings?period=AY2567-S1",
        "/areas/krabi/map",
        "/api/v1/areas/krabi/map",
    ]
    small = _queries(client, count_queries, urls)
    for n in range(4):
        other = make_partner(session, name=f"ภาคี {n}")
        made = [
            make_marker(session, other, level, f"ตัวบ่งชี้ {level} {i}")
            for level in ("expect", "like", "love")
            for i in range(3)
        ]
        for period in ("AY2566-S2", "AY2567-S1", "AY2567-S2"):
            rate(session, other, period, *((mk, "medium") for mk in made))
        mk = make_marker(session, one, "like", f"ตัวบ่งชี้เพิ่ม {n}")
        rate(session, one, "AY2567-S1", (mk, "high"))
    assert _queries(client, count_queries, urls) == small
