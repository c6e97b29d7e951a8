"""A spreadsheet's rows as contract events: which sheet is which, which column is which, each
cell read as what it should hold, and each row as the event it records — refusals named by
sheet and cell (`Sinh hoạt!C12`), in Vietnamese with English beside.

Pure: the rows come in as Python values (what openpyxl or the csv module gives), the events go
out as the contract's Structs, decoded from their JSON by the service's own decoder, so nothing
leaves here that the rules service would refuse for its shape. What only the API knows (whether
an org or a cell is registered) is decided by the caller, with `unknown_parents` and the like.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple

import msgspec

from services.contracts import wording
from services.contracts.calendar import EARLIEST, LATEST, VIETNAM
from services.contracts.codec import InvalidEventError, decode_event, encode
from services.contracts.events import (
    CellRegisteredEvent,
    Event,
    MeetingHeldEvent,
    OrgRegisteredEvent,
)

SOURCE = "chibo-import"
"""The envelope `source` of every imported event."""

DEFAULT_START = time(8, 0)
"""A meeting whose start time is left blank began at 08:00."""

HEADER_SEARCH_ROWS = 10
"""The header is the first of this many rows that names a known column (a title may sit above)."""


class SheetKind(enum.StrEnum):
    """What a sheet records, in the order they are imported: an org before its cells, a cell
    before its meetings."""

    orgs = "orgs"
    cells = "cells"
    meetings = "meetings"


class Column(NamedTuple):
    """One column of a sheet: its key, its Vietnamese and English headers, other spellings."""

    key: str
    vi: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    hint: str = ""


class Layout(NamedTuple):
    """One kind of sheet: its names and columns."""

    kind: SheetKind
    vi: str
    en: str
    columns: tuple[Column, ...]


LAYOUTS: dict[SheetKind, Layout] = {
    SheetKind.orgs: Layout(
        SheetKind.orgs,
        "Tổ chức",
        "Orgs",
        (
            Column("org_id", "Mã tổ chức", "Org id", True),
            Column("name", "Tên tổ chức", "Org name", True),
            Column(
                "parent_id",
                "Mã tổ chức cấp trên",
                "Parent org id",
                hint="Để trống nếu là cấp cao nhất / blank at the root",
            ),
            Column("judged_from", "Xét từ ngày", "Judged from", hint="dd/mm/yyyy"),
        ),
    ),
    SheetKind.cells: Layout(
        SheetKind.cells,
        "Chi bộ",
        "Cells",
        (
            Column("cell_id", "Mã chi bộ", "Cell id", True),
            Column("name", "Tên chi bộ", "Cell name", True),
            Column("org_id", "Mã tổ chức", "Org id", True),
            Column("cell_type", "Loại hình", "Cell type", True),
            Column("has_committee", "Có chi ủy", "Has committee", aliases=("Có chi uỷ",)),
            Column("established_on", "Ngày thành lập", "Established on", True, hint="dd/mm/yyyy"),
            Column("dissolved_on", "Ngày giải thể", "Dissolved on", hint="dd/mm/yyyy"),
        ),
    ),
    SheetKind.meetings: Layout(
        SheetKind.meetings,
        "Sinh hoạt",
        "Meetings",
        (
            Column("cell_id", "Mã chi bộ", "Cell id", True),
            Column("meeting_id", "Mã buổi", "Meeting id"),
            Column("held_on", "Ngày họp", "Date", True, ("Held on",), "dd/mm/yyyy"),
            Column("start", "Giờ bắt đầu", "Start time", hint="HH:MM (08:00)"),
            Column("kind", "Loại", "Kind", True),
            Column("includes_thematic", "Kết hợp chuyên đề", "Includes thematic"),
            Column("duration", "Thời lượng (phút)", "Duration (minutes)", True),
            Column("total", "Tổng số đảng viên", "Members", True, ("Members total",)),
            Column("exempt", "Miễn sinh hoạt", "Exempt", aliases=("Members exempt",)),
            Column("present", "Có mặt", "Present", True, ("Members present",)),
            Column("excused", "Vắng có lý do", "Absent excused"),
            Column("unexcused", "Vắng không lý do", "Absent unexcused"),
            Column("topic_groups", "Nhóm chuyên đề", "Topic groups", hint="1-5, 1-5"),
            Column("criticism", "Tự phê bình và phê bình", "Self-criticism and criticism", True),
            Column("hcm_study", "Học tập và làm theo tư tưởng Hồ Chí Minh", "Ho Chi Minh study",
                   True),
        ),
    ),
}  # fmt: skip
"""The three sheets of the template, in import order."""


def _key(text: str) -> str:
    """How headers and words are compared: the same letters whatever the case, the spaces
    around them or the Unicode form (a Mac writes `ơ` as `o` plus a combining horn)."""
    return unicodedata.normalize("NFC", text).strip().casefold()


_WORDS_SPLIT = re.compile(r"\s+")


def _words(text: str) -> str:
    return _WORDS_SPLIT.sub(" ", _key(text))


def _vocabulary(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {_words(word): code for word, code in pairs}


# Both spellings of the tone mark on `uy` (ủy, uỷ) are in use; both are read.
def _both_tones(word: str) -> tuple[str, ...]:
    return (word, word.replace("ủy", "uỷ"))


CELL_TYPE_WORDS = _vocabulary(
    [(code, code) for code in wording.CELL_TYPES]
    + [(w.vi, code) for code, w in wording.CELL_TYPES.items()]
    + [(w.en, code) for code, w in wording.CELL_TYPES.items()]
    + [("khác", "other"), ("public service", "public_service")]
)
KIND_WORDS = _vocabulary(
    [(code, code) for code in wording.MEETING_KINDS]
    + [(w.vi, code) for code, w in wording.MEETING_KINDS.items()]
    + [(w.en, code) for code, w in wording.MEETING_KINDS.items()]
    + [("thường kỳ", "regular"), ("chuyên đề", "thematic")]
    + [(w, "committee") for w in (*_both_tones("chi ủy"), *_both_tones("họp chi ủy"))]
)
YES_WORDS = {"có", "yes", "true", "1", "x"}
NO_WORDS = {"không", "no", "false", "0"}


class Problem(msgspec.Struct, frozen=True):
    """What is wrong with one cell of a sheet (or, a warning, what is odd about it)."""

    sheet: str
    cell: str  # A1 notation
    vi: str
    en: str
    severity: Literal["error", "warning"] = "error"
    row: int = 0  # to list problems in the sheet's order

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}: {self.vi} ({self.en})"


class Planned(NamedTuple):
    """One row turned into the event it records."""

    sheet: Sheet
    row: int
    event: Event

    def cell(self, key: str) -> str:
        """The A1 address of this row's cell in column `key`."""
        return self.sheet.address(key, self.row)


