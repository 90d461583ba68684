"""The outcome map page and its JSON, at a period, as of a date and compared between dates; the
presentation page."""

import html
import json
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.i18n import THAI_TZ
from app.models import KPI, Action, AuditEvent, KeyResultArea, Plan
from app.outcome_map import CHANGE_STYLES
from app.services import plans, progress
from tests import factories as f


def _value(session: Session, plan: Plan, kpi: KPI, period: str, text: str) -> None:
    progress.save_cell(
        session, actor=f.ACTOR, plan=plan, kpi_id=kpi.id, period=period, cell="actual", text=text
    )


def _plan(session: Session) -> tuple[Plan, list[KPI]]:
    plan = f.make_full_plan(session, "krabi", kras=2)
    kpis = list(session.exec(select(KPI).where(KPI.plan_id == plan.id).order_by(KPI.code)))
    _value(session, plan, kpis[0], "AY2566", "60")  # below the baseline of 62.5: off track
    _value(session, plan, kpis[0], "AY2567", "80")  # above the line to 75: on track
    return plan, kpis


def test_the_map_json_is_at_the_newest_period_with_a_value(
    client: TestClient, session: Session
) -> None:
    _plan(session)
    body = client.get("/api/v1/areas/krabi/map").json()
    assert body["period"] == "AY2567" and body["period_label"] == "ปีการศึกษา 2567"
    assert [p["code"] for p in body["periods"]][:3] == ["AY2566", "AY2567", "AY2568"]
    nodes = {n["code"] or n["key"]: n for n in body["nodes"]}
    assert nodes["KPI1"]["status"] == "on_track" and nodes["KPI1"]["detail"].startswith("80")
    assert nodes["KPI2"]["status"] == "no_data"
    assert nodes["KRA1"]["status"] == "on_track"
    assert nodes["KPI1"]["url"] == f"/areas/krabi/progress/kpis/{nodes['KPI1']['key'][4:]}"
    assert body["gaps"] == []
    assert body["figure"]["data"] and body["figure"]["layout"]["annotations"]

    earlier = client.get("/api/v1/areas/krabi/map?period=AY2566").json()
    kpi1 = next(n for n in earlier["nodes"] if n["code"] == "KPI1")
    assert kpi1["status"] == "off_track"


def test_an_unknown_period_is_a_422_with_the_valid_codes(
    client: TestClient, session: Session
) -> None:
    _plan(session)
    answer = client.get("/api/v1/areas/krabi/map?period=AY2499")
    assert answer.status_code == 422
    body = answer.json()
    assert "AY2566" in body["valid"] and "AY2499" not in body["valid"]
    assert "AY2566" in body["errors"]["period"]
    page = client.get("/areas/krabi/map?period=FY9999")
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text and "AY2567" in page.text
    assert 'id="map-period-error"' in page.text
    assert client.get("/api/v1/areas/krabi/map?as_of=31/12/2567").status_code == 422
    before = client.get("/api/v1/areas/krabi/map?period=AY2566&as_of=2000-01-01")
    assert before.status_code == 422 and before.json()["valid"] == []
    assert "ภายหลัง" in before.json()["errors"]["period"]  # not an empty list of codes


def test_the_map_page_lists_every_element_and_names_the_gaps(
    client: TestClient, session: Session
) -> None:
    plan, kpis = _plan(session)
    lonely = f.make_kpi(session, plan, "KPI9", name="ร้อยละเด็กนอกระบบกลับเข้าเรียน")
    f.make_action(session, plan, "ACT9", title="ค่ายภาษาอังกฤษ")
    page = client.get("/areas/krabi/map")
    assert page.status_code == 200
    assert 'class="chart map"' in page.text and "data-links" in page.text
    assert 'sse-connect="/areas/krabi/events"' in page.text
    assert "ร้อยละเด็กนอกระบบกลับเข้าเรียน" in page.text
    gaps = page.text.split('class="card gaps"')[1].split("</div>")[0]
    assert f"/areas/krabi/progress/kpis/{lonely.id}" in gaps and "ACT9" in gaps
    assert "KPI1" not in gaps


def _backdate(session: Session, day: date) -> None:
    """Everything in the trail so far happened on `day`."""
    moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)
    for event in session.exec(select(AuditEvent)).all():
        event.at = moment
        session.add(event)
    session.commit()


