"""Wrapping a line of Thai or English text to a width in pixels, for figures drawn as SVG (Plotly
does not wrap text by itself: we put the `<br>`s in).

Thai writes no spaces between words, so the places a line may break come from libthai's
dictionary (the library Pango, hence WeasyPrint, breaks Thai lines with); without it, only spaces
and the Thai leading vowels (which start a syllable) are used. Widths are Sarabun's own advance widths, with a
little room to spare, so a wrapped line never runs past its column.
"""

import ctypes
import ctypes.util
import unicodedata
from functools import lru_cache

ELLIPSIS = "…"
LEADING_VOWELS = "เแโใไ"
# Sarabun's advance widths in hundredths of an em, read from static/vendor/fonts/sarabun (regular):
# each run of characters with their widths in order. Combining Thai marks take none.
# fmt: off
_RUNS = {
    " !\"#$%&'()*+,-./01234567": (24, 24, 35, 69, 53, 90, 67, 19, 32, 32, 45, 61, 25, 34, 25, 42, 55, 55, 55, 55, 55, 55, 55, 55),
    "89:;<=>?@ABCDEFGHIJKLMNO": (55, 55, 25, 25, 61, 61, 61, 45, 80, 60, 59, 58, 62, 55, 55, 64, 68, 29, 44, 60, 55, 80, 68, 66),
    "PQRSTUVWXYZ[\\]^_`abcdefg": (57, 66, 58, 53, 56, 66, 60, 83, 60, 57, 57, 31, 38, 31, 58, 32, 40, 51, 54, 47, 54, 52, 33, 54),
    "hijklmnopqrstuvwxyz{|}~·": (56, 24, 25, 49, 29, 84, 55, 56, 55, 55, 35, 42, 38, 55, 48, 67, 46, 46, 45, 32, 24, 32, 61, 25),
    "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธ": (58, 59, 61, 60, 61, 64, 45, 56, 57, 61, 62, 81, 83, 61, 61, 54, 71, 83, 83, 59, 61, 58, 66, 54),
    "นบปผฝพฟภมยรฤลฦวศษสหฬอฮฯะ": (64, 64, 66, 62, 62, 72, 72, 62, 61, 57, 48, 58, 58, 61, 51, 60, 68, 58, 64, 72, 59, 56, 55, 53),
    "ัาำิีึืฺุู฿เแโใไๅๆ็่้๊๋์": (0, 48, 48, 0, 0, 0, 0, 0, 0, 0, 59, 31, 58, 38, 38, 39, 29, 62, 0, 0, 0, 0, 0, 0),
    "ํ๎๏๐๑๒๓๔๕๖๗๘๙๚๛–—‘’“”…": (0, 0, 62, 66, 68, 68, 69, 68, 68, 68, 74, 67, 69, 77, 102, 54, 84, 34, 34, 53, 53, 72),
}
# fmt: on
ADVANCE = {c: w / 100 for run, ws in _RUNS.items() for c, w in zip(run, ws, strict=True)}
SAFETY = 1.04  # kerning, and bold glyphs a browser may pick: a little room over the sum


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


def has_thai_dictionary() -> bool:
    return _libthai() is not None


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
    """Without a dictionary: before a leading vowel (เ แ โ ใ ไ), which always starts a syllable."""
    return text[i] in LEADING_VOWELS and "\u0e00" <= text[i - 1] <= "\u0e7f"


def char_width(c: str) -> float:
    """A character's advance in em (a character Sarabun lacks counts as a wide one)."""
    if c in ADVANCE:
        return ADVANCE[c]
    return 0.0 if unicodedata.category(c) in ("Mn", "Mc", "Me") else 0.9


def text_width(text: str, size: float) -> float:
    """The width of `text` in pixels at a font size of `size` px."""
    return sum(char_width(c) for c in text) * size * SAFETY


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