class Sheet:
    """One sheet of a file as read: its name, kind, and where each column is."""

    def __init__(self, name: str, layout: Layout, header_row: int, positions: dict[str, int]):
        self.name = name
        self.layout = layout
        self.header_row = header_row
        self.positions = positions

    @property
    def kind(self) -> SheetKind:
        """What the sheet records."""
        return self.layout.kind

    def address(self, key: str, row: int) -> str:
        """The A1 address of column `key` in `row` (the row's first cell if the column is
        absent)."""
        return f"{column_letter(self.positions.get(key, 0))}{row}"


def column_letter(index: int) -> str:
    """`A` for column 0, `Z` for 25, `AA` for 26."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _RefusedError(Exception):
    """A cell that cannot hold what its column needs."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


# --- which sheet, which column ------------------------------------------------------------


def _header_index(layout: Layout) -> dict[str, str]:
    index: dict[str, str] = {}
    for column in layout.columns:
        for name in (column.vi, column.en, *column.aliases):
            index[_words(name)] = column.key
    return index


_HEADERS = {kind: _header_index(layout) for kind, layout in LAYOUTS.items()}
_SHEET_NAMES = {_words(name): kind for kind, lay in LAYOUTS.items() for name in (lay.vi, lay.en)}


def _text_of(value: object) -> str:
    return _words(value) if isinstance(value, str) else ""


