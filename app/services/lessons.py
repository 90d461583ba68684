"""Learning across areas (`/review/learning`): the reflections, emergent outcomes, adaptations
and learning questions of every area the reader may read, in one list that support teams can
filter by area, strategy theme, DOE aspect, academic year, kind and words, and export.

An item carries the themes and DOE aspects of the plan elements it is about: a reflection those
of the KRAs, KPIs and actions it looked at; an outcome those of its KRAs and actions, and the DOE
items it names; an adaptation those of the element that changed; a learning question those of the
reflections that raised or answered it. A KPI or action counts the KRAs it serves.

Read in a fixed number of queries whatever the number of areas and items.
"""

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from app.display import entry_label
from app.i18n import BE_OFFSET, N_, format_date, gettext, local_time, localized, thai_sort_key
from app.labels import label
from app.models import (
    KPIKRA,
    ActionKPI,
    ActionKRA,
    Area,
    AuditEvent,
    DOEAspect,
    EmergentOutcome,
    KeyResultArea,
    KRADOEItem,
    LearningQuestion,
    Plan,
    Reflection,
    StrategyTheme,
)
from app.models.de import (
    OutcomeAction,
    OutcomeDOEItem,
    OutcomeKRA,
    ReflectionElement,
    ReflectionFollowUp,
)
from app.periods import calendar, parse_period, period_label
from app.services.access import Principal
from app.services.errors import Msg, ValidationFailed
from app.services.learning import stated_reason
from app.services.plans import PLAN_ENTITIES
from app.services.reference import Reference, load_reference
from app.services.safe_sheets import clean_text
from app.services.spreadsheets import Column, save_workbook, table_sheet

KINDS = ("reflection", "outcome", "adaptation", "question")
KIND_LABELS = {
    "reflection": N_("Reflections"),
    "outcome": N_("Emergent outcomes"),
    "adaptation": N_("Adaptations"),
    "question": N_("Learning questions"),
}
KIND_LABEL = {  # one item
    "reflection": N_("Reflection"),
    "outcome": N_("Emergent outcome"),
    "adaptation": N_("Adaptation"),
    "question": N_("Learning question"),
}
GROUP_BY = ("kind", "area")
SEARCH_MAX = 200


# ---- filters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the list shows; the URL carries it (`query()`), so a view can be bookmarked."""

    areas: tuple[str, ...] = ()  # area slugs; none: every readable area
    theme: str | None = None  # a strategy theme's code
    aspect: str | None = None  # a DOE aspect's code
    year: str | None = None  # an academic year, e.g. AY2567
    kinds: tuple[str, ...] = KINDS
    q: str = ""  # words the item's text contains
    by: str = "kind"  # group the results by kind or by area

    @classmethod
    def parse(cls, params: Mapping[str, Any], areas: list[str], kinds: list[str]) -> "Filters":
        """The filters from the URL; a value that names nothing is refused beside its field.
        (Whether areas, themes and aspects exist is checked against the reader's choices.)"""
        errors: dict[str, Msg] = {}
        value = {
            n: str(params.get(n) or "").strip() for n in ("theme", "aspect", "year", "q", "by")
        }
        if set(kinds) - set(KINDS):
            errors["kind"] = Msg(N_("Choose one of the options."))
        year = value["year"]
        if year:
            parsed = parse_period(year.upper())
            if parsed is None or parsed.prefix != "AY" or parsed.part is not None:
                errors["year"] = Msg(N_("Choose an academic year, e.g. AY2567."))
            else:
                year = parsed.code
        if len(value["q"]) > SEARCH_MAX:
            errors["q"] = Msg(
                N_("Too long: at most %(max_length)s characters."), {"max_length": SEARCH_MAX}
            )
        if value["by"] and value["by"] not in GROUP_BY:
            errors["by"] = Msg(N_("Choose one of the options."))
        if errors:
            raise ValidationFailed(errors)
        return cls(
            areas=tuple(dict.fromkeys(a.strip() for a in areas if a.strip())),
            theme=value["theme"] or None,
            aspect=value["aspect"] or None,
            year=year or None,
            kinds=tuple(k for k in KINDS if k in kinds) or KINDS,
            q=value["q"],
            by=value["by"] or "kind",
        )

    def query(self) -> list[tuple[str, str]]:
        """The URL parameters of these filters, defaults left out (areas and kinds repeat)."""
        out = [("area", slug) for slug in self.areas]
        out += [(n, v) for n in ("theme", "aspect", "year", "q") if (v := getattr(self, n))]
        if self.kinds != KINDS:
            out += [("kind", k) for k in self.kinds]
        if self.by != "kind":
            out.append(("by", self.by))
        return out


