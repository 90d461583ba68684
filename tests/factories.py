"""Build test data through the services, so audit rows exist as in real use."""

from typing import Any

from sqlmodel import Session, select

from app.models import (
    KPI,
    Action,
    Agency,
    Area,
    CategoryOption,
    CategorySet,
    Contribution,
    DataItem,
    DataItemCategorySet,
    DOEItem,
    KeyResultArea,
    OrgUnit,
    Plan,
    StrategyTheme,
    User,
    WorkshopParticipant,
    WorkshopSession,
)
from app.services import accounts, plans, workshops
from app.services.audit import Actor

ACTOR = Actor.process("tester")


def area(session: Session, slug: str = "krabi") -> Area:
    return session.exec(select(Area).where(Area.slug == slug)).one()


def agency(session: Session, area_slug: str, code: str = "esa-primary-1") -> Agency:
    a = area(session, area_slug)
    return session.exec(select(Agency).where(Agency.area_id == a.id, Agency.code == code)).one()


def doe_item(session: Session, code: str) -> DOEItem:
    return session.exec(select(DOEItem).where(DOEItem.code == code)).one()


def theme(session: Session, code: str = "learner_quality") -> StrategyTheme:
    return session.exec(select(StrategyTheme).where(StrategyTheme.code == code)).one()


def make_plan(session: Session, slug: str = "krabi", **overrides: Any) -> Plan:
    values = {
        "title": "แผนพื้นที่นวัตกรรมการศึกษา ทดสอบ",
        "span_start_be": 2566,
        "span_end_be": 2570,
        **overrides,
    }
    return plans.create_plan(session, actor=ACTOR, area=area(session, slug), plan_in=values)


def make(session: Session, plan: Plan, kind: str, /, **values: Any) -> Any:
    return plans.create_element(session, actor=ACTOR, plan=plan, kind=kind, element_in=values)


def make_kra(session: Session, plan: Plan, code: str = "KRA1", **values: Any) -> KeyResultArea:
    return make(
        session, plan, "kras", code=code, title=values.pop("title", f"ผลลัพธ์หลัก {code}"), **values
    )


def make_kpi(session: Session, plan: Plan, code: str = "KPI1", **values: Any) -> KPI:
    defaults = {
        "name": f"ร้อยละนักเรียน ป.1 อ่านออก ({code})",
        "kind": "percentage",
        "period_type": "academic_year",
        "baseline_value": "62.5",
        "baseline_period": "AY2565",
        "target_value": "75",
        "target_period": "AY2570",
    }
    return make(session, plan, "kpis", code=code, **{**defaults, **values})


def make_action(session: Session, plan: Plan, code: str = "ACT1", **values: Any) -> Action:
    defaults = {
        "title": f"พัฒนาครูด้านการอ่าน ({code})",
        "budget_thb": "450,000",
        "status": "on_track",
        "autonomy_domain": "academic",
    }
    return make(session, plan, "actions", code=code, **{**defaults, **values})


def make_full_plan(
    session: Session, slug: str = "krabi", kras: int = 3, *, problems: bool = True
) -> Plan:
    """A complete chain: one DOE statement, vision, per KRA one KPI and action, and a problem
    that motivates the KRAs with its cause addressed by the actions (without `problems`, a
    plan with no problem tree yet)."""
    plan = make_plan(session, slug, vision="ผู้เรียนเก่ง ดี มีสุข")
    lp1 = doe_item(session, "LP1").id
    make(session, plan, "doe", text="ผู้เรียนอ่านออกเขียนได้", item_ids=[lp1])
    lead = agency(session, slug).id
    kra_ids, action_ids = [], []
    for n in range(1, kras + 1):
        kra = make_kra(session, plan, f"KRA{n}", doe_item_ids=[lp1], theme_id=theme(session).id)
        kpi = make_kpi(
            session, plan, f"KPI{n}", kra_ids=[kra.id], lead_agency_id=lead, co_owner_ids=[lead]
        )
        action = make_action(
            session,
            plan,
            f"ACT{n}",
            kpi_ids=[kpi.id],
            kra_ids=[kra.id],
            lead_agency_id=lead,
            partner_ids=[lead],
        )
        kra_ids.append(kra.id)
        action_ids.append(action.id)
    if problems:
        problem = make_node(session, plan, "เด็กอ่านไม่คล่อง", kra_ids=kra_ids)
        make_node(session, plan, "ขาดครู", problem, action_ids=action_ids)
    return plan


PASSWORD = "correct horse battery staple"