def recognise(name: str, head: Sequence[Sequence[object]], problems: list[Problem]) -> Sheet | None:
    """The sheet `name` whose first rows are `head`: which kind it is (by its name, else by its
    headers: the kind whose required headers are all there), where its header row is and
    which column holds what. None, with the reason in `problems`, if it is not one of ours.

    A header matches ignoring case and the spaces around it. A header cell merged over several
    columns holds its text in its first column (openpyxl reads the others as empty): the
    column is read there, and the empty columns it covers are ignored.
    """
    kind = _SHEET_NAMES.get(_words(name))
    for offset, row in enumerate(head[:HEADER_SEARCH_ROWS]):
        texts = [_text_of(v) for v in row]
        kinds = [kind] if kind else list(LAYOUTS)
        for candidate in kinds:
            headers = _HEADERS[candidate]
            if not any(t in headers for t in texts):
                continue
            required = {c.key for c in LAYOUTS[candidate].columns if c.required}
            found = {headers[t] for t in texts if t in headers}
            if kind is None and not required <= found:
                continue  # not this kind; another may match the same row
            return _positions(name, LAYOUTS[candidate], offset + 1, texts, problems)
    if kind is not None:
        problems.append(
            Problem(
                name,
                "A1",
                f"không thấy hàng tiêu đề của trang {LAYOUTS[kind].vi}",
                f"no header row of the {LAYOUTS[kind].en} sheet found",
            )
        )
    else:
        problems.append(
            Problem(
                name,
                "A1",
                "không nhận ra trang này (tên trang hoặc tiêu đề cột không khớp mẫu), bỏ qua",
                "sheet not recognised (neither its name nor its headers match the template), "
                "skipped",
                "warning",
            )
        )
    return None


def _positions(
    name: str, layout: Layout, header_row: int, texts: list[str], problems: list[Problem]
) -> Sheet | None:
    headers = _HEADERS[layout.kind]
    positions: dict[str, int] = {}
    for index, text in enumerate(texts):
        if not text:
            continue
        where = f"{column_letter(index)}{header_row}"
        key = headers.get(text)
        if key is None:
            problems.append(
                Problem(name, where, f"cột “{text}” không có trong mẫu, bỏ qua",
                        f"column “{text}” is not in the template, ignored", "warning")
            )  # fmt: skip
        elif key in positions:
            first = f"{column_letter(positions[key])}{header_row}"
            problems.append(
                Problem(name, where, f"cột này trùng với cột {first}, bỏ qua",
                        f"this column repeats column {first}, ignored", "warning")
            )  # fmt: skip
        else:
            positions[key] = index
    missing = [c for c in layout.columns if c.required and c.key not in positions]
    if missing:
        problems.append(
            Problem(
                name,
                f"A{header_row}",
                "thiếu cột " + wording.listing((f"“{c.vi}”" for c in missing), "vi")
                + "; không nhập trang này",
                "missing column " + wording.listing((f"“{c.en}”" for c in missing), "en")
                + "; sheet not imported",
            )
        )  # fmt: skip
        return None
    return Sheet(name, layout, header_row, positions)


# --- reading one cell ---------------------------------------------------------------------


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: object) -> str:
    return str(value).strip()


def read_text(value: object) -> str:
    """Text as typed; a number typed into an id column (`101`, read as 101.0) as its digits."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        raise _RefusedError("cần chữ, không phải ngày giờ", "text expected, not a date or time")
    return unicodedata.normalize("NFC", str(value)).strip()


def read_count(value: object) -> int:
    """A whole number ≥ 0."""
    if isinstance(value, bool):
        raise _RefusedError("cần một số, không phải có/không", "a number expected, not yes/no")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 12:
        number = int(value.strip())
    else:
        raise _RefusedError(
            f"“{_shown(value)}” không phải là số nguyên", f"“{_shown(value)}” is not a whole number"
        )
    if number < 0:
        raise _RefusedError("không được là số âm", "must not be negative")
    return number


_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def read_date(value: object) -> date:
    """A Vietnam date: a date cell, or text `dd/mm/yyyy` (or `yyyy-mm-dd`)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _shown(value)
    day_month_year = _DAY.match(text)
    iso = _ISO_DAY.match(text)
    if day_month_year:
        day, month, year = (int(part) for part in day_month_year.groups())
    elif iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        raise _RefusedError(
            f"“{text}” không phải là ngày (dd/mm/yyyy)", f"“{text}” is not a date (dd/mm/yyyy)"
        )
    try:
        found = date(year, month, day)
    except ValueError:
        raise _RefusedError(
            f"ngày “{text}” không có trong lịch", f"“{text}” is not a day of the calendar"
        ) from None
    if not EARLIEST <= found <= LATEST:
        span = wording.days_between(EARLIEST, LATEST, "vi")
        span_en = wording.days_between(EARLIEST, LATEST, "en")
        raise _RefusedError(f"ngày phải trong khoảng {span}", f"the date must lie within {span_en}")
    return found


_CLOCK = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})?(?::(\d{2}))?$")


def read_time(value: object) -> time:
    """A time of day: a time cell, or text `HH:MM` (`19h30` too)."""
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    if isinstance(value, float) and 0 <= value < 1:  # a time cell stored as a day's fraction
        return (datetime.min + timedelta(minutes=round(value * 1440))).time()
    text = _shown(value)
    match = _CLOCK.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise _RefusedError(f"“{text}” không phải là giờ (HH:MM)", f"“{text}” is not a time (HH:MM)")


