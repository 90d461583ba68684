"""Who may do what, for every route of the app: pages, htmx fragments and the JSON API.

The matrix names every route (method and path) and the personas allowed on it, for an
element of Phuket's plan. A route missing from the matrix fails `test_every_route_is_in_the_matrix`,
so a new route cannot skip the check. Denied requests must change nothing.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.main import create_app
from app.models import KPI, AuditEvent
from app.services import (
    accounts,
    breakdowns,
    comments,
    outcomes,
    partners,
    plans,
    public,
    resources,
    units,
)
from app.web import auth
from tests import factories as f
from tests.conftest import sign_in

PERSONAS = (
    "anonymous",
    "viewer",
    "editor",
    "editor_other",
    "editor_scoped",  # Phuket's editor limited to an agency that owns nothing here
    "reviewer",
    "facilitator",
    "admin",
)
ROLES = {  # persona -> (role, area)
    "viewer": ("viewer", "phuket"),
    "editor": ("editor", "phuket"),
    "editor_other": ("editor", "krabi"),
    "reviewer": ("reviewer", None),
    "facilitator": ("facilitator", "phuket"),
    "admin": ("admin", None),
}
EVERYONE = frozenset(PERSONAS)
SIGNED_IN = EVERYONE - {"anonymous"}
READ = frozenset({"viewer", "editor", "editor_scoped", "reviewer", "facilitator", "admin"})
EDIT = frozenset({"editor", "admin"})
# pages where an agency-scoped editor works on its own rows (the others are shown read-only)
SCOPED_EDIT = EDIT | {"editor_scoped"}
FACILITATE = frozenset({"facilitator", "admin"})
REFLECT = frozenset({"editor", "facilitator", "admin"})  # the DE records
COMMENT = frozenset({"editor", "editor_scoped", "reviewer", "admin"})  # editors, reviewers
ADMIN = frozenset({"admin"})
LIBRARY = frozenset({"reviewer", "admin"})  # the common-indicator library is national
ORGANISE = frozenset({"reviewer", "admin"})  # national workshops (events) are national staff's

PLAN = "/areas/{slug}/plan"
ELEMENT = PLAN + "/{kind}/{element_id}"
API = "/api/v1/areas/{slug}/plan"
WORKSHOP_STEP = "/areas/{slug}/workshops/{workshop_id}/contributions/{contribution_id}/{step}"
THREAD = "/areas/{slug}/comments/{comment_id}"
REFLECTION = "/areas/{slug}/reflections/{reflection_id}"
RESOURCE = "/areas/{slug}/resources/{resource_id}"
DATA_ITEM = "/areas/{slug}/data/{data_item_id}"
QUESTION = "/areas/{slug}/questions/{question_id}"
UNIT = "/areas/{slug}/units/{unit_id}"
BREAKDOWN = "/areas/{slug}/data/breakdowns/{set_id}"
OPTION = BREAKDOWN + "/options/{option_id}"
PARTNER = "/areas/{slug}/partners/{partner_id}"
MARKER = PARTNER + "/markers/{marker_id}"
MEMBER = "/areas/{slug}/committee/members/{member_id}"
GROUP = "/areas/{slug}/committee/groups/{group_id}"
MEETING = "/areas/{slug}/meetings/{meeting_id}"
RESOLUTION = MEETING + "/resolutions/{resolution_id}"
PROBLEM_NODE = "/areas/{slug}/problems/{node_id}"
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): SIGNED_IN,
    ("GET", "/review"): SIGNED_IN,  # each sees the areas they may read
    ("GET", "/review/briefs"): SIGNED_IN,  # reports, too, list only the readable areas
    ("GET", "/review/briefs.pdf"): SIGNED_IN,
    ("GET", "/review/annual"): SIGNED_IN,
    ("GET", "/review/annual.xlsx"): SIGNED_IN,
    ("GET", "/review/annual.docx"): SIGNED_IN,
    ("GET", "/review/export.xlsx"): SIGNED_IN,
    ("GET", "/review/learning"): SIGNED_IN,  # the items of the areas each may read
    ("GET", "/review/learning.xlsx"): SIGNED_IN,
    ("GET", "/review/learning.docx"): SIGNED_IN,
    ("GET", "/healthz"): EVERYONE,
    # the public portal: everyone, once the area opened it (404 here: Phuket's is closed; see
    # test_public_pages_answer_everyone_when_open_and_404_when_closed)
    ("GET", "/public/"): EVERYONE,
    ("GET", "/public/areas/{slug}"): EVERYONE,
    ("GET", "/public/areas/{slug}/results"): EVERYONE,
    ("GET", "/public/areas/{slug}/map"): EVERYONE,
    ("GET", "/metrics"): ADMIN,  # and scrapers on the server itself (tests/web/test_operations)
    ("POST", "/lang"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account/profile"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens/{token_id}/revoke"): SIGNED_IN,
    ("GET", "/account/notifications"): SIGNED_IN,
    ("POST", "/account/notifications/settings"): SIGNED_IN,
    ("POST", "/account/notifications/read"): SIGNED_IN,
    ("POST", "/account/notifications/{notification_id}/read"): SIGNED_IN,
    ("GET", "/indicators"): SIGNED_IN,
    ("POST", "/indicators"): LIBRARY,
    ("GET", "/indicators/unmapped"): SIGNED_IN,
    ("GET", "/indicators/{indicator_code}"): SIGNED_IN,
    ("POST", "/indicators/{indicator_code}"): LIBRARY,
    ("POST", "/indicators/{indicator_code}/active"): LIBRARY,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("GET", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}/roles"): ADMIN,
    ("POST", "/admin/users/{user_id}/roles/{grant_id}/delete"): ADMIN,
    ("POST", "/admin/users/{user_id}/roles/{grant_id}/agencies"): ADMIN,
    ("POST", "/admin/users/{user_id}/active"): ADMIN,
    ("POST", "/admin/users/{user_id}/password"): ADMIN,
    ("GET", "/admin/areas"): ADMIN,
    ("POST", "/admin/areas"): ADMIN,
    ("GET", "/admin/areas/{area_id}"): ADMIN,
    ("POST", "/admin/areas/{area_id}"): ADMIN,
    ("POST", "/admin/areas/{area_id}/status"): ADMIN,
    ("POST", "/admin/areas/{area_id}/public"): ADMIN,  # open or close the public portal
    ("GET", "/admin/agencies"): ADMIN,
    ("POST", "/admin/agencies"): ADMIN,
    ("GET", "/admin/agencies/{agency_id}"): ADMIN,
    ("POST", "/admin/agencies/{agency_id}"): ADMIN,
    ("POST", "/admin/agencies/{agency_id}/delete"): ADMIN,
    ("GET", "/admin/themes"): ADMIN,
    ("POST", "/admin/themes"): ADMIN,
    ("POST", "/admin/themes/{theme_id}"): ADMIN,
    ("POST", "/admin/themes/{theme_id}/move"): ADMIN,
    ("POST", "/admin/themes/{theme_id}/delete"): ADMIN,
    ("GET", "/admin/doe"): ADMIN,
    ("GET", "/admin/doe/{framework_id}"): ADMIN,
    ("POST", "/admin/doe/{framework_id}/copy"): ADMIN,
    ("POST", "/admin/doe/{framework_id}/current"): ADMIN,
    ("POST", "/admin/doe/{framework_id}/aspects"): ADMIN,
    ("POST", "/admin/doe/aspects/{aspect_id}/items"): ADMIN,
    ("POST", "/admin/doe/items/{item_id}"): ADMIN,
    ("POST", "/admin/doe/items/{item_id}/delete"): ADMIN,
    ("POST", "/admin/doe/items/{item_id}/confirm"): ADMIN,
    ("GET", "/areas/{slug}"): READ,
    ("GET", "/areas/{slug}/history"): READ,
    ("GET", "/areas/{slug}/brief"): READ,
    ("GET", "/areas/{slug}/brief.pdf"): READ,
    ("GET", "/areas/{slug}/plan.docx"): READ,
    ("GET", "/areas/{slug}/annual.docx"): READ,
    ("GET", "/areas/{slug}/comments"): READ,
    # the developmental-evaluation layer
    ("GET", "/areas/{slug}/learning"): READ,
    ("GET", "/areas/{slug}/partners"): READ,
    ("POST", "/areas/{slug}/partners"): REFLECT,
    ("POST", PARTNER): REFLECT,
    ("POST", PARTNER + "/delete"): REFLECT,
    ("POST", PARTNER + "/markers"): REFLECT,
    ("POST", MARKER): REFLECT,
    ("POST", MARKER + "/retire"): REFLECT,
    ("POST", MARKER + "/reinstate"): REFLECT,
    ("GET", PARTNER + "/ratings"): READ,  # a form for those who reflect, a table for the others
    ("POST", PARTNER + "/ratings"): REFLECT,
    # the problem tree (issue 22)
    ("GET", "/areas/{slug}/problems"): READ,
    ("POST", "/areas/{slug}/problems"): EDIT,
    ("POST", PROBLEM_NODE): EDIT,
    ("POST", PROBLEM_NODE + "/move"): EDIT,
    ("POST", PROBLEM_NODE + "/delete"): EDIT,
    ("GET", "/api/v1/areas/{slug}/problems"): READ,
    ("POST", "/api/v1/areas/{slug}/problems"): EDIT,
    ("PATCH", "/api/v1" + PROBLEM_NODE): EDIT,
    ("POST", "/api/v1" + PROBLEM_NODE + "/move"): EDIT,
    ("DELETE", "/api/v1" + PROBLEM_NODE): EDIT,
    ("GET", "/areas/{slug}/resources"): READ,
    ("POST", "/areas/{slug}/resources"): REFLECT,
    ("GET", RESOURCE + "/edit"): REFLECT,
    ("POST", RESOURCE): REFLECT,
    ("GET", RESOURCE + "/delete"): REFLECT,
    ("POST", RESOURCE + "/delete"): REFLECT,
    ("GET", "/areas/{slug}/data"): READ,
    ("GET", "/areas/{slug}/data.xlsx"): READ,
    ("POST", "/areas/{slug}/data"): REFLECT,
    ("GET", DATA_ITEM + "/edit"): REFLECT,
    ("POST", DATA_ITEM): REFLECT,
    ("GET", DATA_ITEM + "/delete"): REFLECT,
    ("POST", DATA_ITEM + "/delete"): REFLECT,
    ("GET", "/areas/{slug}/data/import"): REFLECT,
    ("POST", "/areas/{slug}/data/import"): REFLECT,
    ("POST", "/areas/{slug}/data/import/{digest}"): REFLECT,
    ("POST", "/areas/{slug}/data/breakdowns"): REFLECT,
    ("POST", BREAKDOWN): REFLECT,
    ("POST", BREAKDOWN + "/delete"): REFLECT,
    ("POST", BREAKDOWN + "/options"): REFLECT,
    ("POST", OPTION): REFLECT,
    ("POST", OPTION + "/delete"): REFLECT,
    # the committee, its working groups and meetings (the area's editors are its secretary)
    ("GET", "/areas/{slug}/committee"): READ,
    ("POST", "/areas/{slug}/committee/members"): EDIT,
    ("POST", MEMBER): EDIT,
    ("POST", MEMBER + "/delete"): EDIT,
    ("POST", "/areas/{slug}/committee/groups"): EDIT,
    ("POST", GROUP): EDIT,
    ("POST", GROUP + "/delete"): EDIT,
    ("GET", "/areas/{slug}/meetings"): READ,
    ("POST", "/areas/{slug}/meetings"): EDIT,
    ("GET", MEETING): READ,
    ("GET", MEETING + ".pdf"): READ,
    ("POST", MEETING): EDIT,
    ("POST", MEETING + "/delete"): EDIT,
    ("POST", MEETING + "/resolutions"): EDIT,
    ("POST", RESOLUTION): EDIT,
    ("POST", RESOLUTION + "/delete"): EDIT,
    # the reporting units registry
    ("GET", "/areas/{slug}/units"): READ,
    ("GET", "/areas/{slug}/units.xlsx"): READ,
    ("POST", "/areas/{slug}/units"): EDIT,
    ("GET", UNIT + "/edit"): EDIT,
    ("POST", UNIT): EDIT,
    ("GET", UNIT + "/delete"): EDIT,
    ("POST", UNIT + "/delete"): EDIT,
    ("GET", "/areas/{slug}/units/import"): EDIT,
    ("POST", "/areas/{slug}/units/import"): EDIT,
    ("POST", "/areas/{slug}/units/import/{digest}"): EDIT,
    ("GET", DATA_ITEM + "/values"): READ,
    ("GET", "/areas/{slug}/data/entry"): SCOPED_EDIT,
    ("POST", "/areas/{slug}/data/entry"): EDIT,
    ("GET", "/areas/{slug}/data/entry.xlsx"): SCOPED_EDIT,
    ("GET", "/areas/{slug}/data/entry/import"): SCOPED_EDIT,
    ("POST", "/areas/{slug}/data/entry/import"): SCOPED_EDIT,
    ("POST", "/areas/{slug}/data/entry/import/{digest}"): SCOPED_EDIT,
    ("GET", "/areas/{slug}/reflections"): READ,
    ("POST", "/areas/{slug}/reflections"): REFLECT,
    ("GET", REFLECTION): READ,
    ("PUT", REFLECTION): REFLECT,
    ("POST", REFLECTION): REFLECT,  # the edit form without JavaScript
    ("GET", REFLECTION + "/delete"): REFLECT,
    ("POST", REFLECTION + "/delete"): REFLECT,
    ("POST", REFLECTION + "/follow-ups"): REFLECT,
    ("GET", "/areas/{slug}/proposals"): READ,
    ("POST", "/areas/{slug}/proposals"): REFLECT,
    ("POST", "/areas/{slug}/proposals/{proposal_id}/decision"): REFLECT,
    ("GET", "/areas/{slug}/questions"): READ,
    ("POST", "/areas/{slug}/questions"): REFLECT,
    ("PUT", QUESTION): REFLECT,
    ("POST", QUESTION): REFLECT,  # the edit form without JavaScript
    ("POST", QUESTION + "/retire"): REFLECT,
    ("GET", "/areas/{slug}/outcomes"): READ,
    ("POST", "/areas/{slug}/outcomes"): REFLECT,
    ("GET", "/areas/{slug}/outcomes/{outcome_id}"): READ,
    ("PUT", "/areas/{slug}/outcomes/{outcome_id}"): REFLECT,
    ("POST", "/areas/{slug}/outcomes/{outcome_id}"): REFLECT,  # the edit form without JavaScript
    ("POST", "/areas/{slug}/outcomes/{outcome_id}/delete"): REFLECT,
    ("GET", "/areas/{slug}/principles"): READ,
    ("POST", "/areas/{slug}/principles"): REFLECT,
    ("PUT", "/areas/{slug}/principles/{principle_id}"): REFLECT,
    ("POST", "/areas/{slug}/principles/{principle_id}"): REFLECT,
    ("POST", "/areas/{slug}/principles/{principle_id}/delete"): REFLECT,
    ("GET", "/areas/{slug}/timeline"): READ,
    ("POST", "/areas/{slug}/timeline/developments"): REFLECT,
    ("POST", "/areas/{slug}/timeline/developments/{development_id}/delete"): REFLECT,
    ("GET", "/areas/{slug}/versions"): READ,
    ("POST", "/areas/{slug}/versions"): EDIT,
    ("GET", "/areas/{slug}/versions/compare"): READ,
    ("GET", "/areas/{slug}/versions/{version_id}"): READ,
    ("POST", "/areas/{slug}/versions/{version_id}/delete"): EDIT,
    ("POST", "/areas/{slug}/comments"): COMMENT,
    ("GET", THREAD): READ,
    ("POST", THREAD + "/replies"): COMMENT,
    ("POST", THREAD + "/resolve"): COMMENT,
    ("POST", THREAD + "/reopen"): COMMENT,
    ("GET", "/news"): SIGNED_IN,
    ("POST", "/news/seen"): SIGNED_IN,
    ("GET", "/areas/{slug}/history/{entity_type}/{entity_id}"): READ,
    ("POST", "/areas/{slug}/history/{event_id}/restore"): EDIT,
    ("GET", "/areas/{slug}/progress"): READ,
    ("PUT", "/areas/{slug}/progress/kpis/{kpi_id}/{period}/{cell}"): EDIT,
    # with action "approve": a reviewer's step (submitting is an editor's, see test_reviews)
    ("POST", "/areas/{slug}/progress/rounds/{period}/{action}"): frozenset({"reviewer", "admin"}),
    ("POST", "/areas/{slug}/progress/actions/{action_id}/updates"): EDIT,
    ("GET", "/areas/{slug}/progress/charts"): READ,
    ("GET", "/areas/{slug}/map"): READ,
    ("GET", "/areas/{slug}/map/compare"): READ,
    ("GET", "/areas/{slug}/present"): READ,
    ("GET", "/areas/{slug}/events"): READ,
    ("GET", "/api/v1/areas/{slug}/map"): READ,
    ("GET", "/areas/{slug}/progress/kpis/{kpi_id}"): READ,
    ("POST", "/areas/{slug}/progress/kpis/{kpi_id}/{period}"): EDIT,
    ("POST", "/areas/{slug}/progress/units"): EDIT,
    ("GET", "/areas/{slug}/progress/evidence/{evidence_id}"): READ,
    ("GET", "/areas/{slug}/progress/template.xlsx"): SCOPED_EDIT,
    ("GET", "/areas/{slug}/progress/export.xlsx"): READ,
    ("GET", "/areas/{slug}/progress/export/{table}.csv"): READ,
    ("GET", "/areas/{slug}/progress/import"): SCOPED_EDIT,
    ("POST", "/areas/{slug}/progress/import"): SCOPED_EDIT,
    ("POST", "/areas/{slug}/progress/import/{digest}"): SCOPED_EDIT,
    ("GET", "/areas/{slug}/workshops"): FACILITATE,
    ("POST", "/areas/{slug}/workshops"): FACILITATE,
    ("GET", "/areas/{slug}/workshops/{workshop_id}"): FACILITATE,
    ("GET", "/areas/{slug}/workshops/{workshop_id}/board"): READ,
    ("POST", "/areas/{slug}/workshops/{workshop_id}/close"): FACILITATE,
    ("POST", "/areas/{slug}/workshops/{workshop_id}/votes"): FACILITATE,
    ("POST", "/areas/{slug}/workshops/{workshop_id}/votes/{vote_id}/close"): FACILITATE,
    ("POST", "/areas/{slug}/workshops/{workshop_id}/tables"): FACILITATE,
    ("POST", "/areas/{slug}/workshops/{workshop_id}/rounds"): FACILITATE,
    ("POST", "/areas/{slug}/workshops/{workshop_id}/rounds/{round_id}/end"): FACILITATE,
    ("GET", "/areas/{slug}/workshops/{workshop_id}/harvest.xlsx"): FACILITATE,
    ("GET", "/areas/{slug}/workshops/{workshop_id}/harvest.pdf"): FACILITATE,
    ("POST", WORKSHOP_STEP): FACILITATE,
    ("POST", "/areas/{slug}/workshops/{workshop_id}/event"): FACILITATE,
    ("GET", "/workshops"): ORGANISE,
    ("POST", "/workshops"): ORGANISE,
    ("GET", "/workshops/{event_id}"): ORGANISE,
    ("POST", "/workshops/{event_id}/close"): ORGANISE,
    ("GET", "/workshops/{event_id}/present"): ORGANISE,
    ("GET", "/workshops/{event_id}/events"): ORGANISE,
    # guests without an account: the join code is their only key
    ("GET", "/join"): EVERYONE,
    ("GET", "/join/{code}"): EVERYONE,
    ("POST", "/join/{code}"): EVERYONE,
    ("POST", "/join/{code}/contributions"): EVERYONE,
    ("GET", "/join/{code}/vote"): EVERYONE,
    ("POST", "/join/{code}/votes/{vote_id}"): EVERYONE,
    ("GET", "/join/{code}/round"): EVERYONE,
    ("GET", "/join/{code}/live"): EVERYONE,
    ("GET", PLAN): EDIT,
    ("POST", PLAN): EDIT,
    ("GET", PLAN + "/checks"): EDIT,
    ("GET", PLAN + "/{part}"): EDIT,
    ("GET", PLAN + "/{part}/edit"): EDIT,
    ("PUT", PLAN + "/{part}"): EDIT,
    ("GET", PLAN + "/{kind}/new"): EDIT,
    ("POST", PLAN + "/{kind}"): EDIT,
    ("GET", ELEMENT): EDIT,
    ("GET", ELEMENT + "/edit"): EDIT,
    ("PUT", ELEMENT): EDIT,
    ("GET", ELEMENT + "/delete"): EDIT,
    ("DELETE", ELEMENT): EDIT,
    ("POST", ELEMENT + "/move"): EDIT,
    ("GET", "/api/v1/areas"): SIGNED_IN,
    ("GET", "/api/v1/kpis/{kpi_id}/measurements"): READ,
    ("PUT", "/api/v1/kpis/{kpi_id}/measurements/{period}"): EDIT,
    ("DELETE", "/api/v1/kpis/{kpi_id}/measurements/{period}"): EDIT,
    ("PUT", "/api/v1/kpis/{kpi_id}/targets/{period}"): EDIT,
    ("GET", "/api/v1/actions/{action_id}/updates"): READ,
    ("POST", "/api/v1/actions/{action_id}/updates"): EDIT,
    ("GET", "/api/v1/areas/{slug}/data-items"): READ,
    ("POST", "/api/v1/areas/{slug}/data-items"): REFLECT,
    ("GET", "/api/v1/data-items/{data_item_id}"): READ,
    ("PATCH", "/api/v1/data-items/{data_item_id}"): REFLECT,
    ("DELETE", "/api/v1/data-items/{data_item_id}"): REFLECT,
    ("GET", "/api/v1/data-items/{data_item_id}/values"): READ,
    ("PUT", "/api/v1/data-items/{data_item_id}/values"): EDIT,
    ("GET", API): READ,
    ("POST", API): EDIT,
    ("PATCH", API): EDIT,
    **{
        (method, path): who
        for kind in plans.SPECS
        for method, path, who in (
            ("POST", f"{API}/{kind}", EDIT),
            ("GET", f"{API}/{kind}/{{element_id}}", READ),
            ("PATCH", f"{API}/{kind}/{{element_id}}", EDIT),
            ("DELETE", f"{API}/{kind}/{{element_id}}", EDIT),
        )
    },
}


def app_routes() -> set[tuple[str, str]]:
    """Every (method, path) the app answers, through included routers too (not static files)."""
    found = set()
    for route in create_app().router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        entries = (
            [(c.methods, c.path) for c in contexts()]
            if contexts
            else [(getattr(route, "methods", None), getattr(route, "path", None))]
        )
        for methods, path in entries:
            for method in methods or ():
                if method != "HEAD":
                    found.add((method, re.sub(r":\w+}", "}", path)))  # {kpi_id:id} -> {kpi_id}
    return found


def test_every_route_is_in_the_matrix() -> None:
    routes = app_routes()
    assert routes - MATRIX.keys() == set(), "add the new route to MATRIX with who may use it"
    assert MATRIX.keys() - routes == set(), "the matrix names a route that no longer exists"


@dataclass
class World:
    """Phuket's plan, one client per persona, and the ids the routes need."""

    session: Session
    clients: dict[str, TestClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # persona -> plain API token
    params: dict[str, str] = field(default_factory=dict)
    element_ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(session: Session, app_client: Callable[[], TestClient]) -> World:
    plan = f.make_full_plan(session, "phuket", kras=1)
    kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id)).first()
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"name": "ร้อยละนักเรียนอ่านคล่อง"},
        partial=True,
    )
    event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    workshop = f.make_workshop(session, "phuket")
    guest, _ = f.make_guest(session, workshop)
    contribution = f.make_contribution(session, workshop, guest)
    thread = comments.add_comment(
        session,
        by=comments.Commenter(f.ACTOR, "ผู้ทดสอบ", internal=False),
        area=f.area(session, "phuket"),
        comment_in={"target_type": "area", "body": "ภาพรวมแผนภูเก็ต"},
    )
    phuket = f.area(session, "phuket")
    outcome = outcomes.create_outcome(
        session,
        actor=f.ACTOR,
        area=phuket,
        outcome_in={"observed_on": "2025-02-14", "who": "ครูภูเก็ต", "change": "ตั้งวง PLC เอง"},
    )
    principle = outcomes.create_principle(
        session, actor=f.ACTOR, area=phuket, principle_in={"statement": "ไม่ทิ้งใครไว้ข้างหลัง"}
    )
    resource = resources.create_resource(
        session, actor=f.ACTOR, area=phuket, resource_in={"dimension": "data", "name": "ระบบ DMC"}
    )
    data_item = resources.create_data_item(
        session, actor=f.ACTOR, area=phuket, item_in={"name": "ผลการประเมินการอ่าน ป.1"}
    )
    unit = units.create_unit(
        session, actor=f.ACTOR, area=phuket, unit_in={"kind": "school", "name": "โรงเรียนภูเก็ต"}
    )
    island = breakdowns.create_set(
        session, actor=f.ACTOR, area=phuket, set_in={"code": "island", "name_th": "เกาะ"}
    )
    option = breakdowns.add_option(
        session,
        actor=f.ACTOR,
        area=phuket,
        set_id=island.id,
        option_in={"code": "on_island", "name_th": "บนเกาะ"},
    )
    partner = partners.create_partner(
        session, actor=f.ACTOR, area=phuket, partner_in={"name": "ผู้ปกครอง"}
    )
    marker = partners.add_marker(
        session,
        actor=f.ACTOR,
        area=phuket,
        partner=partner,
        marker_in={"level": "expect", "text": "ผู้ปกครองมาร่วมประชุมชั้นเรียน"},
    )
    problem = f.make_node(session, plan, "นักเรียนอ่านไม่คล่อง")
    w = World(session)
    target = f.make_user(session, "viewer", "krabi")
    grant = accounts.grants_by_user(session, [target.id])[target.id][0]
    token_ids = {}
    for persona in PERSONAS:
        client = app_client()
        if persona == "anonymous":
            client.get("/login")  # a browser's first visit: the CSRF seed cookie
            client.headers[auth.CSRF_HEADER] = auth._mac("csrf", client.cookies[auth.CSRF_COOKIE])
        else:
            if persona == "editor_scoped":
                user = f.make_scoped_editor(session, "phuket", ("esa-secondary",))
            else:
                user = f.make_user(session, *ROLES[persona])
            sign_in(client, session, user)
            token, plain = accounts.create_token(
                session, actor=f.ACTOR, user=user, token_in={"name": "matrix"}
            )
            w.tokens[persona] = plain
            token_ids[persona] = token.id
        w.clients[persona] = client
    w.element_ids = {
        kind: session.exec(select(spec.model.id).where(*plans._sibling_filter(spec, plan))).first()
        for kind, spec in plans.SPECS.items()
    }
    w.params = {
        "slug": "phuket",
        "kind": "kpis",
        "element_id": str(kpi.id),
        "kpi_id": str(kpi.id),
        "period": "AY2566",
        "cell": "actual",
        "action": "approve",
        "action_id": str(w.element_ids["actions"]),
        "part": "vision",
        "table": "progress",
        "digest": "0" * 64,
        "evidence_id": "999999",
        "entity_type": "kpi",
        "entity_id": str(kpi.id),
        "event_id": str(event.id),
        "user_id": str(target.id),
        "grant_id": str(grant.id),
        "workshop_id": str(workshop.id),
        "contribution_id": str(contribution.id),
        "comment_id": str(thread.id),
        "step": "archive",
        "code": workshop.join_code,
        "indicator_code": "p1-reading-good",
        "reflection_id": "999999",
        "proposal_id": "999999",
        "vote_id": "999999",
        "round_id": "999999",
        "question_id": "999999",
        "outcome_id": str(outcome.id),
        "principle_id": str(principle.id),
        "resource_id": str(resource.id),
        "data_item_id": str(data_item.id),
        "unit_id": str(unit.id),
        "set_id": str(island.id),
        "option_id": str(option.id),
        "version_id": "999999",
        "development_id": "999999",
        "partner_id": str(partner.id),
        "marker_id": str(marker.id),
        "member_id": "999999",
        "group_id": "999999",
        "meeting_id": "999999",
        "resolution_id": "999999",
        "node_id": str(problem.id),
        # reference data: the area's forms refuse the matrix's empty input (422); the rest
        # name nothing (404), so no seeded agency, theme or DOE version is changed
        "area_id": str(phuket.id),
        "agency_id": "999999",
        "theme_id": "999999",
        "framework_id": "999999",
        "aspect_id": "999999",
        "item_id": "999999",
        "notification_id": "999999",
        "token_ids": token_ids,  # type: ignore[dict-item]
    }
    return w


