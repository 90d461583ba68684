"""The problem tree page and its JSON: drawn nested with evidence and links, edited by editors
(add a cause, edit, move, delete with confirmation), refused with the message beside the field,
read-only for viewers, checks shown, and a flat query count for a deep tree."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import AuditEvent, KeyResultArea, ProblemNode
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

PROBLEM = "นักเรียน ป.3 อ่านไม่คล่อง"
CAUSE = "ครูภาษาไทยย้ายบ่อย"
ROOT = "ค่าตอบแทนครูในพื้นที่สูงไม่จูงใจ"


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ProblemNode)).one()


def _tree(session: Session):  # noqa: ANN202
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan, title="ผู้เรียนอ่านออกเขียนได้")
    item = f.data_item(session, plan.area_id, "ผลสอบ RT ป.1")
    problem = f.make_node(
        session,
        plan,
        PROBLEM,
        kra_ids=[kra.id],
        data_item_ids=[item.id],
        urls="https://example.org/rt-2567",
        affected_groups="นักเรียน ป.1–3",
    )
    cause = f.make_node(session, plan, CAUSE, problem)
    root = f.make_node(session, plan, ROOT, cause)
    return plan, kra, problem, cause, root


def test_the_tree_is_drawn_nested_with_evidence_links_and_checks(
    client: TestClient, session: Session
) -> None:
    _plan, _kra, problem, cause, root = _tree(session)
    page = client.get("/areas/krabi/problems")
    assert page.status_code == 200
    text = page.text.split('class="problem-tree"')[1]
    assert text.index(PROBLEM) < text.index(CAUSE) < text.index(ROOT)
    assert f'id="problem-node-{root.id}"' in text and "pt-root_cause" in text
    assert "ผลสอบ RT ป.1" in text and "https://example.org/rt-2567" in text
    assert "KRA1 ผู้เรียนอ่านออกเขียนได้" in text
    # the root cause no action addresses is named among the checks
    assert f'href="#problem-node-{root.id}"' in page.text
    # reachable from the area's navigation, and from the plan editor's problems step
    assert 'href="/areas/krabi/problems"' in client.get("/areas/krabi").text
    step = client.get("/areas/krabi/plan").text.split('id="section-problems"')[1]
    assert 'href="/areas/krabi/problems"' in step.split("</section>")[0]


def test_an_editor_adds_a_cause_edits_moves_and_deletes_with_confirmation(
    client: TestClient, session: Session
) -> None:
    plan, _kra, problem, cause, root = _tree(session)
    added = client.post(
        "/areas/krabi/problems",
        data={"text": "ไม่มีหนังสือน่าอ่าน", "parent_id": problem.id},
        follow_redirects=False,
    )
    assert added.status_code == 303
    new = session.exec(select(ProblemNode).where(ProblemNode.text == "ไม่มีหนังสือน่าอ่าน")).one()
    assert new.parent_id == problem.id and added.headers["location"].endswith(
        f"#problem-node-{new.id}"
    )

    empty = client.post(
        f"/areas/krabi/problems/{new.id}", data={"text": " ", "note": "บันทึก", "version": 1}
    )
    assert empty.status_code == 422
    assert f'id="edit-{new.id}-text-error"' in empty.text and ">บันทึก</textarea>" in empty.text

    cycle = client.post(
        f"/areas/krabi/problems/{problem.id}/move", data={"parent_id": root.id, "version": 1}
    )
    assert cycle.status_code == 422
    assert "ไม่สามารถย้าย" in cycle.text or "cannot move" in cycle.text
    session.expire_all()
    assert session.get(ProblemNode, problem.id).parent_id is None

    moved = client.post(
        f"/areas/krabi/problems/{root.id}/move",
        data={"parent_id": new.id, "version": 1},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    session.expire_all()
    assert session.get(ProblemNode, root.id).parent_id == new.id

    refused = client.post(f"/areas/krabi/problems/{problem.id}/delete", data={"version": 1})
    assert refused.status_code == 409 and _count(session) == 4
    gone = client.post(
        f"/areas/krabi/problems/{problem.id}/delete",
        data={"version": 1, "confirm": "1"},
        follow_redirects=False,
    )
    assert gone.status_code == 303 and _count(session) == 0


def test_a_viewer_reads_the_tree_without_forms_and_cannot_write(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    _plan, _kra, problem, _cause, _root = _tree(session)
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    page = viewer.get("/areas/krabi/problems")
    assert page.status_code == 200 and PROBLEM in page.text
    assert "<form" not in page.text.split('id="main"')[-1].split("</main>")[0]
    assert viewer.post("/areas/krabi/problems", data={"text": "x"}).status_code == 403
    phuket = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    before = session.exec(select(func.count()).select_from(AuditEvent)).one()
    for url in ("/areas/krabi/problems", f"/areas/krabi/problems/{problem.id}/delete"):
        assert phuket.post(url, data={"text": "x", "confirm": "1"}).status_code == 403
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == before


def test_the_api_gives_the_tree_nested_with_links_and_checks(
    client: TestClient, session: Session
) -> None:
    _plan, kra, problem, cause, root = _tree(session)
    body = client.get("/api/v1/areas/krabi/problems").json()
    (top,) = body["problems"]
    assert (top["id"], top["kind"], top["kra_ids"]) == (problem.id, "problem", [kra.id])
    assert top["urls"] == ["https://example.org/rt-2567"]
    assert top["children"][0]["text"] == CAUSE
    assert top["children"][0]["children"][0]["kind"] == "root_cause"
    assert [c["kind"] for c in body["checks"]] == ["root_cause_without_action"]
    schema = client.get("/openapi.json").json()
    assert "ProblemTreeOut" in schema["components"]["schemas"]


def test_the_api_writes_nodes_one_at_a_time_and_refuses_what_would_break_the_tree(
    client: TestClient, session: Session
) -> None:
    _plan, kra, problem, cause, root = _tree(session)
    root_id = root.id
    api = "/api/v1/areas/krabi/problems"
    made = client.post(api, json={"text": "ห้องสมุดโรงเรียนปิด", "parent_id": problem.id})
    assert made.status_code == 201, made.text
    new = made.json()
    assert (new["parent_id"], new["text"], new["version"]) == (problem.id, "ห้องสมุดโรงเรียนปิด", 1)
    changed = client.patch(
        f"{api}/{new['id']}", json={"urls": ["https://example.org/lib"], "version": 1}
    )
    assert changed.status_code == 200
    assert (changed.json()["text"], changed.json()["urls"]) == (
        "ห้องสมุดโรงเรียนปิด",  # left out: kept
        ["https://example.org/lib"],
    )
    events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    stale = client.patch(f"{api}/{new['id']}", json={"text": "เก่า", "version": 1})
    assert stale.status_code == 409
    apart = client.patch(f"{api}/{new['id']}", json={"parent_id": None})
    assert apart.status_code == 422 and "parent_id" in apart.json()["errors"]
    cycle = client.post(f"{api}/{problem.id}/move", json={"parent_id": root.id})
    assert cycle.status_code == 422
    held = client.delete(f"{api}/{cause.id}")  # a cause with a root cause under it
    assert held.status_code == 409
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
    session.expire_all()
    assert session.get(ProblemNode, new["id"]).text == "ห้องสมุดโรงเรียนปิด"
    assert session.get(ProblemNode, problem.id).parent_id is None
    moved = client.post(f"{api}/{new['id']}/move", json={"parent_id": None, "version": 2})
    assert moved.status_code == 200 and moved.json()["parent_id"] is None
    assert client.delete(f"{api}/{cause.id}?force=true").status_code == 204
    gone = select(ProblemNode).where(ProblemNode.id == root_id)
    assert session.exec(gone).first() is None  # went with its cause
    document = client.get("/api/v1/areas/krabi/plan").json()
    texts = [p["text"] for p in document["problems"]]
    assert texts == [PROBLEM, "ห้องสมุดโรงเรียนปิด"]
    assert document["problems"][0]["kras"] == [kra.code] and document["problems"][0]["causes"] == []
    for bad in (
        {"text": ""},
        {"text": "ก" * 2001},
        {"text": "x", "kra_ids": ["KRA1"]},
        {"text": "x", "urls": ["javascript:alert(1)"]},
        {"text": "x", "urls": [{"deep": ["nest"]}]},
        {"text": ["list"]},
    ):
        refused = client.post(api, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["errors"]
    assert client.post(api, json={"text": "x", "parent_id": "abc"}).status_code == 404
    assert (
        client.post(
            api, content=b"[1, 2]", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    other = f.make_plan(session, "phuket")
    theirs = f.make_node(session, other, "ของภูเก็ต")
    assert client.patch(f"{api}/{theirs.id}", json={"text": "x"}).status_code == 404
    assert client.post(api, json={"text": "x", "parent_id": theirs.id}).status_code == 404
    assert session.get(ProblemNode, theirs.id).text == "ของภูเก็ต"


def test_the_page_reads_the_same_number_of_queries_for_a_deeper_tree(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    plan, kra, problem, cause, root = _tree(session)
    counts = []
    parent = root
    for grow in range(2):
        count_queries.count = 0
        for url in ("/areas/krabi/problems", "/api/v1/areas/krabi/problems"):
            assert client.get(url).status_code == 200
        counts.append(count_queries.count)
        for n in range(4):
            parent = f.make_node(session, plan, f"สาเหตุลึก {grow}-{n}", parent)
            f.make_node(session, plan, f"สาเหตุข้าง {grow}-{n}", parent, kra_ids=[kra.id])
    assert counts[0] == counts[1]


def test_the_map_offers_the_problems_as_its_first_layer(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=2, problems=False)
    kra2 = session.exec(
        select(KeyResultArea).where(KeyResultArea.plan_id == plan.id, KeyResultArea.code == "KRA2")
    ).one()
    problem = f.make_node(session, plan, PROBLEM)
    f.make_node(session, plan, CAUSE, problem, kra_ids=[kra2.id])  # a cause's link counts
    f.make_node(session, plan, "ผู้ปกครองไม่มีเวลา", doe_item_ids=[f.doe_item(session, "LP1").id])
    hidden = client.get("/api/v1/areas/krabi/map").json()
    assert all(n["layer"] != "problem" for n in hidden["nodes"])
    body = client.get("/api/v1/areas/krabi/map?problems=1").json()
    nodes = {n["key"]: n for n in body["nodes"]}
    assert nodes[f"problem:{problem.id}"]["title"] == PROBLEM
    assert (
        nodes[f"problem:{problem.id}"]["url"] == f"/areas/krabi/problems#problem-node-{problem.id}"
    )
    assert [n["layer"] for n in body["nodes"] if n["layer"] == "problem"] == ["problem"] * 2
    edges = {tuple(e) for e in body["edges"]}
    assert (f"problem:{problem.id}", f"kra:{kra2.id}") in edges
    doe = next(k for k in nodes if k.startswith("doe:"))
    assert any(a.startswith("problem:") and b == doe for a, b in edges)
    # leftmost: the problems' marks stand left of every other column
    marks = [t for t in body["figure"]["data"] if "hovertext" in t and t.get("mode") == "markers"]
    xs = {x for t in marks for x in t["x"]}
    problem_trace = next(t for t in marks if any(PROBLEM in h for h in t["hovertext"]))
    assert max(problem_trace["x"]) == min(xs)
    page = client.get("/areas/krabi/map?problems=0&problems=1")
    assert (
        page.status_code == 200
        and 'id="map-problems" name="problems" value="1" checked' in page.text
    )
    assert PROBLEM not in client.get("/areas/krabi/map").text