def read_yes_no(value: object) -> bool:
    """`có` / `không` (any case, spaces around), yes / no, or a TRUE/FALSE cell; blank is no."""
    if isinstance(value, bool):
        return value
    if _blank(value):
        return False
    text = _key(read_text(value))
    if text in YES_WORDS:
        return True
    if text in NO_WORDS:
        return False
    raise _RefusedError(
        f"“{_shown(value)}” không phải “có” hoặc “không”", f"“{_shown(value)}” is not yes or no"
    )


def read_choice(value: object, words: dict[str, str], what: Column) -> str:
    """One of a column's words, as its contract code."""
    text = _words(read_text(value))
    code = words.get(text)
    if code is None:
        vi_choices, en_choices = _choices(what.key)
        raise _RefusedError(
            f"“{_shown(value)}” không phải {what.vi.lower()} nào; chọn {vi_choices}",
            f"“{_shown(value)}” is no {what.en.lower()}; choose {en_choices}",
        )
    return code


def _choices(key: str) -> tuple[str, str]:
    if key == "cell_type":
        vi = [w.vi if c != "other" else "khác" for c, w in wording.CELL_TYPES.items()]
        en = [w.en for w in wording.CELL_TYPES.values()]
    else:
        vi = ["thường kỳ", "chuyên đề", "chi ủy"]
        en = [w.en for w in wording.MEETING_KINDS.values()]
    return wording.either(vi, "vi"), wording.either(en, "en")


_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def read_ids(value: object) -> list[str]:
    """Member ids separated by commas, each once."""
    if _blank(value):
        return []
    ids = [part.strip() for part in read_text(value).split(",") if part.strip()]
    for member in ids:
        if not _ID_PATTERN.match(member):
            raise _RefusedError(
                f"mã đảng viên “{member}” chỉ được gồm chữ không dấu, chữ số, _ hoặc -",
                f"member id “{member}” may hold only letters, digits, _ or -",
            )
    repeated = sorted({m for m in ids if ids.count(m) > 1})
    if repeated:
        raise _RefusedError(
            f"{wording.listing(repeated, 'vi')} được ghi hơn một lần",
            f"{wording.listing(repeated, 'en')} listed more than once",
        )
    return ids


def read_headcount(value: object) -> tuple[int, list[str]]:
    """A count of members, written as a number or as their ids separated by commas (then
    counted). A single id made only of digits reads as a number."""
    if _blank(value):
        return 0, []
    if isinstance(value, int | float) or _shown(value).isdecimal():
        return read_count(value), []
    ids = read_ids(value)
    return len(ids), ids


def read_topic_groups(value: object) -> list[int]:
    """Topic groups 1 to 5, separated by commas."""
    if _blank(value):
        return []
    if isinstance(value, int | float) and not isinstance(value, bool):
        parts = [read_text(value)]
    else:
        parts = [p.strip() for p in read_text(value).split(",") if p.strip()]
    groups: list[int] = []
    for part in parts:
        if not part.isdecimal() or len(part) > 1 or not 1 <= int(part) <= 5:
            raise _RefusedError(
                f"nhóm chuyên đề “{part}” không có; các nhóm là 1 đến 5",
                f"there is no topic group “{part}”; the groups are 1 to 5",
            )
        if int(part) in groups:
            raise _RefusedError(f"nhóm {part} được ghi hai lần", f"group {part} listed twice")
        groups.append(int(part))
    return groups


# --- one row as one event -----------------------------------------------------------------


