"""Emergent outcomes (the harvest, one outcome, its edit and delete) and guiding principles."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.labels import label
from app.models import (
    Action,
    AuditEvent,
    EmergentOutcome,
    GuidingPrinciple,
    KeyResultArea,
    OutcomeAction,
    Plan,
)
from app.services import outcomes
from app.services.outcomes import thai_today
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

HX = {"HX-Request": "true"}


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _plan_ids(session: Session, plan: Plan) -> dict[str, int]:
    """Codes of the plan's actions and KRAs -> ids."""
    actions = session.exec(select(Action).where(Action.plan_id == plan.id)).all()
    kras = session.exec(select(KeyResultArea).where(KeyResultArea.plan_id == plan.id)).all()
    return {**{a.code: a.id for a in actions}, **{k.code: k.id for k in kras}}


def _form(**values: Any) -> dict[str, Any]:
    """A filled-in outcome form, Thai as a committee would type it."""
    return {
        "observed_on": "2025-02-14",
        "who": "เครือข่ายผู้ปกครองนักเรียนชั้น ป.1–ป.3 ตำบลเกาะลันตาใหญ่",
        "change": "ผู้ปกครองยื่นหนังสือขอให้ อบต. จัดมุมอ่านหนังสือในศาลาหมู่บ้าน 3 แห่ง",
        "place": "ต.เกาะลันตาใหญ่ อ.เกาะลันตา",
        "significance": "ผู้ปกครองเป็นผู้ผลักดันการอ่านในชุมชนเอง",
        "contribution": "เกิดหลังกิจกรรมกระบี่อ่านคล่องส่งผลคัดกรองการอ่านถึงผู้ปกครอง",
        "evidence": "สำเนาหนังสือของเครือข่ายผู้ปกครอง",
        "substantiation": "confirmed",
        "positive": "positive",
        "planned": "unplanned",
        **values,
    }


def make_outcome(session: Session, slug: str = "krabi", **values: Any) -> EmergentOutcome:
    return outcomes.create_outcome(
        session, actor=f.ACTOR, area=f.area(session, slug), outcome_in=_form(**values)
    )


@pytest.fixture
def krabi(session: Session) -> dict[str, int]:
    """Krabi's plan (KRA1–KRA3, ACT1–ACT3) and the ids of its elements and DOE items."""
    plan = f.make_full_plan(session, "krabi", kras=3)
    ids = _plan_ids(session, plan)
    ids.update({code: f.doe_item(session, code).id for code in ("LP1", "IC1", "AC3")})
    return ids


# ---- recording an outcome -------------------------------------------------------------------


def test_recording_an_outcome_stores_its_values_and_links(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    data = _form(
        action_ids=[krabi["ACT1"], krabi["ACT2"]],
        kra_ids=[krabi["KRA2"]],
        doe_item_ids=[krabi["LP1"], krabi["AC3"]],
    )
    response = client.post("/areas/krabi/outcomes", data=data, follow_redirects=False)
    assert response.status_code == 303
    row = session.exec(select(EmergentOutcome)).one()
    assert response.headers["location"] == f"/areas/krabi/outcomes#emergent-outcome-{row.id}"
    assert (row.who, row.place, row.substantiation) == (data["who"], data["place"], "confirmed")
    assert row.observed_on.isoformat() == "2025-02-14"
    assert row.positive is True and row.planned is False
    assert outcomes.outcome_links(session, row) == {
        "action_ids": sorted([krabi["ACT1"], krabi["ACT2"]]),
        "kra_ids": [krabi["KRA2"]],
        "doe_item_ids": sorted([krabi["LP1"], krabi["AC3"]]),
    }
    event = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "emergent_outcome")
    ).one()
    assert event.op == "create" and event.after["action_ids"] == sorted(
        [krabi["ACT1"], krabi["ACT2"]]
    )
    page = client.get("/areas/krabi/outcomes").text
    assert data["who"] in page and "14 ก.พ. 2568" in page  # the Thai date, Buddhist Era