# ---- the items ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lesson:
    kind: str
    area: Area
    day: date
    record_id: int
    title: str
    parts: tuple[tuple[str, str], ...]  # (label message id, text), the non-empty ones
    themes: tuple[StrategyTheme, ...] = ()
    aspects: tuple[DOEAspect, ...] = ()
    state: str = ""  # a label shown beside the title (a question's state, a reason's category)

    @property
    def year(self) -> str:
        return academic_year(self.day)

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.parts)

    def link(self) -> tuple[str, dict[str, Any], str]:
        """Where the item is read on its area's pages: route name, path parameters, and what
        follows the path (query and fragment)."""
        slug = self.area.slug
        if self.kind == "reflection":
            return "reflection", {"slug": slug, "reflection_id": self.record_id}, ""
        if self.kind == "outcome":
            return "outcome", {"slug": slug, "outcome_id": self.record_id}, ""
        if self.kind == "question":
            return "questions", {"slug": slug}, f"#question-{self.record_id}"
        return "timeline", {"slug": slug}, f"?kind=adaptation#adaptation-{self.record_id}"


def academic_year(day: date) -> str:
    """The academic year (AY + B.E.) a day falls in: the school calendar's years follow on
    each other, so a day before this year's start belongs to the year before."""
    year_be = day.year + BE_OFFSET
    if day < calendar().academic_year(year_be).starts_on:
        year_be -= 1
    return f"AY{year_be}"


@dataclass
class LessonsView:
    filters: Filters
    areas: list[Area]  # every area the reader may read, in Thai order (the area choices)
    ref: Reference
    lessons: list[Lesson]  # those the filters keep, newest first
    counts: dict[str, int]  # per kind, over the items the other filters keep
    years: list[str]  # the academic years items fall in, newest first

    @property
    def groups(self) -> list[tuple[str, Any, list[Lesson]]]:
        """The results by kind (in KINDS order) or by area (Thai order): (key, heading, items)."""
        if self.filters.by == "area":
            by_area: dict[int, list[Lesson]] = defaultdict(list)
            for lesson in self.lessons:
                by_area[lesson.area.id].append(lesson)
            return [(a.slug, a, by_area[a.id]) for a in self.areas if by_area.get(a.id)]
        by_kind: dict[str, list[Lesson]] = defaultdict(list)
        for lesson in self.lessons:
            by_kind[lesson.kind].append(lesson)
        return [(k, KIND_LABELS[k], by_kind[k]) for k in KINDS if by_kind.get(k)]


def lessons_view(session: Session, principal: Principal, filters: Filters) -> LessonsView:
    """The learning items of the readable areas the filters keep. Raises ValidationFailed for
    an area, theme or aspect that is not among the reader's choices."""
    readable = principal.area_ids()
    query = select(Area)
    if readable is not None:
        query = query.where(col(Area.id).in_(readable or [-1]))
    areas = sorted(session.exec(query).all(), key=lambda a: thai_sort_key(a.name_th))
    ref = load_reference(session, [])
    _check_choices(filters, areas, ref)
    chosen = [a for a in areas if not filters.areas or a.slug in filters.areas]
    items = load_lessons(session, chosen, ref)
    kept = [i for i in items if _keeps(filters, i)]
    counts = dict.fromkeys(KINDS, 0)
    for item in kept:
        counts[item.kind] += 1
    years = sorted({i.year for i in items} | ({filters.year} if filters.year else set()))
    return LessonsView(
        filters=filters,
        areas=areas,
        ref=ref,
        lessons=[i for i in kept if i.kind in filters.kinds],
        counts=counts,
        years=years[::-1],
    )


def _check_choices(filters: Filters, areas: list[Area], ref: Reference) -> None:
    errors: dict[str, Msg] = {}
    if set(filters.areas) - {a.slug for a in areas}:
        errors["area"] = Msg(N_("Pick from the list."))
    if filters.theme and filters.theme not in {t.code for t in ref.themes.values()}:
        errors["theme"] = Msg(N_("Pick from the list."))
    if filters.aspect and filters.aspect not in {a.code for a in ref.aspects}:
        errors["aspect"] = Msg(N_("Pick from the list."))
    if errors:
        raise ValidationFailed(errors)