class Mapper:
    """Turns the rows of recognised sheets into events, keeping the problems it finds.

    `stamp` is the envelope `time` of every event (the import's start): an event's `id` is a
    hash of its type and data, so a row imported again unchanged is the same event (the
    service counts it a redelivery) and a corrected row is a new event whose later `time`
    wins. Rows are told apart by their identity — the org, the cell, the meeting (its id, or
    the cell, day and kind when it has none) — and a second row of the same identity is
    refused.
    """

    def __init__(self, stamp: datetime, source: str = SOURCE) -> None:
        self.stamp = stamp.isoformat()
        self.source = source
        self.problems: list[Problem] = []
        self.rows_read: dict[SheetKind, int] = dict.fromkeys(SheetKind, 0)
        self.refused_rows: dict[SheetKind, int] = dict.fromkeys(SheetKind, 0)
        self.skipped_rows: dict[SheetKind, int] = dict.fromkeys(SheetKind, 0)
        self._seen: dict[tuple[SheetKind, str], tuple[str, int, bytes]] = {}

    def rows(self, sheet: Sheet, rows: Iterable[tuple[int, Sequence[object]]]) -> Iterator[Planned]:
        """The events of `sheet`'s rows, given as (row number, values) after its header;
        empty rows are passed over, refused rows leave their problems."""
        builders = {
            SheetKind.orgs: self._org,
            SheetKind.cells: self._cell,
            SheetKind.meetings: self._meeting,
        }
        build = builders[sheet.kind]
        for number, values in rows:
            if all(_blank(v) for v in values):
                continue
            self.rows_read[sheet.kind] += 1
            planned = self._row(sheet, number, values, build)
            if planned is not None:
                yield planned

    def refuse(self, planned: Planned, key: str, vi: str, en: str) -> None:
        """Count `planned` refused after all (a check only the caller could make)."""
        self.problems.append(
            Problem(planned.sheet.name, planned.cell(key), vi, en, row=planned.row)
        )
        self.refused_rows[planned.sheet.kind] += 1

    def warn(self, planned: Planned, key: str, vi: str, en: str) -> None:
        """Note something odd about `planned`, which is still imported."""
        self.problems.append(warning(planned, key, vi, en))

    def _row(
        self,
        sheet: Sheet,
        number: int,
        values: Sequence[object],
        build: Any,
    ) -> Planned | None:
        cells = _Cells(sheet, number, values)
        try:
            fields = build(cells)
        except _RefusedError:
            fields = None
        if cells.refusals or fields is None:
            self.problems.extend(cells.refusals)
            self.refused_rows[sheet.kind] += 1
            return None
        kind, subject, data, identity, identity_key = fields
        event = self._event(sheet, number, kind, subject, data)
        if event is None:
            self.refused_rows[sheet.kind] += 1
            return None
        planned = Planned(sheet, number, event)
        body = encode(event.data)
        seen = self._seen.get((sheet.kind, identity))
        if seen is not None:
            _, row, first = seen
            same = first == body
            self.problems.append(
                Problem(
                    sheet.name,
                    planned.cell(identity_key),
                    f"trùng với dòng {row}"
                    + (" (giống hệt), bỏ qua" if same else " nhưng khác nội dung; bỏ dòng này"),
                    f"repeats row {row}"
                    + (" (identical), skipped" if same else " with other values; row skipped"),
                    "warning" if same else "error",
                    number,
                )
            )
            if same:
                self.skipped_rows[sheet.kind] += 1
            else:
                self.refused_rows[sheet.kind] += 1
            return None
        self._seen[(sheet.kind, identity)] = (sheet.name, number, body)
        return planned

    def _event(
        self, sheet: Sheet, number: int, kind: str, subject: str, data: dict[str, object]
    ) -> Event | None:
        digest = hashlib.blake2b(kind.encode() + b"\0" + encode(data), digest_size=20)
        envelope = {
            "specversion": "1.0",
            "id": "xl-" + digest.hexdigest(),
            "source": self.source,
            "type": kind,
            "time": self.stamp,
            "subject": subject,
            "data": data,
        }
        try:
            return decode_event(encode(envelope))
        except InvalidEventError as exc:
            key = field_column(sheet.kind, exc.field, data)
            vi, en = contract_message(exc.message)
            self.problems.append(
                Problem(sheet.name, sheet.address(key, number), vi, en, row=number)
            )
            return None

    def _org(self, cells: _Cells) -> tuple[str, str, dict[str, object], str, str]:
        org_id = cells.text("org_id")
        data = {
            "org_id": org_id,
            "name": cells.text("name"),
            "parent_id": cells.optional("parent_id", read_text),
            "judged_from": cells.optional("judged_from", read_date),
        }
        if data["judged_from"] is None:
            del data["judged_from"]  # a version-1 event, as written before the field came
        return "org.registered", org_id, data, org_id, "org_id"

    def _cell(self, cells: _Cells) -> tuple[str, str, dict[str, object], str, str]:
        cell_id = cells.text("cell_id")
        data = {
            "cell_id": cell_id,
            "name": cells.text("name"),
            "org_id": cells.text("org_id"),
            "cell_type": cells.required("cell_type", _cell_type),
            "has_committee": cells.value("has_committee", read_yes_no),
            "established_on": cells.required("established_on", read_date),
            "dissolved_on": cells.optional("dissolved_on", read_date),
        }
        return "cell.registered", cell_id, data, cell_id, "cell_id"

    def _meeting(self, cells: _Cells) -> tuple[str, str, dict[str, object], str, str]:
        cell_id = cells.text("cell_id")
        given = cells.optional("meeting_id", read_text)
        held_on = cells.required("held_on", read_date)
        start = cells.optional("start", read_time) or DEFAULT_START
        kind = cells.required("kind", _kind)
        includes_thematic = cells.value("includes_thematic", read_yes_no)
        duration = cells.required("duration", read_count)
        total = cells.required("total", read_count)
        exempt_read = cells.value("exempt", read_headcount)
        present_read = cells.required("present", read_headcount)
        excused: list[str] = cells.value("excused", read_ids)
        unexcused: list[str] = cells.value("unexcused", read_ids)
        topic_groups = cells.value("topic_groups", read_topic_groups)
        criticism = cells.value("criticism", read_yes_no)
        hcm_study = cells.value("hcm_study", read_yes_no)
        cells.refuse_if_any()  # every cell read, so every wrong one is told
        exempt, exempt_ids = exempt_read
        present, present_ids = present_read
        _members_once(cells, exempt_ids, present_ids, excused, unexcused)
        _headcount_fits(cells, total, exempt, present, len(excused) + len(unexcused))
        meeting_id = given or derived_meeting_id(cell_id, held_on, kind)
        data: dict[str, object] = {
            "meeting_id": meeting_id,
            "cell_id": cell_id,
            "kind": kind,
            "held_at": datetime.combine(held_on, start, VIETNAM),
            "duration_minutes": duration,
            "includes_thematic": includes_thematic,
            "members_total": total,
            "members_exempt": exempt,
            "members_present": present,
            "absences": [{"member_id": m, "excused": True} for m in excused]
            + [{"member_id": m, "excused": False} for m in unexcused],
            "topic_groups": topic_groups,
            "criticism_held": criticism,
            "hcm_study": hcm_study,
        }
        identity_key = "meeting_id" if given else "held_on"
        return "meeting.held", cell_id, data, meeting_id, identity_key


