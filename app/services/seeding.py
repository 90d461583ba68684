"""Load reference data and demo plans from seeds/. Idempotent: a second run changes nothing.

Reference rows are upserted by their natural key (slug or code). A demo plan is loaded only
into an area that has no plan yet, through the same service functions an editor uses, so its
audit trail looks like real use.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from app import ROOT
from app.i18n import THAI_TZ, thai_today
from app.models import (
    Agency,
    AgencyType,
    Area,
    AreaGroup,
    AreaGroupMember,
    AreaStatusChange,
    AuditEvent,
    CategoryOption,
    CategorySet,
    ChangeProposal,
    CommonIndicator,
    Contribution,
    DOEAspect,
    DOEFramework,
    DOEItem,
    LearningQuestion,
    Plan,
    Resource,
    StrategyTheme,
    WorkshopParticipant,
    WorkshopSession,
)
from app.models.enums import AuditOp
from app.periods import parse_period, period_span
from app.services import (
    audit,
    comments,
    demo_committee,
    demo_shared_data,
    learning,
    outcomes,
    partners,
    plans,
    problems,
    progress,
    records,
    reflections,
    resources,
    reviews,
    versions,
    workshops,
)
from app.services.errors import ValidationFailed
from app.services.plan_tree import current_plans
from app.services.reference import current_framework

SEEDS = ROOT / "seeds"
SEED_ACTOR = audit.Actor.process("seed")


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


class Counter:
    def __init__(self) -> None:
        self.created = 0
        self.updated = 0
        self.removed = 0
        self.kept: list[str] = []  # agencies an area should not have but that plans name

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated"
        if self.removed:
            text += f", {self.removed} removed"
        if self.kept:
            text += f"; kept because plans name them: {', '.join(self.kept)}"
        return text


def _upsert(
    session: Session,
    model: type[SQLModel],
    key: dict[str, Any],
    values: dict[str, Any],
    counter: Counter,
) -> SQLModel:
    row = session.exec(select(model).filter_by(**key)).first()
    if row is None:
        row = model(**key, **values)
        session.add(row)
        session.flush()
        counter.created += 1
        return row
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(row, name, value)
        session.add(row)
        counter.updated += 1
    return row


def seed_reference(session: Session, seeds: Path = SEEDS) -> Counter:
    counter = Counter()
    areas = _seed_areas(session, load_yaml(seeds / "areas.yaml"), counter)
    _seed_framework(session, load_yaml(seeds / "doe_framework.yaml"), counter)
    vocab = load_yaml(seeds / "vocabularies.yaml")
    _seed_vocabularies(session, vocab, counter)
    _seed_agencies(session, vocab, areas, counter)
    _seed_indicators(session, load_yaml(seeds / "indicators.yaml"), counter)
    if counter.created or counter.updated or counter.removed:
        audit.record(
            session,
            actor=SEED_ACTOR,
            area_id=None,
            entity_type="reference_data",
            entity_id=None,
            op=AuditOp.update,
            after={
                "created": counter.created,
                "updated": counter.updated,
                "removed": counter.removed,
            },
        )
    session.commit()
    return counter


def _seed_areas(session: Session, data: dict[str, Any], counter: Counter) -> dict[str, Area]:
    areas: dict[str, Area] = {}
    for entry in data["areas"]:
        values = {k: v for k, v in entry.items() if k not in ("slug", "instrument")}
        if isinstance(values.get("designated_on"), str):
            values["designated_on"] = date.fromisoformat(values["designated_on"])
        history = session.exec(
            select(AreaStatusChange)
            .join(Area)
            .where(Area.slug == entry["slug"])
            .order_by(AreaStatusChange.changed_on, AreaStatusChange.id)
        ).all()
        if history:  # the status is the latest entry's, which administrators may have added
            values.pop("status", None)
        area = _upsert(session, Area, {"slug": entry["slug"]}, values, counter)
        areas[entry["slug"]] = area
        _seed_status(session, area, entry, list(history), counter)
    for entry in data["groups"]:
        values = {k: entry[k] for k in ("name_th", "name_en", "is_default")}
        group = _upsert(session, AreaGroup, {"slug": entry["slug"]}, values, counter)
        wanted = {areas[slug].id for slug in entry["areas"]}
        existing = set(
            session.exec(
                select(AreaGroupMember.area_id).where(AreaGroupMember.group_id == group.id)
            ).all()
        )
        for area_id in wanted - existing:
            session.add(AreaGroupMember(group_id=group.id, area_id=area_id))
            counter.created += 1
    return areas


def _seed_status(
    session: Session,
    area: Area,
    entry: dict[str, Any],
    history: list[AreaStatusChange],
    counter: Counter,
) -> None:
    """The seed's entry in the area's status history: its date and instrument follow the seed
    file (the first entry with the seed's status); entries administrators added stay."""
    day = area.designated_on
    if day is None:
        return
    status = entry.get("status", "active")
    values = {"changed_on": day, "instrument": entry.get("instrument", "")}
    mine = next((h for h in history if h.status == status), None)
    if mine is None:
        session.add(AreaStatusChange(area_id=area.id, status=status, **values))
        counter.created += 1
    elif (mine.changed_on, mine.instrument) != (values["changed_on"], values["instrument"]):
        mine.changed_on, mine.instrument = values["changed_on"], values["instrument"]
        session.add(mine)
        counter.updated += 1


def _seed_framework(session: Session, data: dict[str, Any], counter: Counter) -> None:
    fw = data["framework"]
    key = {"code": fw["code"], "version": fw["version"]}
    values = {"name_th": fw["name_th"], "name_en": fw["name_en"], "is_current": True}
    framework = _upsert(session, DOEFramework, key, values, counter)
    for other in session.exec(select(DOEFramework).where(DOEFramework.id != framework.id)).all():
        if other.is_current:
            other.is_current = False
            session.add(other)
    for a_pos, aspect_data in enumerate(data["aspects"]):
        aspect = _upsert(
            session,
            DOEAspect,
            {"framework_id": framework.id, "code": aspect_data["code"]},
            {
                "name_th": aspect_data["name_th"],
                "name_en": aspect_data["name_en"],
                "position": a_pos,
            },
            counter,
        )
        for i_pos, item in enumerate(aspect_data["items"]):
            _upsert(
                session,
                DOEItem,
                {"aspect_id": aspect.id, "code": item["code"]},
                {"name_th": item["name_th"], "name_en": item["name_en"], "position": i_pos},
                counter,
            )


def _seed_vocabularies(session: Session, data: dict[str, Any], counter: Counter) -> None:
    for model, entries in (
        (StrategyTheme, data["strategy_themes"]),
        (AgencyType, data["agency_types"]),
    ):
        for pos, entry in enumerate(entries):
            values = {"name_th": entry["name_th"], "name_en": entry["name_en"], "position": pos}
            _upsert(session, model, {"code": entry["code"]}, values, counter)
    _seed_category_sets(session, data.get("category_sets", []), counter)


def _seed_category_sets(session: Session, entries: list[dict[str, Any]], counter: Counter) -> None:
    """The national breakdowns and their options, upserted by code (never deleted: data values
    may name them)."""
    for pos, entry in enumerate(entries):
        values = {"name_th": entry["name_th"], "name_en": entry["name_en"], "position": pos}
        key = {"area_id": None, "code": entry["code"]}
        category_set = _upsert(session, CategorySet, key, values, counter)
        for option_pos, option in enumerate(entry["options"]):
            values = {
                "name_th": option["name_th"],
                "name_en": option["name_en"],
                "position": option_pos,
            }
            key = {"set_id": category_set.id, "code": option["code"]}
            _upsert(session, CategoryOption, key, values, counter)


INDICATOR_FIELDS = (
    "name_th",
    "name_en",
    "definition",
    "unit",
    "kind",
    "direction",
    "period_type",
    "data_source",
    "needs_count",
)


def _seed_indicators(session: Session, data: dict[str, Any], counter: Counter) -> None:
    """Add the library's starting indicators that are not there yet."""
    themes = {t.code: t.id for t in session.exec(select(StrategyTheme)).all()}
    framework = current_framework(session)
    aspects = (
        {
            a.code: a.id
            for a in session.exec(select(DOEAspect).where(DOEAspect.framework_id == framework.id))
        }
        if framework
        else {}
    )
    for pos, entry in enumerate(data["indicators"]):
        values = {key: entry[key] for key in INDICATOR_FIELDS if key in entry}
        values["theme_id"] = themes[entry["theme"]] if entry.get("theme") else None
        values["aspect_id"] = aspects[entry["aspect"]] if entry.get("aspect") else None
        values["position"] = pos
        if session.exec(
            select(CommonIndicator).where(CommonIndicator.code == entry["code"])
        ).first():
            continue  # the library is kept in the app from then on: never overwrite an edit
        session.add(CommonIndicator(code=entry["code"], **values))
        counter.created += 1


def _seed_agencies(
    session: Session, data: dict[str, Any], areas: dict[str, Area], counter: Counter
) -> None:
    types = {t.code: t.id for t in session.exec(select(AgencyType)).all()}
    for pos, entry in enumerate(data["national_agencies"]):
        _upsert_agency(session, None, entry, pos, types, counter)
    for area in areas.values():
        wanted = provincial_agencies(data, area.slug, area.name_th, area.name_en)
        for pos, entry in enumerate(wanted):
            _upsert_agency(session, area.id, entry, pos, types, counter)
        _remove_unwanted_agencies(session, data, area, {e["code"] for e in wanted}, counter)


def provincial_agencies(
    data: dict[str, Any], slug: str, name_th: str, name_en: str
) -> list[dict[str, Any]]:
    """The agencies seeding gives an area (vocabularies.yaml: standard_agencies as its
    area_agencies entry shapes them): its ESAs as they are, the standard agencies it has, then
    its own."""
    spec = data.get("area_agencies", {}).get(slug, {})
    without = set(spec.get("without", []))
    names = spec.get("names", {})
    entries = []
    for template in data["standard_agencies"]:
        if template["code"] in without:
            continue
        for code, esa_th, esa_en, esa_no in _esas(template["code"], spec, name_th, name_en):
            fields = {"th": name_th, "en": name_en, "esa_th": esa_th, "esa_en": esa_en}
            entry = {
                **template,
                "code": code,
                "name_th": template["name_th"].format(**fields),
                "name_en": template["name_en"].format(**fields) + esa_no,
            }
            entries.append({**entry, **names.get(code, {})})
    return entries + list(spec.get("extra", []))


def _esas(
    code: str, spec: dict[str, Any], name_th: str, name_en: str
) -> list[tuple[str, str, str, str]]:
    """(code, Thai name, English name, English number) of each ESA a template stands for; one
    row with the template's code for any other agency."""
    if code == "esa-primary":
        count = spec.get("primary_esas", 1)
        if count == 1:
            return [("esa-primary-1", name_th, name_en, "")]
        return [
            (f"esa-primary-{n}", f"{name_th} เขต {n}", name_en, f" {n}")
            for n in range(1, count + 1)
        ]
    if code == "esa-secondary":
        named = spec.get("secondary_esas", 1)
        if isinstance(named, int):
            named = (
                [{"th": name_th, "en": name_en}]
                if named == 1
                else [
                    {"th": f"{name_th} เขต {n}", "en": name_en, "no": n}
                    for n in range(1, named + 1)
                ]
            )
        return [
            (
                "esa-secondary" if n == 1 else f"esa-secondary-{n}",
                esa["th"],
                esa["en"],
                f" {esa['no']}" if esa.get("no") else "",
            )
            for n, esa in enumerate(named, start=1)
        ]
    return [(code, "", "", "")]


def standard_agency_codes(data: dict[str, Any], areas: list[tuple[str, str, str]]) -> set[str]:
    """Every code seeding gives an agency, national or of the given (slug, Thai, English) areas."""
    codes = {a["code"] for a in data["national_agencies"]}
    for slug, name_th, name_en in areas:
        codes |= {a["code"] for a in provincial_agencies(data, slug, name_th, name_en)}
    return codes


def _managed(data: dict[str, Any], code: str) -> bool:
    """Whether seeding owns an area agency of this code (one of the standard ones or an ESA)."""
    plain = {t["code"] for t in data["standard_agencies"]} - {"esa-primary", "esa-secondary"}
    return code in plain or re.fullmatch(r"esa-primary-\d+|esa-secondary(-\d+)?", code) is not None


def _remove_unwanted_agencies(
    session: Session, data: dict[str, Any], area: Area, wanted: set[str], counter: Counter
) -> None:
    """A standard agency the area does not have (Bangkok's อบจ.) goes, unless something names
    it: then it stays, and the seeding says so."""
    existing = session.exec(select(Agency).where(Agency.area_id == area.id)).all()
    for agency in existing:
        if agency.code in wanted or not _managed(data, agency.code):
            continue
        if _agency_referenced(session, agency.id):
            counter.kept.append(f"{area.slug}/{agency.code}")
            continue
        session.delete(agency)
        session.flush()
        counter.removed += 1


def _agency_referenced(session: Session, agency_id: int | None) -> bool:
    """Whether any row (a plan's KPI or action, its owners and partners, data, members...) names
    the agency: every foreign key to agency.id, found from the models."""
    agency_table = Agency.__table__  # type: ignore[attr-defined]
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is agency_table:
                query = select(func.count()).select_from(table).where(fk.parent == agency_id)
                if session.exec(query).one():
                    return True
    return False


def _upsert_agency(
    session: Session,
    area_id: int | None,
    entry: dict[str, Any],
    position: int,
    types: dict[str, int],
    counter: Counter,
) -> SQLModel:
    values = {
        "name_th": entry["name_th"],
        "name_en": entry.get("name_en", ""),
        "type_id": types[entry["type"]],
        "position": position,
    }
    return _upsert(session, Agency, {"area_id": area_id, "code": entry["code"]}, values, counter)


# ---- demo plans -----------------------------------------------------------------------------


def seed_demo(session: Session, seeds: Path = SEEDS) -> list[str]:
    """Load each seeds/demo/<slug>.yaml into its area when that area has no plan yet."""
    loaded = []
    for path in sorted((seeds / "demo").glob("*.yaml")):
        data = load_yaml(path)
        area = session.exec(select(Area).where(Area.slug == data["area"])).one()
        if current_plans(session, [area.id]):
            continue
        load_demo_plan(session, area, data)
        loaded.append(area.slug)
    return loaded


def load_demo_plan(session: Session, area: Area, data: dict[str, Any]) -> None:
    refs = _DemoRefs(session, area)
    types = {t.code: t.id for t in session.exec(select(AgencyType)).all()}
    for pos, entry in enumerate(data.get("agencies", []), start=100):
        _upsert_agency(session, area.id, entry, pos, types, Counter())
    session.commit()
    refs.reload_agencies()
    p = data["plan"]
    plan = plans.create_plan(
        session,
        actor=SEED_ACTOR,
        area=area,
        is_demo=True,
        plan_in={
            "title": p["title"],
            "span_start_be": p["span"][0],
            "span_end_be": p["span"][1],
            "status": p.get("status", "draft"),
            "vision": p.get("vision", ""),
        },
    )

    def add(kind: str, values: dict[str, Any]) -> int:
        try:
            return plans.create_element(
                session, actor=SEED_ACTOR, plan=plan, kind=kind, element_in=values
            ).id
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} {kind} {values.get('code', '')}: {exc}") from None

    for entry in data.get("doe", []):
        add("doe", {"text": entry["text"], "item_ids": refs.items(entry.get("items", []))})
    kras = {}
    for entry in data.get("kras", []):
        kras[entry["code"]] = add(
            "kras",
            {
                **{k: entry.get(k, "") for k in ("code", "title", "description")},
                "theme_id": refs.theme(entry.get("theme")),
                "doe_item_ids": refs.items(entry.get("doe_items", [])),
            },
        )
    data_items = _demo_data_items(session, area, data, refs)
    kpis = {}
    for entry in data.get("kpis", []):
        kpis[entry["code"]] = add("kpis", _demo_kpi(entry, refs, kras, data_items))
    actions = {}
    for entry in data.get("actions", []):
        actions[entry["code"]] = add("actions", _demo_action(entry, refs, kras, kpis))
    _demo_problem_tree(session, plan, data.get("problem_tree", []), refs, kras, actions)
    for entry in data.get("actions", []):
        for update in entry.get("updates", []):
            progress.add_action_update(
                session,
                actor=SEED_ACTOR,
                plan=plan,
                action_id=actions[entry["code"]],
                update_in={**update, "on_date": str(update["on_date"])},
            )
    units = {}
    for unit in data.get("units", []):
        units[unit["name"]] = progress.add_unit(
            session, actor=SEED_ACTOR, area=area, unit_in=unit
        ).id
    for entry in data.get("kpis", []):
        for period, value in (entry.get("progress") or {}).items():
            _demo_value(session, plan, kpis[entry["code"]], str(period), value, units)
    for change in data.get("history", []):
        _demo_change(session, plan, change, {"kras": kras, "kpis": kpis, "actions": actions})
    if p.get("drafted_on"):
        _date_the_trail(session, area, data, {"kras": kras, "kpis": kpis, "actions": actions})
    _demo_resources(session, area, data, refs, actions)
    if data.get("shared_data"):
        demo_shared_data.load(
            session,
            actor=SEED_ACTOR,
            area=area,
            plan=plan,
            data=data["shared_data"],
            items=data_items,
            kpis=kpis,
            agency=refs.agency,
        )
    for entry in data.get("workshops", []):
        _demo_workshop(session, area, entry)
    _demo_comments(
        session, area, data.get("comments", []), {"kras": kras, "kpis": kpis, "actions": actions}
    )
    _demo_outcomes(session, area, data, {"kras": kras, "kpis": kpis, "actions": actions})
    _demo_reflections(session, area, data, {"kras": kras, "kpis": kpis, "actions": actions})
    _demo_learning(session, area, plan, data)
    _demo_partners(session, area, data)
    demo_committee.load(session, area, plan, data.get("committee"))


