from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.i18n import thai_today
from app.models import (
    KPI,
    Agency,
    AgencyType,
    Area,
    AreaGroup,
    AreaGroupMember,
    AuditEvent,
    DOEAspect,
    DOEItem,
    KeyResultArea,
    Measurement,
    Plan,
    StrategyTheme,
    UnitMeasurement,
)
from app.services import seeding
from app.services.plan_tree import load_tree
from app.services.quality import findings


def _counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
        if table.name != "audit_event"
    }


def test_reference_seed_loads_the_twenty_areas_and_the_default_group(fresh_engine: Engine) -> None:
    with Session(fresh_engine) as session:
        seeding.seed_reference(session)
        assert session.exec(select(func.count()).select_from(Area)).one() == 20
        group = session.exec(select(AreaGroup).where(col(AreaGroup.is_default).is_(True))).one()
        assert group.slug == "de-workshop-2566"
        members = session.exec(
            select(Area.slug).join(AreaGroupMember).where(AreaGroupMember.group_id == group.id)
        ).all()
        assert sorted(members) == sorted(
            [
                "krabi",
                "chanthaburi",
                "trat",
                "phuket",
                "mae-hong-son",
                "songkhla",
                "sa-kaeo",
                "sukhothai",
                "surat-thani",
                "ubon-ratchathani",
                "buriram",
            ]
        )
        assert session.exec(select(DOEAspect.code).order_by(DOEAspect.position)).all() == [
            "LP",
            "IC",
            "AC",
        ]
        assert session.exec(select(func.count()).select_from(DOEItem)).one() == 10
        assert session.exec(select(func.count()).select_from(StrategyTheme)).one() == 9
        krabi = session.exec(select(Area).where(Area.slug == "krabi")).one()
        assert krabi.iso_code == "TH-81" and krabi.name_th == "กระบี่"
        esa = session.exec(
            select(Agency).where(Agency.area_id == krabi.id, Agency.code == "esa-primary-1")
        ).one()
        assert "กระบี่" in esa.name_th


def test_seeding_twice_changes_nothing(fresh_engine: Engine) -> None:
    with Session(fresh_engine) as session:
        first = seeding.seed_reference(session)
        assert first.created > 150
        loaded = seeding.seed_demo(session)
        before = _counts(session)
        again = seeding.seed_reference(session)
        assert (again.created, again.updated) == (0, 0)
        assert seeding.seed_demo(session) == []
        assert _counts(session) == before
        assert sorted(loaded) == ["krabi", "mae-hong-son", "phuket"]


def test_an_edited_seed_value_is_updated_in_place(fresh_engine: Engine, tmp_path) -> None:  # noqa: ANN001
    import shutil

    seeds = tmp_path / "seeds"
    shutil.copytree(seeding.SEEDS, seeds)
    path = seeds / "vocabularies.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("การพัฒนานวัตกรรม", "การพัฒนานวัตกรรมการศึกษา"),
        encoding="utf-8",
    )
    with Session(fresh_engine) as session:
        seeding.seed_reference(session)
        result = seeding.seed_reference(session, seeds)
        assert (result.created, result.updated) == (0, 1)
        theme = session.exec(
            select(StrategyTheme).where(StrategyTheme.code == "innovation_development")
        ).one()
        assert theme.name_th == "การพัฒนานวัตกรรมการศึกษา"


def test_demo_plans_are_marked_complete_and_audited(session: Session) -> None:
    seeding.seed_demo(session)
    plans = session.exec(select(Plan)).all()
    assert len(plans) == 3 and all(p.is_demo for p in plans)
    areas = {a.id: a for a in session.exec(select(Area)).all()}
    for plan in plans:
        tree = load_tree(session, plan, areas[plan.area_id])
        assert tree.doe and tree.problems and tree.plan.vision and tree.actions
        assert 3 <= len(tree.kras) <= 5 and len(tree.kpis) >= 8
        # each demo plan keeps exactly one deliberate gap for the checks to show
        assert len(findings(tree)) == 1
    kra_count = session.exec(select(func.count()).select_from(KeyResultArea)).one()
    audited = session.exec(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "kra")
    ).one()
    assert audited == kra_count


