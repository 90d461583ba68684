"""The Mae Hong Son demo: the province of the Outcome Mapping work loads with values over past
periods, its DE records (a reflection, key developments, emergent outcomes, boundary partners
rated each semester) and the World Café round of the DE workshop, dated when it happened."""

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.i18n import THAI_TZ
from app.models import (
    KPI,
    Area,
    AuditEvent,
    BoundaryPartner,
    Contribution,
    EmergentOutcome,
    KeyDevelopment,
    Measurement,
    Plan,
    ProgressMarker,
    ProgressMarkerRating,
    Reflection,
    Resource,
    WorkshopSession,
)
from app.services import seeding

COMPUTED = {"KPI1", "KPI5"}  # from the shared data (app/services/demo_shared_data.py)


def _load(session: Session) -> Area:
    area = session.exec(select(Area).where(Area.slug == "mae-hong-son")).one()
    data = seeding.load_yaml(seeding.SEEDS / "demo" / "mae-hong-son.yaml")
    seeding.load_demo_plan(session, area, data)
    return area


def _count(session: Session, model: type, area: Area) -> int:
    query = select(func.count()).select_from(model).where(model.area_id == area.id)
    return session.exec(query).one()


def test_every_kpi_has_values_over_past_periods(session: Session) -> None:
    area = _load(session)
    plan = session.exec(select(Plan).where(Plan.area_id == area.id)).one()
    kpis = session.exec(select(KPI).where(KPI.plan_id == plan.id)).all()
    values = session.exec(
        select(Measurement).where(col(Measurement.kpi_id).in_([k.id for k in kpis]))
    ).all()
    by_kpi = {k.code: [v for v in values if v.kpi_id == k.id] for k in kpis}
    assert all(len(rows) >= 2 for rows in by_kpi.values()), {c: len(r) for c, r in by_kpi.items()}
    assert {r.source for code in COMPUTED for r in by_kpi[code]} == {"computed"}
    onet = {r.period: r for r in by_kpi["KPI4"]}
    assert onet["AY2568"].n_measured == 1598 and "สมัครใจ" in onet["AY2568"].note
    quarters = sorted((r.period, r.value) for r in by_kpi["KPI7"])
    assert quarters[0] == ("FY2567-Q2", 140) and quarters[-1] == ("FY2569-Q4", 918)
    # in the history, entered some weeks after its period ended, not on the day of loading
    value = next(r for r in by_kpi["KPI6"] if r.period == "AY2566")
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "measurement", AuditEvent.entity_id == value.id
        )
    ).first()
    assert event.at.astimezone(THAI_TZ).date() == date(2024, 6, 29)  # AY2566 ended 15 May


def test_the_de_records_and_the_outcome_mapping_load(session: Session) -> None:
    area = _load(session)
    assert _count(session, Reflection, area) == 1
    assert _count(session, KeyDevelopment, area) == 4
    assert _count(session, EmergentOutcome, area) == 2
    assert _count(session, BoundaryPartner, area) == 3
    ratings = session.exec(
        select(func.count())
        .select_from(ProgressMarkerRating)
        .join(ProgressMarker, col(ProgressMarker.id) == col(ProgressMarkerRating.marker_id))
        .join(BoundaryPartner, col(BoundaryPartner.id) == col(ProgressMarker.partner_id))
        .where(BoundaryPartner.area_id == area.id)
    ).one()
    assert ratings >= 40


def test_the_workshop_round_is_dated_at_the_de_workshop(
    session: Session, client: TestClient
) -> None:
    area = _load(session)
    workshop = session.exec(select(WorkshopSession).where(WorkshopSession.area_id == area.id)).one()
    assert workshop.opened_at.astimezone(THAI_TZ).date() == date(2023, 6, 15)
    assert workshop.closed_at is not None and workshop.closed_at > workshop.opened_at
    posts = session.exec(select(Contribution).where(Contribution.session_id == workshop.id)).all()
    assert len(posts) == 14
    assert {p.kind for p in posts} >= {"doe_statement", "problem", "vision_phrase", "kra_idea"}
    (cause,) = [p.detail for p in posts if p.detail]  # a problem sent with its cause
    assert "หอพัก" in cause
    assert {p.created_at.astimezone(THAI_TZ).date() for p in posts} == {date(2023, 6, 15)}
    accepted = [p for p in posts if p.state == "accepted" and p.kind == "resource"]
    assert len(accepted) == 3
    assert all(session.get(Resource, p.accepted_id) for p in accepted)
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.area_id == area.id, AuditEvent.entity_type == "workshop_session"
        )
    ).all()
    assert events and {e.at.astimezone(THAI_TZ).date() for e in events} == {date(2023, 6, 15)}
    page = client.get(f"/areas/mae-hong-son/workshops/{workshop.id}").text
    assert "15 มิ.ย. 2566" in page
