from datetime import date

import pytest

from app.i18n import format_date, input_day, keep_words, parse_day, thai_sort_key
from app.numbers import NotANumber, parse_integer, parse_number
from app.periods import parse_period, period_label

WORKSHOP_AREAS_IN_THAI_ORDER = [
    "กระบี่",
    "จันทบุรี",
    "ตราด",
    "บุรีรัมย์",
    "ภูเก็ต",
    "แม่ฮ่องสอน",
    "สงขลา",
    "สระแก้ว",
    "สุโขทัย",
    "สุราษฎร์ธานี",
    "อุบลราชธานี",
]


def test_thai_dates_use_the_buddhist_era() -> None:
    assert format_date(date(2023, 6, 16), "th") == "16 มิ.ย. 2566"
    assert format_date(date(2023, 6, 16), "th", long=True) == "16 มิถุนายน 2566"
    assert format_date(date(2023, 6, 16), "en") == "16 Jun 2023"


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("16/6/2566", date(2023, 6, 16)),  # B.E., as Thai people write it
        ("๑๖/๐๖/๒๕๖๖", date(2023, 6, 16)),
        ("16-06-2023", date(2023, 6, 16)),  # a C.E. year is read as one
        ("2023-06-16", date(2023, 6, 16)),  # what the English UI's picker sends
        ("31/2/2566", None),
        ("6/16/2566", None),  # month/day (the US order) is no day
        ("", None),
        ("พรุ่งนี้", None),
    ],
)
def test_a_typed_day_is_read_in_be(typed: str, day: date | None) -> None:
    assert parse_day(typed) == day


def test_a_date_field_shows_be_in_thai_and_iso_in_english() -> None:
    assert input_day(date(2023, 6, 16), "th") == "16/6/2566"
    assert input_day("2023-06-16", "th") == "16/6/2566"
    assert input_day(date(2023, 6, 16), "en") == "2023-06-16"
    assert input_day("31/2/2566", "th") == "31/2/2566"  # what was typed comes back as typed


def test_thai_sort_puts_leading_vowel_words_under_their_consonant() -> None:
    shuffled = sorted(WORKSHOP_AREAS_IN_THAI_ORDER, reverse=True)
    assert sorted(shuffled, key=thai_sort_key) == WORKSHOP_AREAS_IN_THAI_ORDER
    # code-point order (what SQLite does) gets แม่ฮ่องสอน wrong
    assert sorted(WORKSHOP_AREAS_IN_THAI_ORDER)[-1] == "แม่ฮ่องสอน"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("๗๒.๕", 72.5),
        ("1,250", 1250.0),
        ("65%", 65.0),
        (" 65 % ", 65.0),
        ("-3.5", -3.5),
        ("๑,๐๐๐", 1000.0),
        ("0", 0.0),
        ("", None),
        ("  ", None),
    ],
)
def test_numbers_accept_thai_digits_separators_and_percent(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["N/A", "ดี", "—", "12abc", "1.2.3", "%", "inf", "nan", "--1"])
def test_numbers_refuse_text(text: str) -> None:
    with pytest.raises(NotANumber):
        parse_number(text)


def test_whole_baht_refuses_fractions() -> None:
    assert parse_integer("450,000") == 450000
    with pytest.raises(NotANumber):
        parse_integer("10.5")


@pytest.mark.parametrize(
    ("code", "th", "en"),
    [
        ("AY2566", "ปีการศึกษา 2566", "Academic year 2023"),
        ("AY2566-S1", "ภาคเรียนที่ 1/2566", "Semester 1, AY 2023"),
        ("FY2567", "ปีงบประมาณ 2567", "FY 2024"),
        ("FY2567-Q2", "ปีงบประมาณ 2567 ไตรมาส 2", "FY 2024 Q2"),
        ("CY2566", "ปี 2566", "2023"),
    ],
)
def test_period_labels(code: str, th: str, en: str) -> None:
    assert period_label(code, "th") == th
    assert period_label(code, "en") == en


@pytest.mark.parametrize("code", ["AY2566-Q1", "FY2567-S1", "CY2566-S1", "XY2566", "AY66"])
def test_malformed_period_codes_are_refused(code: str) -> None:
    assert parse_period(code) is None


def test_times_are_shown_on_the_thai_wall_clock() -> None:
    from datetime import UTC, datetime

    from app.i18n import format_date, format_datetime

    evening_utc = datetime(2026, 11, 21, 20, 5, tzinfo=UTC)
    assert format_date(evening_utc, "th") == "22 พ.ย. 2569"
    assert format_datetime(evening_utc, "th") == "22 พ.ย. 2569 03:05"
    assert format_datetime(evening_utc.replace(tzinfo=None), "en") == "22 Nov 2026 03:05"


def test_keep_words_holds_compounds_and_years_on_one_line_and_escapes() -> None:
    title = keep_words("แผนขับเคลื่อนพื้นที่นวัตกรรม จังหวัดกระบี่ พ.ศ. 2566–2570 <b>")
    assert '<span class="nw">พ.ศ. 2566–2570</span>' in title
    assert '<span class="nw">นวัตกรรม</span>' in title
    assert title.endswith("&lt;b&gt;")  # whatever a person typed stays text
    assert keep_words("ตัวชี้วัดกลาง") == '<span class="nw">ตัวชี้วัดกลาง</span>'
    assert keep_words("นักเรียน ป.1 อ่านได้") == 'นักเรียน <span class="nw">ป.1</span> อ่านได้'
    assert keep_words("Indicators") == "Indicators"
