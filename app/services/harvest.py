"""The harvest of a workshop session: everything its guests contributed, step by step, with
what became of each contribution (accepted into the plan as KPI7, into the problem tree, into
the resource inventory, as a learning question; archived; not yet decided), as a workbook and
as the data of the Thai A4 PDF (templates/workshop/harvest.html).

It reads through `workshops.board_view`, so it issues the board's queries (one for the
contributions with their authors, one per kind of element they became, one for the
participants), and one more for the dots of the session's votes, and two for the World Café
tables and rounds, whatever their number.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.i18n import N_, format_datetime, gettext, local_time, localized
from app.labels import LABELS, label
from app.models import (
    Area,
    Contribution,
    WorkshopBallot,
    WorkshopRound,
    WorkshopSession,
    WorkshopTable,
    WorkshopVote,
)
from app.models.base import utcnow
from app.models.workshops import ContributionKind, ContributionState
from app.services import plans, problems, reflections, resources, rounds, safe_sheets, workshops
from app.services.reports import sheet_name
from app.services.spreadsheets import Column, save_workbook, table_sheet
from app.services.workshops import Card

NOT_DECIDED = N_("Not yet decided")
INTO_PLAN_CODED = N_("Accepted into the plan as %(code)s: %(title)s")
INTO_PLAN = N_("Accepted into the plan as %(kind)s: %(title)s")
INTO_TREE = N_("Accepted into the problem tree: %(title)s")
INTO_RESOURCES = N_("Accepted into the resource inventory: %(title)s")
AS_QUESTION = N_("Accepted as a learning question: %(title)s")
ACCEPTED_AS = N_("Accepted: %(title)s")  # an element of a kind this module does not know yet
# the element has been deleted since (the board's own words, templates/workshop/_card.html)
GONE_FROM_PLAN = N_("Accepted; the plan element it became has been deleted since.")
GONE_FROM_TREE = N_("Accepted into the problem tree; the problem has been deleted since.")
GONE_FROM_RESOURCES = N_(
    "Accepted into the resource inventory; the resource has been deleted since."
)
GONE_QUESTION = N_("Accepted as a learning question; the question has been deleted since.")
BESIDE_VISION = N_("Offered to the editors beside the vision")  # words for the vision
KEPT = N_("Accepted and kept on the board.")

TREE, RESOURCES, QUESTIONS = (
    problems.ENTITY,
    resources.RESOURCES.entity_type,
    reflections.QUESTION.entity_type,
)
OUT_OF_PLAN = {  # entity type -> (accepted into, deleted since)
    TREE: (INTO_TREE, GONE_FROM_TREE),
    RESOURCES: (INTO_RESOURCES, GONE_FROM_RESOURCES),
    QUESTIONS: (AS_QUESTION, GONE_QUESTION),
}
TITLE_FIELDS = ("name", "title", "text", "question")  # what an element is called, by model


@dataclass
class HarvestItem:
    """One contribution and what became of it."""

    card: Card
    votes: int = 0  # the dots it was given, over every vote of the session
    table: WorkshopTable | None = None  # the World Café table and round it was sent at
    round: WorkshopRound | None = None

    @property
    def contribution(self) -> Contribution:
        return self.card.contribution

    @property
    def author(self) -> str:
        return self.card.author

    @property
    def detail(self) -> str:
        """A problem's cause, say, once contributions carry one."""
        return getattr(self.contribution, "detail", None) or ""

    @property
    def time(self) -> datetime:
        """When it was posted, on a Thai wall clock."""
        return local_time(self.contribution.created_at)

    @property
    def state(self) -> str:
        return self.contribution.state

    @property
    def element_code(self) -> str:
        """The code of the plan element it became (KPI7), while the element exists."""
        return str(getattr(self.card.element, "code", "") or "")

    @property
    def element_title(self) -> str:
        element = self.card.element
        for name in TITLE_FIELDS:
            if isinstance(value := getattr(element, name, None), str) and value:
                return value
        return ""

    @property
    def became(self) -> str:
        """What became of it, in the reader's language."""
        c = self.contribution
        if c.state == ContributionState.archived:
            return label("contribution_state", c.state)
        if c.state != ContributionState.accepted:
            return gettext(NOT_DECIDED)
        return self._accepted_as(c.accepted_entity)

    def _accepted_as(self, entity: str | None) -> str:
        title = self.element_title
        if entity == "plan":  # words for the vision are offered, never written in
            return gettext(BESIDE_VISION)
        if entity in OUT_OF_PLAN:
            into, gone = OUT_OF_PLAN[entity]
            return gettext(into, title=title) if self.card.element else gettext(gone)
        if entity in plans.ENTITY_KINDS:
            if self.card.element is None:
                return gettext(GONE_FROM_PLAN)
            if code := self.element_code:
                return gettext(INTO_PLAN_CODED, code=code, title=title)
            kind = label("kind", plans.ENTITY_KINDS[entity])
            return gettext(INTO_PLAN, kind=kind, title=title)
        if entity and title:
            return gettext(ACCEPTED_AS, title=title)
        if entity is None:  # accepted before contributions went anywhere
            return gettext(KEPT)
        return label("contribution_state", ContributionState.accepted)


