"""Agency-scoped editors: an editor limited to Phuket's primary ESA changes only what that ESA
leads, co-owns or keeps, on pages, htmx fragments and the JSON API alike; everything else is
read-only for it (403, nothing changed). Administrators give and change the scope, audited."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.models import KPI, Action, ActionUpdate, AuditEvent, DataValue, Measurement, RoleGrant
from app.models.enums import Role
from app.services import accounts
from app.services.access import Grant, Permission, Principal
from tests import factories as f
from tests.conftest import sign_in

HX = {"HX-Request": "true"}


# ---- the policy -----------------------------------------------------------------------------


def test_a_scoped_grant_reads_and_comments_and_changes_only_its_agencies_elements() -> None:
    scoped = Principal(grants=(Grant(Role.editor, 1, frozenset({10, 11})),))
    assert scoped.can(Permission.read, 1) and scoped.can(Permission.comment, 1)
    for permission in (Permission.edit, Permission.reflect, Permission.facilitate):
        assert not scoped.can(permission, 1)
    assert scoped.edit_scope(1) == {10, 11} and scoped.is_scoped(1)
    assert scoped.may_change(1, [99, 11])  # a co-owner is enough
    assert not scoped.may_change(1, [99]) and not scoped.may_change(1, [None])
    assert not scoped.may_change(2, [10])  # its agencies count only in its own area
    assert scoped.area_ids(Permission.edit) == set() and scoped.area_ids() == {1}


def test_a_full_grant_changes_everything_and_a_viewer_nothing() -> None:
    editor = Principal(grants=(Grant(Role.editor, 1),))
    assert editor.edit_scope(1) is None and editor.may_change(1, []) and not editor.is_scoped(1)
    admin = Principal(grants=(Grant(Role.admin, None),))
    assert admin.may_change(7, [None])
    viewer = Principal(grants=(Grant(Role.viewer, 1),))
    assert viewer.edit_scope(1) == frozenset() and not viewer.may_change(1, [10])
    # a full grant in an area wins over a scoped one there; elsewhere the scope holds
    both = Principal(grants=(Grant(Role.editor, 1, frozenset({10})), Grant(Role.editor, 2)))
    assert both.may_change(2, [99]) and not both.may_change(1, [99])


# ---- Phuket: one KPI and action of the primary ESA, one of the secondary ESA ------------------


@dataclass
class Plot:
    session: Session
    clerk: TestClient  # the primary ESA's scoped editor, signed in
    token: str  # its API token
    own_kpi: KPI
    other_kpi: KPI
    own_action: Action
    other_action: Action


@pytest.fixture
def plot(session: Session, app_client: Callable[[], TestClient]) -> Plot:
    plan = f.make_full_plan(session, "phuket", kras=1)  # KPI1, ACT1: the primary ESA's
    own_kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id)).one()
    own_action = session.exec(select(Action).where(Action.plan_id == plan.id)).one()
    secondary = f.agency(session, "phuket", "esa-secondary").id
    other_kpi = f.make_kpi(session, plan, "KPI9", lead_agency_id=secondary)
    other_action = f.make_action(session, plan, "ACT9", lead_agency_id=secondary)
    user = f.make_scoped_editor(session, "phuket", ("esa-primary-1",))
    _, token = accounts.create_token(session, actor=f.ACTOR, user=user, token_in={"name": "t"})
    clerk = sign_in(app_client(), session, user)
    return Plot(session, clerk, token, own_kpi, other_kpi, own_action, other_action)


def _events(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def _measurements(session: Session, kpi: KPI) -> list[Measurement]:
    return list(session.exec(select(Measurement).where(Measurement.kpi_id == kpi.id)))


def test_the_grid_cell_of_another_agencys_kpi_is_refused_and_its_own_is_saved(plot: Plot) -> None:
    s, clerk = plot.session, plot.clerk
    before = _events(s)
    url = "/areas/phuket/progress/kpis/{}/AY2566/actual"
    refused = clerk.put(url.format(plot.other_kpi.id), headers=HX, data={"value": "70"})
    assert refused.status_code == 403
    assert "หน่วยงาน" in refused.text  # says why: only its agencies' KPIs
    assert _measurements(s, plot.other_kpi) == [] and _events(s) == before
    saved = clerk.put(url.format(plot.own_kpi.id), headers=HX, data={"value": "๖๖"})
    assert saved.status_code == 200
    assert [m.value for m in _measurements(s, plot.own_kpi)] == [66.0]


def test_the_measurement_form_and_the_check_in_follow_the_scope(plot: Plot) -> None:
    s, clerk = plot.session, plot.clerk
    before = _events(s)
    form = {"value": "70", "note": "ผลสอบ"}
    other = clerk.post(f"/areas/phuket/progress/kpis/{plot.other_kpi.id}/AY2566", data=form)
    assert other.status_code == 403 and _measurements(s, plot.other_kpi) == []
    checkin = {"on_date": "2026-11-01", "status": "delayed", "what_changed": "อบรมครู 2 รุ่น"}
    url = "/areas/phuket/progress/actions/{}/updates"
    assert clerk.post(url.format(plot.other_action.id), headers=HX, data=checkin).status_code == 403
    assert s.exec(select(ActionUpdate)).all() == [] and _events(s) == before
    own = clerk.post(
        f"/areas/phuket/progress/kpis/{plot.own_kpi.id}/AY2566", data=form, follow_redirects=False
    )
    assert own.status_code == 303 and [m.value for m in _measurements(s, plot.own_kpi)] == [70.0]
    done = clerk.post(url.format(plot.own_action.id), headers=HX, data=checkin)
    assert done.status_code == 200 and len(s.exec(select(ActionUpdate)).all()) == 1


def test_the_progress_page_offers_only_its_own_rows(plot: Plot) -> None:
    page = plot.clerk.get("/areas/phuket/progress").text
    own = f'hx-put="/areas/phuket/progress/kpis/{plot.own_kpi.id}/'
    other = f'hx-put="/areas/phuket/progress/kpis/{plot.other_kpi.id}/'
    assert own in page and other not in page
    marked = page.split(f'id="kpi-progress-{plot.other_kpi.id}"')[1].split("</tbody>")[0]
    assert "ของหน่วยงานอื่น: อ่านอย่างเดียว" in marked  # the row says why
    assert "แก้ไขได้เฉพาะ" in page and "ประถมศึกษาภูเก็ต" in page  # the note names the ESA
    assert "/progress/import" in page  # its own KPIs' values by workbook too
    assert f'id="checkin-{plot.own_action.id}-' in page
    assert f'id="checkin-{plot.other_action.id}-' not in page


def test_plan_elements_the_kpi_itself_only_when_its_own(plot: Plot) -> None:
    s, clerk = plot.session, plot.clerk
    before = _events(s)
    url = "/areas/phuket/plan/kpis/{}"
    body = {"name": "ร้อยละนักเรียนอ่านคล่อง (แก้)", "reason": "ทดสอบ"}
    assert clerk.put(url.format(plot.other_kpi.id), headers=HX, data=body).status_code == 403
    assert clerk.put("/areas/phuket/plan/vision", headers=HX, data=body).status_code == 403
    assert clerk.post("/areas/phuket/plan/kpis", headers=HX, data=body).status_code == 403
    assert clerk.delete(url.format(plot.own_kpi.id), headers=HX).status_code == 403
    assert clerk.get("/areas/phuket/plan").status_code == 403  # the plan editor: read-only
    assert _events(s) == before
    assert clerk.get(url.format(plot.own_kpi.id) + "/edit", headers=HX).status_code == 200
    s.refresh(plot.other_kpi)
    assert plot.other_kpi.name != body["name"]


def test_the_json_api_follows_the_same_rule(plot: Plot) -> None:
    s = plot.session
    api = TestClient(plot.clerk.app, headers={"Authorization": f"Bearer {plot.token}"})
    before = _events(s)
    other = plot.other_kpi.id
    assert (
        api.put(f"/api/v1/kpis/{other}/measurements/AY2566", json={"value": 70}).status_code == 403
    )
    assert api.put(f"/api/v1/kpis/{other}/targets/AY2567", json={"value": 80}).status_code == 403
    patch = api.patch(f"/api/v1/areas/phuket/plan/kpis/{other}", json={"name": "ใหม่"})
    assert patch.status_code == 403 and "หน่วยงาน" in patch.text
    kras = api.patch("/api/v1/areas/phuket/plan", json={"vision": "ใหม่"})
    assert kras.status_code == 403
    update = {"on_date": "2026-11-01", "status": "delayed"}
    assert (
        api.post(f"/api/v1/actions/{plot.other_action.id}/updates", json=update).status_code == 403
    )
    assert _events(s) == before and _measurements(s, plot.other_kpi) == []
    own = api.put(f"/api/v1/kpis/{plot.own_kpi.id}/measurements/AY2566", json={"value": 71})
    assert own.status_code == 200, own.text
    renamed = api.patch(
        f"/api/v1/areas/phuket/plan/kpis/{plot.own_kpi.id}", json={"name": "ร้อยละอ่านคล่อง"}
    )
    assert renamed.status_code == 200, renamed.text
    api.close()


def test_data_values_only_for_the_items_its_agency_keeps(plot: Plot) -> None:
    s = plot.session
    area_id = f.area(s, "phuket").id
    own = f.data_item(
        s, area_id, "จำนวนครูที่ผ่านการอบรม", by_unit=False,
        custodian_agency_id=f.agency(s, "phuket").id,
    )  # fmt: skip
    other = f.data_item(
        s, area_id, "จำนวนนักเรียน ม.1", by_unit=False,
        custodian_agency_id=f.agency(s, "phuket", "esa-secondary").id,
    )  # fmt: skip
    api = TestClient(plot.clerk.app, headers={"Authorization": f"Bearer {plot.token}"})
    rows = [{"period": "AY2567", "value": 40}]
    assert api.put(f"/api/v1/data-items/{other.id}/values", json=rows).status_code == 403
    assert s.exec(select(DataValue)).all() == []
    assert api.put(f"/api/v1/data-items/{own.id}/values", json=rows).status_code == 200
    api.close()
    # the entry page: its own agency first; another agency's grid is shown read-only
    page = plot.clerk.get("/areas/phuket/data/entry").text
    assert "จำนวนครูที่ผ่านการอบรม" in page and "บันทึกค่าทั้งหมด" in page
    assert "/data/entry/import" in page  # its agency's workbook too
    secondary = f.agency(s, "phuket", "esa-secondary").id
    others = plot.clerk.get(f"/areas/phuket/data/entry?agency={secondary}&period=AY2567").text
    assert "จำนวนนักเรียน ม.1" in others and " disabled" in others
    assert "บันทึกค่าทั้งหมด" not in others
    refused = plot.clerk.post(
        "/areas/phuket/data/entry",
        data={"agency": str(secondary), "period": "AY2567", f"v-{other.id}-0-0": "5"},
    )
    assert refused.status_code == 403
    assert [v.data_item_id for v in s.exec(select(DataValue))] == [own.id]


def _workbook(clerk: TestClient, edit: dict[tuple[str, str], object]) -> bytes:
    import io

    from openpyxl import load_workbook

    template = clerk.get("/areas/phuket/progress/template.xlsx")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    for row in book["ความก้าวหน้า"].iter_rows(min_row=2):
        if (row[0].value, row[3].value) in edit:
            row[5].value = edit[(row[0].value, row[3].value)]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_progress_workbook_touching_another_agencys_kpi_is_refused_in_the_preview(
    plot: Plot,
) -> None:
    s, clerk = plot.session, plot.clerk
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def upload(data: bytes):  # noqa: ANN202
        files = {"file": ("ภูเก็ต.xlsx", data, xlsx)}
        return clerk.post("/areas/phuket/progress/import", files=files)

    both = upload(_workbook(clerk, {("KPI1", "AY2566"): 65, ("KPI9", "AY2566"): 50}))
    assert both.status_code == 422
    assert "ตัวชี้วัดนี้เป็นของหน่วยงานอื่น" in both.text  # the reason, on KPI9's row
    assert "/progress/import/" not in both.text.split("<main")[1]  # nothing to confirm
    assert _measurements(s, plot.own_kpi) == [] and _measurements(s, plot.other_kpi) == []
    own = upload(_workbook(clerk, {("KPI1", "AY2566"): 65}))
    assert own.status_code == 200
    digest = own.text.split('action="/areas/phuket/progress/import/')[1].split('"')[0]
    done = clerk.post(
        f"/areas/phuket/progress/import/{digest}",
        data={"filename": "ภูเก็ต.xlsx"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert [m.value for m in _measurements(s, plot.own_kpi)] == [65.0]


def test_a_values_workbook_for_another_agencys_item_is_refused_in_the_preview(
    plot: Plot,
) -> None:
    import io

    from openpyxl import load_workbook

    s, clerk = plot.session, plot.clerk
    area_id = f.area(s, "phuket").id
    primary, secondary = f.agency(s, "phuket").id, f.agency(s, "phuket", "esa-secondary").id
    f.data_item(s, area_id, "จำนวนครูที่ผ่านการอบรม", by_unit=False, custodian_agency_id=primary)
    f.data_item(s, area_id, "จำนวนนักเรียน ม.1", by_unit=False, custodian_agency_id=secondary)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def filled(agency: int, value: int) -> bytes:
        got = clerk.get(
            "/areas/phuket/data/entry.xlsx", params={"agency": agency, "period": "AY2567"}
        )
        assert got.status_code == 200
        book = load_workbook(io.BytesIO(got.content))
        sheet = book.worksheets[0]
        column = [c.value for c in sheet[1]].index("ค่า")
        for row in sheet.iter_rows(min_row=2):
            row[column].value = value
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def upload(data: bytes):  # noqa: ANN202
        files = {"file": ("ข้อมูล.xlsx", data, xlsx)}
        return clerk.post("/areas/phuket/data/entry/import", files=files)

    refused = upload(filled(secondary, 120))
    assert refused.status_code == 422
    assert "อยู่ในความดูแลของหน่วยงานอื่น" in refused.text
    assert "/data/entry/import/" not in refused.text.split("<main")[1]  # nothing to confirm
    assert s.exec(select(DataValue)).all() == []
    assert upload(filled(primary, 35)).status_code == 200


# ---- administrators give the scope ----------------------------------------------------------


def test_an_admin_limits_an_editor_to_agencies_audited_and_foreign_ones_are_refused(
    client: TestClient, session: Session
) -> None:
    user = f.make_user(session, "editor", "phuket")
    grant = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).one()
    url = f"/admin/users/{user.id}/roles/{grant.id}/agencies"
    krabi_esa = f.agency(session, "krabi").id
    refused = client.post(url, data={f"agency_ids-{grant.id}": str(krabi_esa)})
    assert refused.status_code == 422 and "ของพื้นที่นี้" in refused.text
    assert accounts.grant_agencies(session, [grant.id]) == {grant.id: []}
    page = client.get(f"/admin/users/{user.id}").text
    assert "ทั้งพื้นที่" in page and "สำนักงานเขตพื้นที่การศึกษาประถมศึกษาภูเก็ต" in page
    own = f.agency(session, "phuket").id
    saved = client.post(url, data={f"agency_ids-{grant.id}": str(own)})
    assert saved.status_code == 200 and "เฉพาะ" in saved.text
    assert accounts.grant_agencies(session, [grant.id]) == {grant.id: [own]}
    assert f'name="agency_ids-{grant.id}" value="{own}" checked' in saved.text  # ticked
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "role_grant")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert (event.op, event.before["agency_ids"], event.after["agency_ids"]) == (
        "update", [], [own]
    )  # fmt: skip
    history = client.get("/areas/phuket/history").text  # the change, in words
    assert "จำกัดเฉพาะหน่วยงาน</th>" in history and ">agency_ids<" not in history
    assert "สำนักงานเขตพื้นที่การศึกษาประถมศึกษาภูเก็ต" in history
    viewer = f.make_user(session, "viewer", "phuket")
    vgrant = session.exec(select(RoleGrant).where(RoleGrant.user_id == viewer.id)).one()
    only_editors = client.post(
        f"/admin/users/{viewer.id}/roles/{vgrant.id}/agencies", data={"agency_ids": str(own)}
    )
    assert only_editors.status_code == 422


def test_the_account_page_shows_the_scope(
    session: Session, app_client: Callable[[], TestClient]
) -> None:
    user = f.make_scoped_editor(session, "phuket", ("esa-primary-1",))
    page = sign_in(app_client(), session, user).get("/account").text
    assert "สำนักงานเขตพื้นที่การศึกษาประถมศึกษาภูเก็ต" in page
    assert "อ่านอย่างเดียว" in page  # the rest of the plan is read-only
