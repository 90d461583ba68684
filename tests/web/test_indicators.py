"""The common-indicator pages: the library and its forms, one indicator compared across areas,
the KPIs mapped to nothing, and the indicator a KPI measures in the plan editor."""

import json
import re
from collections.abc import Callable, Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models import KPI, AuditEvent, CommonIndicator, Plan
from app.services import indicators, progress
from tests import factories as f
from tests.conftest import QueryCounter, sign_in
from tests.services.test_indicators import NEW, indicator, kept_library, mapped_kpi, measure

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _library(engine: Engine) -> Iterator[None]:
    with kept_library(engine):
        yield


def _as(app_client: Callable[[], TestClient], session: Session, role: str, area: str | None):
    return sign_in(app_client(), session, f.make_user(session, role, area))


def _library_events(session: Session) -> int:
    query = select(func.count()).select_from(AuditEvent)
    return session.exec(query.where(AuditEvent.entity_type == "common_indicator")).one()


def _figure(html: str) -> dict:
    found = re.search(r"data-figure='([^']*)'", html)
    assert found, "no chart on the page"
    return json.loads(unescape(found.group(1)))


# ---- the library ----------------------------------------------------------------------------


def test_the_library_lists_the_indicators_with_their_mapped_kpis(
    client: TestClient, session: Session
) -> None:
    mapped_kpi(session, "krabi")
    mapped_kpi(session, "phuket")
    page = client.get("/indicators")
    assert page.status_code == 200
    html = page.text
    assert "ร้อยละของนักเรียนชั้น ป.1 ที่มีผลการประเมินการอ่านออกเสียง" in html
    assert "P1 pupils reading at &#39;good&#39; or above" in html
    row = re.search(r'<tr id="indicator-p1-reading-good".*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["2", "2"]
    assert "ร้อยละ" in row and "ปีการศึกษา" in row  # its kind and period type, in Thai
    assert 'href="/indicators/p1-reading-good"' in row
    assert 'action="/indicators#new-indicator"' in html  # the administrator may add one
    assert 'href="/indicators"' in client.get("/").text  # in the main menu


def test_an_editor_reads_the_library_but_gets_no_forms_and_cannot_write(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    editor = _as(app_client, session, "editor", "krabi")
    html = editor.get("/indicators").text
    assert "p1-reading-good" in html and 'action="/indicators#new-indicator"' not in html
    assert "/active" not in html
    before = (_library_events(session), session.exec(select(func.count(CommonIndicator.id))).one())
    assert editor.post("/indicators", data=NEW).status_code == 403
    p1 = indicator(session)
    assert editor.post("/indicators/p1-reading-good", data={**NEW, "code": ""}).status_code == 403
    assert (
        editor.post("/indicators/p1-reading-good/active", data={"active": "0"}).status_code == 403
    )
    session.refresh(p1)
    assert p1.is_active and p1.version == 1 and p1.unit == "%"
    after = (_library_events(session), session.exec(select(func.count(CommonIndicator.id))).one())
    assert after == before


def test_a_reviewer_adds_an_indicator(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    reviewer = _as(app_client, session, "reviewer", None)
    made = reviewer.post("/indicators", data=NEW, follow_redirects=False)
    assert made.status_code == 303
    assert made.headers["location"].startswith("/indicators?done=created&code=onet-p6-math-mean")
    page = reviewer.get(made.headers["location"]).text
    assert "คะแนนเฉลี่ย O-NET ป.6 วิชาคณิตศาสตร์" in page and 'role="status"' in page
    row = indicators.get_indicator(session, "onet-p6-math-mean")
    assert (row.kind, row.needs_count, row.unit) == ("mean", True, "คะแนน")
    event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.entity_type, event.entity_id, event.op, event.area_id) == (
        "common_indicator",
        row.id,
        "create",
        None,
    )


def test_a_bad_form_comes_back_422_with_messages_beside_the_fields_and_nothing_saved(
    client: TestClient, session: Session
) -> None:
    before = _library_events(session)
    typed = {**NEW, "code": "O-NET Math!", "name_th": "", "name_en": "O-NET คณิต ทดลอง"}
    response = client.post("/indicators", data=typed)
    assert response.status_code == 422
    html = response.text
    assert 'id="new-indicator-code-error"' in html and 'id="new-indicator-name_th-error"' in html
    assert 'aria-invalid="true" aria-describedby="new-indicator-code-error"' in html
    assert 'value="o-net math!"' in html.lower() and 'value="O-NET คณิต ทดลอง"' in html
    assert re.search(r'<option value="mean" selected>', html)
    assert _library_events(session) == before
    assert (
        session.exec(select(CommonIndicator).where(CommonIndicator.code == "o-net")).first() is None
    )


def test_editing_keeps_the_code_and_a_stale_form_is_a_conflict(
    client: TestClient, session: Session
) -> None:
    form = client.get("/indicators?edit=p1-reading-good").text
    assert 'action="/indicators/p1-reading-good#edit-indicator"' in form
    assert (
        'name="version" value="1"' in form
        and 'name="code"'
        not in form.split("edit-indicator-title")[1].split("new-indicator-title")[0]
    )
    values = {**indicators.current_values(indicator(session)), "needs_count": ""}
    values = {k: "" if v is None else str(v) for k, v in values.items()}
    saved = client.post(
        "/indicators/p1-reading-good",
        data={**values, "unit": "ร้อยละ", "code": "other", "version": "1"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    p1 = indicator(session)
    session.refresh(p1)
    assert (p1.code, p1.unit, p1.version) == ("p1-reading-good", "ร้อยละ", 2)
    stale = client.post("/indicators/p1-reading-good", data={**values, "unit": "%", "version": "1"})
    assert stale.status_code == 409
    assert 'value="%"' in stale.text and "<dd>ร้อยละ</dd>" in stale.text  # mine kept; theirs
    session.refresh(p1)
    assert p1.unit == "ร้อยละ"


def test_kind_cannot_change_while_kpis_measure_the_indicator(
    client: TestClient, session: Session
) -> None:
    mapped_kpi(session, "krabi")
    values = {
        k: "" if v is None else str(v)
        for k, v in indicators.current_values(indicator(session)).items()
    }
    response = client.post("/indicators/p1-reading-good", data={**values, "kind": "mean"})
    assert response.status_code == 422
    assert 'id="edit-indicator-kind-error"' in response.text
    assert '<option value="mean" selected>' in response.text  # what was typed stays
    p1 = indicator(session)
    session.refresh(p1)
    assert p1.kind == "percentage" and p1.version == 1


def test_retire_and_reactivate(client: TestClient, session: Session) -> None:
    retired = client.post(
        "/indicators/dropout-rate/active",
        data={"active": "0", "version": "1"},
        follow_redirects=False,
    )
    assert retired.status_code == 303
    dropout = indicator(session, "dropout-rate")
    session.refresh(dropout)
    assert not dropout.is_active
    html = client.get("/indicators").text
    row = re.search(r'<tr id="indicator-dropout-rate".*?</tr>', html, re.S).group(0)
    assert 'class="retired"' in row and 'name="active" value="1"' in row
    assert client.post("/indicators/dropout-rate/active", data={"active": "1"}).status_code == 200
    session.refresh(dropout)
    assert dropout.is_active
    assert client.post("/indicators/dropout-rate/active", data={}).status_code == 422


# ---- mapping a KPI on the plan editor's form ------------------------------------------------


def test_the_kpi_form_refuses_an_indicator_of_another_kind_with_the_message_on_the_field(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    count = indicator(session, "out-of-school-6-14")
    form = {
        "code": "KPI1",
        "name": kpi.name,
        "kind": "percentage",
        "period_type": "academic_year",
        "indicator_id": str(count.id),
        "version": "1",
    }
    response = client.put(f"/areas/krabi/plan/kpis/{kpi.id}", headers=HX, data=form)
    assert response.status_code == 422
    assert f'id="kpi-{kpi.id}-indicator_id-error"' in response.text
    assert "จำนวนนับ" in response.text  # the indicator's kind, named in the message
    assert f'<option value="{count.id}" selected>' in response.text
    assert session.get(KPI, kpi.id).indicator_id is None
    new = client.post(
        "/areas/krabi/plan/kpis", headers=HX, data={**form, "code": "KPI2", "version": ""}
    )
    assert new.status_code == 422 and 'id="kpi-new-indicator_id-error"' in new.text
    p1 = indicator(session)
    ok = client.put(
        f"/areas/krabi/plan/kpis/{kpi.id}", headers=HX, data={**form, "indicator_id": str(p1.id)}
    )
    assert ok.status_code == 200
    assert 'href="/indicators/p1-reading-good"' in ok.text  # the row shows what it measures
    session.refresh(kpi)
    assert kpi.indicator_id == p1.id


def test_the_api_refuses_an_indicator_of_another_period_type(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kpi = f.make_kpi(session, plan)
    curriculum = indicator(session, "schools-own-curriculum")  # a count per fiscal year
    response = client.patch(
        f"/api/v1/areas/krabi/plan/kpis/{kpi.id}", json={"indicator_id": curriculum.id}
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"indicator_id"}
    assert session.get(KPI, kpi.id).indicator_id is None


def test_the_overview_shows_the_indicator_a_kpi_measures(
    client: TestClient, session: Session
) -> None:
    plan = f.make_plan(session)
    kra = f.make_kra(session, plan)
    f.make_kpi(session, plan, kra_ids=[kra.id], indicator_id=indicator(session).id)
    html = client.get("/areas/krabi").text
    assert 'class="tag indicator" href="/indicators/p1-reading-good"' in html


# ---- one indicator across areas -------------------------------------------------------------


def _two_areas(session: Session) -> tuple[KPI, KPI]:
    krabi = mapped_kpi(session, "krabi")
    phuket = mapped_kpi(session, "phuket")
    measure(session, krabi, "AY2566", "63")
    measure(session, krabi, "AY2567", "66.4", "4,210")
    measure(session, phuket, "AY2567", "70.5")
    return krabi, phuket


def test_the_comparison_page_draws_the_stored_values_per_area(
    client: TestClient, session: Session
) -> None:
    krabi, phuket = _two_areas(session)
    page = client.get("/indicators/p1-reading-good")
    assert page.status_code == 200
    html = page.text
    figure = _figure(html)
    assert [t["name"] for t in figure["data"]] == ["กระบี่", "ภูเก็ต"]  # Thai dictionary order
    assert figure["data"][0]["x"] == ["ปีการศึกษา 2566", "ปีการศึกษา 2567"]
    assert figure["data"][0]["y"] == [63.0, 66.4] and figure["data"][1]["y"] == [None, 70.5]
    assert f'href="/areas/krabi/progress/kpis/{krabi.id}#period-AY2567">66.4</a>' in html
    assert f'href="/areas/phuket/progress/kpis/{phuket.id}#period-AY2567">70.5</a>' in html
    assert "vendor/plotly-basic" in html and 'role="img"' in html
    assert f'id="mapped-kpi-{krabi.id}"' in html and f'id="mapped-kpi-{phuket.id}"' in html
    assert client.get("/indicators/no-such-indicator").status_code == 404


def test_the_review_fetches_plotly_only_when_its_one_chart_comes_into_view(
    client: TestClient, session: Session
) -> None:
    """The review's only chart sits below a wide table: the page carries the figure and the
    address of Plotly, but no <script> for it (charts.js fetches it when the chart is near)."""
    _two_areas(session)
    html = client.get("/review?indicator=p1-reading-good").text
    assert len(re.findall(r"data-figure='", html)) == 1
    script = re.search(r'<script src="[^"]*charts\.js[^"]*" data-plotly="([^"]+)" defer>', html)
    assert script and "vendor/plotly-basic" in script.group(1)
    assert not re.search(r'<script src="[^"]*plotly-basic[^"]*"', html)
    # the indicator's own page opens on its chart: Plotly comes at once
    own_page = client.get("/indicators/p1-reading-good").text
    assert re.search(r'<script src="[^"]*plotly-basic[^"]*"', own_page)


def test_a_viewer_of_one_area_sees_only_that_areas_series(
    app_client: Callable[[], TestClient], session: Session
) -> None:
    krabi, phuket = _two_areas(session)
    viewer = _as(app_client, session, "viewer", "phuket")
    html = viewer.get("/indicators/p1-reading-good").text
    assert [t["name"] for t in _figure(html)["data"]] == ["ภูเก็ต"]
    assert f"/areas/krabi/progress/kpis/{krabi.id}" not in html and "กระบี่" not in html
    library = viewer.get("/indicators").text
    row = re.search(r'<tr id="indicator-p1-reading-good".*?</tr>', library, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1", "1"]
    anonymous = app_client()
    assert anonymous.get("/indicators/p1-reading-good", follow_redirects=False).status_code == 303


def test_the_number_tested_shows_beside_an_onet_mean(client: TestClient, session: Session) -> None:
    kpi = mapped_kpi(session, "mae-hong-son", code="onet-p6-thai-mean", kind="mean")
    measure(session, kpi, "AY2566", "38.75", "1,204")
    measure(session, kpi, "AY2567", "41")
    html = client.get("/indicators/onet-p6-thai-mean").text
    assert "1,204" in html and "38.75" in html
    assert "1,204" in _figure(html)["data"][0]["text"][0]


# ---- KPIs mapped to nothing -----------------------------------------------------------------


def test_unmapped_kpis_are_listed_by_area_with_a_way_to_map_them(
    app_client: Callable[[], TestClient], client: TestClient, session: Session
) -> None:
    krabi = f.make_plan(session, "krabi")
    loose = f.make_kpi(session, krabi, "KPI1")
    mapped = f.make_kpi(session, krabi, "KPI2", indicator_id=indicator(session).id)
    phuket = f.make_plan(session, "phuket")
    other = f.make_kpi(session, phuket, "KPI1", kind="count", **_blank_values())
    html = client.get("/indicators/unmapped").text
    assert html.index('id="unmapped-krabi"') < html.index('id="unmapped-phuket"')
    assert f'href="/areas/krabi/plan#kpi-{loose.id}"' in html
    assert f'href="/areas/phuket/plan#kpi-{other.id}"' in html
    assert f"kpi-{mapped.id}" not in html
    loose_item = re.search(rf'<li id="unmapped-kpi-{loose.id}".*?</li>', html, re.S).group(0)
    assert "p1-reading-good" in loose_item and "out-of-school" not in loose_item  # what fits
    viewer = _as(app_client, session, "viewer", "krabi")
    mine = viewer.get("/indicators/unmapped").text
    assert f'href="/areas/krabi/progress/kpis/{loose.id}"' in mine  # not the editor: no right
    assert "ภูเก็ต" not in mine


def _blank_values() -> dict[str, str]:
    return {"baseline_value": "", "baseline_period": "", "target_value": "", "target_period": ""}


# ---- query counts ---------------------------------------------------------------------------

PAGES = ("/indicators", "/indicators/p1-reading-good", "/indicators/unmapped")


def _counts(client: TestClient, counter: QueryCounter) -> dict[str, int]:
    counts = {}
    for url in PAGES:
        counter.count = 0
        assert client.get(url).status_code == 200
        counts[url] = counter.count
    return counts


def _mapped_plan(session: Session, slug: str, kpis: int, periods: tuple[str, ...]) -> None:
    plan = f.make_plan(session, slug, span_start_be=2565)  # values from AY2565
    p1 = indicator(session)
    for n in range(1, kpis + 1):
        kpi = f.make_kpi(session, plan, f"KPI{n}", indicator_id=p1.id if n % 2 else None)
        for index, period in enumerate(periods):
            progress.save_cell(
                session,
                actor=f.ACTOR,
                plan=plan,
                kpi_id=kpi.id,
                period=period,
                cell="actual",
                text=str(60 + index),
            )


def test_the_pages_read_the_same_number_of_queries_with_more_areas_kpis_and_values(
    client: TestClient, session: Session, count_queries: QueryCounter
) -> None:
    _mapped_plan(session, "krabi", 2, ("AY2566",))
    small = _counts(client, count_queries)
    session.exec(delete(Plan))
    session.commit()
    for slug in ("krabi", "phuket", "trat", "sa-kaeo", "buriram"):
        _mapped_plan(session, slug, 6, ("AY2565", "AY2566", "AY2567"))
    large = _counts(client, count_queries)
    assert large == small
    assert max(small.values()) < 20
