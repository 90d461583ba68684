"""Reading JSON request bodies: an object, its text cleaned (app.inputs), its fields typed."""

from typing import Annotated, Any

from fastapi import Body
from pydantic import AfterValidator

from app.i18n import N_
from app.inputs import clean, parse_whole
from app.services.errors import Msg, ValidationFailed

# A JSON object; anything else (a list, a string, malformed JSON) is a 422 before the route runs.
JSONObject = Annotated[dict[str, Any], Body(), AfterValidator(clean)]

NOT_SCALAR = N_("Send text or a number here, not a list or an object.")


def version_of(body: dict[str, Any]) -> int | None:
    """The `version` the client read (to refuse a stale write with 409), if it sent one."""
    value = body.get("version")
    if value is None:
        return None
    version = parse_whole(value)
    if version is None:
        raise ValidationFailed({"version": Msg(N_("Send the version you read: a whole number."))})
    return version


def scalar(body: dict[str, Any], name: str) -> str:
    """A field as the text a form would send (null is blank; 0 stays 0)."""
    value = body.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationFailed({name: Msg(NOT_SCALAR)})
    return str(value)


def scalar_or_none(body: dict[str, Any], name: str) -> str | int | float | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
        raise ValidationFailed({name: Msg(NOT_SCALAR)})
    return value
