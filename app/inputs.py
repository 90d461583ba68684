"""The input boundary: what a path, a query string, a form or a JSON body may carry.

- Ids (path and query) are whole numbers from 1 to 2^31 - 1 (the id columns are INTEGER, and
  PostgreSQL's INTEGER holds no more) written in ASCII digits; a path
  whose id is anything else matches no route (404), a query id that is not one counts as absent
  or is refused by the page that reads it.
- Free text loses its C0 control characters (NUL and the like; tab, line feed and carriage
  return stay) as it comes in, in forms and JSON bodies alike: such characters are never typed,
  only pasted or forged, and no page, export or PDF can hold them.
"""

import re
from typing import Any

from starlette.convertors import Convertor, register_url_convertor

ID_MAX = 2**31 - 1  # ids and versions are INTEGER columns: PostgreSQL's hold at most this
VERSION_MAX = ID_MAX
BIGINT_MAX = 2**63 - 1  # the largest whole number any column holds (amounts of baht)


def _at_most(limit: str) -> str:
    """A regular expression for the decimal numbers 1..limit, without leading zeros."""
    shorter = f"[1-9][0-9]{{0,{len(limit) - 2}}}"
    same_length = []
    for i, digit in enumerate(limit):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(limit) - i - 1
            same_length.append(f"{limit[:i]}[{low}-{int(digit) - 1}][0-9]{{{rest}}}")
    same_length.append(limit)
    return "|".join([shorter, *same_length])


ID_PATTERN = _at_most(str(ID_MAX))
_ID = re.compile(f"(?:{ID_PATTERN})")
_WHOLE = re.compile(r"[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class IdConvertor(Convertor[int]):
    """`{kpi_id:id}` in a route path: 1..2^31-1 in ASCII digits, else the route does not match."""

    regex = ID_PATTERN

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())


def parse_id(value: Any) -> int | None:
    """An id from a query string or a form field, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= ID_MAX else None
    if isinstance(value, str) and _ID.fullmatch(value.strip()):
        return int(value)
    return None


def parse_whole(value: Any, maximum: int = VERSION_MAX) -> int | None:
    """A whole number 0..maximum in ASCII digits (a form's `version`), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _WHOLE.fullmatch(digits := value.strip(" \t\r\n")):
        value = int(digits)  # not `value`: int() would read other spaces around the digits
    if isinstance(value, int) and 0 <= value <= maximum:
        return value
    return None


def has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def clean_text(value: str) -> str:
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


def clean(value: Any) -> Any:
    """A JSON value with the control characters removed from every string in it."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean(v) for k, v in value.items()}
    return value
