"""Parse numbers the way people type them in Thailand: Thai digits, separators, a trailing %."""

import math
import re

_THAI = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class NotANumber(ValueError):
    """The text is not a number (e.g. 'N/A', 'ดี', '—')."""


def ascii_digits(text: str) -> str:
    """Thai digits as ASCII ones ('๑๐๘๑' -> '1081'), for codes kept as text."""
    return text.translate(_THAI)


def parse_number(text: str | float | int | None) -> float | None:
    """'๗๒.๕', '1,250', '65 %' -> float; '' -> None; anything else raises NotANumber."""
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        try:
            return _finite(float(text))
        except OverflowError:  # an integer of hundreds of digits
            raise NotANumber(str(text)[:50]) from None
    if not isinstance(text, str):  # a list or an object sent where a number belongs
        raise NotANumber(repr(text)[:50])
    cleaned = text.strip().translate(_THAI).replace(",", "").replace("\u00a0", "").replace(" ", "")
    cleaned = cleaned.replace("\u2212", "-")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    if cleaned == "":
        if text.strip() == "":
            return None
        raise NotANumber(text)
    if not _NUMBER.fullmatch(cleaned):
        raise NotANumber(text)
    return _finite(float(cleaned))


def parse_integer(text: str | float | int | None) -> int | None:
    value = parse_number(text)
    if value is None:
        return None
    if not value.is_integer():
        raise NotANumber(str(text))
    return int(value)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise NotANumber(str(value))
    return value


class TooLarge(ValueError):
    """A whole number beyond what a count or an amount of baht can be (see WHOLE_MAX)."""


WHOLE_MAX = 10**15  # a thousand trillion baht; well inside both databases' BIGINT
COUNT_MAX = 2**31 - 1  # a count kept in an INTEGER column (people measured)


def parse_whole_number(text: str | float | int | None) -> int | None:
    """`parse_integer`, refusing numbers larger than WHOLE_MAX in either direction."""
    value = parse_integer(text)
    if value is not None and abs(value) > WHOLE_MAX:
        raise TooLarge(str(text))
    return value