def derived_meeting_id(cell_id: str, held_on: date, kind: str) -> str:
    """The id of a meeting the sheet gives none: its cell, day and kind (hashed if long)."""
    readable = f"{cell_id}-{held_on:%Y%m%d}-{kind}"
    if len(readable) <= 64:
        return readable
    return "m-" + hashlib.blake2b(readable.encode(), digest_size=16).hexdigest()


def _cell_type(value: object) -> str:
    return read_choice(value, CELL_TYPE_WORDS, _column(SheetKind.cells, "cell_type"))


def _kind(value: object) -> str:
    return read_choice(value, KIND_WORDS, _column(SheetKind.meetings, "kind"))


def _column(kind: SheetKind, key: str) -> Column:
    return next(c for c in LAYOUTS[kind].columns if c.key == key)


def _members_once(
    cells: _Cells,
    exempt: list[str],
    present: list[str],
    excused: list[str],
    unexcused: list[str],
) -> None:
    """A member is in one of the lists at most: exempt, present, excused or not."""
    seen: dict[str, str] = {}
    for key, ids in (
        ("exempt", exempt),
        ("present", present),
        ("excused", excused),
        ("unexcused", unexcused),
    ):
        for member in ids:
            if member in seen:
                other = cells.sheet.address(seen[member], cells.number)
                cells.refuse(
                    key,
                    f"đảng viên {member} đã được ghi ở ô {other}",
                    f"member {member} is already listed in {other}",
                )
            seen.setdefault(member, key)
    cells.refuse_if_any()


def _headcount_fits(cells: _Cells, total: int, exempt: int, present: int, absent: int) -> None:
    if total < 1:
        cells.refuse("total", "phải có ít nhất 1 đảng viên", "at least 1 member expected")
    elif exempt >= total:
        cells.refuse(
            "exempt",
            f"số miễn sinh hoạt ({wording.number(exempt, 'vi')}) phải nhỏ hơn tổng số đảng "
            f"viên ({wording.number(total, 'vi')})",
            f"members exempt ({wording.number(exempt, 'en')}) must be fewer than members "
            f"({wording.number(total, 'en')})",
        )
    elif present + absent > total - exempt:
        expected = total - exempt
        cells.refuse(
            "present",
            f"có mặt {wording.number(present, 'vi')} và vắng {wording.number(absent, 'vi')} "
            f"vượt quá {wording.number(expected, 'vi')} đảng viên phải dự (tổng số trừ miễn)",
            f"{wording.number(present, 'en')} present and {wording.number(absent, 'en')} absent "
            f"exceed the {wording.number(expected, 'en')} members expected (total less exempt)",
        )
    cells.refuse_if_any()