def _keeps(filters: Filters, item: Lesson) -> bool:
    if filters.year and item.year != filters.year:
        return False
    if filters.theme and filters.theme not in {t.code for t in item.themes}:
        return False
    if filters.aspect and filters.aspect not in {a.code for a in item.aspects}:
        return False
    if filters.q:
        words = filters.q.casefold()
        return words in item.title.casefold() or words in item.text.casefold()
    return True


# ---- loading: a fixed number of queries -----------------------------------------------------


@dataclass
class Links:
    """The areas' plan elements, as far as themes and DOE aspects go: each KRA's theme and DOE
    items, and the KRAs each KPI and action serves."""

    ref: Reference
    kra_theme: dict[int, int | None] = field(default_factory=dict)
    kra_items: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    kpi_kras: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    action_kras: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    def kras_of(self, elements: Iterable[tuple[str, int]]) -> set[int]:
        kras: set[int] = set()
        for entity_type, entity_id in elements:
            if entity_type == "kra":
                kras.add(entity_id)
            elif entity_type == "kpi":
                kras |= self.kpi_kras.get(entity_id, set())
            elif entity_type == "action":
                kras |= self.action_kras.get(entity_id, set())
        return kras

    def tags(
        self, elements: Iterable[tuple[str, int]], items: Iterable[int] = ()
    ) -> tuple[tuple[StrategyTheme, ...], tuple[DOEAspect, ...]]:
        """The themes and DOE aspects of these elements (and of these DOE items), in the
        reference's order."""
        kras = self.kras_of(elements)
        theme_ids = {self.kra_theme.get(k) for k in kras}
        item_ids = set(items).union(*(self.kra_items.get(k, set()) for k in kras))
        aspect_ids = {self.ref.items[i].aspect_id for i in item_ids if i in self.ref.items}
        themes = tuple(t for t in self.ref.themes.values() if t.id in theme_ids)
        aspects = tuple(a for a in self.ref.aspects if a.id in aspect_ids)
        return themes, aspects


def load_links(session: Session, area_ids: list[int], ref: Reference) -> Links:
    """Four queries: the KRAs of the areas' plans (every plan: a record outlives its plan), their
    DOE items, and the KRAs served by each KPI and action."""
    links = Links(ref)
    of_areas = col(Plan.area_id).in_(area_ids)
    kras = session.exec(
        select(KeyResultArea.id, KeyResultArea.theme_id).join(Plan).where(of_areas)
    ).all()
    links.kra_theme = dict(kras)
    kra_ids = select(KeyResultArea.id).join(Plan).where(of_areas)
    for kra_id, item_id in session.exec(
        select(KRADOEItem.kra_id, KRADOEItem.item_id).where(col(KRADOEItem.kra_id).in_(kra_ids))
    ):
        links.kra_items[kra_id].add(item_id)
    for kpi_id, kra_id in session.exec(
        select(KPIKRA.kpi_id, KPIKRA.kra_id).where(col(KPIKRA.kra_id).in_(kra_ids))
    ):
        links.kpi_kras[kpi_id].add(kra_id)
    served = session.exec(
        select(ActionKRA.action_id, ActionKRA.kra_id).where(col(ActionKRA.kra_id).in_(kra_ids))
    ).all()
    through_kpis = session.exec(
        select(ActionKPI.action_id, KPIKRA.kra_id)
        .join(KPIKRA, col(KPIKRA.kpi_id) == ActionKPI.kpi_id)
        .where(col(KPIKRA.kra_id).in_(kra_ids))
    ).all()
    for action_id, kra_id in [*served, *through_kpis]:
        links.action_kras[action_id].add(kra_id)
    return links


def load_lessons(session: Session, areas: list[Area], ref: Reference) -> list[Lesson]:
    """Every learning item of these areas, newest first."""
    if not areas:
        return []
    by_id = {a.id: a for a in areas}
    links = load_links(session, list(by_id), ref)
    reflections, reflection_tags = _reflections(session, by_id, links)
    items = [
        *reflections,
        *_outcomes(session, by_id, links),
        *_adaptations(session, by_id, links),
        *_questions(session, by_id, reflection_tags),
    ]
    return sorted(items, key=lambda i: (i.day, i.record_id), reverse=True)


Tags = tuple[tuple[StrategyTheme, ...], tuple[DOEAspect, ...]]


