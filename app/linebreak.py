"""Wrapping a line of Thai or English text to a width in pixels, for figures drawn as SVG (Plotly
does not wrap text by itself: we put the `<br>`s in).

Thai writes no spaces between words, so the places a line may break come from libthai's
dictionary (the library Pango, hence WeasyPrint, breaks Thai lines with); without it, only spaces
and the starts of Thai syllables are used. Widths are estimated from Sarabun's mean advance widths,
a little on the wide side, so a wrapped line never runs past its column.
"""

import ctypes
import ctypes.util
import unicodedata
from functools import lru_cache

ELLIPSIS = "…"
LEADING_VOWELS = "เแโใไ"
# Sarabun's advance widths in em (measured from static/vendor/fonts/sarabun), rounded up.
WIDE_THAI = set("ฒฌฑฆฬฮญณ")
NARROW_THAI = set("เโใไิ")


@lru_cache(maxsize=1)
def _libthai() -> object | None:
    name = ctypes.util.find_library("thai") or "libthai.so.0"
    try:
        lib = ctypes.CDLL(name)
        find = lib.th_brk_wc_find_breaks
    except (OSError, AttributeError):
        return None
    find.argtypes = [
        ctypes.c_void_p,
        ctypes.c_wchar_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_size_t,
    ]
    find.restype = ctypes.c_int
    return find


def break_points(text: str) -> list[int]:
    """Indexes where a line may start, besides 0: after spaces and between Thai words."""
    points = {i + 1 for i, c in enumerate(text[:-1]) if c == " "}
    find = _libthai()
    if find is not None and any("\u0e00" <= c <= "\u0e7f" for c in text):
        found = (ctypes.c_int * (len(text) + 1))()
        count = find(None, text, found, len(text) + 1)  # type: ignore[operator]
        points.update(found[:count])
    elif find is None:
        points.update(i for i in range(1, len(text)) if _syllable_start(text, i))
    return sorted(p for p in points if 0 < p < len(text))


def _syllable_start(text: str, i: int) -> bool:
    """A rough Thai syllable start: a leading vowel, or a consonant not after one."""
    here, before = text[i], text[i - 1]
    if before in LEADING_VOWELS or not "\u0e00" <= before <= "\u0e7f":
        return False
    return here in LEADING_VOWELS


def char_width(c: str) -> float:
    """A character's advance in em (combining Thai marks take none)."""
    if unicodedata.category(c) in ("Mn", "Mc", "Me"):
        return 0.0
    if "\u0e00" <= c <= "\u0e7f":
        return 0.84 if c in WIDE_THAI else 0.4 if c in NARROW_THAI else 0.64
    if c == " ":
        return 0.25
    if c.isdigit():
        return 0.56
    if c.isupper():
        return 0.64
    if c.isalpha():
        return 0.5 if c not in "mw" else 0.84
    return 0.45


def text_width(text: str, size: float) -> float:
    """The width of `text` in pixels at a font size of `size` px."""
    return sum(char_width(c) for c in text) * size


def wrap(text: str, width: float, size: float, max_lines: int = 0) -> list[str]:
    """`text` in lines no wider than `width` px, broken at word boundaries (inside a word only
    when the word alone is wider). With `max_lines`, the last line ends in … when text is left."""
    text = " ".join(text.split())
    lines: list[str] = []
    start = 0
    points = [*break_points(text), len(text)]
    while start < len(text):
        end = start
        for point in points:
            if point <= start:
                continue
            if text_width(text[start:point].rstrip(), size) > width:
                break
            end = point
        if end == start:  # one word wider than the line: cut it between characters
            end = _cut(text, start, width, size)
        lines.append(text[start:end].strip())
        start = end
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _with_ellipsis(lines[-1], width, size)
    return [line for line in lines if line] or [""]


def _cut(text: str, start: int, width: float, size: float) -> int:
    end = start + 1
    while end < len(text) and text_width(text[start : end + 1], size) <= width:
        end += 1
    while end < len(text) and unicodedata.category(text[end]) in ("Mn", "Mc"):
        end += 1  # a vowel or tone mark stays with its consonant
    return end


def _with_ellipsis(line: str, width: float, size: float) -> str:
    """The line cut to leave room for …, never between a consonant and its marks."""
    room = width - text_width(ELLIPSIS, size)
    cut = len(line)
    while cut > 0 and (
        text_width(line[:cut], size) > room
        or (cut < len(line) and unicodedata.category(line[cut]) in ("Mn", "Mc"))
        or line[cut - 1] in LEADING_VOWELS
    ):
        cut -= 1
    return line[:cut].rstrip() + ELLIPSIS
