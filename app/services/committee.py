"""The area's committee (issue 22 part 1): members, working groups, meetings and resolutions.

Every write: validate (a member, agency or cited record from another area is refused with a
422 naming it), write, one audit event per row changed in the same transaction (entity types
`committee_member`, `working_group`, `meeting`, `resolution`), commit, then `committee.changed`
on the area's live channel. Members, groups, meetings and resolutions carry a `version`: a stale
save is a 409.

Attendance keeps a copy of each attendee's name, so removing a member from the committee keeps
the minutes of the meetings they attended (their attendance row loses only the link).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import Field
from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, or_, select

from app.i18n import N_
from app.models import (
    KPI,
    Action,
    Agency,
    Area,
    ChangeProposal,
    CommitteeMember,
    KeyResultArea,
    Meeting,
    MeetingAttendance,
    Plan,
    PlanVersion,
    Resolution,
    ResolutionCitation,
    ReviewRound,
    WorkingGroup,
    WorkingGroupMember,
)
from app.models.committee import ROLE_ORDER, CitationKind, CommitteeRole
from app.models.enums import AuditOp
from app.schemas import Day, Ids, InputModel, OptionalId, Text
from app.services import audit
from app.services.errors import Conflict, Msg, NotFound, ValidationFailed
from app.services.validation import validate

STALE = N_("Someone else changed this since you opened it.")
NOT_OURS_AGENCY = N_("The agency %(name)s is not one of this area's agencies or a national one.")
NOT_OURS_MEMBER = N_("%(name)s is not a member of this area's committee.")
NOT_OURS_RECORD = N_("%(name)s is not a record of this area.")
UNKNOWN_RECORD = N_("No such record: %(name)s.")
BAD_CITATION = N_("Choose a record from the list and what the resolution did with it.")

# What a resolution may cite: target type -> (model, how the area is found)
CITABLE: dict[str, type[SQLModel]] = {
    "plan_version": PlanVersion,
    "change_proposal": ChangeProposal,
    "review_round": ReviewRound,
    "kra": KeyResultArea,
    "kpi": KPI,
    "action": Action,
}
# The resolution's snapshot holds its citations as one id list per kind of record.
SNAPSHOT_FIELDS = {
    "plan_version": "version_ids",
    "change_proposal": "proposal_ids",
    "review_round": "round_ids",
    "kra": "kra_ids",
    "kpi": "kpi_ids",
    "action": "action_ids",
}


class MemberIn(InputModel):
    name: Text = Field(min_length=1, max_length=200)
    title: Text = Field(default="", max_length=300)
    agency_id: OptionalId = None
    role: CommitteeRole = CommitteeRole.member


class GroupIn(InputModel):
    name: Text = Field(min_length=1, max_length=300)
    remit: Text = Field(default="", max_length=4000)
    lead_id: OptionalId = None
    members: Ids = []
    others: Text = Field(default="", max_length=4000)


class MeetingIn(InputModel):
    held_on: Day
    title: Text = Field(min_length=1, max_length=300)
    place: Text = Field(default="", max_length=300)
    agenda: Text = Field(default="", max_length=10000)
    attendees: Ids = []
    guests: Text = Field(default="", max_length=4000)


class ResolutionIn(InputModel):
    text: Text = Field(min_length=1, max_length=10000)


@dataclass(frozen=True)
class Citation:
    target_type: str
    target_id: int
    kind: str


def parse_citations(targets: list[str], kinds: list[str]) -> list[Citation]:
    """Form rows `cite` ("plan_version:12") with `cite_kind` ("adopt") beside each; empty rows
    are skipped. A row that does not parse is a 422 on `citations`."""
    out: dict[tuple[str, int], Citation] = {}
    for index, raw in enumerate(targets):
        raw = (raw or "").strip()
        if not raw:
            continue
        kind = kinds[index] if index < len(kinds) else CitationKind.note.value
        target_type, _, target_id = raw.partition(":")
        if target_type not in CITABLE or not target_id.isdigit() or kind not in set(CitationKind):
            raise ValidationFailed({"citations": Msg(BAD_CITATION)})
        out[(target_type, int(target_id))] = Citation(target_type, int(target_id), kind)
    return list(out.values())


# ---- reading --------------------------------------------------------------------------------


def _get(session: Session, model: type[Any], area: Area, row_id: int, entity: str) -> Any:
    row = session.get(model, row_id)
    if row is None or row.area_id != area.id:
        raise NotFound(f"{entity}/{row_id}")
    return row


def members(session: Session, area: Area) -> list[CommitteeMember]:
    """The committee: chair, vice-chairs, secretaries, then members, each in order of adding."""
    rows = session.exec(select(CommitteeMember).where(CommitteeMember.area_id == area.id)).all()
    return sorted(rows, key=lambda m: (ROLE_ORDER.get(m.role, 99), m.position, m.id))


def agencies(session: Session, area: Area) -> list[Agency]:
    """The agencies a member may come from: the area's own, then national ones."""
    query = (
        select(Agency)
        .where(or_(col(Agency.area_id).is_(None), Agency.area_id == area.id))
        .order_by(col(Agency.area_id).is_(None), col(Agency.position), col(Agency.id))
    )
    return list(session.exec(query).all())


