"""Reports: an area's provincial brief (a printable page, or PDF), the briefs of the areas the
review shows, the annual summary per academic year (page and workbook), and the cross-area
workbook. Every report lists only areas the reader may read."""

import logging
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.i18n import gettext, localized, thai_today
from app.models.enums import ActionStatus
from app.periods import period_label
from app.services import reports
from app.services.errors import Msg, ValidationFailed
from app.services.review import ALL, Filters
from app.services.spreadsheets import XLSX_TYPE
from app.templating import env, render, translate
from app.web.auth import ReadArea, SignedIn
from app.web.spreadsheets import download

log = logging.getLogger(__name__)
router = APIRouter()

Year = Annotated[str | None, Query(max_length=20)]
PDF_TYPE = "application/pdf"


def _filters(request: Request, *names: str) -> Filters:
    """The review's filters from the URL (all of them, or only `names`); a bad one is a 422."""
    params = request.query_params
    return Filters.parse({k: v[:60] for k, v in params.items() if not names or k in names})


def _today() -> date:
    return thai_today()


# ---- briefs ---------------------------------------------------------------------------------


@router.get("/areas/{slug}/brief", name="area_brief")
def brief_page(
    request: Request, area: ReadArea, session: SessionDep, period: Year = None
) -> Response:
    brief = reports.area_brief(session, area, period)
    errors = reports.unknown_year(brief) if brief.unknown else {}
    context = {
        "brief": brief,
        "today": _today(),
        "values": {"period": brief.year},
        "errors": errors,
        "prefix": "brief",
        "period_choices": [(code, period_label(code)) for code in brief.years],
    }
    return render(request, "reports/brief.html", context, status_code=422 if errors else 200)


@router.get("/areas/{slug}/brief.pdf", name="area_brief_pdf")
def brief_pdf(
    request: Request, area: ReadArea, session: SessionDep, period: Year = None
) -> Response:
    brief = reports.area_brief(session, area, period)
    if brief.unknown:
        raise ValidationFailed(reports.unknown_year(brief))
    title = f"{gettext('Brief')} · {localized(area)}"
    filename = f"phonlap-{area.slug}-brief-{brief.year or 'plan'}.pdf"
    return _pdf(request, [brief], title, filename)


@router.get("/review/briefs", name="review_briefs")
def briefs_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    filters = _filters(request)
    view, briefs = reports.review_briefs(session, principal, filters)
    context = {
        "view": view,
        "briefs": briefs,
        "today": _today(),
        "query": urlencode(filters.query()),
    }
    return render(request, "reports/briefs.html", context)


@router.get("/review/briefs.pdf", name="review_briefs_pdf")
def briefs_pdf(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    filters = _filters(request)
    view, briefs = reports.review_briefs(session, principal, filters)
    stem = view.group.slug if view.group else "areas"
    filename = f"phonlap-briefs-{stem}-{filters.year or thai_today().isoformat()}.pdf"
    return _pdf(request, briefs, gettext("Provincial briefs"), filename)


def _pdf(request: Request, briefs: list[reports.Brief], title: str, filename: str) -> Response:
    context = {"briefs": briefs, "title": title, "today": _today()}
    return pdf_download(request, "reports/brief_document.html", context, filename)


def pdf_download(
    request: Request, template: str, context: dict[str, Any], filename: str
) -> Response:
    """A Thai A4 PDF of `template` as a download, or 503 with a page saying why when the
    renderer's system libraries are missing (the briefs, the minutes, the workshop harvest)."""
    html = env.get_template(template).render({"request": request, "pdf": True, **context})
    try:
        body = reports.render_pdf(html)
    except reports.PDFUnavailable as exc:
        log.error("PDF renderer unavailable: %s", exc)
        message = translate(Msg(reports.PDF_UNAVAILABLE))
        return render(request, "error.html", {"status": 503, "message": message}, status_code=503)
    return download(body, PDF_TYPE, filename)


# ---- the annual summary ---------------------------------------------------------------------


@router.get("/review/annual", name="review_annual")
def annual_page(
    request: Request, session: SessionDep, principal: SignedIn, year: Year = None
) -> Response:
    filters = _filters(request, "group")
    annual = reports.annual_summary(session, principal, filters, year)
    errors = reports.unknown_academic_year(annual) if annual.unknown else {}
    query = {"year": annual.year, **filters.query()}
    context = {
        "annual": annual,
        "values": {"year": annual.year, "group": filters.group or ""},
        "errors": errors,
        "prefix": "annual",
        "choices": _annual_choices(annual),
        "query": urlencode(query),
        "outcomes": list(reports.OUTCOMES),
        "action_statuses": list(ActionStatus),
        "outcome_label": reports.outcome_label,
        "round_label": reports.round_label,
        "rules": [gettext(rule) for rule in reports.ANNUAL_RULES],
    }
    return render(request, "reports/annual.html", context, status_code=422 if errors else 200)


def _annual_choices(annual: reports.Annual) -> dict[str, Any]:
    groups = [(ALL, gettext("All areas"))] + [(g.slug, localized(g)) for g in annual.view.groups]
    return {"year": [(y, period_label(y)) for y in annual.years], "group": groups}


@router.get("/review/annual.xlsx", name="review_annual_xlsx")
def annual_xlsx(
    request: Request, session: SessionDep, principal: SignedIn, year: Year = None
) -> Response:
    annual = reports.annual_summary(session, principal, _filters(request, "group"), year)
    if annual.unknown:
        raise ValidationFailed(reports.unknown_academic_year(annual))
    body = reports.annual_workbook(annual)
    return download(body, XLSX_TYPE, f"phonlap-annual-{annual.year}.xlsx")


# ---- the cross-area workbook ------------------------------------------------------------------


@router.get("/review/export.xlsx", name="review_export")
def review_xlsx(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    body = reports.review_export(session, principal, _filters(request))
    return download(body, XLSX_TYPE, f"phonlap-review-{thai_today().isoformat()}.xlsx")