def _demo_problem_tree(
    session: Session,
    plan: Plan,
    entries: list[dict[str, Any]],
    refs: "_DemoRefs",
    kras: dict[str, int],
    actions: dict[str, int],
    parent_id: int | None = None,
) -> None:
    """The problems as a tree (seeds/demo/FORMAT.md `problem_tree`), causes to any depth."""
    for entry in entries:
        node_in = {
            "text": entry["text"],
            "affected_groups": entry.get("affected_groups", ""),
            "note": entry.get("evidence", ""),
            "urls": "\n".join(entry.get("urls", [])),
            "kra_ids": [kras[c] for c in entry.get("kras", [])],
            "doe_item_ids": refs.items(entry.get("doe_items", [])),
            "action_ids": [actions[c] for c in entry.get("actions", [])],
        }
        node = problems.create_node(
            session, actor=SEED_ACTOR, plan=plan, node_in=node_in, parent_id=parent_id
        )
        _demo_problem_tree(session, plan, entry.get("causes", []), refs, kras, actions, node.id)


def _demo_change(
    session: Session, plan: Plan, change: dict[str, Any], ids: dict[str, dict[str, int]]
) -> None:
    """A later change to the plan, with its reason (dated by `_date_the_trail`)."""
    plans.update_element(
        session,
        actor=SEED_ACTOR,
        plan=plan,
        kind=change["kind"],
        element_id=ids[change["kind"]][change["code"]],
        element_in=change["set"],
        partial=True,
        reason=change.get("reason"),
        reason_category=change.get("category"),
    )


