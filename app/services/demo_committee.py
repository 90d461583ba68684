"""The demo areas' committees (seeds/demo/<slug>.yaml, key `committee`; see FORMAT.md): extra
agencies the members come from, members, working groups and past meetings whose resolutions cite
the area's plan versions, proposals and plan elements. Written through services.committee, so
the history tells it as any other change."""

from typing import Any

from sqlmodel import Session, col, select

from app.models import (
    KPI,
    Action,
    Agency,
    AgencyType,
    Area,
    ChangeProposal,
    KeyResultArea,
    Plan,
    PlanVersion,
)
from app.services import audit, committee

ACTOR = audit.Actor.process("demo")
ELEMENTS = {"kra": KeyResultArea, "kpi": KPI, "action": Action}


def load(session: Session, area: Area, plan: Plan, data: dict[str, Any] | None) -> None:
    if not data:
        return
    from app.services.seeding import Counter, _upsert_agency  # the reference loader's own

    types = {t.code: t.id for t in session.exec(select(AgencyType)).all()}
    for position, entry in enumerate(data.get("agencies", []), start=200):
        _upsert_agency(session, area.id, entry, position, types, Counter())
    session.commit()
    agencies = {
        a.code: a.id
        for a in sorted(
            session.exec(
                select(Agency).where(col(Agency.area_id).is_(None) | (Agency.area_id == area.id))
            ).all(),
            key=lambda a: a.area_id or 0,
        )
    }
    members: dict[str, int] = {}
    for entry in data.get("members", []):
        row = committee.create_member(
            session,
            actor=ACTOR,
            area=area,
            member_in={
                "name": entry["name"],
                "title": entry.get("title", ""),
                "agency_id": agencies[entry["agency"]] if entry.get("agency") else None,
                "role": entry.get("role", "member"),
            },
        )
        members[entry["key"]] = row.id
    for entry in data.get("groups", []):
        committee.create_group(
            session,
            actor=ACTOR,
            area=area,
            group_in={
                "name": entry["name"],
                "remit": entry.get("remit", ""),
                "lead_id": members[entry["lead"]] if entry.get("lead") else None,
                "members": [members[k] for k in entry.get("members", [])],
                "others": "\n".join(entry.get("others", [])),
            },
        )
    for entry in data.get("meetings", []):
        meeting = committee.create_meeting(
            session,
            actor=ACTOR,
            area=area,
            meeting_in={
                "held_on": str(entry["held_on"]),
                "title": entry["title"],
                "place": entry.get("place", ""),
                "agenda": "\n".join(entry.get("agenda", [])),
                "attendees": [members[k] for k in entry.get("attendees", [])],
                "guests": "\n".join(entry.get("guests", [])),
            },
        )
        for resolution in entry.get("resolutions", []):
            committee.add_resolution(
                session,
                actor=ACTOR,
                area=area,
                meeting_id=meeting.id,
                resolution_in={"text": resolution["text"]},
                citations=[
                    _citation(session, area, plan, cite) for cite in resolution.get("cites", [])
                ],
            )


def _citation(session: Session, area: Area, plan: Plan, cite: dict[str, Any]) -> Any:
    kind = cite.get("kind", "note")
    if "version" in cite:
        row = session.exec(
            select(PlanVersion).where(
                PlanVersion.area_id == area.id, PlanVersion.name == cite["version"]
            )
        ).one()
        return committee.Citation("plan_version", row.id, kind)
    if "proposal" in cite:
        row = session.exec(
            select(ChangeProposal).where(
                ChangeProposal.area_id == area.id,
                col(ChangeProposal.text).startswith(cite["proposal"]),
            )
        ).one()
        return committee.Citation("change_proposal", row.id, kind)
    for target_type, model in ELEMENTS.items():
        if target_type in cite:
            row = session.exec(
                select(model).where(model.plan_id == plan.id, model.code == cite[target_type])
            ).one()
            return committee.Citation(target_type, row.id, kind)
    raise ValueError(f"{area.slug}: a resolution cites nothing known: {cite!r}")