def test_a_negative_planned_outcome_is_tagged_in_words(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    make_outcome(session, who="โรงเรียนขนาดเล็กบนเกาะ", positive="negative", planned="planned")
    page = client.get("/areas/krabi/outcomes").text
    card = page[page.index('class="card outcome negative"') :]
    assert 'class="tag effect-negative"' in card and "tag subst subst-confirmed" in card


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("who", "   "),
        ("change", ""),
        ("observed_on", ""),
        ("observed_on", "31/02/2568"),  # no 31 February (a B.E. day is fine: 14/02/2568)
        ("substantiation", "rumour"),
        ("positive", "maybe"),
    ],
)
def test_a_bad_field_comes_back_422_beside_it_with_the_input_kept(
    client: TestClient, session: Session, krabi: dict[str, int], field: str, value: str
) -> None:
    data = _form(**{field: value}, action_ids=[krabi["ACT1"]])
    response = client.post("/areas/krabi/outcomes", data=data)
    assert response.status_code == 422
    assert f'id="outcome-new-{field}-error"' in response.text
    assert "ผู้ปกครองยื่นหนังสือขอให้ อบต." in response.text or field == "change"
    assert re.search(rf'name="action_ids" value="{krabi["ACT1"]}" checked', response.text)
    assert '<details class="card add-record" id="outcome-new-box" open>' in response.text
    assert _count(session, EmergentOutcome) == 0


def test_an_outcome_cannot_be_observed_in_the_future(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    tomorrow = (thai_today() + timedelta(days=1)).isoformat()
    response = client.post("/areas/krabi/outcomes", data=_form(observed_on=tomorrow))
    assert response.status_code == 422 and 'id="outcome-new-observed_on-error"' in response.text
    today = client.post(
        "/areas/krabi/outcomes",
        data=_form(observed_on=thai_today().isoformat()),
        follow_redirects=False,
    )
    assert today.status_code == 303 and _count(session, EmergentOutcome) == 1


def test_links_to_another_areas_plan_are_refused_and_nothing_is_written(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    phuket = _plan_ids(session, f.make_full_plan(session, "phuket", kras=1))
    before = _count(session, AuditEvent)
    for field, code in (("action_ids", "ACT1"), ("kra_ids", "KRA1")):
        data = _form(**{field: [krabi[code], phuket[code]]})
        response = client.post("/areas/krabi/outcomes", data=data)
        assert response.status_code == 422
        assert f'id="outcome-new-{field}-error"' in response.text
    assert _count(session, EmergentOutcome) == 0 and _count(session, AuditEvent) == before
    # and on an edit too
    row = make_outcome(session, action_ids=[krabi["ACT1"]])
    data = _form(version="1", action_ids=[phuket["ACT1"]])
    response = client.put(f"/areas/krabi/outcomes/{row.id}", data=data, headers=HX)
    assert response.status_code == 422 and 'id="outcome-edit-action_ids-error"' in response.text
    session.expire_all()
    assert session.get(EmergentOutcome, row.id).version == 1
    assert outcomes.outcome_links(session, row)["action_ids"] == [krabi["ACT1"]]


# ---- the harvest and its filters ------------------------------------------------------------


@pytest.fixture
def harvest(session: Session, krabi: dict[str, int]) -> dict[str, EmergentOutcome]:
    return {
        "plc": make_outcome(
            session,
            who="ครูโรงเรียนบ้านคลองม่วงตั้งวง PLC เอง",
            observed_on="2024-11-20",
            substantiation="substantiated",
            action_ids=[krabi["ACT3"]],
            kra_ids=[krabi["KRA3"]],
        ),
        "reading": make_outcome(
            session,
            who="เครือข่ายผู้ปกครองเกาะลันตา",
            observed_on="2025-02-14",
            action_ids=[krabi["ACT1"]],
            kra_ids=[krabi["KRA1"]],
        ),
        "teachers": make_outcome(
            session,
            who="โรงเรียนขนาดเล็กเสียครูให้สถานศึกษานำร่อง",
            observed_on="2025-05-30",
            positive="negative",
            action_ids=[krabi["ACT3"]],
            kra_ids=[krabi["KRA1"], krabi["KRA3"]],
        ),
        "hotels": make_outcome(
            session,
            who="โรงแรมในอ่าวนางจ้างนักเรียนฝึกงาน",
            observed_on="2025-08-15",
            substantiation="disputed",
            planned="planned",
            action_ids=[krabi["ACT2"]],
        ),
    }


def _shown(page: str, harvest: dict[str, EmergentOutcome]) -> list[str]:
    """The outcomes on the page, in the order shown."""
    found = [(page.find(f'id="emergent-outcome-{o.id}"'), key) for key, o in harvest.items()]
    return [key for at, key in sorted(found) if at >= 0]


def test_the_harvest_is_newest_first_with_a_count_per_status(
    client: TestClient, harvest: dict[str, EmergentOutcome]
) -> None:
    page = client.get("/areas/krabi/outcomes").text
    assert _shown(page, harvest) == ["hotels", "teachers", "reading", "plc"]
    counts = dict(re.findall(r'\?substantiation=(\w+)"[^>]*>.*?<strong>(\d+)</strong>', page))
    assert counts == {"draft": "0", "confirmed": "2", "substantiated": "1", "disputed": "1"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("substantiation=confirmed", ["teachers", "reading"]),
        ("substantiation=disputed", ["hotels"]),
        ("effect=negative", ["teachers"]),
        ("effect=positive", ["hotels", "reading", "plc"]),
        ("planned=planned", ["hotels"]),
        ("planned=unplanned", ["teachers", "reading", "plc"]),
        ("kra={KRA3}", ["teachers", "plc"]),
        ("action={ACT3}", ["teachers", "plc"]),
        ("effect=positive&kra={KRA1}", ["reading"]),
        ("substantiation=draft", []),
    ],
)
def test_each_filter_shows_only_matching_outcomes(
    client: TestClient,
    krabi: dict[str, int],
    harvest: dict[str, EmergentOutcome],
    query: str,
    expected: list[str],
) -> None:
    response = client.get(f"/areas/krabi/outcomes?{query.format(**krabi)}")
    assert response.status_code == 200
    assert _shown(response.text, harvest) == expected


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("substantiation=rumour", "substantiation"),
        ("effect=neutral", "effect"),
        ("planned=maybe", "planned"),
        ("kra=KRA1", "kra"),
        ("kra=999999", "kra"),
        ("action=abc", "action"),
    ],
)
def test_a_bad_filter_is_refused_beside_its_field_and_the_others_kept(
    client: TestClient,
    krabi: dict[str, int],
    harvest: dict[str, EmergentOutcome],
    bad: str,
    field: str,
) -> None:
    other = "effect=negative" if field != "effect" else "planned=unplanned"
    response = client.get(f"/areas/krabi/outcomes?{bad}&{other}")
    assert response.status_code == 422
    assert f'id="filter-{field}-error"' in response.text
    assert response.text.count('aria-invalid="true"') == 1
    kept = ["teachers"] if field != "effect" else ["teachers", "reading", "plc"]
    assert _shown(response.text, harvest) == kept