def _reflections(
    session: Session, areas: dict[int, Area], links: Links
) -> tuple[list[Lesson], dict[int, Tags]]:
    rows = session.exec(select(Reflection).where(col(Reflection.area_id).in_(areas))).all()
    elements: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for element in session.exec(
        select(ReflectionElement).join(Reflection).where(col(Reflection.area_id).in_(areas))
    ):
        elements[element.reflection_id].append((element.entity_type, element.entity_id))
    tags = {r.id: links.tags(elements.get(r.id, [])) for r in rows}
    lessons = [
        Lesson(
            "reflection",
            areas[r.area_id],
            r.held_on,
            r.id,
            r.title,
            _parts(
                (N_("What?"), r.what), (N_("So what?"), r.so_what), (N_("Now what?"), r.now_what)
            ),
            *tags[r.id],
            state=f"{gettext('Period looked at')}: {period_label(r.period)}" if r.period else "",
        )
        for r in rows
    ]
    return lessons, tags


def _outcomes(session: Session, areas: dict[int, Area], links: Links) -> list[Lesson]:
    rows = session.exec(
        select(EmergentOutcome).where(col(EmergentOutcome.area_id).in_(areas))
    ).all()
    of_areas = col(EmergentOutcome.area_id).in_(areas)
    elements: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for outcome_id, kra_id in session.exec(
        select(OutcomeKRA.outcome_id, OutcomeKRA.kra_id).join(EmergentOutcome).where(of_areas)
    ):
        elements[outcome_id].append(("kra", kra_id))
    for outcome_id, action_id in session.exec(
        select(OutcomeAction.outcome_id, OutcomeAction.action_id)
        .join(EmergentOutcome)
        .where(of_areas)
    ):
        elements[outcome_id].append(("action", action_id))
    items: dict[int, list[int]] = defaultdict(list)
    for outcome_id, item_id in session.exec(
        select(OutcomeDOEItem.outcome_id, OutcomeDOEItem.item_id)
        .join(EmergentOutcome)
        .where(of_areas)
    ):
        items[outcome_id].append(item_id)
    return [
        Lesson(
            "outcome",
            areas[o.area_id],
            o.observed_on,
            o.id,
            o.who,
            _parts(
                (N_("Change"), o.change),
                (N_("Significance"), o.significance),
                (N_("Contribution"), o.contribution),
            ),
            *links.tags(elements.get(o.id, []), items.get(o.id, [])),
            state=label("substantiation", o.substantiation),
        )
        for o in rows
    ]


ELEMENT_TYPES = ("kra", "kpi", "action")


def _adaptations(session: Session, areas: dict[int, Area], links: Links) -> list[Lesson]:
    """Changes to a plan with a stated reason: what the committee learnt made it change."""
    events = session.exec(
        select(AuditEvent).where(
            col(AuditEvent.area_id).in_(areas),
            col(AuditEvent.entity_type).in_(PLAN_ENTITIES),
            stated_reason(),
        )
    ).all()
    return [
        Lesson(
            "adaptation",
            areas[e.area_id],
            _event_day(e),
            e.id,
            entry_label(e) or label("entity", e.entity_type),
            _parts((N_("Reason for the change"), e.reason or "")),
            *links.tags(_changed_elements(e), _snapshot(e).get("doe_item_ids") or []),
            state=label("reason_category", e.reason_category),
        )
        for e in events
    ]


def _event_day(event: AuditEvent) -> date:
    return local_time(event.at).date()


def _snapshot(event: AuditEvent) -> dict[str, Any]:
    return event.after or event.before or {}


def _changed_elements(event: AuditEvent) -> list[tuple[str, int]]:
    """The element changed, and the KRAs and KPIs its saved copy names (a deleted element is
    no longer in the link tables)."""
    snapshot = _snapshot(event)
    found = [(event.entity_type, event.entity_id)] if event.entity_id else []
    found += [("kra", int(k)) for k in snapshot.get("kra_ids") or [] if str(k).isdigit()]
    found += [("kpi", int(k)) for k in snapshot.get("kpi_ids") or [] if str(k).isdigit()]
    return [e for e in found if e[0] in ELEMENT_TYPES]


