"""Turn pydantic errors into per-field messages (message ids, translated when shown)."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.i18n import N_
from app.schemas import MultiFieldError
from app.services.errors import Msg, ValidationFailed

_BY_TYPE = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("Too long: at most %(max_length)s characters."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "date_from_datetime_parsing": N_("Enter a date (day, month, year)."),
    "date_parsing": N_("Enter a date (day, month, year)."),
    "date_type": N_("Enter a date (day, month, year)."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "list_type": N_("Pick from the list."),
    "string_type": N_("Enter text."),
}


M = TypeVar("M", bound=BaseModel)


def validate(schema: type[M], data: dict[str, Any]) -> M:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None


def field_errors(exc: ValidationError) -> dict[str, Msg]:
    errors: dict[str, Msg] = {}
    for err in exc.errors():
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, MultiFieldError):
            for name, custom in inner.errors.items():
                errors.setdefault(name, _custom(custom.context or {}))
            continue
        name = str(err["loc"][0]) if err["loc"] else "__all__"
        errors.setdefault(name, _message(err["type"], ctx))
    return errors


def _custom(ctx: dict[str, Any]) -> Msg:
    msgid = ctx["msgid"]
    return Msg(msgid, {k: v for k, v in ctx.items() if k != "msgid"})


def _message(kind: str, ctx: dict[str, Any]) -> Msg:
    if kind == "phonlap":
        return _custom(ctx)
    msgid = _BY_TYPE.get(kind, N_("This value is not valid."))
    return Msg(msgid, {k: v for k, v in ctx.items() if isinstance(v, int | float | str)})