def _demo_learning(session: Session, area: Area, plan: Plan, data: dict[str, Any]) -> None:
    """Named versions of the plan (as the dated trail had it on their day) and key developments
    on the timeline."""
    for entry in data.get("versions", []):
        values = {"name": entry["name"], "note": entry.get("note", ""), "as_of": entry.get("as_of")}
        versions.name_version(session, actor=SEED_ACTOR, area=area, plan=plan, version_in=values)
    for entry in data.get("developments", []):
        records.create(
            session,
            actor=SEED_ACTOR,
            area=area,
            spec=learning.DEVELOPMENTS,
            record_in={**entry, "happened_on": str(entry["happened_on"])},
        )


STRUCTURE = (
    "plan",
    "doe_statement",
    "problem_node",
    "kra",
    "kpi",
    "action",
    "agency",
    "kpi_target",
)


def _date_the_trail(
    session: Session, area: Area, data: dict[str, Any], ids: dict[str, dict[str, int]]
) -> None:
    """Give the demo's audit trail the dates it would have had, so that the results chain map can be
    replayed and compared over time: the plan as drafted at the workshop (`plan.drafted_on`),
    elements added later (`added_on`), the `history` changes on their dates, each value some
    weeks after its period ended, each check-in on its own date."""
    drafted = _at(data["plan"]["drafted_on"])
    added = {
        (kind[:-1], ids[kind][e["code"]]): _at(e["added_on"])
        for kind in ("kras", "kpis", "actions")
        for e in data.get(kind, [])
        if e.get("added_on")
    }
    changes = [
        ((c["kind"][:-1], ids[c["kind"]][c["code"]]), _at(c["date"]))
        for c in data.get("history", [])
    ]
    now = datetime.now(UTC)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.area_id == area.id).order_by(col(AuditEvent.id))
    ).all()
    for event in events:
        key = (event.entity_type, event.entity_id)
        snapshot = event.after or event.before or {}
        if event.entity_type == "measurement" and snapshot.get("period"):
            moment = _at(period_span(snapshot["period"]).ends_on + VALUE_DELAY)
        elif event.entity_type == "action_update" and snapshot.get("on_date"):
            moment = _at(snapshot["on_date"])
        elif event.op == AuditOp.update.value and changes and changes[0][0] == key:
            moment = changes.pop(0)[1]
        elif event.entity_type in STRUCTURE:
            moment = added.get(key, drafted) if event.op == AuditOp.create.value else drafted
        else:
            continue
        event.at = min(moment, now).astimezone(UTC)  # stored in UTC like every other time
        session.add(event)
    session.commit()


