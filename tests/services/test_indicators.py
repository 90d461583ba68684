"""The common-indicator library: writes with their audit trail, what may not change while KPIs
map to an indicator, mapping a KPI, and the read models (library, comparison, unmapped KPIs)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.i18n import set_locale
from app.models import KPI, Area, AuditEvent, CommonIndicator, Plan
from app.models.enums import KPIStatus
from app.services import accounts, indicators, plans, progress
from app.services.access import ANONYMOUS
from app.services.errors import Conflict, ValidationFailed
from tests import factories as f
from tests.conftest import QueryCounter

TODAY = date(2026, 1, 15)
NEW = {
    "code": "onet-p6-math-mean",
    "name_th": "คะแนนเฉลี่ย O-NET ป.6 วิชาคณิตศาสตร์",
    "name_en": "O-NET P6 mathematics mean score",
    "unit": "คะแนน",
    "kind": "mean",
    "direction": "higher",
    "period_type": "academic_year",
    "data_source": "สทศ.",
    "needs_count": "on",
}


@contextmanager
def kept_library(engine: Engine) -> Iterator[None]:
    """The library is reference data that outlives a test: put it back as it was."""
    with Session(engine) as s:
        saved = {i.id: i.model_dump() for i in s.exec(select(CommonIndicator)).all()}
    yield
    with Session(engine) as s:
        for row in s.exec(select(CommonIndicator)).all():
            if row.id in saved:
                for name, value in saved[row.id].items():
                    setattr(row, name, value)
                s.add(row)
            else:
                s.exec(update(KPI).where(KPI.indicator_id == row.id).values(indicator_id=None))
                s.delete(row)
        s.commit()


@pytest.fixture(autouse=True)
def _library(engine: Engine) -> Iterator[None]:
    with kept_library(engine):
        yield


def indicator(session: Session, code: str = "p1-reading-good") -> CommonIndicator:
    return indicators.get_indicator(session, code)


def _events(session: Session, entity_type: str = "common_indicator") -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.entity_type == entity_type)
    return list(session.exec(query.order_by(AuditEvent.id)).all())


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(CommonIndicator)).one()


def mapped_kpi(
    session: Session,
    slug: str,
    code: str = "p1-reading-good",
    first_year: int = 2566,
    **values: object,
) -> KPI:
    plan = f.make_plan(session, slug, span_start_be=first_year)
    return f.make_kpi(session, plan, indicator_id=indicator(session, code).id, **values)


def measure(session: Session, kpi: KPI, period: str, value: str, n: str = "") -> None:
    plan = session.get(Plan, kpi.plan_id)
    progress.save_measurement(
        session,
        actor=f.ACTOR,
        plan=plan,
        kpi_id=kpi.id,
        period=period,
        details_in={"value": value, "n_measured": n},
    )


# ---- writes ---------------------------------------------------------------------------------


def test_create_change_retire_and_reactivate_are_each_audited(session: Session) -> None:
    made = indicators.create_indicator(session, actor=f.ACTOR, indicator_in=NEW)
    assert (made.code, made.kind, made.needs_count, made.is_active) == (
        "onet-p6-math-mean",
        "mean",
        True,
        True,
    )
    assert made.position > indicator(session).position  # added at the end of the library
    changed = indicators.update_indicator(
        session,
        actor=f.ACTOR,
        indicator=made,
        indicator_in={**NEW, "unit": "คะแนนเฉลี่ย", "needs_count": ""},
        expected_version=1,
    )
    assert (changed.unit, changed.needs_count, changed.version) == ("คะแนนเฉลี่ย", False, 2)
    indicators.retire(session, actor=f.ACTOR, indicator=made, expected_version=2)
    assert not session.get(CommonIndicator, made.id).is_active
    indicators.reactivate(session, actor=f.ACTOR, indicator=made)
    assert session.get(CommonIndicator, made.id).is_active
    events = _events(session)
    assert [(e.op, e.entity_id, e.area_id) for e in events] == [
        ("create", made.id, None),
        ("update", made.id, None),
        ("update", made.id, None),
        ("update", made.id, None),
    ]
    assert events[1].before["unit"] == "คะแนน" and events[1].after["unit"] == "คะแนนเฉลี่ย"
    assert events[2].after["is_active"] is False and events[3].after["is_active"] is True


def test_the_code_never_changes_and_saving_nothing_new_records_nothing(session: Session) -> None:
    p1 = indicator(session)
    before = len(_events(session))
    same = indicators.current_values(p1)
    indicators.update_indicator(
        session, actor=f.ACTOR, indicator=p1, indicator_in={**same, "code": "renamed"}
    )
    assert p1.code == "p1-reading-good" and p1.version == 1
    assert len(_events(session)) == before


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"code": "P1 Reading!"}, {"code"}),
        ({"code": "x"}, {"code"}),
        ({"code": "p1-reading-good"}, {"code"}),  # taken
        ({"code": "unmapped"}, {"code"}),  # a page's address
        ({"name_th": " "}, {"name_th"}),
        ({"name_th": "อัตราการออกกลางคันของนักเรียนต่อ 100 คน"}, {"name_th"}),  # taken
        ({"kind": "percent", "period_type": "year"}, {"kind", "period_type"}),
        ({"direction": "sideways"}, {"direction"}),
        ({"theme_id": "999999"}, {"theme_id"}),
        ({"aspect_id": "abc"}, {"aspect_id"}),
        ({"aspect_id": "999999"}, {"aspect_id"}),
    ],
)
def test_invalid_input_is_refused_with_field_messages_and_writes_nothing(
    session: Session, changes: dict[str, str], fields: set[str]
) -> None:
    count, events = _count(session), len(_events(session))
    with pytest.raises(ValidationFailed) as caught:
        indicators.create_indicator(session, actor=f.ACTOR, indicator_in={**NEW, **changes})
    assert set(caught.value.errors) == fields
    assert (_count(session), len(_events(session))) == (count, events)


def test_a_stale_version_is_a_conflict(session: Session) -> None:
    p1 = indicator(session)
    indicators.update_indicator(
        session,
        actor=f.ACTOR,
        indicator=p1,
        indicator_in={"unit": "ร้อยละ"},
        partial=True,
    )
    with pytest.raises(Conflict) as caught:
        indicators.update_indicator(
            session,
            actor=f.ACTOR,
            indicator=p1,
            indicator_in={"unit": "%"},
            expected_version=1,
            partial=True,
        )
    assert caught.value.current["unit"] == "ร้อยละ"
    with pytest.raises(Conflict):
        indicators.retire(session, actor=f.ACTOR, indicator=p1, expected_version=1)
    assert p1.is_active


def test_kind_and_period_type_stay_while_kpis_measure_the_indicator(session: Session) -> None:
    kpi = mapped_kpi(session, "krabi")
    p1 = indicator(session)
    for change in ({"kind": "mean"}, {"period_type": "semester"}):
        with pytest.raises(ValidationFailed) as caught:
            indicators.update_indicator(
                session, actor=f.ACTOR, indicator=p1, indicator_in=change, partial=True
            )
        (name,) = caught.value.errors
        assert name in change and caught.value.errors[name].params == {"num": 1}
    assert (p1.kind, p1.period_type, p1.version) == ("percentage", "academic_year", 1)
    indicators.update_indicator(  # other fields still change
        session, actor=f.ACTOR, indicator=p1, indicator_in={"unit": "ร้อยละ"}, partial=True
    )
    plan = session.get(Plan, kpi.plan_id)
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"indicator_id": ""},
        partial=True,
    )
    indicators.update_indicator(
        session, actor=f.ACTOR, indicator=p1, indicator_in={"kind": "mean"}, partial=True
    )
    assert p1.kind == "mean"


def test_only_administrators_and_reviewers_keep_the_library(session: Session) -> None:
    for role, area, allowed in (
        ("admin", None, True),
        ("reviewer", None, True),
        ("editor", "krabi", False),
        ("viewer", "krabi", False),
        ("facilitator", "krabi", False),
    ):
        user = f.make_user(session, role, area)
        principal = accounts.principal_for(session, user)
        assert indicators.can_edit_library(principal) is allowed, role
    assert not indicators.can_edit_library(ANONYMOUS)


# ---- mapping a KPI ------------------------------------------------------------------------------


def test_a_kpi_maps_only_to_an_indicator_of_its_kind_and_period_type(session: Session) -> None:
    plan = f.make_plan(session)
    out_of_school = indicator(session, "out-of-school-6-14")  # a count per academic year
    with pytest.raises(ValidationFailed) as caught:
        f.make_kpi(session, plan, indicator_id=out_of_school.id)  # a percentage
    assert set(caught.value.errors) == {"indicator_id"}
    assert caught.value.errors["indicator_id"].params["kind"] == "จำนวนนับ"
    kpi = f.make_kpi(session, plan, indicator_id=indicator(session).id)
    with pytest.raises(ValidationFailed) as caught:
        plans.update_element(
            session,
            actor=f.ACTOR,
            plan=plan,
            kind="kpis",
            element_id=kpi.id,
            element_in={"period_type": "semester", **_no_baseline()},
            partial=True,
        )
    assert set(caught.value.errors) == {"indicator_id"}
    assert session.get(KPI, kpi.id).period_type == "academic_year"


def test_a_retired_indicator_stays_on_its_kpis_but_takes_no_new_one(session: Session) -> None:
    kpi = mapped_kpi(session, "krabi")
    p1 = indicator(session)
    indicators.retire(session, actor=f.ACTOR, indicator=p1)
    plan = session.get(Plan, kpi.plan_id)
    plans.update_element(  # editing the KPI keeps its retired indicator
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in={"name": "ร้อยละนักเรียน ป.1 อ่านคล่อง"},
        partial=True,
    )
    assert session.get(KPI, kpi.id).indicator_id == p1.id
    with pytest.raises(ValidationFailed) as caught:
        f.make_kpi(session, plan, "KPI2", indicator_id=p1.id)
    assert set(caught.value.errors) == {"indicator_id"}


# ---- read models --------------------------------------------------------------------------


def test_the_library_counts_mapped_kpis_and_areas_of_current_plans(session: Session) -> None:
    krabi = mapped_kpi(session, "krabi")
    krabi_plan = session.get(Plan, krabi.plan_id)
    f.make_kpi(session, krabi_plan, "KPI2", indicator_id=indicator(session).id)
    mapped_kpi(session, "phuket")
    old = f.make_plan(session, "trat")  # trat's older plan: not counted
    f.make_kpi(session, old, indicator_id=indicator(session).id)
    f.make_plan(session, "trat", title="แผนตราด ฉบับปรับปรุง")
    rows = {r.indicator.code: r for r in indicators.library(session)}
    assert list(rows)[:2] == ["p1-reading-good", "out-of-school-6-14"]  # the library's order
    assert (rows["p1-reading-good"].kpis, rows["p1-reading-good"].areas) == (3, 2)
    assert (rows["dropout-rate"].kpis, rows["dropout-rate"].areas) == (0, 0)
    mine = {r.indicator.code: r for r in indicators.library(session, {f.area(session).id})}
    assert (mine["p1-reading-good"].kpis, mine["p1-reading-good"].areas) == (2, 1)


def _areas(session: Session, *slugs: str) -> list[Area]:
    return [f.area(session, slug) for slug in slugs]


def test_the_comparison_shows_the_stored_values_by_area_and_period(session: Session) -> None:
    krabi = mapped_kpi(session, "krabi", code="onet-p6-thai-mean", kind="mean", **_no_baseline())
    phuket = mapped_kpi(  # a plan that began a year earlier, so it has a value for AY2565
        session, "phuket", code="onet-p6-thai-mean", first_year=2565, kind="mean", **_no_baseline()
    )
    f.make_plan(session, "trat")  # a plan without the indicator
    measure(session, krabi, "AY2566", "38.5", "1,204")
    measure(session, krabi, "AY2567", "41.2", "1,180")
    measure(session, phuket, "AY2565", "44.0")
    measure(session, phuket, "AY2567", "46.75", "2,310")
    onet = indicator(session, "onet-p6-thai-mean")
    areas = _areas(session, "phuket", "krabi", "trat", "chanthaburi")
    view = indicators.comparison(session, onet, areas, TODAY)
    assert view.periods == ["AY2565", "AY2566", "AY2567"]
    assert [(line.area.slug, line.kpi.id) for line in view.lines] == [
        ("phuket", phuket.id),
        ("krabi", krabi.id),
    ]
    assert [a.slug for a in view.without] == ["trat", "chanthaburi"]
    values = {
        (line.area.slug, p): (m.value, m.n_measured)
        for line in view.lines
        for p in view.periods
        if (m := line.value(p))
    }
    assert values == {
        ("phuket", "AY2565"): (44.0, None),
        ("phuket", "AY2567"): (46.75, 2310),
        ("krabi", "AY2566"): (38.5, 1204),
        ("krabi", "AY2567"): (41.2, 1180),
    }
    set_locale("th")
    figure = view.figure()
    assert [t["name"] for t in figure["data"]] == ["ภูเก็ต", "กระบี่"]
    assert figure["data"][0]["y"] == [44.0, None, 46.75]
    assert figure["data"][1]["y"] == [None, 38.5, 41.2]
    assert figure["data"][0]["x"] == ["ปีการศึกษา 2565", "ปีการศึกษา 2566", "ปีการศึกษา 2567"]
    assert "1,180" in figure["data"][1]["text"][2]  # how many were tested, on hover
    assert figure["layout"]["yaxis"]["title"]["text"] == "คะแนน"


def _no_baseline() -> dict[str, str]:
    return {"baseline_value": "", "baseline_period": "", "target_value": "", "target_period": ""}


def test_statuses_follow_each_areas_own_targets(session: Session) -> None:
    kpi = mapped_kpi(session, "krabi", code="dropout-rate", kind="rate", direction="lower")
    kpi_values = {"baseline_value": "3.4", "target_value": "2", "tolerance": "0.3"}
    plan = session.get(Plan, kpi.plan_id)
    plans.update_element(
        session,
        actor=f.ACTOR,
        plan=plan,
        kind="kpis",
        element_id=kpi.id,
        element_in=kpi_values,
        partial=True,
    )
    for period, value in (("AY2566", "3.0"), ("AY2568", "4.1")):
        measure(session, kpi, period, value)
    dropout = indicator(session, "dropout-rate")
    view = indicators.comparison(session, dropout, _areas(session, "krabi"), TODAY)
    (line,) = view.lines
    expected = progress.kpi_rows(session, plan, [session.get(KPI, kpi.id)], TODAY)[kpi.id]
    assert {p: line.status(p) for p in view.periods} == {
        p: expected.judgements[p].status for p in view.periods
    }
    assert line.status("AY2568") == KPIStatus.off_track
    set_locale("en")
    assert view.figure()["layout"]["yaxis"]["title"]["text"] == "ต่อ 100 คน (lower is better)"
    set_locale("th")


def test_the_comparison_reads_a_fixed_number_of_queries(
    session: Session, count_queries: QueryCounter
) -> None:
    p1 = indicator(session)

    def queries(slugs: tuple[str, ...], lines: int) -> int:
        areas = _areas(session, *slugs)
        count_queries.count = 0
        view = indicators.comparison(session, p1, areas, TODAY)
        assert len(view.lines) == lines
        return count_queries.count

    krabi = mapped_kpi(session, "krabi")
    measure(session, krabi, "AY2566", "63")
    small = queries(("krabi",), 1)
    for slug in ("phuket", "trat", "sa-kaeo"):
        kpi = mapped_kpi(session, slug, first_year=2565)
        plan = session.get(Plan, kpi.plan_id)
        f.make_kpi(session, plan, "KPI2", indicator_id=p1.id)
        for period, value in (("AY2565", "60"), ("AY2566", "62"), ("AY2567", "65")):
            measure(session, kpi, period, value)
    assert queries(("krabi", "phuket", "trat", "sa-kaeo"), 7) == small == 4


def test_unmapped_kpis_of_current_plans_by_area_then_position(session: Session) -> None:
    krabi = f.make_plan(session, "krabi")
    k2 = f.make_kpi(session, krabi, "KPI2")
    k1 = f.make_kpi(session, krabi, "KPI1", indicator_id=indicator(session).id)
    k3 = f.make_kpi(session, krabi, "KPI3")
    phuket = f.make_plan(session, "phuket")
    p1 = f.make_kpi(session, phuket, "KPI1")
    old = f.make_plan(session, "trat")
    f.make_kpi(session, old)  # superseded below: not listed
    f.make_plan(session, "trat", title="แผนตราด ฉบับปรับปรุง")
    areas = _areas(session, "phuket", "krabi", "trat")
    pairs = indicators.unmapped_kpis(session, areas)
    assert [(a.slug, k.id) for a, k in pairs] == [
        ("phuket", p1.id),
        ("krabi", k2.id),
        ("krabi", k3.id),
    ]
    assert k1.id not in {k.id for _, k in pairs}
    assert indicators.unmapped_kpis(session, _areas(session, "krabi"))[0][1].id == k2.id
    assert indicators.unmapped_kpis(session, []) == []


def test_a_comparison_assembled_from_rows_already_read_is_the_same(session: Session) -> None:
    krabi = mapped_kpi(session, "krabi")
    phuket = mapped_kpi(session, "phuket")
    measure(session, krabi, "AY2566", "63")
    measure(session, phuket, "AY2567", "70.5")
    p1 = indicator(session)
    areas = _areas(session, "krabi", "phuket", "trat")
    read = indicators.comparison(session, p1, areas, TODAY)
    per_area = []
    for area, kpi in zip(areas, (krabi, phuket, None), strict=True):
        plan = session.get(Plan, kpi.plan_id) if kpi else None
        rows = progress.kpi_rows(session, plan, [kpi], TODAY)[kpi.id] if kpi else None
        per_area.append((area, [rows] if rows else []))
    made = indicators.assemble(p1, per_area)
    assert made.periods == read.periods == ["AY2566", "AY2567"]
    assert [(x.area.slug, x.kpi.id) for x in made.lines] == [
        (x.area.slug, x.kpi.id) for x in read.lines
    ]
    assert [a.slug for a in made.without] == ["trat"]
    assert made.figure() == read.figure()