def _url(path: str, w: World, persona: str) -> str:
    params = {k: v for k, v in w.params.items() if isinstance(v, str)}
    params["token_id"] = str(w.params["token_ids"].get(persona, 999999))  # type: ignore[union-attr]
    kind = next((k for k in plans.SPECS if f"/plan/{k}/" in path), None)
    if kind is not None:  # each kind's routes act on an element of that kind
        params["element_id"] = str(w.element_ids[kind])
    return path.format(**params)


def _request(w: World, persona: str, method: str, path: str) -> int:
    url = _url(path, w, persona)
    client = w.clients[persona]
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {w.tokens[persona]}"} if persona in w.tokens else {}
        fresh = TestClient(client.app, raise_server_exceptions=False)  # no cookies: token only
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = fresh.request(method, url, headers=headers, json=body)
        fresh.close()
        return response.status_code
    data = {"reason": "matrix"} if method in ("POST", "PUT") else None
    if path.endswith("/events"):  # an event stream never ends: read its status, then leave
        with client.stream(method, url, follow_redirects=False) as stream:
            response = stream
    else:
        response = client.request(method, url, data=data, follow_redirects=False)
    if response.status_code == 303 and persona == "anonymous":
        location = response.headers["location"]
        return 401 if location.startswith("/login?next=") else 303  # "sign in first"
    return response.status_code


