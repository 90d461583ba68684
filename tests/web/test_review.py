"""The cross-area review page: figures equal to what is stored, filters in the URL, each reader
sees only the areas they may read, bad filters answered beside the field."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models.enums import KPIStatus, Role
from app.services import progress, review
from app.services.access import Grant, Principal
from tests import factories as f
from tests.conftest import sign_in

ADMIN = Principal(grants=(Grant(Role.admin, None),))


def _value(session: Session, plan, kpi, period: str, value: str) -> None:  # noqa: ANN001
    progress.save_cell(
        session, actor=f.ACTOR, plan=plan, kpi_id=kpi.id, period=period, cell="actual", text=value
    )


def _krabi(session: Session):  # noqa: ANN202
    """Two KRAs of different themes and aspects; KPI1 on track, KPI2 off track; two actions."""
    plan = f.make_plan(session, "krabi", vision="ผู้เรียนกระบี่เก่ง ดี มีสุข")
    lp1, ic2 = f.doe_item(session, "LP1").id, f.doe_item(session, "IC2").id
    reading = f.make_kra(session, plan, "KRA1", doe_item_ids=[lp1], theme_id=f.theme(session).id)
    digital = f.make_kra(
        session,
        plan,
        "KRA2",
        doe_item_ids=[ic2],
        theme_id=f.theme(session, "innovation_development").id,
    )
    kpi1 = f.make_kpi(session, plan, "KPI1", kra_ids=[reading.id])  # 62.5 → 75 by AY2570
    kpi2 = f.make_kpi(session, plan, "KPI2", kra_ids=[digital.id])
    f.make_action(session, plan, "ACT1", kpi_ids=[kpi1.id], budget_thb="450,000")
    act2 = f.make_action(
        session, plan, "ACT2", kra_ids=[digital.id], budget_thb="1,200,000", status="delayed"
    )
    _value(session, plan, kpi1, "AY2566", "66")  # on track against the interpolated target
    _value(session, plan, kpi2, "AY2566", "50")  # below the baseline: off track
    progress.add_action_update(
        session,
        actor=f.ACTOR,
        plan=plan,
        action_id=act2.id,
        update_in={
            "on_date": "2024-03-01",
            "status": "delayed",
            "spent_thb": "300,000",
            "what_changed": "จัดอบรมครูรุ่นแรก",
        },
    )
    progress.add_action_update(
        session,
        actor=f.ACTOR,
        plan=plan,
        action_id=act2.id,
        update_in={
            "on_date": "2024-09-01",
            "status": "delayed",
            "spent_thb": "520,000",
            "what_changed": "ซื้ออุปกรณ์ดิจิทัลล่าช้า",
        },
    )
    return plan


def _row(view: review.ReviewView, slug: str) -> review.AreaReview:
    return next(r for r in view.areas if r.area.slug == slug)


def test_each_area_is_summed_from_what_is_stored(session: Session) -> None:
    _krabi(session)
    f.make_full_plan(session, "phuket", kras=2)
    view = review.review_view(session, ADMIN, review.Filters())
    assert view.group is not None and view.group.slug == "de-workshop-2566"
    assert len(view.areas) == 11  # the DE workshop group, in Thai order
    assert [r.area.slug for r in view.areas][:2] == ["krabi", "chanthaburi"]
    krabi = _row(view, "krabi")
    counts = krabi.status_counts
    assert counts[KPIStatus.on_track] == 1 and counts[KPIStatus.off_track] == 1
    assert krabi.budget_thb == 1_650_000
    assert krabi.spent_thb == 520_000  # the newest check-in's figure, not the sum
    assert krabi.action_counts["delayed"] == 1 and krabi.action_counts["on_track"] == 1
    assert krabi.completeness == 4 / 6  # vision, KRAs, KPIs, actions but no DOE or problems
    assert krabi.last_update is not None
    phuket = _row(view, "phuket")
    assert phuket.budget_thb == 900_000 and phuket.status_counts[KPIStatus.no_data] == 2
    assert _row(view, "trat").plan is None
    assert view.totals["budget_thb"] == 2_550_000


def test_a_theme_or_aspect_counts_only_its_kras_kpis_and_actions(session: Session) -> None:
    _krabi(session)
    by_theme = review.review_view(session, ADMIN, review.Filters(theme="innovation_development"))
    krabi = _row(by_theme, "krabi")
    assert [k.code for k in krabi.kras] == ["KRA2"]
    assert [r.kpi.code for r in krabi.kpis] == ["KPI2"]
    assert [a.code for a in krabi.actions] == ["ACT2"] and krabi.budget_thb == 1_200_000
    by_aspect = review.review_view(session, ADMIN, review.Filters(aspect="LP"))
    krabi = _row(by_aspect, "krabi")
    assert [a.code for a in krabi.actions] == ["ACT1"]  # serves KPI1, which serves KRA1 (LP)


def test_the_heatmap_counts_actions_kpis_or_budget_per_aspect_or_theme(session: Session) -> None:
    _krabi(session)
    view = review.review_view(session, ADMIN, review.Filters())
    aspects = {c.code: c.id for c in view.columns}
    assert _row(view, "krabi").heat == {aspects["LP"]: 1, aspects["IC"]: 1}
    view = review.review_view(session, ADMIN, review.Filters(heat="theme", measure="budget"))
    themes = {c.code: c.id for c in view.columns}
    heat = _row(view, "krabi").heat
    assert heat == {themes["learner_quality"]: 450_000, themes["innovation_development"]: 1_200_000}
    assert view.heat_level(1_200_000) == 5 and view.heat_level(0) == 0


def test_a_year_judges_each_kpi_at_the_end_of_that_year(session: Session) -> None:
    plan = _krabi(session)
    kpi1 = next(k for k in plan_kpis(session, plan) if k.code == "KPI1")
    _value(session, plan, kpi1, "AY2567", "40")  # fell far behind in the next year
    latest = _row(review.review_view(session, ADMIN, review.Filters()), "krabi")
    assert latest.status_of(kpi1.id) == KPIStatus.off_track
    then = _row(review.review_view(session, ADMIN, review.Filters(year="AY2566")), "krabi")
    assert then.status_of(kpi1.id) == KPIStatus.on_track


def plan_kpis(session: Session, plan):  # noqa: ANN001, ANN201
    from sqlmodel import select

    from app.models import KPI

    return session.exec(select(KPI).where(KPI.plan_id == plan.id)).all()


def test_the_page_links_every_figure_to_the_area(client: TestClient, session: Session) -> None:
    _krabi(session)
    page = client.get("/review")
    assert page.status_code == 200
    row = re.search(r'<tr id="review-krabi">(.*?)</tr>', page.text, re.S).group(1)
    assert "กระบี่" in row
    assert 'href="/areas/krabi/plan">67%</a>' in row
    assert 'href="/areas/krabi/progress#actions-progress">' in row
    assert "1,650,000" in row and "520,000" in row
    assert 'id="review-trat"' in page.text  # areas without a plan are listed too


def test_kpis_measuring_no_common_indicator_are_counted_per_area_with_a_link_to_map_them(
    client: TestClient, session: Session
) -> None:
    """77 provinces' KPIs listed one by one made the review slow to draw and long to scroll: it
    counts them per area, and each area opens its list on the page where they are mapped."""
    _krabi(session)  # KPI1 and KPI2, neither measures a common indicator
    phuket = f.make_plan(session, "phuket")
    f.make_kpi(session, phuket, "KPI1")
    html = client.get("/review?group=all").text
    unmapped = re.search(r'<details class="unmapped">(.*?)</details>', html, re.S).group(1)
    assert "ตัวชี้วัด 3 ตัวยังไม่ได้เทียบกับตัวชี้วัดกลาง" in unmapped
    krabi = re.search(r'<li><a href="/indicators/unmapped#unmapped-krabi">(.*?)</li>', unmapped)
    assert krabi and "กระบี่" in krabi.group(1) and "2 ตัวชี้วัด" in krabi.group(1)
    assert 'href="/indicators/unmapped#unmapped-phuket"' in unmapped
    assert "KPI1" not in unmapped  # the KPIs themselves are on the linked page
    assert 'id="unmapped-krabi"' in client.get("/indicators/unmapped").text


def test_filters_live_in_the_url(client: TestClient, session: Session) -> None:
    _krabi(session)
    page = client.get("/review?group=all&cohort=2562&year=AY2566")
    assert page.status_code == 200
    assert 'id="review-satun"' in page.text and 'id="review-krabi"' not in page.text
    assert '<option value="AY2566" selected>' in page.text
    assert '<option value="2562" selected>' in page.text
    # the heatmap's own form carries the other filters along
    assert '<input type="hidden" name="year" value="AY2566">' in page.text
    # and so do the reports of the same areas
    assert 'href="/review/export.xlsx?group=all&amp;cohort=2562&amp;year=AY2566"' in page.text


def test_a_bad_filter_is_refused_beside_its_field_and_the_rest_kept(
    client: TestClient, session: Session
) -> None:
    _krabi(session)
    page = client.get("/review?year=AY25&theme=innovation_development&group=nowhere")
    assert page.status_code == 422
    assert 'id="review-year-error"' in page.text and 'id="review-group-error"' in page.text
    assert '<option value="innovation_development" selected>' in page.text
    assert 'id="review-krabi"' in page.text  # the page still shows the areas


def test_a_reader_sees_only_the_areas_they_may_read(
    app_client,
    session: Session,  # noqa: ANN001
) -> None:
    _krabi(session)
    f.make_full_plan(session, "phuket", kras=1)
    viewer = sign_in(app_client(), session, f.make_user(session, "viewer", "phuket"))
    page = viewer.get("/review")
    assert page.status_code == 200
    assert 'id="review-phuket"' in page.text
    assert 'id="review-krabi"' not in page.text and "กระบี่" not in page.text
    everything = viewer.get("/review?group=all")
    assert 'id="review-krabi"' not in everything.text