def _questions(
    session: Session, areas: dict[int, Area], reflection_tags: dict[int, Tags]
) -> list[Lesson]:
    """Learning questions, tagged like the reflections that raised or answered them."""
    rows = session.exec(
        select(LearningQuestion).where(col(LearningQuestion.area_id).in_(areas))
    ).all()
    raised = session.exec(
        select(ReflectionFollowUp.target_id, ReflectionFollowUp.reflection_id)
        .join(Reflection)
        .where(
            col(Reflection.area_id).in_(areas),
            ReflectionFollowUp.target_type == "learning_question",
        )
    ).all()
    sources: dict[int, set[int]] = defaultdict(set)
    for question_id, reflection_id in raised:
        sources[question_id].add(reflection_id)
    lessons = []
    for q in rows:
        if q.answer_reflection_id:
            sources[q.id].add(q.answer_reflection_id)
        themes = {t.id: t for r in sources[q.id] for t in reflection_tags.get(r, ((), ()))[0]}
        aspects = {a.id: a for r in sources[q.id] for a in reflection_tags.get(r, ((), ()))[1]}
        lessons.append(
            Lesson(
                "question",
                areas[q.area_id],
                q.answered_on or q.created_at.date(),
                q.id,
                q.question,
                _parts((N_("Answer"), q.answer), (N_("What answered it"), q.evidence)),
                tuple(sorted(themes.values(), key=lambda t: t.position)),
                tuple(sorted(aspects.values(), key=lambda a: a.position)),
                state=label("question_state", q.state),
            )
        )
    return lessons


def _parts(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, text.strip()) for name, text in pairs if text and text.strip())


# ---- the lessons export ---------------------------------------------------------------------

EXPORT_COLUMNS = (
    Column("kind", N_("Kind"), 18),
    Column("area", N_("Area"), 22),
    Column("date", N_("Date"), 14),
    Column("year", N_("Academic year"), 18),
    Column("title", N_("Title"), 40),
    Column("state", N_("Status"), 18),
    Column("text", N_("Text"), 80),
    Column("themes", N_("Strategy themes"), 24),
    Column("aspects", N_("DOE aspects"), 24),
    Column("link", N_("Link"), 40),
)


def export_rows(view: LessonsView, link: Callable[[Lesson], str]) -> list[dict[str, Any]]:
    """One row per item shown, in the page's order (by kind or by area)."""
    return [
        {
            "kind": gettext(KIND_LABEL[i.kind]),
            "area": i.area.name_th,
            "date": format_date(i.day),
            "year": period_label(i.year),
            "title": i.title,
            "state": i.state,
            "text": "\n".join(f"{gettext(name)} {text}" for name, text in i.parts),
            "themes": ", ".join(localized(t) for t in i.themes),
            "aspects": ", ".join(f"{a.code} {localized(a)}" for a in i.aspects),
            "link": link(i),
        }
        for _, _, items in view.groups
        for i in items
    ]


def lessons_workbook(view: LessonsView, link: Callable[[Lesson], str]) -> bytes:
    """The lessons as one sheet; text is never run as a formula (table_sheet)."""
    book = Workbook()
    sheet = book.active
    sheet.title = gettext("Lessons")[:31]
    table_sheet(sheet, EXPORT_COLUMNS, export_rows(view, link))
    return save_workbook(book)


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCX_FONT = "TH Sarabun New"  # Thai text needs a Thai font; Word falls back if it is missing


def lessons_document(view: LessonsView, link: Callable[[Lesson], str]) -> bytes:
    """The lessons as a Word document: a heading per group (kind or area), then each item with
    its area, date, tags, text and link, in the page's order."""
    from docx import Document  # python-docx: imported only for this download
    from docx.oxml.ns import qn

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = DOCX_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:cs"), DOCX_FONT)
    document.add_heading(gettext("Learning across areas"), level=0)
    for _, heading, items in view.groups:
        title = heading.name_th if isinstance(heading, Area) else gettext(heading)
        document.add_heading(f"{title} ({len(items)})", level=1)
        for item in items:
            document.add_heading(_docx_text(item.title), level=2)
            meta = [gettext(KIND_LABEL[item.kind]), item.area.name_th, format_date(item.day)]
            meta += [period_label(item.year), *([item.state] if item.state else [])]
            document.add_paragraph(" · ".join(meta))
            tags = [localized(t) for t in item.themes] + [a.code for a in item.aspects]
            if tags:
                document.add_paragraph(", ".join(tags))
            for name, text in item.parts:
                paragraph = document.add_paragraph()
                paragraph.add_run(gettext(name) + " ").bold = True
                paragraph.add_run(_docx_text(text))
            document.add_paragraph(link(item))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_text(text: str) -> str:
    """Text a Word document can hold (no NUL or other control characters)."""
    return clean_text(text)
