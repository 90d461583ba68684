"""Pages and API writes issue the same number of SQL queries for small and large data (no N+1).

Every GET route of the app is opened, its path parameters filled from the data the test builds;
then every kind of data grows twentyfold (KRAs, KPIs, actions, values, check-ins, comments,
history events, workshop contributions, reflections, outcomes, partners, ...) and each page must
issue exactly as many queries as before. A new GET route fails the test until it is filled here
or listed in NOT_OPENED with a reason.

The pages are opened by an administrator, who sees every part of them; other roles see less of
the same data (reviewers the internal comments, editors the forms), never more.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, select

from app.i18n import thai_today
from app.models import (
    KPI,
    Agency,
    Area,
    CategoryOption,
    CategorySet,
    DataItem,
    DataItemCategorySet,
    KeyResultArea,
    OrgUnit,
    Plan,
    ProblemNode,
    User,
    WorkshopEvent,
    WorkshopSession,
)
from app.services import (
    accounts,
    breakdowns,
    comments,
    committee,
    evidence,
    indicators,
    learning,
    outcomes,
    partners,
    plans,
    progress,
    public,
    records,
    reflections,
    resources,
    reviews,
    shared_data,
    units,
    versions,
    workshop_events,
)
from app.services.audit import Actor
from app.services.reference import current_framework
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

NOT_OPENED = {  # GET routes the test does not open, and why
    "static": "files from static/, no database",
    "area_events": "an event stream never ends (tests/web/test_events.py counts its queries)",
    "healthz": "one query by design, no data",
    "metrics": "process figures, no data",
    "login": "a signed-in visitor is sent on (303), no page rendered",
    # the PDFs read with the pages' own loaders (reports.area_brief, reports.review_briefs),
    # whose pages are counted; WeasyPrint then takes seconds per document
    "area_brief_pdf": "reads as area_brief does (counted), then WeasyPrint",
    "review_briefs_pdf": "reads as review_briefs does (counted), then WeasyPrint",
    "meeting_pdf": "reads as the meeting page does (counted), then WeasyPrint",
    "workshop_harvest_pdf": "reads as workshop_harvest_xlsx does (counted), then WeasyPrint",
    "workshop_event_events": "an event stream never ends (tests/web/test_workshop_events.py)",
}
FRAGMENTS = {"comment_thread"}  # answer htmx only (a browser is sent to the page holding them)
VARIANTS = (  # pages whose query strings read more, beside their plain URL
    "/areas/krabi/outcomes?effect=positive&planned=unplanned&substantiation=draft",
    "/areas/krabi/map?as_of=2026-01-01",
    "/review?group=all&year=AY2567&theme=learner_quality&heat=theme&measure=budget",
    "/areas/krabi/brief?period=AY2566",
    "/review/briefs?group=all",
    "/review/annual?group=all",
    "/review/annual.xlsx?group=all&year=AY2567",
    "/review/export.xlsx?group=all&year=AY2567",
    "/review/learning?theme=learner_quality&aspect=LP&year=AY2567&by=area&q=อ่าน",
    "/review/learning.xlsx?kind=reflection&kind=outcome",
    "/areas/krabi/versions/compare?a=2026-01-01&b=now",
    "/areas/krabi/history?type=kpi",
)
GROWTH = 20


# every request renders its page (a kept page would cost one query whatever the data)
pytestmark = pytest.mark.usefixtures("no_page_cache")


@dataclass
class World:
    """Krabi's plan and records, and the ids the routes' path parameters take."""

    plan: Plan
    area: Area
    person: Actor  # a signed-in person: the growth's plan edits are theirs
    params: dict[str, str] = field(default_factory=dict)
    element_ids: dict[str, int] = field(default_factory=dict)  # kind -> an element of Krabi's
    computed_items: list[DataItem] = field(default_factory=list)  # the KPI's ratio's terms


def _world(session: Session, admin: User) -> World:
    """One of everything an area holds (each then grows with `_grow`)."""
    plan = f.make_full_plan(session, "krabi", kras=1)
    f.make_full_plan(session, "phuket", kras=1)
    area = f.area(session, "krabi")
    w = World(plan, area, Actor(admin.id, admin.email))
    w.element_ids = {
        kind: session.exec(select(spec.model.id).where(*plans._sibling_filter(spec, plan))).first()
        for kind, spec in plans.SPECS.items()
    }
    kpi_id, action_id = w.element_ids["kpis"], w.element_ids["actions"]
    workshop = f.make_workshop(session, "krabi")
    event = _event(session, workshop)
    portal = {"public": True, "confirm": True}  # the public pages are measured too
    public.set_portal(session, actor=f.ACTOR, area=area, portal_in=portal)
    thread = _comment(session, area, {"target_type": "area", "body": "ภาพรวมแผนกระบี่"})
    partner = partners.create_partner(
        session, actor=f.ACTOR, area=area, partner_in={"name": "ผู้ปกครอง"}
    )
    pdf = evidence.store(
        session,
        actor=f.ACTOR,
        area_id=area.id,
        upload=evidence.Upload("ผลการอ่าน.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    session.commit()
    w.params = {
        "slug": "krabi",
        "kpi_id": str(kpi_id),
        "action_id": str(action_id),
        "period": "AY2567",
        "entity_type": "kpi",
        "entity_id": str(kpi_id),
        "evidence_id": str(pdf.id),
        "user_id": str(admin.id),
        "workshop_id": str(workshop.id),
        "event_id": str(event.id),
        "code": workshop.join_code,
        "indicator_code": "p1-reading-good",
        "comment_id": str(thread.id),
        "partner_id": str(partner.id),
        "area_id": str(area.id),
        "agency_id": str(session.exec(select(Agency.id).where(Agency.area_id == area.id)).first()),
        "framework_id": str(current_framework(session).id),
    }
    ids = _grow(session, w, 0, 1)
    w.params.update({name: str(row_id) for name, row_id in ids.items()})
    return w


def _event(session: Session, workshop: WorkshopSession) -> WorkshopEvent:
    """A national workshop of two areas, with the world's workshop (which grows) a station."""
    event_in = {
        "title": "เวทีระดับชาติ",
        "station_title": "สถานี",
        "starts_on": thai_today().isoformat(),
        "area_ids": [f.area(session, "krabi").id, f.area(session, "phuket").id],
    }
    event = workshop_events.create_event(session, actor=f.ACTOR, event_in=event_in)
    workshop_events.attach(session, actor=f.ACTOR, event=event, workshop=workshop)
    return event