VALUE_DELAY = timedelta(days=45)  # results come some weeks after a period ends


def _at(day: Any) -> datetime:
    """10 a.m. in Thailand on that day."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(day, time(10), tzinfo=THAI_TZ)


def _demo_workshop(session: Session, area: Area, data: dict[str, Any]) -> None:
    """A past workshop session: its guests post, the facilitator groups, accepts (resources and
    questions only, so the demo plan stays as written) or archives; then it is closed. With
    `held_on` it is dated that day (see `_date_workshop`)."""
    mark = _last_event(session)
    workshop = workshops.create_session(
        session, actor=SEED_ACTOR, area_id=area.id, workshop_in={"title": data["title"]}
    )
    guests: dict[str, Any] = {}
    for entry in data.get("contributions", []):
        name = entry["by"]
        if name not in guests:
            guests[name] = workshops.join(
                session, workshop=workshop, participant_in={"display_name": name}
            )[0]
        values = {k: entry.get(k, "") for k in ("kind", "dimension", "text", "detail")}
        row = workshops.contribute(
            session, workshop=workshop, participant=guests[name], contribution_in=values
        )
        target = {"actor": SEED_ACTOR, "workshop": workshop, "contribution_id": row.id}
        if entry.get("group"):
            workshops.set_group(session, group_in={"group_label": entry["group"]}, **target)
        if entry.get("state") == "archived":
            workshops.archive(session, **target)
        elif entry.get("state") == "accepted":
            if entry["kind"] not in ("resource", "question", "vision_phrase"):
                raise ValueError(
                    f"{area.slug} workshop: accept only resources, questions and vision phrases"
                )
            workshops.accept(session, **target)
    workshops.close_session(session, actor=SEED_ACTOR, workshop=workshop)
    if data.get("held_on"):
        _date_workshop(session, area, workshop, mark, data["held_on"])


def _date_workshop(
    session: Session, area: Area, workshop: WorkshopSession, mark: int, day: Any
) -> None:
    """The session as it happened on `day`: opened at 10 a.m. Thai time, each join, post and
    facilitator's step a minute after the one before (its audit events too), closed after the
    last; the resources it gave are dated with it."""
    opened = min(_at(day), datetime.now(UTC)).astimezone(UTC)
    minute = iter(range(1, 10_000))
    workshop.opened_at = opened
    session.add(workshop)
    participants = session.exec(
        select(WorkshopParticipant).where(WorkshopParticipant.session_id == workshop.id)
    ).all()
    for row in sorted(participants, key=lambda r: r.id):
        row.joined_at = opened + timedelta(minutes=next(minute))
        session.add(row)
    contributions = session.exec(
        select(Contribution).where(Contribution.session_id == workshop.id)
    ).all()
    for row in sorted(contributions, key=lambda r: r.id):
        row.created_at = opened + timedelta(minutes=next(minute))
        session.add(row)
        if row.accepted_entity == resources.RESOURCES.entity_type and row.accepted_id:
            made = session.get(Resource, row.accepted_id)
            if made is not None and hasattr(made, "created_at"):
                made.created_at = row.created_at
                session.add(made)
    query = select(AuditEvent).where(AuditEvent.area_id == area.id, col(AuditEvent.id) > mark)
    for event in session.exec(query.order_by(col(AuditEvent.id))):
        event.at = opened + timedelta(minutes=next(minute))
        session.add(event)
    closed = opened + timedelta(minutes=next(minute))
    workshop.closed_at = closed
    workshop.expires_at = closed
    session.add(workshop)
    session.commit()


def _demo_comments(
    session: Session, area: Area, threads: list[dict[str, Any]], ids: dict[str, dict[str, int]]
) -> None:
    """Threads between the reviewers and the committee, written by named process actors and
    dated `days_ago` before loading, so that "what's new" has something to show."""
    moments = iter(range(10_000))  # minutes after 10 a.m.: a day's comments keep their order
    for entry in threads:
        values = {"visibility": entry.get("visibility", "area"), "body": entry["text"]}
        try:
            root = comments.add_comment(
                session,
                by=_demo_commenter(entry),
                area=area,
                comment_in={**_demo_target(entry["about"], ids), **values},
            )
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} comment about {entry['about']}: {exc}") from None
        _date_comment(session, root, entry["days_ago"], next(moments), AuditOp.create)
        for reply in entry.get("replies", []):
            row = comments.add_comment(
                session,
                by=_demo_commenter(reply),
                area=area,
                comment_in={"parent_id": root.id, "body": reply["text"]},
            )
            _date_comment(session, row, reply["days_ago"], next(moments), AuditOp.create)
        if entry.get("resolved"):
            done = entry["resolved"]
            comments.set_resolved(
                session, by=_demo_commenter(done), area=area, comment_id=root.id, resolved=True
            )
            _date_comment(session, root, done["days_ago"], next(moments), AuditOp.update)


def _demo_outcomes(
    session: Session, area: Area, data: dict[str, Any], ids: dict[str, dict[str, int]]
) -> None:
    """Emergent outcomes (`outcomes`) and guiding principles (`principles`), written through
    the outcomes service; an outcome names the plan's action and KRA codes and DOE item codes."""
    items = {i.code: i.id for i in session.exec(select(DOEItem)).all()}
    for entry in data.get("outcomes", []):
        values = {k: v for k, v in entry.items() if k not in ("actions", "kras", "doe_items")}
        links = {
            "observed_on": str(entry["observed_on"]),
            "action_ids": [ids["actions"][code] for code in entry.get("actions", [])],
            "kra_ids": [ids["kras"][code] for code in entry.get("kras", [])],
            "doe_item_ids": [items[code] for code in entry.get("doe_items", [])],
        }
        try:
            outcomes.create_outcome(
                session, actor=SEED_ACTOR, area=area, outcome_in={**values, **links}
            )
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} outcome {entry.get('who')!r}: {exc}") from None
    for entry in data.get("principles", []):
        values = {k: entry.get(k, "") for k in ("statement", "explanation")}
        try:
            outcomes.create_principle(
                session,
                actor=SEED_ACTOR,
                area=area,
                principle_in={**values, **(entry.get("ratings") or {})},
            )
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} principle {values['statement']!r}: {exc}") from None