@dataclass
class Step:
    """The contributions of one kind (a step of the plan, resources or questions), oldest
    first, archived ones among them."""

    kind: str
    items: list[HarvestItem] = field(default_factory=list)

    @property
    def label(self) -> str:
        return label("contribution_kind", self.kind)

    @property
    def counts(self) -> Counter[str]:
        return Counter(item.state for item in self.items)


@dataclass
class Harvest:
    workshop: WorkshopSession
    area: Area
    participants: int
    steps: list[Step]
    is_open: bool
    tables: list[WorkshopTable] = field(default_factory=list)
    rounds: list[WorkshopRound] = field(default_factory=list)

    @property
    def items(self) -> list[HarvestItem]:
        return [item for step in self.steps for item in step.items]

    @property
    def total(self) -> int:
        return sum(len(step.items) for step in self.steps)

    @property
    def counts(self) -> Counter[str]:
        """Contributions by state, over every step."""
        return sum((step.counts for step in self.steps), Counter())

    @property
    def held_on(self) -> date:
        """The day the session opened, in Thailand."""
        return local_time(self.workshop.opened_at).date()

    @property
    def ended_at(self) -> datetime | None:
        """When it was closed, or expired; None while it is open."""
        if self.is_open:
            return None
        return self.workshop.closed_at or self.workshop.expires_at

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(s.value for s in ContributionState)

    @property
    def has_votes(self) -> bool:
        """Whether anyone put a dot on anything in this session."""
        return any(item.votes for item in self.items)

    @property
    def has_detail(self) -> bool:
        return hasattr(Contribution, "detail")

    @property
    def has_rounds(self) -> bool:
        return bool(self.rounds)

    @property
    def cafe(self) -> list["CafeCell"]:
        """Per round, per table: its question, its host, what was sent there and the host's
        summary (a cell for each table of each round, in order)."""
        cells = {(r.id, t.id): CafeCell(r, t) for r in self.rounds for t in self.tables}
        for item in self.items:
            c = item.contribution
            cell = cells.get((c.round_id, c.table_id))
            if cell is None:
                continue
            if c.kind == ContributionKind.table_summary.value:
                cell.summary = c.text
            else:
                cell.items += 1
        return list(cells.values())


@dataclass
class CafeCell:
    round: WorkshopRound
    table: WorkshopTable
    items: int = 0
    summary: str = ""

    @property
    def question(self) -> str:
        return rounds.question_of(self.table, self.round)


def harvest(session: Session, workshop: WorkshopSession) -> Harvest:
    board = workshops.board_view(session, workshop)
    dots = _dots(session, workshop)
    tables = rounds.tables_of(session, workshop)
    held = rounds.rounds_of(session, workshop)
    table_by_id = {t.id: t for t in tables}
    round_by_id = {r.id: r for r in held}
    steps = []
    for kind in board.columns:
        cards = [*board.columns[kind], *board.archived.get(kind, [])]
        cards.sort(key=lambda card: (card.contribution.created_at, card.contribution.id or 0))
        items = [
            HarvestItem(
                card,
                dots[card.contribution.id],
                table_by_id.get(card.contribution.table_id or 0),
                round_by_id.get(card.contribution.round_id or 0),
            )
            for card in cards
        ]
        steps.append(Step(kind, items))
    area = session.get(Area, workshop.area_id)  # the route's dependency loaded it already
    assert area is not None
    return Harvest(workshop, area, board.participants, steps, board.is_open, tables, held)


def _dots(session: Session, workshop: WorkshopSession) -> Counter[int]:
    """Dots per contribution, over every vote of the session (a single choice is one dot)."""
    rows = session.exec(
        select(WorkshopBallot.contribution_id, func.count())
        .join(WorkshopVote, col(WorkshopVote.id) == WorkshopBallot.vote_id)
        .where(WorkshopVote.session_id == workshop.id)
        .group_by(WorkshopBallot.contribution_id)
    ).all()
    return Counter(dict(rows))


# ---- the workbook ---------------------------------------------------------------------------

