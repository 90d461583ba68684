"""Learning across areas (`/review/learning`): the reflections, emergent outcomes, adaptations
and learning questions of the areas the reader may read, filtered by the URL, and the lessons
workbook of the same filters."""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.db import SessionDep
from app.i18n import gettext, localized, thai_today
from app.periods import period_label
from app.services import lessons
from app.services.access import Principal
from app.services.errors import Msg, ValidationFailed
from app.services.spreadsheets import XLSX_TYPE
from app.templating import render
from app.web.auth import SignedIn
from app.web.spreadsheets import download

router = APIRouter()

SINGLE = ("theme", "aspect", "year", "q", "by")
MULTI = ("area", "kind")
LONGEST = 300  # characters kept of a typed value (the search's own limit is checked)


def _typed(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    params = request.query_params
    single = {n: params.get(n, "")[:LONGEST] for n in SINGLE}
    multi = {n: [v[:LONGEST] for v in params.getlist(n)][:100] for n in MULTI}
    return single, multi


def _view(
    session: Session, principal: Principal, single: dict[str, str], multi: dict[str, list[str]]
) -> tuple[lessons.LessonsView, dict[str, Msg]]:
    """The view of the filters given, less those refused (with their messages)."""
    errors: dict[str, Msg] = {}
    single, multi = dict(single), dict(multi)
    while True:  # each round drops the filters refused, and ends once none is
        try:
            filters = lessons.Filters.parse(single, multi["area"], multi["kind"])
            return lessons.lessons_view(session, principal, filters), errors
        except ValidationFailed as exc:
            if not set(exc.errors) - set(errors):
                raise  # pragma: no cover  (a refusal the loop cannot drop)
            errors.update(exc.errors)
            single = {k: ("" if k in errors else v) for k, v in single.items()}
            multi = {k: ([] if k in errors else v) for k, v in multi.items()}


@router.get("/review/learning", name="review_learning")
def learning_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    """Everyone signed in may open it; each sees the items of the areas they may read."""
    single, multi = _typed(request)
    view, errors = _view(session, principal, single, multi)
    f = view.filters
    context = {
        "view": view,
        "values": {**single, "area": multi["area"], "kind": multi["kind"] or list(f.kinds)},
        "errors": errors,
        "prefix": "lessons",
        "choices": _choices(view),
        "query": urlencode(f.query()),
        "by_query": {
            by: urlencode(
                [(k, v) for k, v in f.query() if k != "by"] + ([("by", by)] * (by != "kind"))
            )
            for by in lessons.GROUP_BY
        },
        "kind_labels": lessons.KIND_LABELS,
        "kind_label": lessons.KIND_LABEL,
    }
    return render(request, "review/learning.html", context, status_code=422 if errors else 200)


def _choices(view: lessons.LessonsView) -> dict[str, Any]:
    ref = view.ref
    return {
        "area": [(a.slug, localized(a)) for a in view.areas],
        "theme": [(t.code, localized(t)) for t in ref.themes.values()],
        "aspect": [(a.code, f"{a.code} · {localized(a)}") for a in ref.aspects],
        "year": [(code, period_label(code)) for code in view.years],
        "kind": [
            (k, f"{gettext(lessons.KIND_LABELS[k])} ({view.counts[k]})") for k in lessons.KINDS
        ],
        "by": [("kind", gettext("By kind")), ("area", gettext("By area"))],
    }


@router.get("/review/learning.xlsx", name="review_learning_export")
def learning_xlsx(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    """The items the page shows with the same filters; refused filters refuse the download."""
    view = _export_view(request, session, principal)
    body = lessons.lessons_workbook(view, lambda item: _absolute(request, item))
    return download(body, XLSX_TYPE, f"phonlap-lessons-{thai_today().isoformat()}.xlsx")


def _export_view(request: Request, session: Session, principal: Principal) -> lessons.LessonsView:
    """The view of the page's filters; a refused filter refuses the download (422)."""
    single, multi = _typed(request)
    filters = lessons.Filters.parse(single, multi["area"], multi["kind"])
    return lessons.lessons_view(session, principal, filters)


def _absolute(request: Request, item: lessons.Lesson) -> str:
    route, params, tail = item.link()
    return str(request.url_for(route, **params)) + tail


@router.get("/review/learning.docx", name="review_learning_document")
def learning_docx(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    """The same items as a Word document, to hand on as a lessons brief."""
    view = _export_view(request, session, principal)
    body = lessons.lessons_document(view, lambda item: _absolute(request, item))
    return download(body, lessons.DOCX_TYPE, f"phonlap-lessons-{thai_today().isoformat()}.docx")
