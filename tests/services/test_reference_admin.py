"""Reference data kept in the app: areas and their status history, agencies, strategy themes
and the DOE framework's versions. Changes that would orphan plan data are refused (409) with
the list of what depends on them, and nothing changes."""

from datetime import date

import pytest
from sqlmodel import Session, func, select

from app.models import (
    Area,
    AuditEvent,
    DOEAspect,
    DOEItem,
    DOEStatementItem,
    KRADOEItem,
    StrategyTheme,
)
from app.services import reference_admin as ref
from app.services import seeding
from app.services.errors import Conflict, ValidationFailed
from app.services.reference import current_framework
from tests import factories as f
from tests.reference_reset import reference_reset  # noqa: F401

pytestmark = pytest.mark.usefixtures("reference_reset")

KHON_KAEN = {
    "slug": "khon-kaen",
    "iso_code": "th-40",
    "name_th": "ขอนแก่น",
    "name_en": "Khon Kaen",
    "cohort": "2567",
    "programme": "area_based_education",
    "pilot_schools": "๑๒",
    "status": "designated",
    "changed_on": "9/5/2567",
    "instrument": "ราชกิจจานุเบกษา 9 พ.ค. 2567",
}


def _events(session: Session, entity_type: str) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id)
        ).all()
    )


def test_an_area_of_another_programme_is_added_with_its_first_status(session: Session) -> None:
    area = ref.create_area(session, actor=f.ACTOR, area_in=KHON_KAEN)
    assert (area.slug, area.iso_code, area.programme) == (
        "khon-kaen",
        "TH-40",
        "area_based_education",
    )
    assert area.pilot_schools == 12 and area.status == "designated"
    assert area.designated_on == date(2024, 5, 9)  # the overview's "designated on"
    [first] = ref.status_history(session, [area.id])[area.id]
    assert (first.changed_on, first.instrument) == (date(2024, 5, 9), "ราชกิจจานุเบกษา 9 พ.ค. 2567")
    assert [e.op for e in _events(session, "area")] == ["create"]
    assert len(_events(session, "area_status_change")) == 1


def test_a_taken_slug_or_bad_input_is_refused_beside_the_field(session: Session) -> None:
    with pytest.raises(ValidationFailed) as exc:
        ref.create_area(
            session,
            actor=f.ACTOR,
            area_in={**KHON_KAEN, "slug": "krabi", "programme": "x", "pilot_schools": "-1"},
        )
    assert set(exc.value.errors) == {"slug", "programme", "pilot_schools"}
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 0


def test_the_status_is_the_latest_entry_by_date_whatever_order_they_are_entered(
    session: Session,
) -> None:
    area = ref.create_area(
        session,
        actor=f.ACTOR,
        area_in={**KHON_KAEN, "status": "prospective", "changed_on": "2023-01-10"},
    )
    ref.add_status_change(
        session,
        actor=f.ACTOR,
        area=area,
        status_in={"status": "active", "changed_on": "2025-06-01", "instrument": "ประกาศ"},
    )
    ref.add_status_change(  # entered late, dated before the last one
        session,
        actor=f.ACTOR,
        area=area,
        status_in={
            "status": "designated",
            "changed_on": "2024-05-09",
            "instrument": "ราชกิจจานุเบกษา",
        },
    )
    history = ref.status_history(session, [area.id])[area.id]
    assert [h.status for h in history] == ["prospective", "designated", "active"]
    assert area.status == "active"
    ref.add_status_change(
        session,
        actor=f.ACTOR,
        area=area,
        status_in={"status": "withdrawn", "changed_on": "2026-01-05", "instrument": ""},
    )
    assert area.status == "withdrawn"