def _demo_reflections(
    session: Session, area: Area, data: dict[str, Any], ids: dict[str, dict[str, int]]
) -> None:
    """Reflections (`reflections`) with what their Now-what lines became, change proposals
    (`proposals`) and learning questions (`questions`), written through the reflections
    service; each is dated on its day (held, proposed, asked, decided, answered) in the trail.
    Loaded before the named versions, so a version of later date holds the actions they made."""
    elements = {
        code: f"{kind[:-1]}:{i}" for kind, found in ids.items() for code, i in found.items()
    }
    keys: dict[str, int] = {}
    later: list[tuple[str, int, dict[str, Any]]] = []  # decisions and answers, after all
    for entry in data.get("reflections", []):
        values = {k: entry.get(k, "") for k in ("title", "participants", "what", "so_what")}
        values |= {
            "held_on": str(entry["held_on"]),
            "period": entry.get("period") or "",
            "now_what": entry.get("now_what", ""),
            "elements": [elements[code] for code in entry.get("elements", [])],
        }
        mark = _last_event(session)
        try:
            row = reflections.create_reflection(
                session, actor=SEED_ACTOR, area=area, reflection_in=values
            )
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} reflection {values['title']!r}: {exc}") from None
        keys[entry.get("key") or row.title] = row.id
        made: list[Any] = [row]
        for follow in entry.get("follow_ups", []):
            done = reflections.turn_line(
                session,
                actor=SEED_ACTOR,
                area=area,
                reflection_id=row.id,
                follow_up_in={
                    "line": follow["line"] - 1,
                    "kind": follow["kind"],
                    "text": follow.get("text", ""),
                },
            )
            made.append(done)
            if follow.get("links"):  # the new action linked to its KPIs and KRAs afterwards
                plans.update_element(
                    session,
                    actor=SEED_ACTOR,
                    plan=current_plans(session, [area.id])[area.id],
                    kind="actions",
                    element_id=done.target_id,
                    element_in={
                        f"{kind[:-1]}_ids": [ids[kind][code] for code in codes]
                        for kind, codes in follow["links"].items()
                    },
                    partial=True,
                )
            target = _DE_TARGETS.get(done.target_type)
            if target is not None:
                made.append(session.get(target, done.target_id))
            for step in ("decision", "answer"):
                if follow.get(step):
                    later.append((step, done.target_id, follow[step]))
        _date_since(session, area, mark, entry["held_on"], made)
    for entry in data.get("proposals", []):
        about = elements.get(entry.get("about") or "", "")
        mark = _last_event(session)
        row = reflections.create_proposal(
            session,
            actor=SEED_ACTOR,
            area=area,
            proposal_in={"text": entry["text"], "element": about},
        )
        _date_since(session, area, mark, entry.get("proposed_on") or thai_today(), [row])
        if entry.get("decision"):
            later.append(("decision", row.id, entry["decision"]))
    for entry in data.get("questions", []):
        mark = _last_event(session)
        row = reflections.create_question(
            session, actor=SEED_ACTOR, area=area, question_in={"question": entry["question"]}
        )
        _date_since(session, area, mark, entry.get("asked_on") or thai_today(), [row])
        if entry.get("answer"):
            later.append(("answer", row.id, entry["answer"]))
    for step, target_id, how in sorted(later, key=lambda item: str(item[2]["date"])):
        mark = _last_event(session)
        if step == "decision":
            reflections.decide(
                session,
                actor=SEED_ACTOR,
                area=area,
                proposal_id=target_id,
                decision_in={
                    "state": how["state"],
                    "decision_note": how.get("note", ""),
                    "decided_on": str(how["date"]),
                },
            )
        else:
            reflections.update_question(
                session,
                actor=SEED_ACTOR,
                area=area,
                question_id=target_id,
                question_in={
                    "state": "answered",
                    "answer": how["text"],
                    "evidence": how.get("evidence", ""),
                    "answered_on": str(how["date"]),
                    "answer_reflection_id": keys.get(how.get("in") or "", ""),
                },
            )
        _date_since(session, area, mark, how["date"], [])