def test_a_kra_of_another_areas_plan_is_not_a_filter(
    client: TestClient, session: Session, harvest: dict[str, EmergentOutcome]
) -> None:
    phuket = _plan_ids(session, f.make_full_plan(session, "phuket", kras=1))
    response = client.get(f"/areas/krabi/outcomes?kra={phuket['KRA1']}")
    assert response.status_code == 422 and 'id="filter-kra-error"' in response.text


# ---- one outcome: its page, edit and delete -------------------------------------------------


def test_the_outcome_page_links_its_actions_to_the_plan(
    client: TestClient, krabi: dict[str, int], harvest: dict[str, EmergentOutcome]
) -> None:
    row = harvest["teachers"]
    page = client.get(f"/areas/krabi/outcomes/{row.id}").text
    assert row.who in page and "30 พ.ค. 2568" in page
    assert f'href="/areas/krabi/progress#action-progress-{krabi["ACT3"]}"' in page
    for kra in ("KRA1", "KRA3"):
        assert f'href="/areas/krabi#kra-{krabi[kra]}"' in page
    assert 'href="/areas/krabi/history/emergent_outcome/' in page
    assert f'action="/areas/krabi/outcomes/{row.id}"' in page  # the admin may edit
    assert client.get("/areas/krabi/outcomes/999999").status_code == 404


