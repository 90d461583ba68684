"""Translations, Buddhist-Era dates, Thai digits and Thai sorting. Pure: no web, no database.

The active locale lives in a context variable that the web layer sets per request; code that
runs outside a request (CLI, seeds) gets the default locale.
"""

import gettext as _gettext
import io
import re
import unicodedata
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

from app import PACKAGE

LOCALES = ("th", "en")
DEFAULT_LOCALE = "th"
LOCALE_DIR = PACKAGE / "locale"
_current: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def set_locale(code: str) -> None:
    _current.set(code if code in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current.get()


@lru_cache
def translations(code: str) -> _gettext.NullTranslations:
    """Compile the .po catalog in memory, so a fresh checkout needs no build step."""
    po_path = LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str, **params: object) -> str:
    text = translations(get_locale()).gettext(message)
    return text % params if params else text


_ = gettext


def N_(message: str) -> str:  # noqa: N802  (marks a string for extraction only)
    return message


def localized(obj: object, field: str = "name") -> str:
    """Pick `name_th` or `name_en` for the active locale, falling back to Thai."""
    if get_locale() == "en":
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, f"{field}_th")


# ---- Buddhist-Era dates -------------------------------------------------------------------

BE_OFFSET = 543
THAI_MONTHS_SHORT = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
THAI_MONTHS_LONG = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
EN_MONTHS_SHORT = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def be_year(ce_year: int) -> int:
    return ce_year + BE_OFFSET


def format_date(
    value: date | datetime | None, locale: str | None = None, long: bool = False
) -> str:
    """'16 มิ.ย. 2566' in Thai (Buddhist Era), '16 Jun 2023' in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value)  # the day it was in Thailand
    locale = locale or get_locale()
    if locale == "th":
        months = THAI_MONTHS_LONG if long else THAI_MONTHS_SHORT
        return f"{value.day} {months[value.month - 1]} {be_year(value.year)}"
    return f"{value.day} {EN_MONTHS_SHORT[value.month - 1]} {value.year}"


_DAY = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
BE_FROM = 2400  # a typed year from here on is B.E.: no C.E. year this app meets is that late


def parse_day(text: str | None) -> date | None:
    """A day as people type it: '16/6/2566' (day/month/year B.E., Thai digits too), the same
    with a C.E. year ('16/6/2023'), or ISO ('2023-06-16', what a browser's date picker sends).
    None when it is empty or not a day of the calendar."""
    text = (text or "").strip().translate(_THAI_DIGITS)
    if not text:
        return None
    try:
        if match := _DAY.fullmatch(text):
            day, month, year = (int(x) for x in match.groups())
            return date(year - BE_OFFSET if year >= BE_FROM else year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def input_day(value: date | str | None, locale: str | None = None) -> str:
    """A day in a date field: '16/6/2566' in Thai (typed B.E.), ISO in English (the browser's
    own picker). What someone typed (a str sent back with a problem) stays as it was."""
    if isinstance(value, str):
        if not _ISO_DAY.fullmatch(value.strip()):
            return value
        value = parse_day(value)
    if value is None:
        return ""
    if (locale or get_locale()) == "th":
        return f"{value.day}/{value.month}/{be_year(value.year)}"
    return value.isoformat()


def format_month(value: date, locale: str | None = None) -> str:
    """'มิถุนายน 2566' in Thai (Buddhist Era), 'June 2023' in English: a heading for a month."""
    if (locale or get_locale()) == "th":
        return f"{THAI_MONTHS_LONG[value.month - 1]} {be_year(value.year)}"
    return value.strftime("%B %Y")


THAI_TZ = timezone(timedelta(hours=7), "ICT")


def thai_today() -> date:
    """Today on Thailand's wall clock (the server may keep UTC, seven hours behind)."""
    return datetime.now(THAI_TZ).date()


def as_utc(moment: datetime) -> datetime:
    """Aware UTC: SQLite hands back naive UTC (and compares the digits as written)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local_time(value: datetime) -> datetime:
    """A stored UTC time in Thai time (UTC+7 all year)."""
    return as_utc(value).astimezone(THAI_TZ)


def format_datetime(value: datetime | None, locale: str | None = None) -> str:
    """'21 พ.ย. 2569 14:05' in Thai time: when something happened, as people there saw it."""
    if value is None:
        return ""
    moment = local_time(value)
    return f"{format_date(moment, locale)} {moment:%H:%M}"


def format_year(be: int, locale: str | None = None) -> str:
    """A plan year given in B.E.: kept in Thai, shown in C.E. in English."""
    return str(be) if (locale or get_locale()) == "th" else str(be - BE_OFFSET)


# ---- numbers ------------------------------------------------------------------------------


def format_number(value: float | int | None, decimals: int | None = None) -> str:
    if value is None:
        return ""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".") if decimals else text
    return text


# ---- Thai sorting -------------------------------------------------------------------------

LEADING_VOWELS = set("เแโใไ")
TONE_AND_MARKS = set("\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e")


def thai_sort_key(text: str) -> tuple[str, str]:
    """Dictionary order for Thai without ICU.

    A leading vowel (เ แ โ ใ ไ) is written before its consonant but sorts after it, and tone
    marks only break ties. Code-point order (SQLite's) gets both wrong: แม่ฮ่องสอน would sort
    after อุบลราชธานี.
    """
    text = unicodedata.normalize("NFC", text).casefold()
    chars = list(text)
    i = 0
    while i < len(chars) - 1:
        if chars[i] in LEADING_VOWELS and "\u0e01" <= chars[i + 1] <= "\u0e2e":
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            i += 2
        else:
            i += 1
    primary = "".join(c for c in chars if c not in TONE_AND_MARKS)
    return primary, "".join(chars)


# ---- Thai line breaking ---------------------------------------------------------------------

# Thai has no spaces between words: the browser breaks lines by its own dictionary, which splits
# some compounds a reader takes as one word ("ตัวชี้ / วัด") and parts a year from its era
# ("พ.ศ. / 2566"). These few are kept on one line; everything else breaks where the browser
# chooses. (A full segmenter such as PyThaiNLP is far heavier than headings need.)
UNBREAKABLE = re.compile(
    r"(?:พ\.ศ\.|ค\.ศ\.|ปีการศึกษา|ปีงบประมาณ|ปี)\s?\d{4}(?:\s?[–-]\s?\d{2,4})?"
    r"|ตัวชี้วัด(?:กลาง|ร่วม)?|ผลลัพธ์|นวัตกรรม|ความก้าวหน้า|ภาคีเครือข่าย|[ปม]\.\s?\d"
)


def keep_words(text: object) -> Markup:
    """`text`, escaped, with the word groups above wrapped as `<span class="nw">`."""
    escaped = str(escape(text))
    return Markup(UNBREAKABLE.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', escaped))
