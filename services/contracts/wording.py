"""How people read Chibo's facts, in Vietnamese first and English beside it.

Dates, months, quarters, numbers, percentages, durations and lists are formatted from the CLDR
locale data by Babel (`vi`; `en_GB` for English, whose dates read day first as Vietnamese
ones do), never by hand. The domain's own vocabulary — meeting kinds, cell types, the five
thematic topic groups of the guidance on cell meetings — is named here once for every service.

Every function takes the language (`"vi"` or `"en"`) and returns text ready to show.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal, get_args

import msgspec
from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
LOCALES: dict[Language, Locale] = {"vi": Locale.parse("vi"), "en": Locale.parse("en_GB")}


class Words(msgspec.Struct, frozen=True):
    """One name in both languages."""

    vi: str
    en: str

    def __call__(self, language: Language) -> str:
        return self.vi if language == "vi" else self.en


MEETING_KINDS: dict[str, Words] = {
    "regular": Words("sinh hoạt thường kỳ", "regular meeting"),
    "thematic": Words("sinh hoạt chuyên đề", "thematic meeting"),
    "committee": Words("họp chi ủy", "cell committee meeting"),
}
"""What each kind of meeting is called."""

_REGULAR_WITH_THEMATIC = Words(
    "sinh hoạt thường kỳ kết hợp chuyên đề", "regular meeting with a thematic session"
)

CELL_TYPES: dict[str, Words] = {
    "rural": Words("nông thôn", "rural"),
    "urban": Words("đô thị", "urban"),
    "agency": Words("cơ quan", "government agency"),
    "public_service": Words("đơn vị sự nghiệp", "public service unit"),
    "enterprise": Words("doanh nghiệp", "enterprise"),
    "military": Words("quân đội", "military"),
    "police": Words("công an", "police"),
    "other": Words("loại hình khác", "other"),
}
"""What each type of cell is called."""

TOPIC_GROUPS: dict[int, Words] = {
    1: Words("chuyên môn nghiệp vụ", "professional work"),
    2: Words("cải cách hành chính", "administrative reform"),
    3: Words(
        "dân vận và xây dựng khu dân cư kiểu mẫu", "mass mobilisation and model residential areas"
    ),
    4: Words("tạo nguồn phát triển đảng viên", "sources of new Party members"),
    5: Words(
        "học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
        "studying and following Ho Chi Minh's ideology, ethics and style",
    ),
}
"""The five groups of subjects a thematic meeting takes up, numbered as the guidance numbers
them (Kết luận 1066-KL/HU, 2023, point II.2)."""

SEVERITIES: dict[str, Words] = {
    "minor": Words("nhẹ", "minor"),
    "major": Words("nặng", "major"),
    "critical": Words("nghiêm trọng", "critical"),
}
"""What each severity of a rule is called."""

YES_NO = {True: Words("có", "yes"), False: Words("không", "no")}

# A quarter is written with a Roman numeral in Vietnamese ("quý II/2023"); CLDR has no
# Roman numbering, and there are only four.
_ROMAN = ("I", "II", "III", "IV")


@functools.lru_cache(maxsize=4096)
def day(value: date, language: Language) -> str:
    """`15/04/2023` / `15 Apr 2023`."""
    pattern = "dd/MM/y" if language == "vi" else "d MMM y"
    return format_date(value, pattern, locale=LOCALES[language])


@functools.lru_cache(maxsize=4096)
def month(year: int, number: int, language: Language) -> str:
    """`tháng 4/2023` / `April 2023`."""
    first = date(year, number, 1)
    if language == "vi":
        return "tháng " + format_skeleton("yM", first, locale=LOCALES["vi"])
    return format_skeleton("yMMMM", first, locale=LOCALES["en"])


@functools.lru_cache(maxsize=4096)
def quarter(year: int, number: int, language: Language) -> str:
    """`quý II/2023` / `Q2 2023`."""
    if language == "vi":
        return f"quý {_ROMAN[number - 1]}/{format_skeleton('y', date(year, 1, 1), locale='vi')}"
    return format_skeleton("yQQQ", date(year, 3 * number - 2, 1), locale=LOCALES["en"])


@functools.lru_cache(maxsize=4096)
def year(value: int, language: Language) -> str:
    """`năm 2023` / `2023`."""
    text = format_skeleton("y", date(value, 1, 1), locale=LOCALES[language])
    return f"năm {text}" if language == "vi" else text


@functools.lru_cache(maxsize=4096)
def days_between(first: date, last: date, language: Language) -> str:
    """`15/04/2023 – 30/05/2023` / `15 Apr 2023 – 30 May 2023`: both days included."""  # noqa: RUF002
    if first == last:
        return day(first, language)
    between = LOCALES[language].interval_formats.get(None, "{0} \N{EN DASH} {1}")
    return str(between).format(day(first, language), day(last, language))


@functools.lru_cache(maxsize=4096)
def number(value: float, language: Language) -> str:
    """`1.234,5` / `1,234.5`: at most one decimal."""
    return format_decimal(value, "#,##0.#", locale=LOCALES[language])


@functools.lru_cache(maxsize=4096)
def percent(value: float, language: Language) -> str:
    """A ratio as a percentage with at most one decimal: `28,6%` / `28.6%`."""
    return format_percent(value, "#,##0.#%", locale=LOCALES[language])


Unit = Literal["days", "minutes", "months"]
_UNITS: dict[Unit, str] = {
    "days": "duration-day",
    "minutes": "duration-minute",
    "months": "duration-month",
}


@functools.lru_cache(maxsize=4096)
def amount(value: float, unit: Unit, language: Language) -> str:
    """`46 ngày` / `46 days`, `80 phút` / `80 minutes`, `3 tháng` / `3 months`."""
    return format_unit(value, _UNITS[unit], locale=LOCALES[language])


def listing(items: Iterable[str], language: Language) -> str:
    """`a, b và c` / `a, b and c`."""
    return format_list(list(items), locale=LOCALES[language])


def either(items: Iterable[str], language: Language) -> str:
    """`a, b hoặc c` / `a, b or c`."""
    return format_list(list(items), style="or", locale=LOCALES[language])


def topic_groups(groups: Sequence[int], language: Language) -> str:
    """The groups by name, in their numbered order, each with its number."""
    return _topic_groups(tuple(sorted(set(groups))), language)


@functools.lru_cache(maxsize=256)
def _topic_groups(groups: tuple[int, ...], language: Language) -> str:
    named = [f"({g}) {TOPIC_GROUPS[g](language)}" for g in groups]
    return listing(named, language) if named else ("không nhóm nào" if language == "vi" else "none")


@functools.lru_cache(maxsize=4096)
def meeting(kind: str, includes_thematic: bool, held_on: date, language: Language) -> str:
    """A meeting by its kind and date: `buổi sinh hoạt thường kỳ ngày 15/04/2023` / `the
    regular meeting of 15 Apr 2023`."""
    what = _REGULAR_WITH_THEMATIC if kind == "regular" and includes_thematic else None
    name = (what or MEETING_KINDS.get(kind) or Words(kind, kind))(language)
    if language == "vi":
        noun = "cuộc" if kind == "committee" else "buổi"
        return f"{noun} {name} ngày {day(held_on, 'vi')}"
    return f"the {name} of {day(held_on, 'en')}"


def sentence(text: str) -> str:
    """The text with its first letter capitalised, as a sentence starts."""
    return text[:1].upper() + text[1:]