_DE_TARGETS: dict[str, type[SQLModel]] = {
    "change_proposal": ChangeProposal,
    "learning_question": LearningQuestion,
}


def _last_event(session: Session) -> int:
    return session.exec(select(func.max(AuditEvent.id))).one() or 0


def _date_since(session: Session, area: Area, mark: int, day: Any, rows: list[Any]) -> None:
    """Date the area's audit events after `mark`, and the rows' `created_at`, on that day."""
    moment = min(_at(day), datetime.now(UTC)).astimezone(UTC)
    query = select(AuditEvent).where(AuditEvent.area_id == area.id, col(AuditEvent.id) > mark)
    for event in session.exec(query):
        event.at = moment
        session.add(event)
    for row in rows:
        if hasattr(row, "created_at"):
            row.created_at = moment
            session.add(row)
    session.commit()


def _demo_commenter(entry: dict[str, Any]) -> comments.Commenter:
    actor = audit.Actor.process(entry["by"])
    return comments.Commenter(actor, entry["by"], internal=entry.get("role") == "reviewer")


def _demo_target(about: str, ids: dict[str, dict[str, int]]) -> dict[str, Any]:
    """`area`, a KRA, KPI or action code, or a year of the review rounds (AY2567, FY2568)."""
    if about == "area":
        return {"target_type": "area"}
    year = parse_period(about)
    if year is not None and year.period_type in reviews.ROUND_TYPES:
        return {"target_type": "period", "period": year.code}
    kind = next((k for k, codes in ids.items() if about in codes), None)
    if kind is None:
        raise ValueError(f"comment about {about!r}: no such code in the plan")
    return {"target_type": kind, "target_id": ids[kind][about]}


