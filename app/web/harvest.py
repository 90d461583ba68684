"""A workshop session's harvest, for whoever may facilitate the area: everything contributed,
step by step, with what became of it, as a workbook (.xlsx) and as a Thai A4 PDF."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.i18n import thai_today
from app.services import harvest as harvests
from app.services.spreadsheets import XLSX_TYPE
from app.web.auth import FacilitateArea
from app.web.reports import pdf_download
from app.web.spreadsheets import download
from app.web.workshops import Workshop

router = APIRouter(prefix="/areas/{slug}/workshops/{workshop_id:id}")


@router.get("/harvest.xlsx", name="workshop_harvest_xlsx")
def harvest_xlsx(area: FacilitateArea, workshop: Workshop, session: SessionDep) -> Response:
    harvest = harvests.harvest(session, workshop)
    body = harvests.workbook(harvest)
    return download(body, XLSX_TYPE, harvests.file_stem(harvest) + ".xlsx")


@router.get("/harvest.pdf", name="workshop_harvest_pdf")
def harvest_pdf(
    request: Request, area: FacilitateArea, workshop: Workshop, session: SessionDep
) -> Response:
    harvest = harvests.harvest(session, workshop)
    context = {"harvest": harvest, "area": area, "title": workshop.title, "today": thai_today()}
    return pdf_download(
        request, "workshop/harvest.html", context, harvests.file_stem(harvest) + ".pdf"
    )