ITEM_COLUMNS = (
    Column("step", N_("Step"), 22),
    Column("number", N_("No."), 6),
    Column("text", N_("Text"), 60),
    Column("detail", N_("Detail"), 40),
    Column("dimension", N_("Kind of resource"), 24),
    Column("group", N_("Group"), 16),
    Column("round", N_("Round"), 8),
    Column("table", N_("Café table"), 8),
    Column("author", N_("Posted by"), 20),
    Column("time", N_("Posted at"), 18),
    Column("votes", N_("Dots"), 10),
    Column("state", N_("State"), 14),
    Column("became", N_("What became of it"), 60),
)
STATES = tuple(ContributionState)


def item_rows(harvest: Harvest) -> list[dict[str, Any]]:
    rows = []
    for step in harvest.steps:
        for number, item in enumerate(step.items, start=1):
            c = item.contribution
            rows.append(
                {
                    "step": step.label,
                    "number": number,
                    "text": c.text,
                    "detail": item.detail,
                    "dimension": label("resource_dimension", c.dimension),
                    "group": c.group_label,
                    "round": item.round.number if item.round else None,
                    "table": item.table.number if item.table else None,
                    "author": item.author,
                    "time": format_datetime(c.created_at),
                    "votes": item.votes,
                    "state": label("contribution_state", c.state),
                    "became": item.became,
                }
            )
    return rows


def _summary_columns() -> list[Column]:
    states = [Column(f"state_{s.value}", LABELS["contribution_state"][s.value], 14) for s in STATES]
    return [Column("step", N_("Step"), 30), *states, Column("total", N_("Total"), 10)]


def summary_rows(harvest: Harvest) -> list[dict[str, Any]]:
    rows = []
    for step in harvest.steps:
        counts = step.counts
        by_state = {f"state_{s.value}": counts.get(s.value, 0) for s in STATES}
        rows.append({"step": step.label, **by_state, "total": len(step.items)})
    totals = harvest.counts
    by_state = {f"state_{s.value}": totals.get(s.value, 0) for s in STATES}
    rows.append({"step": gettext("All steps"), **by_state, "total": harvest.total})
    return rows


def workbook(harvest: Harvest) -> bytes:
    """The harvest sheet (a row per contribution, step by step) and a summary sheet: the
    session, then the contributions per step and state."""
    book = Workbook()
    taken: set[str] = set()
    sheet = book.active
    sheet.title = sheet_name(gettext("Harvest"), taken)
    shown = {
        "detail": harvest.has_detail,
        "votes": harvest.has_votes,
        "round": harvest.has_rounds,
        "table": harvest.has_rounds,
    }
    columns = [c for c in ITEM_COLUMNS if shown.get(c.key, True)]
    table_sheet(sheet, columns, item_rows(harvest))
    summary = book.create_sheet(sheet_name(gettext("Summary"), taken))
    facts = _facts(harvest)
    for number, (name, value) in enumerate(facts, start=1):
        summary.cell(row=number, column=1, value=name).font = Font(bold=True)
        cell = safe_sheets.write_cell(summary, number, 2, value)
        cell.alignment = Alignment(vertical="top", wrap_text=isinstance(value, str))
    table_sheet(summary, _summary_columns(), summary_rows(harvest), first_row=len(facts) + 2)
    summary.column_dimensions["B"].width = max(summary.column_dimensions["B"].width or 0, 40)
    if harvest.has_rounds:
        cafe = book.create_sheet(sheet_name(gettext("Tables and rounds"), taken))
        table_sheet(cafe, CAFE_COLUMNS, cafe_rows(harvest))
    return save_workbook(book)


CAFE_COLUMNS = (
    Column("round", N_("Round"), 8),
    Column("table", N_("Café table"), 8),
    Column("question", N_("Question"), 50),
    Column("host", N_("Host"), 20),
    Column("items", N_("Contributions"), 14),
    Column("summary", N_("Host's summary"), 70),
)


def cafe_rows(harvest: Harvest) -> list[dict[str, Any]]:
    """A row per table per round: the harvest of the World Café."""
    return [
        {
            "round": cell.round.number,
            "table": cell.table.number,
            "question": cell.question,
            "host": cell.table.host_name,
            "items": cell.items,
            "summary": cell.summary,
        }
        for cell in harvest.cafe
    ]


def _facts(harvest: Harvest) -> list[tuple[str, Any]]:
    w = harvest.workshop
    ended = harvest.ended_at
    return [
        (gettext("Workshop session"), w.title),
        (gettext("Area"), localized(harvest.area)),
        (gettext("Opened"), format_datetime(w.opened_at)),
        (gettext("Ended"), format_datetime(ended) if ended else gettext("Still open")),
        (gettext("Participants"), harvest.participants),
        (gettext("Contributions"), harvest.total),
        (gettext("Exported"), format_datetime(utcnow())),
    ]


def file_stem(harvest: Harvest) -> str:
    return f"phonlap-{harvest.area.slug}-harvest-{harvest.held_on.isoformat()}"