def _date_comment(session: Session, row: Any, days_ago: int, minute: int, op: AuditOp) -> None:
    """Date a comment (op create) or its resolution (op update), and its audit event."""
    moment = min(
        _at(thai_today() - timedelta(days=days_ago)) + timedelta(minutes=minute),
        datetime.now(UTC),
    ).astimezone(UTC)  # SQLite keeps the digits as given: store UTC like every other time
    field = "created_at" if op == AuditOp.create else "resolved_at"
    setattr(row, field, moment)
    session.add(row)
    event = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == "comment",
            AuditEvent.entity_id == row.id,
            AuditEvent.op == op.value,
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    if event is not None:
        event.at = moment
        event.after = {**(event.after or {}), field: moment.isoformat()}
        session.add(event)
    session.commit()


def _demo_value(
    session: Session, plan: Plan, kpi_id: int, period: str, value: Any, units: dict[str, int]
) -> None:
    """A plain number, or {value, n, note, units: {unit name: [value, n]}}."""
    if not isinstance(value, dict):
        progress.save_cell(
            session,
            actor=SEED_ACTOR,
            plan=plan,
            kpi_id=kpi_id,
            period=period,
            cell="actual",
            text=value,
        )
        return
    by_unit = {
        units[name]: (str(v), "" if n is None else str(n))
        for name, (v, n) in (value.get("units") or {}).items()
    }
    progress.save_measurement(
        session,
        actor=SEED_ACTOR,
        plan=plan,
        kpi_id=kpi_id,
        period=period,
        details_in={
            "value": value.get("value"),
            "n_measured": value.get("n"),
            "note": value.get("note", ""),
            "evidence_url": value.get("evidence_url", ""),
        },
        units_in=by_unit,
    )


def _demo_data_items(
    session: Session, area: Area, data: dict[str, Any], refs: "_DemoRefs"
) -> dict[str, int]:
    """The area's data catalogue (`data_catalogue`), written before the KPIs that cite its
    items by `key`; returns key -> data item id."""
    found = {}
    for entry in data.get("data_catalogue", []):
        values = {k: entry.get(k, "") for k in ("name", "description", "source_system")}
        values |= {k: entry[k] for k in ("frequency", "access") if k in entry}
        values["custodian_agency_id"] = refs.agency(entry.get("custodian"))
        try:
            row = resources.create_data_item(session, actor=SEED_ACTOR, area=area, item_in=values)
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} data item {entry.get('key')!r}: {exc}") from None
        found[entry["key"]] = row.id
    return found


def _demo_resources(
    session: Session, area: Area, data: dict[str, Any], refs: "_DemoRefs", actions: dict[str, int]
) -> None:
    """The area's resource inventory (`resources`); a resource names the plan's action codes."""
    for entry in data.get("resources", []):
        values = {k: entry.get(k, "") for k in ("dimension", "name", "description")}
        values["owner_agency_id"] = refs.agency(entry.get("owner"))
        values["action_ids"] = [actions[code] for code in entry.get("actions", [])]
        try:
            resources.create_resource(session, actor=SEED_ACTOR, area=area, resource_in=values)
        except ValidationFailed as exc:
            raise ValueError(f"{area.slug} resource {values['name']!r}: {exc}") from None


def _demo_kpi(
    entry: dict[str, Any],
    refs: "_DemoRefs",
    kras: dict[str, int],
    data_items: dict[str, int] | None = None,
) -> dict[str, Any]:
    baseline = entry.get("baseline") or {}
    target = entry.get("target") or {}
    fields = (
        "code",
        "name",
        "definition",
        "unit",
        "kind",
        "direction",
        "period_type",
        "data_source",
    )
    return {
        **{k: entry.get(k, "") for k in fields},
        "baseline_value": baseline.get("value"),
        "baseline_period": baseline.get("period"),
        "target_value": target.get("value"),
        "target_period": target.get("period"),
        "aggregation": entry.get("aggregation", "standalone"),
        "rollup": entry.get("rollup", "mean"),
        "tolerance": entry.get("tolerance"),
        "lead_agency_id": refs.agency(entry.get("lead")),
        "co_owner_ids": [refs.agency(c) for c in entry.get("co_owners", [])],
        "kra_ids": [kras[c] for c in entry.get("kras", [])],
        "indicator_id": refs.indicator(entry.get("indicator")),
        "data_item_ids": [(data_items or {})[key] for key in entry.get("data_items", [])],
    }