@dataclass
class GroupView:
    group: WorkingGroup
    member_ids: list[int]


def groups(session: Session, area: Area) -> list[GroupView]:
    rows = session.exec(
        select(WorkingGroup)
        .where(WorkingGroup.area_id == area.id)
        .order_by(col(WorkingGroup.position), col(WorkingGroup.id))
    ).all()
    links: dict[int, list[int]] = defaultdict(list)
    if rows:
        for group_id, member_id in session.exec(
            select(WorkingGroupMember.group_id, WorkingGroupMember.member_id).where(
                col(WorkingGroupMember.group_id).in_([g.id for g in rows])
            )
        ).all():
            links[group_id].append(member_id)
    return [GroupView(g, sorted(links[g.id])) for g in rows]


def meetings(session: Session, area: Area) -> list[tuple[Meeting, int]]:
    """The area's meetings, newest first, each with how many resolutions it passed."""
    counts = (
        select(Resolution.meeting_id, func.count().label("n"))
        .group_by(col(Resolution.meeting_id))
        .subquery()
    )
    query = (
        select(Meeting, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.meeting_id == Meeting.id)
        .where(Meeting.area_id == area.id)
        .order_by(col(Meeting.held_on).desc(), col(Meeting.id).desc())
    )
    return [(m, n) for m, n in session.exec(query).all()]


@dataclass
class CitedRecord:
    target_type: str
    target_id: int
    kind: str
    label: str  # the record's name (a version's name, a KPI's code and name ...)
    exists: bool = True


@dataclass
class ResolutionView:
    resolution: Resolution
    number: int
    citations: list[CitedRecord] = field(default_factory=list)


@dataclass
class MeetingView:
    meeting: Meeting
    attendance: list[MeetingAttendance]
    resolutions: list[ResolutionView]

    @property
    def agenda_items(self) -> list[str]:
        return [line.strip() for line in self.meeting.agenda.splitlines() if line.strip()]

    @property
    def attendee_ids(self) -> list[int]:
        return [a.member_id for a in self.attendance if a.member_id is not None]


def get_meeting(session: Session, area: Area, meeting_id: int) -> Meeting:
    return _get(session, Meeting, area, meeting_id, "meeting")


