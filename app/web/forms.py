"""Reading posted forms in routes: the parsed form as a dependency, and bounded text fields."""

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from app.inputs import clean_text, parse_whole
from app.services import evidence
from app.services.evidence import Upload


async def form_data(request: Request) -> AsyncIterator[FormData]:
    """The posted form, its text without control characters (see app.inputs)."""
    form = await request.form()  # cached on the request: the CSRF check may have read it
    try:
        yield FormData(
            [(key, clean_text(v) if isinstance(v, str) else v) for key, v in form.multi_items()]
        )
    finally:
        await form.close()  # uploaded files are spooled to temporary files


Form = Annotated[FormData, Depends(form_data)]


def redirect(url: str) -> Response:
    """After a plain form post: 303 See Other, so reloading the page does not post again."""
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """A user-supplied redirect target (`next`) if it is a path on this site, else `default`.

    Only one leading `/`: browsers read `//host`, `///host` and `/\\host` as another site, and
    they drop tabs and newlines and turn backslashes into `/` before reading, so neither may
    appear anywhere; nor may anything in which a URL parser finds a scheme or a host."""
    if not value or not value.startswith("/") or value[1:2] in ("/", "\\"):
        return default
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return default
    parts = urlsplit(value)
    return default if parts.scheme or parts.netloc else value


def see_other(request: Request, name: str, anchor: str = "", **params: str) -> Response:
    """303 to the named page (and an anchor on it) after a plain form post."""
    return redirect(request.url_for(name, **params).path + (f"#{anchor}" if anchor else ""))


def field_text(form: FormData, name: str, limit: int = 500) -> str:
    """A text field, cut to `limit` characters (the schema then says what is too long)."""
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def field_int(form: FormData, name: str) -> int | None:
    """A whole number field (e.g. the `version` a form was rendered with), else None."""
    return parse_whole(form.get(name))


def field_upload(form: FormData, name: str) -> Upload | None:
    """An uploaded file (read up to just past the evidence limit, so a service can refuse it)."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return Upload(value.filename, value.file.read(evidence.MAX_BYTES + 1))
