"""The resource inventory and the data catalogue: pages, forms, KPI citations, workshop
contributions accepted into the inventory, the catalogue's workbook, and who may write."""

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from app.models import KPI, Action, AuditEvent, DataItem, KPIDataItem, Plan, Resource
from app.services import plans, resources, workshops
from app.services.plan_tree import current_plans
from tests import factories as f
from tests.conftest import QueryCounter, sign_in

HX = {"HX-Request": "true"}
DMC = "ระบบ DMC ของ สพฐ."


def _count(session: Session, model: type[SQLModel]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _audits(session: Session) -> int:
    return _count(session, AuditEvent)


def make_resource(session: Session, slug: str = "krabi", **values: Any) -> Resource:
    values = {"dimension": "data", "name": DMC, **values}
    return resources.create_resource(
        session, actor=f.ACTOR, area=f.area(session, slug), resource_in=values
    )


def make_data_item(session: Session, slug: str = "krabi", **values: Any) -> DataItem:
    values = {"name": "ข้อมูลนักเรียนรายบุคคล (DMC)", "frequency": "termly", **values}
    return resources.create_data_item(
        session, actor=f.ACTOR, area=f.area(session, slug), item_in=values
    )


def _first(session: Session, model: type[SQLModel], plan: Plan) -> Any:
    return session.exec(select(model).where(model.plan_id == plan.id).order_by(model.id)).first()


# ---- the inventory --------------------------------------------------------------------------


def test_inventory_groups_resources_by_dimension_with_owner_actions_and_workshop(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=2)
    act1, act2 = session.exec(
        select(Action).where(Action.plan_id == plan.id).order_by(Action.position)
    ).all()
    pao = f.agency(session, "krabi", "pao")
    make_resource(
        session,
        dimension="policy_social",
        name="ธรรมนูญการศึกษาจังหวัดกระบี่",
        owner_agency_id=pao.id,
        action_ids=[act2.id, act1.id],
    )
    make_resource(session, description="ข้อมูลนักเรียนรายบุคคล")
    page = client.get("/areas/krabi/resources")
    assert page.status_code == 200
    text = page.text
    # the four dimensions in DOMAIN.md order, data first, policy and social capital last
    headings = [text.index(f'id="h-dimension-{d}"') for d in resources.ResourceDimension]
    assert headings == sorted(headings)
    assert text.index(DMC) < text.index("h-dimension-operations") < text.index("ธรรมนูญ")
    assert pao.name_th in text
    assert f'href="/areas/krabi/progress#action-progress-{act1.id}"' in text
    assert text.index(f"#action-progress-{act1.id}") < text.index(f"#action-progress-{act2.id}")
    assert 'href="/areas/krabi/learning"' in text  # the breadcrumb goes back to the hub
    assert 'action="/areas/krabi/resources"' in text  # an admin may add


def test_add_edit_and_delete_a_resource_without_javascript(
    client: TestClient, session: Session
) -> None:
    f.make_plan(session)
    added = client.post(
        "/areas/krabi/resources",
        data={"dimension": "knowledge", "name": "เครือข่ายครูแกนนำ", "description": "ครู 40 คน"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    row = session.exec(select(Resource)).one()
    assert added.headers["location"] == f"/areas/krabi/resources#resource-{row.id}"
    assert (row.dimension, row.name, row.description) == ("knowledge", "เครือข่ายครูแกนนำ", "ครู 40 คน")
    edit_page = client.get(f"/areas/krabi/resources/{row.id}/edit")
    assert edit_page.status_code == 200 and "<html" in edit_page.text
    assert 'value="เครือข่ายครูแกนนำ"' in edit_page.text and "hx-post" not in edit_page.text
    changed = client.post(
        f"/areas/krabi/resources/{row.id}",
        data={"dimension": "knowledge", "name": "เครือข่ายครูแกนนำ KLIEM", "version": "1"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    session.refresh(row)
    assert (row.name, row.version) == ("เครือข่ายครูแกนนำ KLIEM", 2)
    stale = client.post(
        f"/areas/krabi/resources/{row.id}",
        data={"dimension": "knowledge", "name": "ชื่อเก่า", "version": "1"},
    )
    assert stale.status_code == 409 and 'value="ชื่อเก่า"' in stale.text
    history = client.get(f"/areas/krabi/history/resource/{row.id}")
    assert history.status_code == 200 and "เครือข่ายครูแกนนำ KLIEM" in history.text
    confirm = client.get(f"/areas/krabi/resources/{row.id}/delete")
    assert confirm.status_code == 200 and 'role="alertdialog"' in confirm.text
    gone = client.post(f"/areas/krabi/resources/{row.id}/delete", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/areas/krabi/resources"
    assert _count(session, Resource) == 0
    ops = session.exec(
        select(AuditEvent.op).where(AuditEvent.entity_type == "resource").order_by(AuditEvent.id)
    ).all()
    assert ops == ["create", "update", "delete"]


def test_a_resource_is_edited_and_deleted_in_place_with_htmx(
    client: TestClient, session: Session
) -> None:
    row = make_resource(session)
    form = client.get(f"/areas/krabi/resources/{row.id}/edit", headers=HX)
    assert form.status_code == 200 and "<html" not in form.text
    assert f'<li id="resource-{row.id}" class="element editing">' in form.text
    assert 'hx-post="/areas/krabi/resources/' in form.text
    bad = client.post(
        f"/areas/krabi/resources/{row.id}", headers=HX, data={"dimension": "data", "name": ""}
    )
    assert bad.status_code == 422 and f'id="resource-{row.id}-name-error"' in bad.text
    moved = client.post(
        f"/areas/krabi/resources/{row.id}",
        headers=HX,
        data={"dimension": "operations", "name": DMC, "version": "1"},
    )
    assert moved.status_code == 200 and moved.headers["HX-Retarget"] == "#inventory"
    section = moved.text.split('id="dimension-operations"')[1].split("</section>")[0]
    assert f'id="resource-{row.id}"' in section and "data-focus" in section
    question = client.get(f"/areas/krabi/resources/{row.id}/delete", headers=HX)
    assert "confirming" in question.text and "<html" not in question.text
    deleted = client.post(f"/areas/krabi/resources/{row.id}/delete", headers=HX)
    assert deleted.status_code == 200 and deleted.headers["HX-Retarget"] == "#inventory"
    assert DMC not in deleted.text


def test_bad_resource_input_is_refused_beside_the_field_and_kept(
    client: TestClient, session: Session
) -> None:
    f.make_full_plan(session, "krabi", kras=1)
    phuket_plan = f.make_full_plan(session, "phuket", kras=1)
    phuket_action = _first(session, Action, phuket_plan)
    phuket_agency = f.agency(session, "phuket", "pao")
    before = _audits(session)
    cases = (
        ({"dimension": "money"}, "dimension"),
        ({"owner_agency_id": str(phuket_agency.id)}, "owner_agency_id"),
        ({"action_ids": [str(phuket_action.id)]}, "action_ids"),
    )
    for change, field in cases:
        data = {"dimension": "data", "name": "ข้อมูลเด็กนอกระบบจาก พมจ.", **change}
        page = client.post("/areas/krabi/resources", data=data)
        assert page.status_code == 422, field
        assert f'id="resource-new-{field}-error"' in page.text, field
        assert 'value="ข้อมูลเด็กนอกระบบจาก พมจ."' in page.text, field  # what was typed stays
    assert _count(session, Resource) == 0 and _audits(session) == before


# ---- the data catalogue ---------------------------------------------------------------------


def test_the_catalogue_is_a_table_in_thai_order_with_labels(
    client: TestClient, session: Session
) -> None:
    custodian = f.agency(session, "krabi", "learning-promotion")
    for name in ("ผลการอ่าน ป.1 รายโรงเรียน", "เด็กนอกระบบรายตำบล", "ข้อมูลนักเรียนรายบุคคล"):
        make_data_item(
            session,
            name=name,
            custodian_agency_id=custodian.id,
            source_system="ทะเบียนของ สกร.",
            frequency="monthly",
            access="restricted",
        )
    page = client.get("/areas/krabi/data")
    assert page.status_code == 200
    text = page.text.split('id="catalogue"')[1]
    # Thai dictionary order: ข, then เด็ก (under ด), then ผ; code points would put ผ before เ
    assert text.index("ข้อมูลนักเรียน") < text.index("เด็กนอกระบบ") < text.index("ผลการอ่าน")
    assert custodian.name_th in text and "ทะเบียนของ สกร." in text
    assert 'href="/areas/krabi/data.xlsx"' in page.text


def test_add_edit_and_delete_a_data_item(client: TestClient, session: Session) -> None:
    added = client.post(
        "/areas/krabi/data",
        data={"name": "ผลการทดสอบ O-NET ป.6", "frequency": "yearly", "access": "open"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    item = session.exec(select(DataItem)).one()
    assert added.headers["location"] == f"/areas/krabi/data#data-item-{item.id}"
    assert (item.frequency, item.access) == ("yearly", "open")
    bad = client.post("/areas/krabi/data", data={"name": "ข้อมูลครู", "frequency": "daily"})
    assert bad.status_code == 422 and 'id="data-item-new-frequency-error"' in bad.text
    assert 'value="ข้อมูลครู"' in bad.text and _count(session, DataItem) == 1
    row = client.get(f"/areas/krabi/data/{item.id}/edit", headers=HX)
    assert row.text.startswith(f'<tr id="data-item-{item.id}" class="editing">')
    changed = client.post(
        f"/areas/krabi/data/{item.id}",
        headers=HX,
        data={"name": "ผลการทดสอบ O-NET ป.6", "source_system": "ระบบของ สทศ.", "version": "1"},
    )
    assert changed.status_code == 200 and changed.headers["HX-Retarget"] == "#catalogue"
    session.refresh(item)
    assert (item.source_system, item.frequency, item.access) == (
        "ระบบของ สทศ.",
        "yearly",
        "on_request",
    )
    assert client.get(f"/areas/krabi/history/data_item/{item.id}").status_code == 200
    gone = client.post(
        f"/areas/krabi/data/{item.id}/delete", data={"confirm": "1"}, follow_redirects=False
    )
    assert gone.status_code == 303 and _count(session, DataItem) == 0


def _kpi_form(session: Session, kpi: KPI, **changes: Any) -> dict[str, Any]:
    """What the plan editor's KPI form sends: every field, as text."""
    values = {**plans.element_values(session, plans.get_spec("kpis"), kpi), **changes}
    data: dict[str, Any] = {"version": str(kpi.version)}
    for name, value in values.items():
        if isinstance(value, list):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "" if value is None else str(getattr(value, "value", value))
    return data


def test_a_kpi_cites_data_items_and_the_catalogue_lists_it(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=1)
    kpi = _first(session, KPI, plan)
    rt = make_data_item(session, name="ผลการประเมินการอ่าน (RT) ป.1", access="on_request")
    dmc = make_data_item(session)
    form = client.get(f"/areas/krabi/plan/kpis/{kpi.id}/edit", headers=HX).text
    assert f'name="data_item_ids" value="{rt.id}"' in form
    assert 'name="data_source"' in form  # the free text stays beside the catalogue
    saved = client.put(
        f"/areas/krabi/plan/kpis/{kpi.id}",
        headers=HX,
        data=_kpi_form(session, kpi, data_item_ids=[rt.id, dmc.id]),
    )
    assert saved.status_code == 200
    assert f'href="/areas/krabi/data#data-item-{rt.id}"' in saved.text  # the KPI's row
    links = session.exec(select(KPIDataItem.data_item_id).where(KPIDataItem.kpi_id == kpi.id))
    assert sorted(links.all()) == sorted([rt.id, dmc.id])
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "kpi", AuditEvent.entity_id == kpi.id)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.before["data_item_ids"] == [] and sorted(event.after["data_item_ids"]) == sorted(
        [rt.id, dmc.id]
    )
    overview = client.get("/areas/krabi").text
    assert f'href="/areas/krabi/data#data-item-{dmc.id}"' in overview
    catalogue = client.get("/areas/krabi/data").text
    row = catalogue.split(f'id="data-item-{rt.id}"')[1].split("</tr>")[0]
    assert f'href="/areas/krabi/progress/kpis/{kpi.id}"' in row and kpi.code in row


def test_a_kpi_cannot_cite_a_data_item_of_another_area(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=1)
    kpi = _first(session, KPI, plan)
    theirs = make_data_item(session, "phuket", name="ข้อมูลของภูเก็ต")
    page = client.put(
        f"/areas/krabi/plan/kpis/{kpi.id}",
        headers=HX,
        data=_kpi_form(session, kpi, data_item_ids=[theirs.id]),
    )
    assert page.status_code == 422 and f'id="kpi-{kpi.id}-data_item_ids-error"' in page.text
    assert _count(session, KPIDataItem) == 0
    assert "ข้อมูลของภูเก็ต" not in client.get(f"/areas/krabi/plan/kpis/{kpi.id}/edit").text


def test_a_cited_data_item_is_deleted_only_after_a_confirmation_naming_its_kpis(
    client: TestClient, session: Session
) -> None:
    plan = f.make_full_plan(session, "krabi", kras=1)
    kpi = _first(session, KPI, plan)
    item = make_data_item(session)
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"data_item_ids": [item.id]},
        partial=True,
    )
    question = client.get(f"/areas/krabi/data/{item.id}/delete").text
    assert kpi.code in question and 'name="confirm" value="1"' in question
    unconfirmed = client.post(f"/areas/krabi/data/{item.id}/delete")
    assert unconfirmed.status_code == 409 and kpi.code in unconfirmed.text
    assert _count(session, DataItem) == 1
    done = client.post(
        f"/areas/krabi/data/{item.id}/delete", data={"confirm": "1"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert _count(session, DataItem) == 0 and _count(session, KPIDataItem) == 0
    assert session.get(KPI, kpi.id) is not None  # the KPI stays, without the link


def test_the_catalogue_workbook_matches_the_database(client: TestClient, session: Session) -> None:
    plan = f.make_full_plan(session, "krabi", kras=2)
    kpi1, kpi2 = session.exec(select(KPI).where(KPI.plan_id == plan.id).order_by(KPI.id)).all()
    custodian = f.agency(session, "krabi", "social-dev")
    child = make_data_item(
        session,
        name="เด็กนอกระบบรายตำบล",
        custodian_agency_id=custodian.id,
        source_system="ทะเบียนของ พมจ.",
        frequency="monthly",
        access="restricted",
    )
    make_data_item(session, name="ข้อมูลนักเรียนรายบุคคล", description="จากระบบ DMC")
    for kpi in (kpi1, kpi2):
        plans.update_element(
            session,
            actor=f.ACTOR,
            plan=plan,
            kind="kpis",
            element_id=kpi.id,
            element_in={"data_item_ids": [child.id]},
            partial=True,
        )
    response = client.get("/areas/krabi/data.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "phonlap-krabi-data-catalogue-" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3  # the header and the two items
    names = [r[0] for r in rows[1:]]
    stored = session.exec(select(DataItem.name)).all()
    assert sorted(names) == sorted(stored) and names[0] == "ข้อมูลนักเรียนรายบุคคล"
    first, second = rows[1], rows[2]
    assert first[1] == "จากระบบ DMC" and first[11] in (None, "")
    assert second[3] == custodian.name_th and second[4] == "ทะเบียนของ พมจ."
    assert second[11].split("\n") == [f"{k.code} {k.name}" for k in (kpi1, kpi2)]


# ---- workshops ------------------------------------------------------------------------------


def test_an_accepted_resource_contribution_joins_the_inventory(
    client: TestClient, session: Session
) -> None:
    workshop = f.make_workshop(session)
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(
        session, workshop, guest, "resource", text="ปราชญ์ชาวบ้านด้านประมงพื้นบ้าน", dimension="knowledge"
    )
    url = f"/areas/krabi/workshops/{workshop.id}/contributions/{idea.id}/accept"
    assert client.post(url, follow_redirects=False).status_code == 303  # no plan needed
    session.refresh(idea)
    made = session.get(Resource, idea.accepted_id)
    assert (idea.state, idea.accepted_entity) == ("accepted", "resource")
    assert (made.dimension, made.name, made.contribution_id) == (
        "knowledge",
        "ปราชญ์ชาวบ้านด้านประมงพื้นบ้าน",
        idea.id,
    )
    page = client.get("/areas/krabi/resources").text
    section = page.split('id="dimension-knowledge"')[1].split("</section>")[0]
    entry = section.split(f'id="resource-{made.id}"')[1].split("</li>")[0]
    assert "ปราชญ์ชาวบ้านด้านประมงพื้นบ้าน" in entry and workshop.title in entry
    board = client.get(f"/areas/krabi/workshops/{workshop.id}").text
    assert f'href="/areas/krabi/resources#resource-{made.id}"' in board


# ---- who may write --------------------------------------------------------------------------


def test_an_editor_of_phuket_cannot_write_krabi(app_client: Any, session: Session) -> None:
    resource = make_resource(session)
    item = make_data_item(session)
    editor = sign_in(app_client(), session, f.make_user(session, "editor", "phuket"))
    before = _audits(session)
    writes = (
        ("/areas/krabi/resources", {"dimension": "data", "name": "ของภูเก็ต"}),
        (f"/areas/krabi/resources/{resource.id}", {"dimension": "data", "name": "ของภูเก็ต"}),
        (f"/areas/krabi/resources/{resource.id}/delete", {}),
        ("/areas/krabi/data", {"name": "ของภูเก็ต"}),
        (f"/areas/krabi/data/{item.id}", {"name": "ของภูเก็ต"}),
        (f"/areas/krabi/data/{item.id}/delete", {"confirm": "1"}),
    )
    for url, data in writes:
        assert editor.post(url, data=data).status_code == 403, url
    assert editor.get(f"/areas/krabi/resources/{resource.id}/edit").status_code == 403
    session.expire_all()
    assert _audits(session) == before
    assert session.get(Resource, resource.id).name == DMC
    assert session.get(DataItem, item.id).name == "ข้อมูลนักเรียนรายบุคคล (DMC)"


def test_a_viewer_reads_both_pages_without_forms(app_client: Any, session: Session) -> None:
    resource = make_resource(session)
    make_data_item(session)
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "krabi"))
    page = viewer.get("/areas/krabi/resources")
    assert page.status_code == 200 and DMC in page.text
    assert "<form" not in page.text.split('id="main"')[1]
    assert f"/resources/{resource.id}/edit" not in page.text
    catalogue = viewer.get("/areas/krabi/data")
    assert catalogue.status_code == 200 and "ข้อมูลนักเรียนรายบุคคล (DMC)" in catalogue.text
    assert "<form" not in catalogue.text.split('id="main"')[1]
    assert viewer.get("/areas/krabi/data.xlsx").status_code == 200


# ---- queries --------------------------------------------------------------------------------


def _page_queries(client: TestClient, counter: QueryCounter) -> dict[str, int]:
    counts = {}
    for url in ("/areas/krabi/resources", "/areas/krabi/data", "/areas/krabi/data.xlsx"):
        counter.count = 0
        assert client.get(url).status_code == 200
        counts[url] = counter.count
    return counts


def _fill(session: Session, n: int) -> None:
    """n resources (one from a workshop) using every action, n data items cited by every KPI."""
    plan = current_plans(session, [f.area(session).id])[f.area(session).id]
    actions = list(session.exec(select(Action.id).where(Action.plan_id == plan.id)).all())
    kpis = session.exec(select(KPI.id).where(KPI.plan_id == plan.id)).all()
    agency = f.agency(session, "krabi", "pao").id
    workshop = f.make_workshop(session, title=f"เวทีที่ {n}")
    guest, _ = f.make_guest(session, workshop)
    idea = f.make_contribution(session, workshop, guest, "resource", dimension="knowledge")
    workshops.accept(session, actor=f.ACTOR, workshop=workshop, contribution_id=idea.id)
    for i in range(n):
        make_resource(session, name=f"ทรัพยากร {n}-{i}", owner_agency_id=agency, action_ids=actions)
        item = make_data_item(session, name=f"ข้อมูล {n}-{i}", custodian_agency_id=agency)
        for kpi_id in kpis:
            session.add(KPIDataItem(kpi_id=kpi_id, data_item_id=item.id))
        session.commit()


def test_the_pages_query_the_same_however_many_records(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    f.make_full_plan(session, "krabi", kras=2)
    _fill(session, 1)
    small = _page_queries(client, count_queries)
    _fill(session, 6)
    assert _page_queries(client, count_queries) == small
    assert max(small.values()) < 20