def meeting_view(session: Session, area: Area, meeting_id: int) -> MeetingView:
    meeting = get_meeting(session, area, meeting_id)
    attendance = list(
        session.exec(
            select(MeetingAttendance)
            .where(MeetingAttendance.meeting_id == meeting.id)
            .order_by(col(MeetingAttendance.id))
        ).all()
    )
    rows = list(
        session.exec(
            select(Resolution)
            .where(Resolution.meeting_id == meeting.id)
            .order_by(col(Resolution.position), col(Resolution.id))
        ).all()
    )
    cites: dict[int, list[ResolutionCitation]] = defaultdict(list)
    if rows:
        for c in session.exec(
            select(ResolutionCitation)
            .where(col(ResolutionCitation.resolution_id).in_([r.id for r in rows]))
            .order_by(col(ResolutionCitation.id))
        ).all():
            cites[c.resolution_id].append(c)
    names = citation_labels(session, [c for cs in cites.values() for c in cs])
    views = []
    for number, row in enumerate(rows, start=1):
        cited = [
            CitedRecord(
                c.target_type,
                c.target_id,
                c.kind,
                names.get((c.target_type, c.target_id), ""),
                (c.target_type, c.target_id) in names,
            )
            for c in cites[row.id]
        ]
        views.append(ResolutionView(row, number, cited))
    return MeetingView(meeting, attendance, views)


def _label(target_type: str, row: Any) -> str:
    if target_type == "plan_version":
        return row.name
    if target_type == "change_proposal":
        text = row.text.strip().splitlines()[0] if row.text.strip() else ""
        return text[:120]
    if target_type == "review_round":
        from app.periods import period_label

        return period_label(row.period)
    if target_type == "kpi":
        return f"{row.code} {row.name}"
    return f"{row.code} {row.title}"


def citation_labels(
    session: Session, citations: list[ResolutionCitation]
) -> dict[tuple[str, int], str]:
    """Names of cited records, one query per kind of record cited."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for c in citations:
        wanted[c.target_type].add(c.target_id)
    out = {}
    for target_type, ids in wanted.items():
        model = CITABLE.get(target_type)
        if model is None:
            continue
        for row in session.exec(select(model).where(col(model.id).in_(ids))).all():
            out[(target_type, row.id)] = _label(target_type, row)
    return out


@dataclass(frozen=True)
class Decision:
    """A resolution that cites a record: shown on the record's page."""

    meeting_id: int
    held_on: date
    title: str
    number: int
    kind: str


def decisions_for(
    session: Session, area: Area, target_type: str, target_ids: list[int]
) -> dict[int, list[Decision]]:
    """For each record, the resolutions that cite it (oldest meeting first): one query, asked
    even for no records, so a page's query count does not depend on its data."""
    ranked = select(
        col(Resolution.id).label("id"),
        col(Resolution.meeting_id).label("meeting_id"),
        col(Resolution.position).label("position"),
        func.row_number()
        .over(
            partition_by=col(Resolution.meeting_id),
            order_by=(col(Resolution.position), col(Resolution.id)),
        )
        .label("number"),
    ).subquery()
    found = session.exec(
        select(
            ResolutionCitation.target_id,
            ResolutionCitation.kind,
            Meeting.id,
            Meeting.held_on,
            Meeting.title,
            ranked.c.number,
        )
        .join(ranked, ranked.c.id == ResolutionCitation.resolution_id)
        .join(Meeting, col(Meeting.id) == ranked.c.meeting_id)
        .where(
            ResolutionCitation.target_type == target_type,
            col(ResolutionCitation.target_id).in_(target_ids),
            Meeting.area_id == area.id,
        )
        .order_by(col(Meeting.held_on), ranked.c.position, ranked.c.id)
    ).all()
    out: dict[int, list[Decision]] = defaultdict(list)
    for target_id, kind, meeting_id, held_on, title, number in found:
        out[target_id].append(Decision(meeting_id, held_on, title, number, kind))
    return dict(out)


