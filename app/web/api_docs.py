"""The API docs page: Swagger UI from vendored files, with no inline script and no other host.

FastAPI's own /docs loads Swagger UI from a CDN and starts it with an inline script; the app
turns that off (``docs_url=None``) and includes this router instead.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.templating import render

router = APIRouter()


@router.get("/docs", name="api_docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", {})