def make_user(
    session: Session, role: str | None = None, area_slug: str | None = None, **values: Any
) -> User:
    """An account with one role (for the area, when the role is per area)."""
    n = session.exec(select(User.id)).all()
    defaults = {
        "email": f"{role or 'nobody'}.{area_slug or 'all'}.{len(n) + 1}@example.go.th",
        "display_name": f"ผู้ใช้ทดสอบ {role or ''} {area_slug or ''}".strip(),
    }
    grant = None
    if role is not None:
        grant = {"role": role, "area_id": area(session, area_slug).id if area_slug else None}
    return accounts.create_user(
        session,
        actor=ACTOR,
        user_in={**defaults, **values},
        password=PASSWORD,
        grant_in=grant,
    )


def make_scoped_editor(
    session: Session, area_slug: str = "phuket", codes: tuple[str, ...] = ("esa-primary-1",)
) -> User:
    """An editor of the area limited to these agencies (codes of the area's agencies)."""
    user = make_user(session, "editor", area_slug)
    grant = accounts.grants_by_user(session, [user.id])[user.id][0]
    ids = [agency(session, area_slug, code).id for code in codes]
    accounts.set_grant_agencies(
        session, actor=ACTOR, user=user, grant_id=grant.id, scope_in={"agency_ids": ids}
    )
    return user


def make_workshop(
    session: Session, slug: str = "krabi", title: str = "World Café รอบที่ 1", **values: Any
) -> WorkshopSession:
    return workshops.create_session(
        session,
        actor=ACTOR,
        area_id=area(session, slug).id,
        workshop_in={"title": title, **values},
    )


def make_guest(
    session: Session, workshop: WorkshopSession, name: str = "ครูสมศรี"
) -> tuple[WorkshopParticipant, str]:
    """A participant and the plain token its cookie carries."""
    return workshops.join(session, workshop=workshop, participant_in={"display_name": name})


def make_contribution(
    session: Session,
    workshop: WorkshopSession,
    participant: WorkshopParticipant,
    kind: str = "problem",
    text: str = "นักเรียนอ่านไม่คล่อง",
    **values: Any,
) -> Contribution:
    return workshops.contribute(
        session,
        workshop=workshop,
        participant=participant,
        contribution_in={"kind": kind, "text": text, **values},
    )


# ---- the province's shared data (issue 21) ----


def sex_set(session: Session, area_id: int) -> CategorySet:
    found = session.exec(
        select(CategorySet).where(CategorySet.area_id == area_id, CategorySet.code == "sex_t")
    ).first()
    if found:
        return found
    sex = CategorySet(area_id=area_id, code="sex_t", name_th="เพศ", name_en="Sex")
    session.add(sex)
    session.flush()
    for pos, (code, name) in enumerate((("male", "ชาย"), ("female", "หญิง"))):
        session.add(CategoryOption(set_id=sex.id, code=code, name_th=name, position=pos))
    session.commit()
    return sex


def schools(session: Session, area_id: int) -> list[OrgUnit]:
    units = [
        OrgUnit(area_id=area_id, kind="school", name="โรงเรียนบ้านห้วยโป่ง", code="1058100101"),
        OrgUnit(area_id=area_id, kind="school", name="โรงเรียนบ้านแม่สะมาด", code="1058100102"),
    ]
    session.add_all(units)
    session.commit()
    return units


def data_item(
    session: Session, area_id: int, name: str, *, by_unit: bool = True, **kw: Any
) -> DataItem:
    item = DataItem(
        area_id=area_id,
        name=name,
        measure="คน",
        period_type=kw.pop("period_type", "academic_year"),
        reported_by="school" if by_unit else "",
        **kw,
    )
    session.add(item)
    session.commit()
    return item


def sex_cells(unit: str, male: float, female: float, period: str = "AY2567") -> list[dict]:
    """A school's values of an item broken down by `sex_set`, as the data API takes them."""
    return [
        {"period": period, "unit": unit, "categories": {"sex_t": "male"}, "value": male},
        {"period": period, "unit": unit, "categories": {"sex_t": "female"}, "value": female},
    ]


def shared_data(session: Session, numerator: str, denominator: str) -> dict:
    """Krabi's plan with a percentage KPI, two schools, and two items broken down by sex:
    pupils who read fluently (numerator) and pupils tested (denominator)."""
    plan = make_plan(session)
    kpi = make_kpi(session, plan)
    krabi = area(session)
    sex = sex_set(session, krabi.id)
    units = schools(session, krabi.id)
    readers = data_item(session, krabi.id, numerator)
    tested = data_item(session, krabi.id, denominator)
    for item in (readers, tested):
        session.add(DataItemCategorySet(data_item_id=item.id, set_id=sex.id))
    session.commit()
    return {"plan": plan, "kpi": kpi, "area": krabi, "units": units, "num": readers, "den": tested}


def make_node(session: Session, plan: Plan, text: str, parent: Any = None, **values: Any) -> Any:
    """A problem (no parent) or a cause of `parent` in the plan's problem tree."""
    from app.services import problems

    return problems.create_node(
        session,
        actor=ACTOR,
        plan=plan,
        parent_id=parent.id if parent is not None else None,
        node_in={"text": text, **values},
    )