def citable(session: Session, area: Area) -> list[tuple[str, list[tuple[str, str]]]]:
    """What a resolution of this area may cite, grouped: (group key, [(value, label)])."""
    plan_ids = select(Plan.id).where(Plan.area_id == area.id)
    out: list[tuple[str, list[tuple[str, str]]]] = []
    queries = {
        "plan_version": select(PlanVersion)
        .where(PlanVersion.area_id == area.id)
        .order_by(col(PlanVersion.as_of).desc(), col(PlanVersion.id).desc()),
        "change_proposal": select(ChangeProposal)
        .where(ChangeProposal.area_id == area.id)
        .order_by(col(ChangeProposal.id).desc()),
        "review_round": select(ReviewRound)
        .where(ReviewRound.area_id == area.id)
        .order_by(col(ReviewRound.period).desc()),
        "kra": select(KeyResultArea)
        .where(col(KeyResultArea.plan_id).in_(plan_ids))
        .order_by(col(KeyResultArea.plan_id).desc(), col(KeyResultArea.code)),
        "kpi": select(KPI)
        .where(col(KPI.plan_id).in_(plan_ids))
        .order_by(col(KPI.plan_id).desc(), col(KPI.code)),
        "action": select(Action)
        .where(col(Action.plan_id).in_(plan_ids))
        .order_by(col(Action.plan_id).desc(), col(Action.code)),
    }
    for target_type, query in queries.items():
        rows = session.exec(query).all()
        if rows:
            out.append(
                (target_type, [(f"{target_type}:{r.id}", _label(target_type, r)) for r in rows])
            )
    return out


# ---- checks ---------------------------------------------------------------------------------


def _check_agency(session: Session, area: Area, agency_id: int | None) -> None:
    if agency_id is None:
        return
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise ValidationFailed({"agency_id": Msg(UNKNOWN_RECORD, {"name": f"#{agency_id}"})})
    if agency.area_id not in (None, area.id):
        raise ValidationFailed({"agency_id": Msg(NOT_OURS_AGENCY, {"name": agency.name_th})})


def _check_members(
    session: Session, area: Area, ids: list[int], field_name: str
) -> dict[int, CommitteeMember]:
    if not ids:
        return {}
    rows = {
        m.id: m
        for m in session.exec(select(CommitteeMember).where(col(CommitteeMember.id).in_(ids))).all()
    }
    for member_id in ids:
        row = rows.get(member_id)
        if row is None:
            raise ValidationFailed({field_name: Msg(UNKNOWN_RECORD, {"name": f"#{member_id}"})})
        if row.area_id != area.id:
            raise ValidationFailed({field_name: Msg(NOT_OURS_MEMBER, {"name": row.name})})
    return rows


def _area_of(session: Session, target_type: str, row: Any) -> int | None:
    if target_type in ("kra", "kpi", "action"):
        plan = session.get(Plan, row.plan_id)
        return plan.area_id if plan else None
    return row.area_id


def _check_citations(session: Session, area: Area, citations: list[Citation]) -> None:
    for c in citations:
        row = session.get(CITABLE[c.target_type], c.target_id)
        if row is None:
            raise ValidationFailed(
                {"citations": Msg(UNKNOWN_RECORD, {"name": f"{c.target_type} #{c.target_id}"})}
            )
        if _area_of(session, c.target_type, row) != area.id:
            raise ValidationFailed(
                {"citations": Msg(NOT_OURS_RECORD, {"name": _label(c.target_type, row)})}
            )