def _compute(session: Session, w: World) -> None:
    """Make the world's KPI a ratio of two data items reported by school and by sex (their
    values grow with the schools, `_unit_values`)."""
    sex = session.exec(
        select(CategorySet).where(CategorySet.area_id == w.area.id, CategorySet.code == "sex_q")
    ).first()  # category sets outlive a test's cleaning (tests.conftest._clean)
    if sex is None:
        sex = CategorySet(area_id=w.area.id, code="sex_q", name_th="เพศ")
        session.add(sex)
        session.flush()
        for position, code in enumerate(("male", "female")):
            session.add(CategoryOption(set_id=sex.id, code=code, name_th=code, position=position))
    items = []
    for name in ("จำนวนนักเรียนที่อ่านคล่อง", "จำนวนนักเรียนที่เข้ารับการประเมิน"):
        item = DataItem(area_id=w.area.id, name=name, period_type="academic_year")
        item.reported_by = "school"
        session.add(item)
        session.flush()
        session.add(DataItemCategorySet(data_item_id=item.id, set_id=sex.id))
        items.append(item)
    session.commit()
    w.computed_items = items
    shared_data.save_kpi(
        session,
        actor=f.ACTOR,
        area=w.area,
        plan=w.plan,
        kpi_id=int(w.params["kpi_id"]),
        element_in={},
        computation_in={"method": "ratio", "numerator": items[0].id, "denominator": items[1].id},
        partial=True,
    )
    schools = select(OrgUnit).where(OrgUnit.area_id == w.area.id, OrgUnit.kind == "school")
    for unit in session.exec(schools):
        _unit_values(session, w, unit)