def test_the_plan_as_it_stood_and_a_comparison_of_two_dates(
    client: TestClient, session: Session
) -> None:
    plan, kpis = _plan(session)
    _backdate(session, date(2024, 6, 16))  # the workshop
    kra = session.exec(select(KeyResultArea).where(KeyResultArea.code == "KRA2")).one()
    action = session.exec(select(Action).where(Action.code == "ACT1")).one()
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpis[1].id,
        element_in={"target_value": "90"},
        partial=True,
        reason="ผลสอบปีแรกดีกว่าที่คาด",
    )
    plans.delete_element(
        session, actor=f.ACTOR, plan=plan, kind="actions", element_id=action.id, force=True
    )
    f.make_kra(session, plan, "KRA7", title="ภาคีเครือข่ายท้องถิ่น")

    then = client.get("/api/v1/areas/krabi/map?as_of=2024-06-30").json()
    codes = {n["code"] for n in then["nodes"]}
    assert {"ACT1", "KRA2"} <= codes and "KRA7" not in codes
    assert then["as_of"] == "2024-06-30"
    now = {n["code"] for n in client.get("/api/v1/areas/krabi/map").json()["nodes"]}
    assert "KRA7" in now and "ACT1" not in now

    today = datetime.now(
        THAI_TZ
    ).date()  # the map's days are Thailand's, whatever the server's clock
    page = client.get(f"/areas/krabi/map/compare?since=2024-06-30&until={today.isoformat()}")
    assert page.status_code == 200
    items = page.text.split('class="differences"')[1].split("</ul>")[0]
    assert "difference-added" in items and "KRA7 ภาคีเครือข่ายท้องถิ่น" in items
    assert "difference-removed" in items and "ACT1" in items
    changed = items.split("difference-changed")[1]
    assert "KPI2" in changed and "90" in changed
    assert kra.code not in items  # untouched
    figure = json.loads(html.unescape(page.text.split("data-figure='")[1].split("'")[0]))
    rings = {
        (t["marker"]["symbol"], t["marker"]["color"]): len(t["x"])
        for t in figure["data"]
        if t.get("hoverinfo") == "skip" and t.get("mode") == "markers"
    }
    assert all(rings[CHANGE_STYLES[c]] == 1 for c in ("added", "changed", "removed")), rings

    wrong = client.get("/areas/krabi/map/compare?since=2025-01-01&until=2024-01-01")
    assert wrong.status_code == 422 and 'id="cmp-since-error"' in wrong.text


def test_the_present_page_has_the_map_the_board_and_the_latest_changes(
    client: TestClient, session: Session
) -> None:
    _plan(session)
    page = client.get("/areas/krabi/present")
    assert page.status_code == 200
    assert 'class="present"' in page.text and 'class="topbar"' not in page.text
    for part in ("present-map", "present-board", "present-changes"):
        assert f'id="{part}"' in page.text
    assert "kpi-card status-on_track" in page.text
    board = client.get(
        "/areas/krabi/present?part=board&period=AY2566", headers={"HX-Request": "true"}
    )
    assert board.text.lstrip().startswith('<section id="present-board"')
    assert "kpi-card status-off_track" in board.text
    events = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert events is not None
    changes = client.get("/areas/krabi/present?part=changes", headers={"HX-Request": "true"})
    assert "KPI1" in changes.text or "AY2567" in changes.text


ESCAPED_TITLES = ("&lt;a href='//e.example'&gt;x&lt;/a&gt;", "&lt;b&gt;bold&lt;/b&gt;")


def test_plan_text_that_looks_like_markup_reaches_plotly_only_escaped(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session, "krabi", vision="ผู้เรียนเป็นสุข")
    link = f.make_kra(session, plan, "KRA1", title="<a href='//e.example'>x</a>")
    f.make_kra(session, plan, "KRA2", title="<b>bold</b>")
    kpi = f.make_kpi(session, plan, "KPI1", kra_ids=[link.id], unit="<i>คน</i>")
    _value(session, plan, kpi, "AY2566", "60")
    api = client.get("/api/v1/areas/krabi/map").json()["figure"]
    page = client.get("/areas/krabi/map").text
    shown = json.loads(html.unescape(page.split("data-figure='")[1].split("'")[0]))
    charts = client.get("/areas/krabi/progress/charts").text
    kpi_chart = json.loads(html.unescape(charts.split("data-figure='")[-1].split("'")[0]))
    for figure in (api, shown):
        text = json.dumps(figure, ensure_ascii=False)
        assert "<a" not in text and "<b>" not in text and "<i>" not in text
        labels = [note["text"] for note in figure["layout"]["annotations"]]
        hovers = " ".join(h for trace in figure["data"] for h in trace.get("hovertext", []))
        assert "KRA1 &lt;a<br>href='//e.example'&gt;x&lt;/a&gt;" in labels  # wrapped, escaped
        assert "KRA2 &lt;b&gt;bold&lt;/b&gt;" in labels
        assert all(escaped in hovers for escaped in ESCAPED_TITLES)
        assert "&lt;i&gt;คน&lt;/i&gt;" in hovers  # the KPI's figure line names its unit
    assert kpi_chart["layout"]["yaxis"]["title"]["text"] == "&lt;i&gt;คน&lt;/i&gt;"