def _stale(row: Any, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != row.version:
        raise Conflict(Msg(STALE), current={"version": row.version})


def _finish(session: Session, area: Area, entity: str, row_id: int, op: AuditOp) -> None:
    publish = {"type": "committee.changed", "entity": entity, "id": row_id, "op": op.value}
    audit.finish(session, area_id=area.id, publish=publish)


def _record(
    session: Session,
    actor: audit.Actor,
    area: Area,
    entity: str,
    row_id: int,
    op: AuditOp,
    before: dict | None,
    after: dict | None,
) -> None:
    audit.record(
        session,
        actor=actor,
        area_id=area.id,
        entity_type=entity,
        entity_id=row_id,
        op=op,
        before=before,
        after=after,
    )


def _next_position(session: Session, model: type[Any], where: Any) -> int:
    current = session.exec(select(func.max(model.position)).where(where)).one()
    return 0 if current is None else current + 1


# ---- members --------------------------------------------------------------------------------


def get_member(session: Session, area: Area, member_id: int) -> CommitteeMember:
    return _get(session, CommitteeMember, area, member_id, "committee_member")


def member_values(row: CommitteeMember) -> dict[str, Any]:
    return {"name": row.name, "title": row.title, "agency_id": row.agency_id, "role": row.role}


def create_member(
    session: Session, *, actor: audit.Actor, area: Area, member_in: dict[str, Any]
) -> CommitteeMember:
    data = validate(MemberIn, member_in)
    _check_agency(session, area, data.agency_id)
    row = CommitteeMember(
        area_id=area.id,
        name=data.name,
        title=data.title,
        agency_id=data.agency_id,
        role=data.role.value,
        position=_next_position(session, CommitteeMember, CommitteeMember.area_id == area.id),
    )
    session.add(row)
    session.flush()
    _record(
        session, actor, area, "committee_member", row.id, AuditOp.create, None, audit.snapshot(row)
    )
    _finish(session, area, "committee_member", row.id, AuditOp.create)
    return row


def update_member(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    member_id: int,
    member_in: dict[str, Any],
    expected_version: int | None = None,
) -> CommitteeMember:
    row = get_member(session, area, member_id)
    _stale(row, expected_version)
    data = validate(MemberIn, member_in)
    _check_agency(session, area, data.agency_id)
    before = audit.snapshot(row)
    row.name, row.title, row.agency_id, row.role = (
        data.name,
        data.title,
        data.agency_id,
        data.role.value,
    )
    row.version += 1
    session.add(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _record(
        session,
        actor,
        area,
        "committee_member",
        row.id,
        AuditOp.update,
        before,
        audit.snapshot(row),
    )
    _finish(session, area, "committee_member", row.id, AuditOp.update)
    return row


def delete_member(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    member_id: int,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Remove a member: they leave their working groups (a group they led keeps no lead); the
    meetings they attended keep their name."""
    row = get_member(session, area, member_id)
    _stale(row, expected_version)
    before = audit.snapshot(row)
    session.delete(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _record(session, actor, area, "committee_member", member_id, AuditOp.delete, before, None)
    _finish(session, area, "committee_member", member_id, AuditOp.delete)
    return before


# ---- working groups -------------------------------------------------------------------------


def get_group(session: Session, area: Area, group_id: int) -> WorkingGroup:
    return _get(session, WorkingGroup, area, group_id, "working_group")


def group_values(session: Session, row: WorkingGroup) -> dict[str, Any]:
    ids = session.exec(
        select(WorkingGroupMember.member_id).where(WorkingGroupMember.group_id == row.id)
    ).all()
    return {
        "name": row.name,
        "remit": row.remit,
        "lead_id": row.lead_id,
        "members": sorted(ids),
        "others": row.others,
    }


def _group_data(session: Session, area: Area, group_in: dict[str, Any]) -> GroupIn:
    data = validate(GroupIn, group_in)
    _check_members(session, area, data.members, "members")
    if data.lead_id is not None:
        _check_members(session, area, [data.lead_id], "lead_id")
        if data.lead_id not in data.members:
            data.members = sorted({*data.members, data.lead_id})
    return data


def _write_group_members(session: Session, group_id: int, ids: list[int]) -> None:
    session.exec(sql_delete(WorkingGroupMember).where(col(WorkingGroupMember.group_id) == group_id))
    for member_id in ids:
        session.add(WorkingGroupMember(group_id=group_id, member_id=member_id))
    session.flush()


def create_group(
    session: Session, *, actor: audit.Actor, area: Area, group_in: dict[str, Any]
) -> WorkingGroup:
    data = _group_data(session, area, group_in)
    row = WorkingGroup(
        area_id=area.id,
        name=data.name,
        remit=data.remit,
        lead_id=data.lead_id,
        others=data.others,
        position=_next_position(session, WorkingGroup, WorkingGroup.area_id == area.id),
    )
    session.add(row)
    session.flush()
    _write_group_members(session, row.id, data.members)
    after = audit.snapshot(row, members=data.members)
    _record(session, actor, area, "working_group", row.id, AuditOp.create, None, after)
    _finish(session, area, "working_group", row.id, AuditOp.create)
    return row


def update_group(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    group_id: int,
    group_in: dict[str, Any],
    expected_version: int | None = None,
) -> WorkingGroup:
    row = get_group(session, area, group_id)
    _stale(row, expected_version)
    data = _group_data(session, area, group_in)
    before = audit.snapshot(row, members=group_values(session, row)["members"])
    row.name, row.remit, row.lead_id, row.others = data.name, data.remit, data.lead_id, data.others
    row.version += 1
    session.add(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _write_group_members(session, row.id, data.members)
    after = audit.snapshot(row, members=data.members)
    _record(session, actor, area, "working_group", row.id, AuditOp.update, before, after)
    _finish(session, area, "working_group", row.id, AuditOp.update)
    return row


def delete_group(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    group_id: int,
    expected_version: int | None = None,
) -> None:
    row = get_group(session, area, group_id)
    _stale(row, expected_version)
    before = audit.snapshot(row, members=group_values(session, row)["members"])
    session.delete(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _record(session, actor, area, "working_group", group_id, AuditOp.delete, before, None)
    _finish(session, area, "working_group", group_id, AuditOp.delete)


# ---- meetings -------------------------------------------------------------------------------


def meeting_values(view: MeetingView) -> dict[str, Any]:
    m = view.meeting
    return {
        "held_on": m.held_on,
        "title": m.title,
        "place": m.place,
        "agenda": m.agenda,
        "attendees": view.attendee_ids,
        "guests": m.guests,
    }


def _write_attendance(
    session: Session, meeting_id: int, chosen: dict[int, CommitteeMember], ids: list[int]
) -> None:
    """Attendance of the members named; rows of members since removed stay as they are."""
    session.exec(
        sql_delete(MeetingAttendance).where(
            col(MeetingAttendance.meeting_id) == meeting_id,
            col(MeetingAttendance.member_id).is_not(None),
        )
    )
    for member_id in ids:
        session.add(
            MeetingAttendance(
                meeting_id=meeting_id, member_id=member_id, name=chosen[member_id].name
            )
        )
    session.flush()


def create_meeting(
    session: Session, *, actor: audit.Actor, area: Area, meeting_in: dict[str, Any]
) -> Meeting:
    data = validate(MeetingIn, meeting_in)
    chosen = _check_members(session, area, data.attendees, "attendees")
    row = Meeting(
        area_id=area.id,
        held_on=data.held_on,
        title=data.title,
        place=data.place,
        agenda=data.agenda,
        guests=data.guests,
    )
    session.add(row)
    session.flush()
    _write_attendance(session, row.id, chosen, data.attendees)
    after = audit.snapshot(row, attendees=data.attendees)
    _record(session, actor, area, "meeting", row.id, AuditOp.create, None, after)
    _finish(session, area, "meeting", row.id, AuditOp.create)
    return row


def update_meeting(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    meeting_id: int,
    meeting_in: dict[str, Any],
    expected_version: int | None = None,
) -> Meeting:
    row = get_meeting(session, area, meeting_id)
    _stale(row, expected_version)
    data = validate(MeetingIn, meeting_in)
    chosen = _check_members(session, area, data.attendees, "attendees")
    before = audit.snapshot(row, attendees=meeting_view(session, area, meeting_id).attendee_ids)
    row.held_on, row.title, row.place = data.held_on, data.title, data.place
    row.agenda, row.guests = data.agenda, data.guests
    row.version += 1
    session.add(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _write_attendance(session, row.id, chosen, data.attendees)
    after = audit.snapshot(row, attendees=data.attendees)
    _record(session, actor, area, "meeting", row.id, AuditOp.update, before, after)
    _finish(session, area, "meeting", row.id, AuditOp.update)
    return row


def delete_meeting(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    meeting_id: int,
    expected_version: int | None = None,
) -> None:
    """Delete a meeting recorded by mistake, with its attendance and resolutions."""
    row = get_meeting(session, area, meeting_id)
    _stale(row, expected_version)
    before = audit.snapshot(row, attendees=meeting_view(session, area, meeting_id).attendee_ids)
    session.delete(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _record(session, actor, area, "meeting", meeting_id, AuditOp.delete, before, None)
    _finish(session, area, "meeting", meeting_id, AuditOp.delete)


# ---- resolutions ----------------------------------------------------------------------------


def get_resolution(session: Session, meeting: Meeting, resolution_id: int) -> Resolution:
    row = session.get(Resolution, resolution_id)
    if row is None or row.meeting_id != meeting.id:
        raise NotFound(f"resolution/{resolution_id}")
    return row


def _resolution_snapshot(row: Resolution, citations: list[Citation]) -> dict[str, Any]:
    lists: dict[str, list[int]] = {name: [] for name in SNAPSHOT_FIELDS.values()}
    for c in citations:
        lists[SNAPSHOT_FIELDS[c.target_type]].append(c.target_id)
    adopted = [
        c.target_id
        for c in citations
        if c.kind == CitationKind.adopt.value and c.target_type == "plan_version"
    ]
    return audit.snapshot(row, **{k: v for k, v in lists.items() if v}, adopted_version_ids=adopted)


def current_citations(session: Session, resolution_id: int) -> list[Citation]:
    return [
        Citation(c.target_type, c.target_id, c.kind)
        for c in session.exec(
            select(ResolutionCitation).where(ResolutionCitation.resolution_id == resolution_id)
        ).all()
    ]


def _write_citations(session: Session, resolution_id: int, citations: list[Citation]) -> None:
    session.exec(
        sql_delete(ResolutionCitation).where(col(ResolutionCitation.resolution_id) == resolution_id)
    )
    for c in citations:
        session.add(
            ResolutionCitation(
                resolution_id=resolution_id,
                target_type=c.target_type,
                target_id=c.target_id,
                kind=c.kind,
            )
        )
    session.flush()


def add_resolution(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    meeting_id: int,
    resolution_in: dict[str, Any],
    citations: list[Citation],
) -> Resolution:
    meeting = get_meeting(session, area, meeting_id)
    data = validate(ResolutionIn, resolution_in)
    _check_citations(session, area, citations)
    current = session.exec(
        select(func.max(Resolution.position)).where(Resolution.meeting_id == meeting.id)
    ).one()
    row = Resolution(meeting_id=meeting.id, position=(current or 0) + 1, text=data.text)
    session.add(row)
    session.flush()
    _write_citations(session, row.id, citations)
    after = _resolution_snapshot(row, citations)
    _record(session, actor, area, "resolution", row.id, AuditOp.create, None, after)
    _finish(session, area, "resolution", row.id, AuditOp.create)
    return row


def update_resolution(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    meeting_id: int,
    resolution_id: int,
    resolution_in: dict[str, Any],
    citations: list[Citation],
    expected_version: int | None = None,
) -> Resolution:
    meeting = get_meeting(session, area, meeting_id)
    row = get_resolution(session, meeting, resolution_id)
    _stale(row, expected_version)
    data = validate(ResolutionIn, resolution_in)
    _check_citations(session, area, citations)
    before = _resolution_snapshot(row, current_citations(session, row.id))
    row.text = data.text
    row.version += 1
    session.add(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _write_citations(session, row.id, citations)
    after = _resolution_snapshot(row, citations)
    _record(session, actor, area, "resolution", row.id, AuditOp.update, before, after)
    _finish(session, area, "resolution", row.id, AuditOp.update)
    return row


def delete_resolution(
    session: Session,
    *,
    actor: audit.Actor,
    area: Area,
    meeting_id: int,
    resolution_id: int,
    expected_version: int | None = None,
) -> None:
    meeting = get_meeting(session, area, meeting_id)
    row = get_resolution(session, meeting, resolution_id)
    _stale(row, expected_version)
    before = _resolution_snapshot(row, current_citations(session, row.id))
    session.delete(row)
    with audit.lost_race_is_conflict(session):
        session.flush()
    _record(session, actor, area, "resolution", resolution_id, AuditOp.delete, before, None)
    _finish(session, area, "resolution", resolution_id, AuditOp.delete)