def test_seed_names_with_commas_are_kept_whole(session: Session) -> None:
    ac2 = session.exec(select(DOEItem).where(DOEItem.code == "AC2")).one()
    assert ac2.name_en == "Thai identity, local pride and democratic citizenship"
    ops = session.exec(select(Agency).where(Agency.code == "ops-moe")).one()
    assert ops.name_en == "Office of the Permanent Secretary, Ministry of Education"
    for path in seeding.SEEDS.glob("**/*.yaml"):
        assert _no_null_values(seeding.load_yaml(path)), path


def _no_null_values(data: object) -> bool:
    if isinstance(data, dict):
        return all(v is not None and _no_null_values(v) for v in data.values())
    if isinstance(data, list):
        return all(_no_null_values(v) for v in data)
    return True


def test_demo_progress_has_details_and_unit_values_rolled_up(session: Session) -> None:
    seeding.seed_demo(session)
    krabi = session.exec(select(Area).where(Area.slug == "krabi")).one()
    plan = session.exec(select(Plan).where(Plan.area_id == krabi.id)).one()

    def measured(code: str, period: str) -> Measurement:
        kpi = session.exec(select(KPI).where(KPI.plan_id == plan.id, KPI.code == code)).one()
        query = select(Measurement).where(Measurement.kpi_id == kpi.id)
        return session.exec(query.where(Measurement.period == period)).one()

    competence = measured("KPI3", "AY2568-S2")
    assert round(competence.value, 1) == 58.9 and competence.n_measured == 1646  # weighted
    units = session.exec(
        select(UnitMeasurement).where(UnitMeasurement.measurement_id == competence.id)
    ).all()
    assert sorted(u.value for u in units) == [55.1, 60.2]
    reading = measured("KPI4", "AY2568")
    assert reading.n_measured == 4210 and "RT" in reading.note


def test_the_demo_trail_replays_the_plan_as_drafted_and_its_later_changes(
    session: Session,
) -> None:
    from datetime import date

    from app.models import Area
    from app.services import maps
    from app.services.plan_tree import current_plans

    seeding.seed_demo(session)
    area = session.exec(select(Area).where(Area.slug == "krabi")).one()
    plan = current_plans(session, [area.id])[area.id]
    link = lambda layer, element_id: None  # noqa: E731
    drafted = maps.map_view(session, area, plan, link, as_of=date(2023, 6, 30))
    codes = {n.code for n in drafted.data.nodes}
    assert {"KRA1", "KPI5", "ACT12"} <= codes and "ACT11" not in codes  # ACT11 came in 2024
    assert "AY2566" in drafted.periods and "AY2567" not in drafted.periods  # not begun then

    view, differences = maps.compare_view(
        session, area, plan, link, date(2023, 6, 30), thai_today()
    )
    found = {(d.label.split()[0], d.change) for d in differences}
    assert {("ACT11", "added"), ("KPI5", "changed"), ("ACT12", "changed")} <= found
    kpi5 = next(d for d in differences if d.label.startswith("KPI5"))
    assert ("target_value", 40.0, 38.0) in kpi5.fields


def _agencies(session: Session, slug: str) -> dict[str, Agency]:
    area = session.exec(select(Area).where(Area.slug == slug)).one()
    rows = session.exec(select(Agency).where(Agency.area_id == area.id)).all()
    return {a.code: a for a in rows}


def test_each_province_gets_its_agencies_as_they_are(session: Session) -> None:
    krabi = _agencies(session, "krabi")
    assert "(สพป.กระบี่)" in krabi["esa-primary-1"].name_th  # one primary ESA: no เขต
    assert " เขต " not in krabi["esa-primary-1"].name_th and "esa-primary-2" not in krabi
    assert "(สพม.ตรัง กระบี่)" in krabi["esa-secondary"].name_th  # spans two provinces
    assert krabi["local-gov"].name_th.startswith("สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดกระบี่")
    mae_hong_son = _agencies(session, "mae-hong-son")
    assert "(สพป.แม่ฮ่องสอน เขต 2)" in mae_hong_son["esa-primary-2"].name_th
    assert "esa-primary-3" not in mae_hong_son
    assert mae_hong_son["esa-primary-2"].name_en.endswith("Service Area Office 2")
    bangkok = _agencies(session, "bangkok")
    assert not {"pao", "peo", "local-gov"} & bangkok.keys()  # no อบจ., no ศธจ.
    assert bangkok["bma"].name_th.startswith("กรุงเทพมหานคร")
    assert "(สพม.กรุงเทพมหานคร เขต 2)" in bangkok["esa-secondary-2"].name_th
    assert "จังหวัด" not in bangkok["learning-promotion"].name_th
    every_other = session.exec(select(Area).where(Area.slug != "bangkok")).all()
    with_local_gov = session.exec(select(Agency.area_id).where(Agency.code == "local-gov")).all()
    assert {a.id for a in every_other} == set(with_local_gov)


