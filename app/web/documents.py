"""Reports in Word (.docx) to edit and file: an area's plan, its annual report, and the annual
report of the areas the reader may read. `?digits=thai` writes numbers and dates in Thai
numerals."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.services import documents
from app.web.auth import ReadArea, SignedIn
from app.web.reports import Year, _filters
from app.web.spreadsheets import download

router = APIRouter()

Digits = Annotated[str | None, Query(max_length=10)]


def _thai(digits: str | None) -> bool:
    return (digits or "").strip().lower() == "thai"


@router.get("/areas/{slug}/plan.docx", name="area_plan_docx")
def plan_docx(area: ReadArea, session: SessionDep, digits: Digits = None) -> Response:
    body = documents.plan_docx(session, area, thai_digits=_thai(digits))
    return download(body, documents.DOCX_TYPE, f"phonlap-{area.slug}-plan.docx")


@router.get("/areas/{slug}/annual.docx", name="area_annual_docx")
def annual_docx(
    area: ReadArea, session: SessionDep, year: Year = None, digits: Digits = None
) -> Response:
    chosen, body = documents.annual_docx(session, area, year, thai_digits=_thai(digits))
    filename = f"phonlap-{area.slug}-annual-{chosen or 'plan'}.docx"
    return download(body, documents.DOCX_TYPE, filename)


@router.get("/review/annual.docx", name="review_annual_docx")
def review_annual_docx(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    year: Year = None,
    digits: Digits = None,
) -> Response:
    filters = _filters(request, "group")
    chosen, body = documents.review_annual_docx(
        session, principal, filters, year, thai_digits=_thai(digits)
    )
    return download(body, documents.DOCX_TYPE, f"phonlap-annual-{chosen}.docx")