def test_reseeding_keeps_what_administrators_added(session: Session) -> None:
    krabi = f.area(session, "krabi")
    ref.add_status_change(
        session,
        actor=f.ACTOR,
        area=krabi,
        status_in={"status": "withdrawn", "changed_on": "2026-03-01", "instrument": "มติ"},
    )
    ref.create_area(session, actor=f.ACTOR, area_in=KHON_KAEN)
    seeding.seed_reference(session)
    session.refresh(krabi)
    assert krabi.status == "withdrawn"
    statuses = [h.status for h in ref.status_history(session, [krabi.id])[krabi.id]]
    assert statuses == ["active", "withdrawn"]
    assert ref.get_area(session, session.exec(select(func.max(Area.id))).one()).slug == "khon-kaen"


def test_an_agency_that_kpis_name_cannot_be_deleted_or_moved(session: Session) -> None:
    plan = f.make_plan(session, "krabi")
    esa = f.agency(session, "krabi")
    f.make_kpi(session, plan, lead_agency_id=esa.id)
    with pytest.raises(Conflict) as exc:
        ref.delete_agency(session, actor=f.ACTOR, agency=esa)
    assert [(d.table, d.column, d.count) for d in exc.value.dependants] == [
        ("kpi", "lead_agency_id", 1)
    ]
    values = {
        "area_id": str(f.area(session, "trat").id),
        "code": esa.code,
        "name_th": esa.name_th,
        "type_id": str(esa.type_id),
    }
    with pytest.raises(Conflict):
        ref.update_agency(session, actor=f.ACTOR, agency=esa, agency_in=values, version=esa.version)
    session.rollback()
    session.refresh(esa)
    assert esa.area_id == f.area(session, "krabi").id
    assert _events(session, "agency") == []


def test_a_province_has_as_many_esa_offices_as_it_really_has(session: Session) -> None:
    krabi = f.area(session, "krabi")
    esa = f.agency(session, "krabi")
    second = ref.create_agency(
        session,
        actor=f.ACTOR,
        agency_in={
            "area_id": str(krabi.id),
            "code": "esa-primary-2",
            "name_th": "สำนักงานเขตพื้นที่การศึกษาประถมศึกษากระบี่ เขต 2",
            "type_id": str(esa.type_id),
        },
    )
    assert second.area_id == krabi.id
    with pytest.raises(ValidationFailed) as exc:
        ref.create_agency(
            session,
            actor=f.ACTOR,
            agency_in={
                "area_id": str(krabi.id),
                "code": "esa-primary-2",
                "name_th": "ซ้ำ",
                "type_id": str(esa.type_id),
            },
        )
    assert set(exc.value.errors) == {"code"}
    ref.update_agency(
        session,
        actor=f.ACTOR,
        agency=second,
        agency_in={
            "area_id": str(krabi.id),
            "code": "esa-primary-2",
            "name_th": "สพป.กระบี่ เขต 2",
            "type_id": str(esa.type_id),
        },
        version=1,
    )
    with pytest.raises(Conflict):  # a second save from the same old page
        ref.update_agency(
            session,
            actor=f.ACTOR,
            agency=second,
            agency_in={
                "area_id": str(krabi.id),
                "code": "esa-primary-2",
                "name_th": "อื่น",
                "type_id": str(esa.type_id),
            },
            version=1,
        )
    ref.delete_agency(session, actor=f.ACTOR, agency=second)  # unused: goes
    assert [e.op for e in _events(session, "agency")] == ["create", "update", "delete"]


def test_themes_are_added_renamed_reordered_and_a_used_one_is_kept(session: Session) -> None:
    last = ref.list_themes(session)[-1].code
    theme = ref.create_theme(
        session,
        actor=f.ACTOR,
        theme_in={"code": "digital", "name_th": "การเรียนรู้ดิจิทัล", "name_en": "Digital learning"},
    )
    ref.rename_theme(
        session, actor=f.ACTOR, theme=theme, theme_in={"name_th": "ดิจิทัล", "name_en": "Digital"}
    )
    ref.move_theme(session, actor=f.ACTOR, theme=theme, step=-1)
    codes = [t.code for t in ref.list_themes(session)]
    assert codes[-2:] == ["digital", last]
    plan = f.make_plan(session, "krabi")
    f.make_kra(session, plan, theme_id=theme.id)
    with pytest.raises(Conflict) as exc:
        ref.delete_theme(session, actor=f.ACTOR, theme=theme)
    assert [(d.table, d.count) for d in exc.value.dependants] == [("key_result_area", 1)]
    assert session.get(StrategyTheme, theme.id).name_th == "ดิจิทัล"