def _demo_action(
    entry: dict[str, Any], refs: "_DemoRefs", kras: dict[str, int], kpis: dict[str, int]
) -> dict[str, Any]:
    return {
        **{k: entry.get(k, "") for k in ("code", "title", "description")},
        "lead_agency_id": refs.agency(entry.get("lead")),
        "partner_ids": [refs.agency(c) for c in entry.get("partners", [])],
        "budget_thb": entry.get("budget_thb"),
        "start_on": str(entry["start_on"]) if entry.get("start_on") else None,
        "end_on": str(entry["end_on"]) if entry.get("end_on") else None,
        "status": entry.get("status", "not_started"),
        "autonomy_domain": entry.get("autonomy"),
        "kpi_ids": [kpis[c] for c in entry.get("kpis", [])],
        "kra_ids": [kras[c] for c in entry.get("kras", [])],
    }


class _DemoRefs:
    """Resolve the codes a demo file uses (DOE items, themes, agencies) to ids."""

    def __init__(self, session: Session, area: Area) -> None:
        self.session = session
        self.area = area
        self._items = {i.code: i.id for i in session.exec(select(DOEItem)).all()}
        self._themes = {t.code: t.id for t in session.exec(select(StrategyTheme)).all()}
        self._indicators = {i.code: i.id for i in session.exec(select(CommonIndicator)).all()}
        self.reload_agencies()

    def reload_agencies(self) -> None:
        rows = self.session.exec(
            select(Agency).where((col(Agency.area_id).is_(None)) | (Agency.area_id == self.area.id))
        ).all()
        # the area's own agencies win over national ones with the same code
        self._agencies = {a.code: a.id for a in sorted(rows, key=lambda a: a.area_id or 0)}

    def items(self, codes: list[str]) -> list[int]:
        return [self._items[c] for c in codes]

    def theme(self, code: str | None) -> int | None:
        return self._themes[code] if code else None

    def indicator(self, code: str | None) -> int | None:
        if code and code not in self._indicators:
            raise ValueError(f"{self.area.slug}: unknown common indicator {code!r}")
        return self._indicators[code] if code else None

    def agency(self, code: str | None) -> int | None:
        if not code:
            return None
        if code not in self._agencies:
            raise ValueError(f"{self.area.slug}: unknown agency code {code!r}")
        return self._agencies[code]


RATING_TYPES = ("boundary_partner", "progress_marker", "progress_marker_rating")


def _demo_partners(session: Session, area: Area, data: dict[str, Any]) -> None:
    """Outcome mapping: the boundary partners, their progress markers, and one rating sheet per
    partner and semester; markers marked `retired` are retired after their ratings. The trail is
    dated as it would have been: partners and markers at the start of the first semester rated
    (or the one a marker was added in), ratings some weeks after their semester ended, a
    retirement at the start of the semester it takes effect."""
    semesters: set[str] = set()
    for entry in data.get("boundary_partners", []):
        values = {k: entry.get(k, "") for k in ("name", "description", "outcome_challenge")}
        partner = partners.create_partner(session, actor=SEED_ACTOR, area=area, partner_in=values)
        made = []
        for m in entry.get("markers", []):
            marker_in = {"level": m["level"], "text": m["text"], "added_period": m.get("added")}
            made.append(
                (
                    partners.add_marker(
                        session, actor=SEED_ACTOR, area=area, partner=partner, marker_in=marker_in
                    ),
                    {str(p): r for p, r in (m.get("ratings") or {}).items()},
                    m,
                )
            )
        rated = {p for _, ratings, _ in made for p in ratings}
        semesters |= rated
        for period in sorted(rated, key=lambda p: period_span(p).starts_on):
            sheet = {
                marker.id: {
                    "rating": ratings[period],
                    "note": (m.get("notes") or {}).get(period, ""),
                }
                for marker, ratings, m in made
                if period in ratings
            }
            partners.save_ratings(
                session,
                actor=SEED_ACTOR,
                area=area,
                partner=partner,
                period=period,
                ratings_in=sheet,
            )
        for marker, _, m in made:
            if m.get("retired"):
                retire_in = {"retired_period": m["retired"]}
                partners.retire_marker(
                    session,
                    actor=SEED_ACTOR,
                    area=area,
                    partner=partner,
                    marker_id=marker.id,
                    retire_in=retire_in,
                )
    if not semesters:
        return
    first = min(period_span(p).starts_on for p in semesters)
    now = datetime.now(UTC)
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.area_id == area.id, col(AuditEvent.entity_type).in_(RATING_TYPES)
        )
    ).all()
    for event in events:
        snap = event.after or event.before or {}
        if event.entity_type == "progress_marker_rating":
            day = period_span(snap["period"]).ends_on + VALUE_DELAY
        elif event.op == AuditOp.update.value and snap.get("retired_period"):
            day = period_span(snap["retired_period"]).starts_on
        elif snap.get("added_period"):
            day = period_span(snap["added_period"]).starts_on
        else:
            day = first
        event.at = min(_at(day), now).astimezone(UTC)
        session.add(event)
    loaded = partners.load(session, area)
    for rating in (r for rows in loaded.ratings.values() for r in rows):
        rating.rated_at = min(_at(period_span(rating.period).ends_on + VALUE_DELAY), now)
        session.add(rating)
    session.commit()