def test_another_areas_outcome_is_not_found_through_this_areas_url(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    f.make_full_plan(session, "phuket", kras=1)
    theirs = make_outcome(session, "phuket", who="ครูภูเก็ต")
    assert client.get(f"/areas/krabi/outcomes/{theirs.id}").status_code == 404
    response = client.post(
        f"/areas/krabi/outcomes/{theirs.id}", data=_form(version="1"), follow_redirects=False
    )
    assert response.status_code == 404


def test_changing_the_substantiation_is_an_audited_edit(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    row = make_outcome(session, substantiation="draft", action_ids=[krabi["ACT1"]])
    data = _form(substantiation="substantiated", version="1", action_ids=[krabi["ACT1"]])
    response = client.put(f"/areas/krabi/outcomes/{row.id}", data=data, headers=HX)
    assert response.status_code == 200 and 'id="outcome-main"' in response.text
    assert "<html" not in response.text  # the fragment, for htmx
    session.expire_all()
    stored = session.get(EmergentOutcome, row.id)
    assert (stored.substantiation, stored.version) == ("substantiated", 2)
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "emergent_outcome", AuditEvent.op == "update"
        )
    ).one()
    assert (event.before["substantiation"], event.after["substantiation"]) == (
        "draft",
        "substantiated",
    )
    history = client.get(f"/areas/krabi/history/emergent_outcome/{row.id}")
    shown = ("substantiated", label("substantiation", "substantiated"))  # raw or its label
    assert history.status_code == 200 and any(word in history.text for word in shown)