def test_a_new_doe_version_is_a_draft_copy_that_takes_over_the_plans_citations(
    session: Session,
) -> None:
    plan = f.make_plan(session, "krabi")
    lp1 = f.doe_item(session, "LP1")
    kra = f.make_kra(session, plan, doe_item_ids=[lp1.id])
    current = current_framework(session)
    draft = ref.new_version(session, actor=f.ACTOR, framework=current)
    assert (draft.version, draft.is_current) == (current.version + 1, False)
    view = ref.framework_view(session, draft)
    assert [a.code for a in view.aspects] == [
        a.code for a in ref.framework_view(session, current).aspects
    ]
    with pytest.raises(Conflict):  # the current version is not edited in place
        ref.update_item(
            session,
            actor=f.ACTOR,
            item=lp1,
            item_in={"code": "LP1", "name_th": "x", "name_en": "x"},
        )
    new_lp1 = next(i for i in view.items[view.aspects[0].id] if i.code == "LP1")
    ref.update_item(
        session,
        actor=f.ACTOR,
        item=new_lp1,
        item_in={"code": "LP1", "name_th": "มีความรู้พื้นฐาน", "name_en": "Foundations"},
    )
    ref.make_current(session, actor=f.ACTOR, framework=draft)
    assert current_framework(session).id == draft.id
    cited = session.exec(select(KRADOEItem.item_id).where(KRADOEItem.kra_id == kra.id)).all()
    assert cited == [new_lp1.id]


def test_a_cited_item_is_not_deleted_and_the_refusal_names_the_plans(session: Session) -> None:
    current = current_framework(session)
    draft = ref.new_version(session, actor=f.ACTOR, framework=current)
    ref.make_current(session, actor=f.ACTOR, framework=draft)
    plan = f.make_plan(session, "krabi", title="แผนกระบี่ 2567")
    item = session.exec(
        select(DOEItem)
        .join(DOEAspect)
        .where(DOEAspect.framework_id == draft.id, DOEItem.code == "IC2")
    ).one()
    f.make(session, plan, "doe", text="เด็กกระบี่ใช้ดิจิทัลเป็น", item_ids=[item.id])
    with pytest.raises(Conflict) as exc:
        ref.delete_item(session, actor=f.ACTOR, item=item)
    assert exc.value.dependants[0].names == ("แผนกระบี่ 2567 (กระบี่)",)
    assert session.exec(select(func.count()).select_from(DOEStatementItem)).one() == 1


def test_confirming_an_item_records_who_and_when_and_an_edit_needs_it_again(
    session: Session,
) -> None:
    draft = ref.new_version(session, actor=f.ACTOR, framework=current_framework(session))
    item = ref.add_item(
        session,
        actor=f.ACTOR,
        aspect=ref.framework_view(session, draft).aspects[0],
        item_in={"code": "LP4", "name_th": "รู้เท่าทันสื่อ", "name_en": "Media literacy"},
    )
    assert item.confirmed_at is None
    ref.confirm_item(session, actor=f.ACTOR, item=item)
    assert item.confirmed_by == "tester" and item.confirmed_at is not None
    ref.update_item(
        session,
        actor=f.ACTOR,
        item=item,
        item_in={"code": "LP4", "name_th": "รู้เท่าทันสื่อดิจิทัล", "name_en": "Media literacy"},
    )
    assert item.confirmed_at is None
    assert [e.op for e in _events(session, "doe_item")] == ["create", "update", "update"]
