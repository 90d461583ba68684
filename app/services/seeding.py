"""Load reference data and demo plans from seeds/. Idempotent: a second run changes nothing.

Reference rows are upserted by their natural key (slug or code). A demo plan is loaded only
into an area that has no plan yet, through the same service functions an editor uses, so its
audit trail looks like real use.
"""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, SQLModel, col, select

from app import ROOT
from app.i18n import THAI_TZ
from app.models import (
    Agency,
    AgencyType,
    Area,
    AreaGroup,
    AreaGroupMember,
    AuditEvent,
    CommonIndicator,
    DOEAspect,
    DOEFramework,
    DOEItem,
    Plan,
    StrategyTheme,
)
from app.models.enums import AuditOp
from app.periods import parse_period, period_span
from app.services import audit, comments, plans, progress, reviews, workshops
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

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated"


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
    if counter.created or counter.updated:
        audit.record(
            session,
            actor=SEED_ACTOR,
            area_id=None,
            entity_type="reference_data",
            entity_id=None,
            op=AuditOp.update,
            after={"created": counter.created, "updated": counter.updated},
        )
    session.commit()
    return counter


def _seed_areas(session: Session, data: dict[str, Any], counter: Counter) -> dict[str, Area]:
    areas: dict[str, Area] = {}
    for entry in data["areas"]:
        values = {k: v for k, v in entry.items() if k != "slug"}
        if isinstance(values.get("designated_on"), str):
            values["designated_on"] = date.fromisoformat(values["designated_on"])
        areas[entry["slug"]] = _upsert(session, Area, {"slug": entry["slug"]}, values, counter)
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
        for pos, template in enumerate(data["standard_agencies"]):
            entry = {
                **template,
                "name_th": template["name_th"].format(th=area.name_th, en=area.name_en),
                "name_en": template["name_en"].format(th=area.name_th, en=area.name_en),
            }
            _upsert_agency(session, area.id, entry, pos, types, counter)


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
    for entry in data.get("problems", []):
        add("problems", entry)
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
    kpis = {}
    for entry in data.get("kpis", []):
        kpis[entry["code"]] = add("kpis", _demo_kpi(entry, refs, kras))
    actions = {}
    for entry in data.get("actions", []):
        actions[entry["code"]] = add("actions", _demo_action(entry, refs, kras, kpis))
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
    for entry in data.get("workshops", []):
        _demo_workshop(session, area, entry)
    _demo_comments(
        session, area, data.get("comments", []), {"kras": kras, "kpis": kpis, "actions": actions}
    )


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
    )


STRUCTURE = ("plan", "doe_statement", "problem", "kra", "kpi", "action", "agency", "kpi_target")


def _date_the_trail(
    session: Session, area: Area, data: dict[str, Any], ids: dict[str, dict[str, int]]
) -> None:
    """Give the demo's audit trail the dates it would have had, so that the outcome map can be
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
    questions only, so the demo plan stays as written) or archives; then it is closed."""
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
        values = {k: entry.get(k, "") for k in ("kind", "dimension", "text")}
        row = workshops.contribute(
            session, workshop=workshop, participant=guests[name], contribution_in=values
        )
        target = {"actor": SEED_ACTOR, "workshop": workshop, "contribution_id": row.id}
        if entry.get("group"):
            workshops.set_group(session, group_in={"group_label": entry["group"]}, **target)
        if entry.get("state") == "archived":
            workshops.archive(session, **target)
        elif entry.get("state") == "accepted":
            if entry["kind"] not in ("resource", "question"):
                raise ValueError(f"{area.slug} workshop: accept only resources and questions")
            workshops.accept(session, **target)
    workshops.close_session(session, actor=SEED_ACTOR, workshop=workshop)


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
        _at(date.today() - timedelta(days=days_ago)) + timedelta(minutes=minute),
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


def _demo_kpi(entry: dict[str, Any], refs: "_DemoRefs", kras: dict[str, int]) -> dict[str, Any]:
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
