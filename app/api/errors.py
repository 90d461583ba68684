"""JSON error bodies: {"detail": ..., "errors": {field: message}} in the request's language."""

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.i18n import gettext
from app.services.errors import ValidationFailed
from app.templating import translate


def json_error(status: int, detail: str, **extra: Any) -> JSONResponse:
    """`extra` may hold a record with dates in it (a 409's `current`)."""
    body = {"detail": gettext(detail), **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse(jsonable_encoder(body), status_code=status)


def validation_payload(exc: ValidationFailed | RequestValidationError) -> dict[str, Any]:
    if isinstance(exc, ValidationFailed):
        errors = {name: translate(message) for name, message in exc.errors.items()}
    else:
        errors = {
            ".".join(str(p) for p in err["loc"] if p != "body"): err["msg"] for err in exc.errors()
        }
    return {"detail": gettext("The input is not valid."), "errors": errors}