def _audit_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


@pytest.mark.parametrize(
    ("method", "path"), sorted(MATRIX), ids=[" ".join(k) for k in sorted(MATRIX)]
)
def test_route_permissions(method: str, path: str, world: World) -> None:
    allowed = MATRIX[(method, path)]
    for persona in (p for p in PERSONAS if p not in allowed):  # denied first: nothing changes
        before = _audit_count(world.session)
        status = _request(world, persona, method, path)
        expected = 401 if persona == "anonymous" else 403
        assert status == expected, f"{persona} {method} {path}: {status}"
        assert _audit_count(world.session) == before, f"{persona} changed something"
    for persona in (p for p in PERSONAS if p in allowed):
        status = _request(world, persona, method, path)
        assert status not in (401, 403) and status < 500, f"{persona} {method} {path}: {status}"


def test_reviewers_and_admins_read_every_area_others_only_their_own(
    session: Session, world: World
) -> None:
    f.make_plan(session, "krabi")
    for persona, expected in (("reviewer", 200), ("admin", 200), ("viewer", 403)):
        assert world.clients[persona].get("/areas/krabi").status_code == expected
    home = world.clients["viewer"].get("/").text
    assert "ภูเก็ต" in home and "กระบี่" not in home
    listed = world.clients["viewer"].get(
        "/api/v1/areas", headers={"Authorization": f"Bearer {world.tokens['viewer']}"}
    )
    assert [a["slug"] for a in listed.json()] == ["phuket"]
    everything = world.clients["reviewer"].get("/api/v1/areas").json()
    assert {"phuket", "krabi", "bangkok"} <= {a["slug"] for a in everything}


PUBLIC_PAGES = [path for method, path in MATRIX if path.startswith("/public/areas/")]


def test_public_pages_answer_everyone_when_open_and_404_when_closed(world: World) -> None:
    phuket = f.area(world.session, "phuket")
    public.set_portal(
        world.session, actor=f.ACTOR, area=phuket, portal_in={"public": "1", "confirm": "1"}
    )
    for persona in PERSONAS:
        for path in PUBLIC_PAGES:
            status = _request(world, persona, "GET", path)
            assert status == 200, f"{persona} {path}: {status}"
    public.set_portal(world.session, actor=f.ACTOR, area=phuket, portal_in={"public": "0"})
    for persona in PERSONAS:
        for path in PUBLIC_PAGES:
            assert _request(world, persona, "GET", path) == 404, f"{persona} {path}"