class _Cells:
    """One row's cells by column key, reading each and keeping every refusal."""

    def __init__(self, sheet: Sheet, number: int, values: Sequence[object]) -> None:
        self.sheet = sheet
        self.number = number
        self.values = values
        self.refusals: list[Problem] = []

    def raw(self, key: str) -> object:
        index = self.sheet.positions.get(key)
        if index is None or index >= len(self.values):
            return None
        return self.values[index]

    def refuse(self, key: str, vi: str, en: str) -> None:
        self.refusals.append(
            Problem(self.sheet.name, self.sheet.address(key, self.number), vi, en, row=self.number)
        )

    def refuse_if_any(self) -> None:
        if self.refusals:
            raise _RefusedError("", "")

    def value(self, key: str, read: Any) -> Any:
        """The cell read by `read` (which decides what a blank means); None if refused."""
        try:
            return read(self.raw(key))
        except _RefusedError as exc:
            self.refuse(key, exc.vi, exc.en)
            return None

    def optional(self, key: str, read: Any) -> Any:
        """The cell read by `read`, None if blank."""
        value = self.raw(key)
        return None if _blank(value) else self.value(key, read)

    def required(self, key: str, read: Any) -> Any:
        """The cell read by `read`; blank is refused."""
        if _blank(self.raw(key)):
            self.refuse(key, "ô này không được để trống", "this cell must not be blank")
            return None
        return self.value(key, read)

    def text(self, key: str) -> str:
        """A required text cell."""
        found: str | None = self.required(key, read_text)
        return found or ""


# --- the contract's own refusals, read back to the cell -----------------------------------

_DATA_COLUMNS: dict[SheetKind, dict[str, str]] = {
    SheetKind.orgs: {},
    SheetKind.cells: {},
    SheetKind.meetings: {
        "held_at": "held_on",
        "duration_minutes": "duration",
        "members_total": "total",
        "members_exempt": "exempt",
        "members_present": "present",
        "criticism_held": "criticism",
    },
}
_ABSENCE = re.compile(r"^\$\.data\.absences\[(\d+)\]")


def field_column(kind: SheetKind, field: str, data: dict[str, object] | None = None) -> str:
    """The column key of a contract field given as a JSON path (`$.data.duration_minutes`);
    an absence's by whether it is excused."""
    absence = _ABSENCE.match(field)
    if absence and data is not None:
        absences = data.get("absences")
        if isinstance(absences, list) and int(absence[1]) < len(absences):
            return "excused" if absences[int(absence[1])]["excused"] else "unexcused"
    name = field.removeprefix("$.data.").split(".")[0].split("[")[0]
    if field == "$.subject":
        name = "org_id" if kind == SheetKind.orgs else "cell_id"
    return _DATA_COLUMNS[kind].get(name, name)


_MESSAGES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"Expected `int` >= (\d+)"), "phải là số nguyên từ {0} trở lên",
     "must be a whole number of at least {0}"),
    (re.compile(r"Expected `int` <= (\d+)"), "không được lớn hơn {0}", "must be at most {0}"),
    (re.compile(r"Expected `str` of length <= (\d+)"), "dài quá {0} ký tự",
     "longer than {0} characters"),
    (re.compile(r"Expected `str` of length >= 1"), "không được để trống", "must not be blank"),
    (re.compile(r"Expected `array` of length <= (\d+)"), "nhiều nhất {0} giá trị",
     "at most {0} values"),
    (re.compile(r"Expected 1 to 64 letters"),
     "mã chỉ được gồm chữ cái không dấu, chữ số, _ hoặc -, dài 1 đến 64 ký tự",
     "an id holds 1 to 64 letters, digits, _ or -"),
    (re.compile(r"Expected text without control"), "không được chứa ký tự điều khiển (xuống dòng…)",
     "must not hold control characters (line breaks…)"),
    (re.compile(r"must lie between"), "phải nằm trong khoảng {span}", "must lie within {span}"),
    (re.compile(r"`dissolved_on` must be after"), "ngày giải thể phải sau ngày thành lập",
     "the dissolution must come after the establishment"),
    (re.compile(r"`parent_id` must differ"), "tổ chức cấp trên không được là chính nó",
     "an org cannot be its own parent"),
]  # fmt: skip