def _unit_values(session: Session, w: World, unit: OrgUnit) -> None:
    """A school's values of the world's computed KPI's items (no girls tested: no value)."""
    for item, (male, female) in zip(w.computed_items, ((30, 0), (40, 0)), strict=True):
        rows = [
            {
                "period": "AY2567",
                "unit": unit.code or str(unit.id),
                "categories": {"sex_q": sex},
                "value": v,
            }
            for sex, v in (("male", male), ("female", female))
        ]
        shared_data.put_values(session, actor=f.ACTOR, area=w.area, item=item, rows=rows)
        session.commit()


def _comment(session: Session, area: Area, comment_in: dict) -> object:
    by = comments.Commenter(f.ACTOR, "ผู้ทดสอบ", internal=False)
    return comments.add_comment(session, by=by, area=area, comment_in=comment_in)


def _grow(session: Session, w: World, start: int, stop: int) -> dict[str, int]:
    """Add records number start..stop-1 of every kind; the ids of the first of each."""
    first: dict[str, int] = {}
    area, plan = w.area, w.plan
    kpi_id = int(w.params["kpi_id"])
    workshop = session.get(WorkshopSession, int(w.params["workshop_id"]))
    partner = partners.get_partner(session, area, int(w.params["partner_id"]))
    kra = session.get(KeyResultArea, w.element_ids["kras"])
    lead = f.agency(session, "krabi").id
    lp1 = f.doe_item(session, "LP1").id
    indicator_id = indicators.get_indicator(session, w.params["indicator_code"]).id
    for i in range(start, stop):
        n = i + 2  # the first KRA, KPI and action came with the plan
        new_kra = f.make_kra(
            session, plan, f"KRA{n}", doe_item_ids=[lp1], theme_id=f.theme(session).id
        )
        kpi = f.make_kpi(
            session,
            plan,
            f"KPI{n}",
            kra_ids=[new_kra.id],
            lead_agency_id=lead,
            indicator_id=indicator_id,  # the indicator's page compares them
        )
        action = f.make_action(session, plan, f"ACT{n}", kpi_ids=[kpi.id], kra_ids=[new_kra.id])
        deepest = session.exec(
            select(ProblemNode)
            .where(ProblemNode.plan_id == plan.id)
            .order_by(ProblemNode.id.desc())
        ).first()  # the problem tree grows a level deeper each time, with links at every level
        f.make_node(
            session, plan, f"สาเหตุชั้นที่ {n}", deepest, kra_ids=[new_kra.id], action_ids=[action.id]
        )
        for period, value in (("AY2566", "64"), ("AY2567", "66.5")):
            progress.save_cell(
                session,
                actor=f.ACTOR,
                plan=plan,
                kpi_id=kpi.id,
                period=period,
                cell="actual",
                text=value,
            )
        progress.add_action_update(
            session,
            actor=f.ACTOR,
            plan=plan,
            action_id=w.element_ids["actions"],
            update_in={
                "on_date": "2025-10-01",
                "status": "delayed",
                "percent_complete": 40,
                "what_changed": f"อบรมครูแกนนำ รุ่นที่ {n}",
            },
        )
        plans.update_element(
            session,
            actor=f.ACTOR,
            plan=plan,
            kind="kras",
            element_id=kra.id,
            element_in={"title": f"ผลลัพธ์หลัก ฉบับที่ {n}"},
            partial=True,
            reason="ปรับตามข้อมูลใหม่",
            reason_category="new_evidence",
        )
        plans.update_element(
            session,
            actor=w.person if i else f.ACTOR,  # at first only the seed has changed the plan
            plan=plan,
            kind="kpis",
            element_id=kpi_id,
            element_in={"name": f"ร้อยละนักเรียนอ่านคล่อง ฉบับที่ {n}"},
            partial=True,
        )
        guest, _ = f.make_guest(session, workshop, f"ครูคนที่ {n}")
        contribution = f.make_contribution(session, workshop, guest, text=f"เด็กอ่านไม่คล่อง {n}")
        thread = _comment(
            session, area, {"target_type": "kpis", "target_id": kpi.id, "body": f"ข้อสังเกต {n}"}
        )
        _comment(session, area, {"parent_id": int(w.params["comment_id"]), "body": f"ตอบ {n}"})
        reflection = reflections.create_reflection(
            session,
            actor=f.ACTOR,
            area=area,
            reflection_in={
                "held_on": "2025-06-20",
                "title": f"ทบทวนครั้งที่ {n}",
                "period": "AY2567",
                "elements": [f"kpi:{kpi_id}", f"kpi:{kpi.id}"],
            },
        )
        proposal = reflections.create_proposal(
            session, actor=f.ACTOR, area=area, proposal_in={"text": f"เพิ่มโรงเรียนนำร่อง {n}"}
        )
        question = reflections.create_question(
            session, actor=f.ACTOR, area=area, question_in={"question": f"ทำไมเด็กย้ายโรงเรียน {n}"}
        )
        development = records.create(
            session,
            actor=f.ACTOR,
            area=area,
            spec=learning.DEVELOPMENTS,
            record_in={"happened_on": "2024-05-16", "kind": "milestone", "title": f"เหตุการณ์ {n}"},
        )
        version = versions.name_version(
            session, actor=f.ACTOR, area=area, plan=plan, version_in={"name": f"ฉบับ {n}"}
        )
        outcome = outcomes.create_outcome(
            session,
            actor=f.ACTOR,
            area=area,
            outcome_in={
                "observed_on": "2025-02-14",
                "who": "ครูกระบี่",
                "change": f"ตั้งวง PLC เอง {n}",
                "action_ids": [action.id, w.element_ids["actions"]],
            },
        )
        principle = outcomes.create_principle(
            session, actor=f.ACTOR, area=area, principle_in={"statement": f"ไม่ทิ้งใครไว้ข้างหลัง {n}"}
        )
        resource = resources.create_resource(
            session,
            actor=f.ACTOR,
            area=area,
            resource_in={"dimension": "data", "name": f"ระบบ DMC {n}", "action_ids": [action.id]},
        )
        breakdown = breakdowns.create_set(
            session, actor=f.ACTOR, area=area, set_in={"code": f"zone_{n}", "name_th": f"เขต {n}"}
        )
        breakdowns.add_option(
            session,
            actor=f.ACTOR,
            area=area,
            set_id=breakdown.id,
            option_in={"code": "island", "name_th": "เกาะ"},
        )
        data_item = resources.create_data_item(
            session,
            actor=f.ACTOR,
            area=area,
            item_in={"name": f"ผลการประเมินการอ่าน {n}", "category_set_ids": [breakdown.id]},
        )
        valued = w.params.get("data_item_id")  # the first item gets a value for one more year
        shared_data.put_values(
            session,
            actor=f.ACTOR,
            area=area,
            item=session.get(DataItem, int(valued)) if valued else data_item,
            rows=[{"period": f"FY{2560 + n}", "unit": None, "value": 100 + n}],
            source=f"DMC {n}",
        )
        marker = partners.add_marker(
            session,
            actor=f.ACTOR,
            area=area,
            partner=partner,
            marker_in={"level": "expect", "text": f"ผู้ปกครองมาร่วมประชุมชั้นเรียน {n}"},
        )
        partners.create_partner(session, actor=f.ACTOR, area=area, partner_in={"name": f"ชุมชน {n}"})
        unit = progress.add_unit(
            session, actor=f.ACTOR, area=area, unit_in={"kind": "school", "name": f"โรงเรียน {n}"}
        )
        units.create_unit(  # a tree that grows: each school under the last
            session,
            actor=f.ACTOR,
            area=area,
            unit_in={
                "kind": "school",
                "name": f"โรงเรียนสาขา {n}",
                "code": f"10810{n:05d}",
                "parent_id": unit.id,
            },
        )
        if w.computed_items:
            _unit_values(session, w, unit)
        evidence.store(
            session,
            actor=f.ACTOR,
            area_id=area.id,
            upload=evidence.Upload(f"หลักฐาน {n}.pdf", b"%PDF-1.4\n%%EOF\n"),
        )
        member = committee.create_member(
            session,
            actor=f.ACTOR,
            area=area,
            member_in={"name": f"กรรมการ {n} (สาธิต)", "agency_id": lead, "role": "member"},
        )
        committee.create_group(
            session,
            actor=f.ACTOR,
            area=area,
            group_in={"name": f"คณะทำงาน {n}", "lead_id": member.id, "members": [member.id]},
        )
        meeting = committee.create_meeting(
            session,
            actor=f.ACTOR,
            area=area,
            meeting_in={
                "held_on": "2025-06-20",
                "title": f"ประชุมครั้งที่ {n}",
                "attendees": [member.id],
            },
        )
        cited = [
            committee.Citation("plan_version", version.id, "adopt"),
            committee.Citation("change_proposal", proposal.id, "approve"),
            committee.Citation("kpi", kpi.id, "note"),
            committee.Citation("action", action.id, "note"),
        ]
        if "version_id" in w.params:  # the first version's page shows a resolution more each time
            cited.append(committee.Citation("plan_version", int(w.params["version_id"]), "note"))
        for target in {meeting.id, int(w.params.get("meeting_id") or meeting.id)}:
            committee.add_resolution(  # the first meeting's resolutions grow too
                session,
                actor=f.ACTOR,
                area=area,
                meeting_id=target,
                resolution_in={"text": f"มติที่ {n}"},
                citations=cited,
            )
        session.commit()
        f.make_user(session, "editor", "krabi")
        if i == start:
            first = {
                "contribution_id": contribution.id,
                "thread_id": thread.id,
                "reflection_id": reflection.id,
                "proposal_id": proposal.id,
                "question_id": question.id,
                "development_id": development.id,
                "version_id": version.id,
                "outcome_id": outcome.id,
                "principle_id": principle.id,
                "resource_id": resource.id,
                "data_item_id": data_item.id,
                "unit_id": unit.id,
                "marker_id": marker.id,
                "member_id": member.id,
                "meeting_id": meeting.id,
            }
    if stop > 1:  # the latest change (the projector shows it) is a person's
        plans.update_element(
            session,
            actor=w.person,
            plan=plan,
            kind="kpis",
            element_id=kpi_id,
            element_in={"target_value": "80"},
            partial=True,
        )
    for slug in ("trat", "sa-kaeo", "buriram")[: (stop - start) // 6]:  # more areas to review
        f.make_full_plan(session, slug, kras=5)
    return first


CHOICES = {  # path parameters that name one of a few things: each is opened
    "kind": ("kras", "kpis", "actions"),
    "part": ("meta", "vision"),
    "table": ("progress", "plan", "checkins"),
}


def get_routes(app: object) -> dict[str, str]:
    """Every named GET route of the app (through included routers): name -> path."""
    return {
        r.name: r.path
        for r in iter_route_contexts(app.routes)  # type: ignore[attr-defined]
        if r.name and "GET" in (r.methods or {"GET"})
    }


def page_urls(routes: dict[str, str], w: World) -> list[tuple[str | None, str]]:
    """Each route's name and URL for Krabi's data, once per choice of its CHOICES parameters;
    then the VARIANTS (no name)."""
    urls: list[tuple[str | None, str]] = []
    for name, path in routes.items():
        if name in NOT_OPENED:
            continue
        path = re.sub(r":\w+}", "}", path)  # {kpi_id:id} -> {kpi_id}
        names = re.findall(r"{(\w+)}", path)
        choices = [CHOICES.get(p, (None,)) for p in names]
        for chosen in itertools.product(*choices):
            params = dict(w.params)
            params.update({p: v for p, v in zip(names, chosen, strict=True) if v is not None})
            kind = params.get("kind") or next((k for k in plans.SPECS if f"/{k}/" in path), None)
            if kind is not None:
                params["element_id"] = str(w.element_ids[kind])
            urls.append((name, path.format(**params)))
    return [*urls, *((None, url) for url in VARIANTS)]


def _counts(
    client: TestClient, counter: QueryCounter, urls: list[tuple[str | None, str]]
) -> dict[str, int]:
    counts = {}
    for name, url in urls:
        headers = {"HX-Request": "true"} if name in FRAGMENTS else {}
        counter.count = 0
        response = client.get(url, headers=headers, follow_redirects=False)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        counts[url] = counter.count
    return counts


def test_every_get_route_is_opened_or_listed(client: TestClient) -> None:
    routes = get_routes(client.app)
    assert NOT_OPENED.keys() - routes.keys() == set(), "NOT_OPENED names a route that is gone"
    unfilled = {
        name: path
        for name, path in routes.items()
        if name not in NOT_OPENED and not _fillable(path)
    }
    assert unfilled == {}, "fill the new route's parameters in _world, or list it in NOT_OPENED"


def _fillable(path: str) -> bool:
    known = {"slug", "element_id", *CHOICES, *WORLD_PARAMS}
    return set(re.findall(r"{(\w+)", path)) <= known


WORLD_PARAMS = (
    *("kpi_id", "action_id", "period", "entity_type", "entity_id", "evidence_id", "user_id"),
    *("workshop_id", "code", "indicator_code", "comment_id", "partner_id", "reflection_id"),
    *("resource_id", "data_item_id", "version_id", "outcome_id", "unit_id", "meeting_id"),
    *("area_id", "agency_id", "framework_id", "event_id"),
)


def test_every_page_issues_the_same_queries_when_the_data_grows_twentyfold(
    client: TestClient, session: Session, admin: User, count_queries: QueryCounter
) -> None:
    w = _world(session, admin)
    _compute(session, w)  # the KPI page, grid, map and data page show computed cells
    assert set(WORLD_PARAMS) <= w.params.keys()
    urls = page_urls(get_routes(client.app), w)
    small = _counts(client, count_queries, urls)
    _grow(session, w, 1, GROWTH)
    large = _counts(client, count_queries, urls)
    grown = {url: (small[url], n) for url, n in large.items() if n != small[url]}
    assert grown == {}, "pages whose query count grows with the data: (small, large)"
    assert max(small.values()) < 38  # the cross-area review reads the most: 35


def _save_cell_queries(client: TestClient, session: Session, counter: QueryCounter) -> int:
    kpi_id = session.exec(select(KPI.id).join(Plan).order_by(KPI.id)).first()
    counter.count = 0
    response = client.put(
        f"/areas/krabi/progress/kpis/{kpi_id}/AY2567/actual",
        headers={"HX-Request": "true"},
        data={"value": "70"},
    )
    assert response.status_code == 200
    return counter.count


def test_saving_a_cell_loads_only_its_kpi(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    f.make_full_plan(session, "krabi", kras=1)
    small = _save_cell_queries(client, session, count_queries)
    session.exec(delete(Plan))
    session.commit()
    f.make_full_plan(session, "krabi", kras=30)
    assert _save_cell_queries(client, session, count_queries) == small
    assert small < 20


def test_a_kpi_page_issues_the_same_queries_with_more_values_units_and_files(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    plan = f.make_plan(session)
    bare = f.make_kpi(session, plan)  # one plain value
    full = f.make_kpi(session, plan, "KPI2")
    area = f.area(session)
    units = [
        progress.add_unit(session, actor=f.ACTOR, area=area, unit_in={"kind": "school", "name": n})
        for n in ("โรงเรียนบ้านคลองม่วง", "โรงเรียนเกาะลันตา", "โรงเรียนอ่าวนาง")
    ]
    progress.save_cell(
        session, actor=f.ACTOR, plan=plan, kpi_id=bare.id, period="AY2566", cell="actual", text="1"
    )
    for period in ("AY2566", "AY2567", "AY2568", "AY2569"):
        progress.save_measurement(
            session,
            actor=f.ACTOR,
            plan=plan,
            kpi_id=full.id,
            period=period,
            details_in={"note": "ครบทุกโรงเรียน", "n_measured": "120"},
            units_in={u.id: ("70", "40") for u in units},
        )
    counts = []
    for kpi in (bare, full):
        count_queries.count = 0
        assert client.get(f"/areas/krabi/progress/kpis/{kpi.id}").status_code == 200
        counts.append(count_queries.count)
    assert counts[0] == counts[1]


@dataclass
class Write:
    route: str  # the route's name
    method: str
    url: str  # "{new}" stands for the id the last create answered
    body: dict | None = None


CHANGES = {  # kind -> a partial update of the element the test created
    "doe": {"text": "ผู้เรียนมีทักษะชีวิตและอาชีพ"},
    "kras": {"title": "ผลลัพธ์จาก API ฉบับปรับ"},
    "kpis": {"target_value": 1.2},
    "actions": {"title": "ค่ายการอ่านภาคฤดูร้อน"},
    "agencies": {"name_en": "Reading Foundation"},
}


def api_writes(w: World, session: Session, target_period: str) -> list[Write]:
    """One write per API write route, each element created, changed, then deleted (a target
    is only ever set: each round sets a period of its own)."""
    lp1 = f.doe_item(session, "LP1").id
    kra_id, kpi_id = w.element_ids["kras"], w.element_ids["kpis"]
    bodies = {
        "doe": {"text": "ผู้เรียนมีทักษะชีวิต", "item_ids": [lp1]},
        "kras": {"code": "KRA-API", "title": "ผลลัพธ์จาก API", "doe_item_ids": [lp1]},
        "kpis": {
            "code": "KPI-API",
            "name": "อัตราการออกกลางคัน",
            "kind": "rate",
            "direction": "lower",
            "period_type": "academic_year",
            "baseline_value": 3.1,
            "baseline_period": "AY2565",
            "target_value": "1.5",
            "target_period": "AY2570",
            "kra_ids": [kra_id],
        },
        "actions": {"code": "ACT-API", "title": "ค่ายการอ่าน", "kpi_ids": [kpi_id]},
        "agencies": {"name_th": "มูลนิธิการอ่าน", "type_id": f.agency(session, "krabi").type_id},
    }
    plan = "/api/v1/areas/{slug}/plan"
    writes = [
        Write("api_plan_update", "PATCH", plan.format(slug="krabi"), {"vision": "อ่านคล่อง คิดเป็น"}),
        Write(
            "api_plan_create",
            "POST",
            plan.format(slug=PLANLESS),
            {"title": "แผนพื้นที่นวัตกรรมการศึกษา จันทบุรี", "span_start_be": 2566, "span_end_be": 2570},
        ),
    ]
    for kind, body in bodies.items():
        url = f"{plan.format(slug='krabi')}/{kind}"
        writes += [
            Write(f"api_{kind}_create", "POST", url, body),
            Write(f"api_{kind}_update", "PATCH", url + "/{new}", CHANGES[kind]),
            Write(f"api_{kind}_delete", "DELETE", url + "/{new}?force=true"),
        ]
    tree = "/api/v1/areas/krabi/problems"
    cause = {"text": "ครูย้ายบ่อย", "kra_ids": [kra_id], "urls": ["https://example.org/rt"]}
    writes += [
        Write("api_problem_create", "POST", tree, cause),
        Write("api_problem_update", "PATCH", tree + "/{new}", {"note": "ผลสอบ RT 2567"}),
        Write("api_problem_move", "POST", tree + "/{new}/move", {"parent_id": None}),
        Write("api_problem_delete", "DELETE", tree + "/{new}?force=true"),
    ]
    kpi = f"/api/v1/kpis/{kpi_id}"
    value = {"value": "๖๙.๕", "n_measured": 1830, "note": "สอบครบ"}
    update = {"on_date": "2025-10-01", "status": "on_track", "what_changed": "อบรมครูครบทุกรุ่น"}
    return [
        *writes,
        Write("api_measurement_save", "PUT", kpi + "/measurements/AY2568", value),
        Write("api_measurement_delete", "DELETE", kpi + "/measurements/AY2568"),
        Write("api_target_save", "PUT", kpi + f"/targets/{target_period}", {"value": 72}),
        Write(
            "api_action_update_create",
            "POST",
            f"/api/v1/actions/{w.element_ids['actions']}/updates",
            update,
        ),
        *data_writes(w, target_period),
    ]


def data_writes(w: World, target_period: str) -> list[Write]:
    """The data catalogue's writes: an item created, changed, deleted; values put (a period of
    each round's own, so that every round adds them)."""
    period = {"AY2568": "FY2567", "AY2569": "FY2568"}[target_period]
    item = f"/api/v1/data-items/{w.params['data_item_id']}"
    cells = [{"period": period, "value": 12}, {"period": period, "value": None}]
    return [
        Write("api_data_item_create", "POST", "/api/v1/areas/krabi/data-items", {"name": "ครู"}),
        Write("api_data_item_update", "PATCH", "/api/v1/data-items/{new}", {"measure": "คน"}),
        Write("api_data_item_delete", "DELETE", "/api/v1/data-items/{new}?force=true"),
        Write("api_data_values_save", "PUT", item + "/values", cells[:1]),
    ]


PLANLESS = "chanthaburi"  # an area without a plan, for the API's plan create


def api_write_routes(app: object) -> set[str]:
    return {
        r.name
        for r in iter_route_contexts(app.routes)  # type: ignore[attr-defined]
        if r.path.startswith("/api/v1/") and (r.methods or set()) - {"GET", "HEAD"}
    }


def _write_counts(client: TestClient, counter: QueryCounter, writes: list[Write]) -> dict:
    counts: dict[str, int] = {}
    new = None
    for write in writes:
        url = write.url.replace("{new}", str(new))
        counter.count = 0
        response = client.request(write.method, url, json=write.body)
        assert response.status_code < 300, f"{write.method} {url}: {response.text}"
        counts[write.route] = counter.count
        if write.method == "POST" and (
            "/plan/" in url or url.endswith(("/data-items", "/problems"))
        ):
            new = response.json()["id"]
            new = response.json()["id"]
    return counts


def _script(browser: TestClient, session: Session, user: User) -> TestClient:
    """A client of the API as a script is: a personal token, no cookies. Its first call marks
    the token used (a write at most every five minutes), before any counting."""
    _token, plain = accounts.create_token(
        session, actor=f.ACTOR, user=user, token_in={"name": "สคริปต์นับคำสั่ง"}
    )
    script = TestClient(browser.app, raise_server_exceptions=False)
    script.headers["Authorization"] = f"Bearer {plain}"
    assert script.get("/api/v1/areas").status_code == 200
    return script


def test_every_api_write_issues_the_same_queries_on_a_twentyfold_plan(
    client: TestClient, session: Session, admin: User, count_queries: QueryCounter
) -> None:
    w = _world(session, admin)
    writes = api_writes(w, session, "AY2568")
    assert {x.route for x in writes} == api_write_routes(client.app)
    client = _script(client, session, admin)
    small = _write_counts(client, count_queries, writes)
    session.exec(delete(Plan).where(Plan.area_id == f.area(session, PLANLESS).id))
    session.commit()
    _grow(session, w, 1, GROWTH)
    large = _write_counts(client, count_queries, api_writes(w, session, "AY2569"))
    client.close()
    grown = {route: (small[route], large[route]) for route in small if large[route] != small[route]}
    assert grown == {}, "API writes whose query count grows with the plan: (small, large)"


def test_an_editors_home_reads_the_same_queries_whatever_waits_for_them(
    app_client: Callable[[], TestClient], session: Session, count_queries: QueryCounter
) -> None:
    """Overdue values, returned rounds, comments waiting, checks and open sessions: the home
    lists more of each, never with more queries."""
    editor = f.make_user(session, "editor", "krabi")
    reviewer = f.make_user(session, "reviewer")
    client = sign_in(app_client(), session, editor)

    def home_queries() -> int:
        count_queries.count = 0
        assert client.get("/").status_code == 200
        return count_queries.count

    def waiting(n: int) -> None:
        krabi = f.area(session)
        by = comments.commenter(accounts.principal_for(session, reviewer), krabi)
        for i in range(n):
            comments.add_comment(
                session, by=by, area=krabi, comment_in={"target_type": "area", "body": f"ถาม {i}"}
            )
        f.make_workshop(session, title=f"วงที่ {n}")

    f.make_full_plan(session, "krabi", kras=1)
    waiting(1)
    small = home_queries()
    session.exec(delete(Plan))
    session.commit()
    f.make_full_plan(session, "krabi", kras=12)
    for period in ("AY2566", "AY2567"):
        reviews.step_round(
            session, actor=f.ACTOR, area=f.area(session), period=period, action="submit"
        )
        reviews.step_round(
            session,
            actor=f.ACTOR,
            area=f.area(session),
            period=period,
            action="return",
            comment="ขอข้อมูลเพิ่ม",
        )
    waiting(15)
    page = client.get("/").text
    assert page.count("/comments/") >= 8 and "ขอข้อมูลเพิ่ม" in page  # it does list more
    assert home_queries() == small