def test_the_seeded_names_and_dates_follow_their_sources(session: Session) -> None:
    from datetime import date

    ic = session.exec(select(DOEAspect).where(DOEAspect.code == "IC")).one()
    assert ic.name_th == "ผู้ร่วมสร้างสรรค์นวัตกรรม" and ic.name_en == "Innovative Co-creator"
    dates = {a.slug: a.designated_on for a in session.exec(select(Area)).all()}
    assert dates["phuket"] == dates["bangkok"] == date(2022, 11, 29)  # the Cabinet, 29 Nov 2022
    assert dates["buriram"] == date(2024, 3, 26)
    assert dates["satun"] == date(2019, 5, 1)  # the Act in force the day after 30 Apr 2019


def test_reseeding_an_older_database_puts_names_right_and_keeps_what_plans_use(
    fresh_engine: Engine,
) -> None:
    from datetime import date

    from tests import factories as f

    with Session(fresh_engine, expire_on_commit=False) as session:
        seeding.seed_reference(session)
        # the database as the older seeds left it
        krabi_esa = _agencies(session, "krabi")["esa-primary-1"]
        krabi_esa.name_th = "สำนักงานเขตพื้นที่การศึกษาประถมศึกษากระบี่ เขต 1 (สพป.)"
        session.add(krabi_esa)
        for code in ("local-gov",):
            session.delete(_agencies(session, "krabi")[code])
        bangkok = f.area(session, "bangkok")
        government = session.exec(select(AgencyType.id).where(AgencyType.code == "government"))
        type_id = government.one()
        for code, name in (
            ("pao", "องค์การบริหารส่วนจังหวัดกรุงเทพมหานคร (อบจ.)"),
            ("peo", "สำนักงานศึกษาธิการจังหวัดกรุงเทพมหานคร (ศธจ.)"),
        ):
            session.add(Agency(area_id=bangkok.id, code=code, name_th=name, type_id=type_id))
        ic = session.exec(select(DOEAspect).where(DOEAspect.code == "IC")).one()
        ic.name_th = "ผู้ร่วมสร้างนวัตกรรม"
        phuket = f.area(session, "phuket")
        phuket.designated_on = date(2022, 11, 1)
        session.add_all([ic, phuket])
        session.commit()
        krabi_plan = f.make_full_plan(session, "krabi", kras=1)
        bangkok_plan = f.make_plan(session, "bangkok")
        bangkok_pao = _agencies(session, "bangkok")["pao"]
        f.make_kpi(session, bangkok_plan, "KPI1", lead_agency_id=bangkok_pao.id)
        before = _counts(session)

        result = seeding.seed_reference(session)

        assert result.kept == ["bangkok/pao"] and result.removed == 1  # peo: nothing named it
        session.expire_all()
        krabi = _agencies(session, "krabi")
        assert krabi["esa-primary-1"].id == krabi_esa.id  # renamed in place
        assert "(สพป.กระบี่)" in krabi["esa-primary-1"].name_th
        assert "local-gov" in krabi
        kpi = session.exec(select(KPI).where(KPI.plan_id == krabi_plan.id)).one()
        assert kpi.lead_agency_id == krabi_esa.id
        bangkok_now = _agencies(session, "bangkok")
        assert "peo" not in bangkok_now and bangkok_now["pao"].id == bangkok_pao.id
        after = _counts(session)
        for table in ("plan", "kpi", "key_result_area", "action", "doe_statement", "kpi_co_owner"):
            assert after.get(table) == before.get(table), table
        assert session.get(DOEAspect, ic.id).name_th == "ผู้ร่วมสร้างสรรค์นวัตกรรม"
        assert f.area(session, "phuket").designated_on == date(2022, 11, 29)
        again = seeding.seed_reference(session)
        assert (again.created, again.updated, again.removed) == (0, 0, 0)