def contract_message(message: str) -> tuple[str, str]:
    """The contract decoder's message in Vietnamese and English, numbers and dates read the
    way each language writes them."""
    for pattern, vi, en in _MESSAGES:
        match = pattern.search(message)
        if match:
            groups = [int(g) for g in match.groups()]
            return (
                vi.format(*(wording.number(g, "vi") for g in groups),
                          span=wording.days_between(EARLIEST, LATEST, "vi")),
                en.format(*(wording.number(g, "en") for g in groups),
                          span=wording.days_between(EARLIEST, LATEST, "en")),
            )  # fmt: skip
    return "không đúng hợp đồng sự kiện: " + message, message


# The rules service's refusals of events outside the token's part of the tree (403 entries,
# `domain.authority`), as the person who imported the row reads them.
_ID = r"[A-Za-z0-9_-]+"
_WHERE = rf"(?P<place>org|cell) (?P<place_id>{_ID})"
_SCOPE_MESSAGES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(rf"^a token for {_WHERE} registers no (?P<what>orgs|cells)$"),
     "tài khoản này (chỉ cho {where}) không được đăng ký {what}",
     "a token for {where} registers no {what}"),
    (re.compile(rf"^this token registers (?P<what>orgs|cells) only below {_WHERE}$"),
     "tài khoản này chỉ đăng ký được {what} thuộc {where}",
     "this token registers {what} only below {where}"),
    (re.compile(rf"^org (?P<id>{_ID}) is not below {_WHERE}$"),
     "tổ chức {id} không thuộc {where}", "org {id} is not below {where}"),
    (re.compile(rf"^cell (?P<id>{_ID}) is registered outside {_WHERE}$"),
     "chi bộ {id} đã được đăng ký ở ngoài {where}", "cell {id} is registered outside {where}"),
    (re.compile(rf"^cell (?P<id>{_ID}) is not registered below {_WHERE}$"),
     "chi bộ {id} chưa được đăng ký thuộc {where}", "cell {id} is not registered below {where}"),
    (re.compile(rf"^meeting (?P<id>{_ID}) is of a cell outside {_WHERE}$"),
     "buổi sinh hoạt {id} là của một chi bộ ngoài {where}",
     "meeting {id} is of a cell outside {where}"),
]  # fmt: skip
_NAMES = {
    "vi": {"org": "tổ chức", "cell": "chi bộ", "orgs": "tổ chức", "cells": "chi bộ"},
    "en": {"org": "org", "cell": "cell", "orgs": "orgs", "cells": "cells"},
}


def scope_message(message: str) -> tuple[str, str] | None:
    """The rules service's refusal of an event outside the token's part of the tree, in
    Vietnamese and English; None for any other message."""
    for pattern, vi, en in _SCOPE_MESSAGES:
        found = pattern.match(message)
        if found is not None:
            return _told(found, vi, "vi"), _told(found, en, "en")
    return None


def _told(found: re.Match[str], text: str, language: Literal["vi", "en"]) -> str:
    names, parts = _NAMES[language], found.groupdict()
    where = f"{names[parts['place']]} {parts['place_id']}"
    return text.format(where=where, what=names.get(parts.get("what") or "", ""), id=parts.get("id"))


def service_problem(planned: Planned, field: str, message: str) -> Problem:
    """The rules service's refusal of `planned` (a 422 or 403 entry), told at its cell."""
    data = msgspec.to_builtins(planned.event.data)
    key = field_column(planned.sheet.kind, field, data)
    scoped = scope_message(message)
    if scoped is not None:
        return Problem(planned.sheet.name, planned.cell(key), *scoped, row=planned.row)
    vi, en = contract_message(message)
    if vi.startswith("không đúng hợp đồng sự kiện: "):
        vi = "dịch vụ quy tắc từ chối: " + message
    return Problem(planned.sheet.name, planned.cell(key), vi, en, row=planned.row)


def warning(planned: Planned, key: str, vi: str, en: str) -> Problem:
    """A warning about `planned`'s cell in column `key`: the row is still imported."""
    return Problem(planned.sheet.name, planned.cell(key), vi, en, "warning", planned.row)


EVENT_TYPES_OF: dict[SheetKind, type[Event]] = {
    SheetKind.orgs: OrgRegisteredEvent,
    SheetKind.cells: CellRegisteredEvent,
    SheetKind.meetings: MeetingHeldEvent,
}