def test_a_plain_form_edit_redirects_to_the_outcome(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    row = make_outcome(session)
    data = _form(version="1", change="อบต. บรรจุมุมอ่านหนังสือในข้อบัญญัติงบประมาณปี 2569")
    response = client.post(f"/areas/krabi/outcomes/{row.id}", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/areas/krabi/outcomes/{row.id}"
    session.expire_all()
    assert session.get(EmergentOutcome, row.id).change == data["change"]


def test_a_stale_edit_gets_409_and_changes_nothing(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    row = make_outcome(session, substantiation="draft")
    first = _form(version="1", substantiation="confirmed")
    assert client.post(f"/areas/krabi/outcomes/{row.id}", data=first).status_code == 200
    late = _form(version="1", substantiation="disputed", who="ผู้ปกครองกลุ่มอื่น")
    events = _count(session, AuditEvent)
    response = client.put(f"/areas/krabi/outcomes/{row.id}", data=late, headers=HX)
    assert response.status_code == 409
    assert 'class="alert conflict"' in response.text and "ผู้ปกครองกลุ่มอื่น" in response.text
    assert 'name="version" value="2"' in response.text  # saving again applies mine over theirs
    session.expire_all()
    stored = session.get(EmergentOutcome, row.id)
    assert (stored.substantiation, stored.who, stored.version) == ("confirmed", first["who"], 2)
    assert _count(session, AuditEvent) == events


def test_deleting_an_outcome_asks_first_then_removes_it_and_its_links(
    client: TestClient, session: Session, krabi: dict[str, int]
) -> None:
    row = make_outcome(session, action_ids=[krabi["ACT1"]])
    page = client.get(f"/areas/krabi/outcomes/{row.id}").text
    assert "delete-record" in page and f'action="/areas/krabi/outcomes/{row.id}/delete"' in page
    stale = client.post(f"/areas/krabi/outcomes/{row.id}/delete", data={"version": "7"})
    assert stale.status_code == 409 and _count(session, EmergentOutcome) == 1
    response = client.post(
        f"/areas/krabi/outcomes/{row.id}/delete", data={"version": "1"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/areas/krabi/outcomes"
    assert _count(session, EmergentOutcome) == 0 and _count(session, OutcomeAction) == 0
    event = session.exec(select(AuditEvent).where(AuditEvent.op == "delete")).one()
    assert event.before["who"] == row.who


# ---- the overview's links back --------------------------------------------------------------


def test_the_overview_shows_how_many_outcomes_each_action_contributed_to(
    client: TestClient, krabi: dict[str, int], harvest: dict[str, EmergentOutcome]
) -> None:
    page = client.get("/areas/krabi").text
    links = dict(
        (int(i), n)
        for i, n in re.findall(
            r'class="outcome-count" href="/areas/krabi/outcomes\?action=(\d+)">\D*(\d+)', page
        )
    )
    assert links == {krabi["ACT3"]: "2", krabi["ACT1"]: "1", krabi["ACT2"]: "1"}


# ---- who may do what ------------------------------------------------------------------------


def test_an_editor_of_another_area_cannot_write_krabis_outcomes(
    app_client: Callable[[], TestClient], session: Session, krabi: dict[str, int]
) -> None:
    row = make_outcome(session)
    principle = outcomes.create_principle(
        session, actor=f.ACTOR, area=f.area(session), principle_in={"statement": "เริ่มจากทะเล"}
    )
    phuket_editor = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    before = _count(session, AuditEvent)
    attempts = (
        ("POST", "/areas/krabi/outcomes", _form()),
        ("PUT", f"/areas/krabi/outcomes/{row.id}", _form(version="1", who="แก้โดยภูเก็ต")),
        ("POST", f"/areas/krabi/outcomes/{row.id}", _form(version="1", who="แก้โดยภูเก็ต")),
        ("POST", f"/areas/krabi/outcomes/{row.id}/delete", {"version": "1"}),
        ("POST", "/areas/krabi/principles", {"statement": "หลักของภูเก็ต"}),
        ("PUT", f"/areas/krabi/principles/{principle.id}", {"statement": "x", "version": "1"}),
        ("POST", f"/areas/krabi/principles/{principle.id}/delete", {"version": "1"}),
    )
    for method, url, data in attempts:
        assert phuket_editor.request(method, url, data=data).status_code == 403, (method, url)
    assert phuket_editor.get("/areas/krabi/outcomes").status_code == 403
    session.expire_all()
    assert _count(session, AuditEvent) == before and _count(session, EmergentOutcome) == 1
    assert session.get(EmergentOutcome, row.id).who == row.who


def test_a_viewer_reads_the_outcomes_and_principles_but_sees_no_form(
    app_client: Callable[[], TestClient], session: Session, krabi: dict[str, int]
) -> None:
    row = make_outcome(session)
    outcomes.create_principle(
        session, actor=f.ACTOR, area=f.area(session), principle_in={"statement": "เริ่มจากทะเล"}
    )
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    for url in (
        "/areas/krabi/outcomes",
        f"/areas/krabi/outcomes/{row.id}",
        "/areas/krabi/principles",
    ):
        page = viewer.get(url)
        assert page.status_code == 200
        writes = ('method="post" action="/areas/krabi/', "hx-put", "edit-record", "add-record")
        assert not [w for w in writes if w in page.text], url
    assert "เริ่มจากทะเล" in viewer.get("/areas/krabi/principles").text
    facilitator = sign_in(app_client(), session, f.make_user(session, "facilitator", "krabi"))
    assert 'id="outcome-new"' in facilitator.get("/areas/krabi/outcomes").text


# ---- guiding principles ---------------------------------------------------------------------


def test_principles_are_added_rated_edited_and_deleted(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)
    data = {
        "statement": "โรงเรียนเล็กบนเกาะต้องได้ก่อน ไม่ใช่ได้ทีหลัง",
        "explanation": "ดูผลต่อโรงเรียนขนาดเล็กก่อนจัดสรรครูและงบประมาณ",
        "guiding": "3",
        "useful": "๒",  # Thai digits
        "inspiring": "",
        "developmental": "2",
        "evaluable": "1",
    }
    created = client.post("/areas/krabi/principles", data=data, follow_redirects=False)
    assert created.status_code == 303
    row = session.exec(select(GuidingPrinciple)).one()
    assert created.headers["location"] == f"/areas/krabi/principles#guiding-principle-{row.id}"
    ratings = (row.guiding, row.useful, row.inspiring, row.developmental, row.evaluable)
    assert ratings == (3, 2, None, 2, 1)
    second = client.post("/areas/krabi/principles", data={"statement": "ชุมชนร่วมสอนและร่วมตัดสิน"})
    assert second.status_code == 200  # followed to the list
    positions = session.exec(
        select(GuidingPrinciple.position).order_by(col(GuidingPrinciple.id))
    ).all()
    assert positions == [0, 1]
    page = client.get("/areas/krabi/principles").text
    assert page.index(data["statement"]) < page.index("ชุมชนร่วมสอนและร่วมตัดสิน")
    card = re.sub(r"<[^>]+>", "", page[page.index(f'id="guiding-principle-{row.id}"') :])
    assert "●●● 3 · " in card and "●○○ 1 · " in card  # a number and a word beside the marks
    edit = {**data, "inspiring": "3", "version": "1"}
    response = client.put(f"/areas/krabi/principles/{row.id}", data=edit, headers=HX)
    assert response.status_code == 200 and response.text.startswith("<li")
    session.expire_all()
    assert (
        session.get(GuidingPrinciple, row.id).inspiring,
        session.get(GuidingPrinciple, row.id).version,
    ) == (3, 2)
    stale = client.put(f"/areas/krabi/principles/{row.id}", data=edit, headers=HX)
    assert stale.status_code == 409 and 'class="alert conflict"' in stale.text
    gone = client.post(
        f"/areas/krabi/principles/{row.id}/delete", data={"version": "2"}, follow_redirects=False
    )
    assert gone.status_code == 303
    session.expire_all()
    assert [p.statement for p in session.exec(select(GuidingPrinciple)).all()] == [
        "ชุมชนร่วมสอนและร่วมตัดสิน"
    ]
    ops = session.exec(
        select(AuditEvent.op)
        .where(AuditEvent.entity_type == "guiding_principle")
        .order_by(col(AuditEvent.id))
    ).all()
    assert ops == ["create", "create", "update", "delete"]


@pytest.mark.parametrize("rating", ["4", "0", "-1", "2.5", "ดี", "๔"])
def test_a_rating_outside_one_to_three_is_refused_beside_its_field(
    client: TestClient, session: Session, rating: str
) -> None:
    data = {"statement": "ใช้ข้อมูลชุดเดียวกันก่อนตัดสินใจร่วมกัน", "useful": "3", "evaluable": rating}
    response = client.post("/areas/krabi/principles", data=data)
    assert response.status_code == 422
    assert 'id="principle-new-evaluable-error"' in response.text
    assert response.text.count('aria-invalid="true"') == 1
    assert data["statement"] in response.text  # the input kept
    assert _count(session, GuidingPrinciple) == 0


def test_a_bad_rating_on_an_edit_is_refused_with_or_without_javascript(
    client: TestClient, session: Session
) -> None:
    row = outcomes.create_principle(
        session,
        actor=f.ACTOR,
        area=f.area(session),
        principle_in={"statement": "เริ่มจากทะเล", "guiding": 2},
    )
    data = {"statement": "เริ่มจากทะเล", "guiding": "5", "version": "1"}
    fragment = client.put(f"/areas/krabi/principles/{row.id}", data=data, headers=HX)
    assert fragment.status_code == 422 and fragment.text.startswith("<li")
    assert f'id="guiding-principle-{row.id}-edit-guiding-error"' in fragment.text
    page = client.post(f"/areas/krabi/principles/{row.id}", data=data)
    assert page.status_code == 422 and "<html" in page.text
    assert f'id="guiding-principle-{row.id}-edit-guiding-error"' in page.text
    session.expire_all()
    assert (
        session.get(GuidingPrinciple, row.id).guiding,
        session.get(GuidingPrinciple, row.id).version,
    ) == (2, 1)


# ---- no N+1 ---------------------------------------------------------------------------------


def _pages_queries(client: TestClient, counter: QueryCounter, outcome_id: int) -> list[int]:
    counts = []
    for url in (
        "/areas/krabi/outcomes",
        "/areas/krabi/outcomes?effect=positive&planned=unplanned",
        f"/areas/krabi/outcomes/{outcome_id}",
        "/areas/krabi/principles",
        "/areas/krabi",
    ):
        counter.count = 0
        assert client.get(url).status_code == 200
        counts.append(counter.count)
    return counts


def test_the_pages_issue_the_same_queries_for_few_and_many_outcomes(
    client: TestClient, session: Session, krabi: dict[str, int], count_queries: QueryCounter
) -> None:
    every = {
        "action_ids": [krabi["ACT1"], krabi["ACT2"], krabi["ACT3"]],
        "kra_ids": [krabi["KRA1"], krabi["KRA2"]],
        "doe_item_ids": [krabi["LP1"], krabi["IC1"]],
    }
    first = make_outcome(session, **every)
    outcomes.create_principle(
        session, actor=f.ACTOR, area=f.area(session), principle_in={"statement": "หนึ่ง"}
    )
    few = _pages_queries(client, count_queries, first.id)
    for n in range(12):
        make_outcome(session, who=f"กลุ่มที่ {n}", **every)
        outcomes.create_principle(
            session,
            actor=f.ACTOR,
            area=f.area(session),
            principle_in={"statement": f"หลักที่ {n}", "useful": 3},
        )
    assert _pages_queries(client, count_queries, first.id) == few
