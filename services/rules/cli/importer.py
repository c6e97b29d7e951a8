"""`chibo import`: a spreadsheet's orgs, cells and meetings sent to the rules API as events.

    chibo import FILE.xlsx|FILE.csv... [--dry-run] [--url RULES_API] [--token T]
    chibo import template [OUT.xlsx]

The import is a client of `POST /events` like any source system: the rows become events in
`services/rules/domain/sheets.py` (pure), the files are read in `adapters/workbook.py`, and
this module talks HTTP. Orgs go first, then cells, then meetings, at most `BATCH` events a
request; while one request is answered the next rows are read (in a thread), so a long file
costs little more than its events' ingestion.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import queue
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
import msgspec

from services.contracts import wording
from services.contracts.codec import encode
from services.contracts.events import CellRegistered, OrgRegistered
from services.rules.adapters.workbook import RawSheet, SpreadsheetError, sheets_of, write_template
from services.rules.cli.sources import progress_bar
from services.rules.domain.sheets import (
    LAYOUTS,
    Mapper,
    Planned,
    Problem,
    Sheet,
    SheetKind,
    recognise,
    service_problem,
    warning,
)
from services.rules.errors import RulesError

BATCH = 1000
"""Events per `POST /events`: the service's default limit."""
DEFAULT_URL = "http://127.0.0.1:8001"
TEMPLATE = Path("chibo-mau-nhap.xlsx")
Registered = Literal["yes", "no", "unknown"]


class ImportFailedError(RulesError):
    """The API could not be used: what was sent before stays, the rest was not sent."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import` to a `chibo` argument parser."""
    command = subparsers.add_parser(
        "import",
        help="import orgs, cells and meetings from a spreadsheet (or: import template OUT.xlsx)",
        description="Send a spreadsheet's rows to the rules API as events; `chibo import "
        "template [OUT.xlsx]` writes the template.",
    )
    command.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help=".xlsx workbooks or .csv files"
    )
    command.add_argument(
        "--dry-run", action="store_true", help="check and tell what would change; send nothing"
    )
    command.add_argument(
        "--url",
        default=os.environ.get("CHIBO_RULES_URL", DEFAULT_URL),
        help=f"the rules API (default: CHIBO_RULES_URL, else {DEFAULT_URL})",
    )
    command.add_argument(
        "--token", help="a source or admin token (default: the CHIBO_TOKEN variable)"
    )
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The command: 0 when every row was imported, 1 when some were refused, 2 when the import
    could not run (no token, an unreadable file, the API unreachable)."""
    files: list[Path] = args.files
    if str(files[0]) == "template":
        out = files[1] if len(files) > 1 else TEMPLATE
        write_template(out)
        print(f"Đã ghi mẫu {out} / template written to {out}")
        return 0
    token = args.token or os.environ.get("CHIBO_TOKEN")
    if not token and not args.dry_run:
        print("chibo: import needs --token or the CHIBO_TOKEN variable", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        report = asyncio.run(_run(args.url, headers, files, args.dry_run))
    except (ImportFailedError, SpreadsheetError) as exc:
        print(f"chibo: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return 1 if report.refused else 0


async def _run(url: str, headers: dict[str, str], files: list[Path], dry_run: bool) -> Report:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:
        return await import_files(client, files, dry_run=dry_run, can_read=bool(headers))


class Report(msgspec.Struct):
    """What an import did (or, dry, would do), per sheet kind."""

    dry_run: bool
    problems: list[Problem]
    read: dict[SheetKind, int]
    sent: dict[SheetKind, int]
    stored: dict[SheetKind, int]
    unchanged: dict[SheetKind, int]
    refused_rows: dict[SheetKind, int]
    compared: dict[SheetKind, dict[str, int]]
    checked: bool  # whether the API could tell which orgs and cells are registered

    @property
    def refused(self) -> int:
        """Rows not imported because of what is wrong with them."""
        return sum(self.refused_rows.values())

    @property
    def warnings(self) -> list[Problem]:
        """Problems that did not stop their row."""
        return [p for p in self.problems if p.severity == "warning"]

    def text(self) -> str:
        """The problems, one a line, then the summary, Vietnamese first and English after."""
        lines = [str(p) for p in self.problems]
        if lines:
            lines.append("")
        return "\n".join([*lines, self.summary("vi"), self.summary("en")])

    def summary(self, language: wording.Language) -> str:
        """What was read, sent or imported, and refused, in `language`."""

        def n(value: int) -> str:
            return wording.number(value, language)

        def per_sheet(counts: dict[SheetKind, int]) -> str:
            named = [
                f"{_sheet_name(kind, language)} {n(counts[kind])}"
                for kind in SheetKind
                if counts[kind] or self.read[kind]
            ]
            return ", ".join(named) or n(0)

        read = sum(self.read.values())
        refused, warned = n(self.refused), n(len(self.warnings))
        vi = language == "vi"
        lines = [
            (f"Đã đọc {n(read)} dòng: " if vi else f"Read {n(read)} rows: ") + per_sheet(self.read)
        ]
        if self.dry_run:
            lines.append(
                (
                    "Sẽ gửi (chạy thử, chưa gửi gì): "
                    if vi
                    else "Would send (dry run, nothing sent): "
                )
                + per_sheet(self.sent)
            )
            lines += [self._compared(kind, language) for kind in self.compared]
            lines.append(
                "  Sinh hoạt: chỉ đếm, không so với dữ liệu đã có (API không liệt kê buổi họp)"
                if vi
                else "  Meetings: counted only, not compared with what is stored (the API "
                "lists no meetings)"
            )
        else:
            lines.append(("Đã nhập: " if vi else "Imported: ") + per_sheet(self.stored))
            if sum(self.unchanged.values()):
                lines.append(
                    ("  đã nhập trước đây, không đổi: " if vi else "  imported before, unchanged: ")
                    + per_sheet(self.unchanged)
                )
        lines.append(
            f"Bị từ chối: {refused} dòng; cảnh báo: {warned}."
            if vi
            else f"Refused: {refused} rows; warnings: {warned}."
        )
        return "\n".join(lines)

    def _compared(self, kind: SheetKind, language: wording.Language) -> str:
        counts = self.compared[kind]
        vi = language == "vi"
        words = (
            {"new": "mới", "changed": "sửa", "same": "không đổi"}
            if vi
            else {"new": "new", "changed": "changed", "same": "unchanged"}
        )
        named = ", ".join(
            f"{words[what]} {wording.number(counts.get(what, 0), language)}" for what in words
        )
        return f"  {_sheet_name(kind, language)}: {named}"


def _sheet_name(kind: SheetKind, language: wording.Language) -> str:
    return LAYOUTS[kind].vi if language == "vi" else LAYOUTS[kind].en


async def import_files(
    client: httpx.AsyncClient,
    files: Sequence[Path],
    *,
    dry_run: bool = False,
    stamp: datetime | None = None,
    batch: int = BATCH,
    can_read: bool = True,
) -> Report:
    """Import `files` through `client` (its base URL the rules API, its headers the token).

    `stamp` is every event's envelope time: the import's start unless given. With `can_read`
    false (no token, on a dry run) the API is not asked which orgs and cells exist.
    """
    mapper = Mapper(stamp or datetime.now(UTC))
    api = _Api(client, can_read)
    with contextlib.ExitStack() as stack:
        raw = [sheet for path in files for sheet in stack.enter_context(sheets_of(path))]
        sheets = _recognised(raw, mapper.problems)
        job = _Job(api, mapper, dry_run, batch)
        with progress_bar() as bar:
            size = sum(r.size() for _, r in sheets) if not bar.disable else None
            task = bar.add_task("nhập / importing", total=size or None)

            def advance(rows: int) -> None:
                bar.advance(task, rows)

            for kind in SheetKind:
                of_kind = [(s, r) for s, r in sheets if s.kind == kind]
                await job.sheets(kind, of_kind, advance)
    problems = sorted(
        [*mapper.problems, *job.problems],
        key=lambda p: (_order(p, sheets), p.row, len(p.cell), p.cell),
    )
    refused = {k: mapper.refused_rows[k] + job.refused[k] for k in SheetKind}
    return Report(
        dry_run=dry_run,
        problems=problems,
        read=mapper.rows_read,
        sent=job.sent,
        stored=job.stored,
        unchanged=job.unchanged,
        refused_rows=refused,
        compared=job.compared,
        checked=api.readable,
    )


def _order(problem: Problem, sheets: list[tuple[Sheet, RawSheet]]) -> int:
    names = [s.name for s, _ in sheets]
    return names.index(problem.sheet) if problem.sheet in names else -1


def _recognised(raw: list[RawSheet], problems: list[Problem]) -> list[tuple[Sheet, RawSheet]]:
    found = []
    for sheet in raw:
        recognised = recognise(sheet.name, sheet.head, problems)
        if recognised is not None:
            found.append((recognised, sheet))
    order = list(SheetKind)
    return sorted(found, key=lambda pair: order.index(pair[0].kind))


class _Api:
    """The rules API: which orgs and cells are registered (asked once each), and events sent."""

    def __init__(self, client: httpx.AsyncClient, can_read: bool) -> None:
        self.client = client
        self.readable = can_read
        self.known: dict[tuple[str, str], dict[str, object] | None] = {}

    async def registered(
        self, what: Literal["orgs", "cells"], ids: Iterable[str]
    ) -> dict[str, Registered]:
        """Whether each id is registered; `unknown` where the token may not read it."""
        answers: dict[str, Registered] = {}
        for item in ids:
            record = await self.record(what, item)
            if not self.readable:
                answers[item] = "unknown"
            else:
                answers[item] = "yes" if record is not None else "no"
        return answers

    async def record(self, what: Literal["orgs", "cells"], item: str) -> dict[str, object] | None:
        """The org or cell as registered, None if it is not (or cannot be read)."""
        if not self.readable:
            return None
        if (what, item) in self.known:
            return self.known[(what, item)]
        answer = await self._call("GET", f"/{what}/{item}")
        if answer.status_code in (401, 403):
            self.readable = False  # a source token writes only: nothing can be checked
            return None
        record = answer.json() if answer.status_code == 200 else None
        if answer.status_code not in (200, 404):
            raise ImportFailedError(
                f"API quy tắc trả lời {answer.status_code} cho GET /{what}/{item}"
                f" — GET /{what}/{item} answered {answer.status_code}"
            )
        self.known[(what, item)] = record
        return record

    async def send(
        self, planned: Sequence[Planned]
    ) -> tuple[list[str], list[str], list[dict[str, object]]]:
        """Post the events; their accepted ids, duplicates and refusals (index, field, message)."""
        body = encode([p.event for p in planned])
        answer = await self._call(
            "POST", "/events", content=body, headers={"content-type": "application/json"}
        )
        if answer.status_code not in (202, 403, 422):
            raise ImportFailedError(_failure(answer))
        report = answer.json()
        if answer.status_code == 403 and "errors" not in report:
            raise ImportFailedError(_failure(answer))
        return report["accepted"], report["duplicates"], report.get("errors", [])

    async def _call(self, method: str, path: str, **kw: object) -> httpx.Response:
        try:
            return await self.client.request(method, path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise ImportFailedError(
                f"không kết nối được API quy tắc ở {self.client.base_url}"
                f" — the rules API at {self.client.base_url} cannot be reached: {exc}"
            ) from None


def _failure(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail", "")
    except ValueError:
        detail = answer.text[:200]
    return (
        f"API quy tắc không nhận các sự kiện (mã {answer.status_code})"
        f" — POST /events answered {answer.status_code}: {detail}"
    )


class _Job:
    """One import's work: each kind of sheet read, checked and sent in turn."""

    def __init__(self, api: _Api, mapper: Mapper, dry_run: bool, batch: int) -> None:
        self.api = api
        self.mapper = mapper
        self.dry_run = dry_run
        self.batch = batch
        self.problems: list[Problem] = []
        self.refused = dict.fromkeys(SheetKind, 0)
        self.sent = dict.fromkeys(SheetKind, 0)
        self.stored = dict.fromkeys(SheetKind, 0)
        self.unchanged = dict.fromkeys(SheetKind, 0)
        self.compared: dict[SheetKind, dict[str, int]] = {}
        self.in_file: dict[SheetKind, set[str]] = {kind: set() for kind in SheetKind}
        self.cells_told: set[str] = set()

    async def sheets(
        self, kind: SheetKind, sheets: list[tuple[Sheet, RawSheet]], advance: Callable[[int], None]
    ) -> None:
        """Read, check and send the sheets of `kind`: orgs and cells whole (their references
        are checked against the whole file first), meetings batch by batch as they are read."""
        if not sheets:
            return
        if kind == SheetKind.meetings:
            async for chunk in _read_ahead(self.mapper, sheets, self.batch, advance):
                await self._send(await self._cells_known(chunk))
            return
        planned = [p for chunk in _chunks(self.mapper, sheets, self.batch, advance) for p in chunk]
        planned = await (self._orgs(planned) if kind == SheetKind.orgs else self._cells(planned))
        if self.dry_run:
            await self._compare(kind, planned)
        for start in range(0, len(planned), self.batch):
            await self._send(planned[start : start + self.batch])

    async def _orgs(self, planned: list[Planned]) -> list[Planned]:
        """Orgs whose parent is in the file or registered; the others refused, and the orgs
        below a refused one in turn."""
        kept = list(planned)
        ids = {p.event.data.org_id for p in kept}  # type: ignore[union-attr]
        asked = await self.api.registered("orgs", sorted({_parent(p) for p in kept} - ids - {""}))
        while True:
            ids = {p.event.data.org_id for p in kept}  # type: ignore[union-attr]
            orphans = [p for p in kept if _parent(p) and _parent(p) not in ids
                       and asked.get(_parent(p)) != "yes"]  # fmt: skip
            refused = [p for p in orphans if asked.get(_parent(p)) != "unknown"]
            for p in orphans:
                if p not in refused:
                    self._unchecked(p, "parent_id", _parent(p), "tổ chức", "org")
            if not refused:
                break
            for p in refused:
                parent = _parent(p)
                self._refuse(
                    p,
                    "parent_id",
                    f"tổ chức cấp trên “{parent}” không có trong tệp và chưa được đăng ký"
                    " trong phạm vi của tài khoản này",
                    f"parent org “{parent}” is neither in the file nor registered within this"
                    " token's reach",
                )
            kept = [p for p in kept if p not in refused]
            asked.update({_parent(p): "no" for p in refused})
            for p in refused:  # its children are orphans now
                asked[p.event.data.org_id] = "no"  # type: ignore[union-attr]
        self.in_file[SheetKind.orgs] = {p.event.data.org_id for p in kept}  # type: ignore[union-attr]
        return kept

    async def _cells(self, planned: list[Planned]) -> list[Planned]:
        """Cells whose org is in the file or registered; the others refused."""
        orgs = self.in_file[SheetKind.orgs]
        wanted = sorted({_org(p) for p in planned} - orgs)
        asked = await self.api.registered("orgs", wanted)
        kept = []
        for p in planned:
            org = _org(p)
            if org in orgs or asked.get(org) == "yes":
                kept.append(p)
            elif asked.get(org) == "unknown":
                self._unchecked(p, "org_id", org, "tổ chức", "org")
                kept.append(p)
            else:
                self._refuse(
                    p,
                    "org_id",
                    f"tổ chức “{org}” không có trong tệp và chưa được đăng ký trong phạm vi"
                    " của tài khoản này",
                    f"org “{org}” is neither in the file nor registered within this token's reach",
                )
        self.in_file[SheetKind.cells] = {p.event.data.cell_id for p in kept}  # type: ignore[union-attr]
        return kept

    async def _cells_known(self, chunk: list[Planned]) -> list[Planned]:
        """Meetings of a cell neither in the file nor registered are still sent (the service
        keeps them until the cell registers), each with a warning."""
        cells = self.in_file[SheetKind.cells]
        wanted = sorted({p.event.subject for p in chunk} - cells - self.cells_told)
        asked = await self.api.registered("cells", wanted)
        for p in chunk:
            cell = p.event.subject
            answer = asked.get(cell)
            if answer == "no":
                self.problems.append(
                    warning(p, "cell_id", f"chi bộ “{cell}” không có trong tệp và chưa được đăng "
                            "ký; buổi họp vẫn được gửi và sẽ được xét khi chi bộ đăng ký",
                            f"cell “{cell}” is neither in the file nor registered; the meeting "
                            "is sent and judged once the cell registers")
                )  # fmt: skip
            elif answer == "unknown":
                self._unchecked(p, "cell_id", cell, "chi bộ", "cell")
        self.cells_told |= {cell for cell, answer in asked.items() if answer == "yes"}
        return chunk

    def _unchecked(self, p: Planned, key: str, item: str, vi: str, en: str) -> None:
        self.problems.append(
            warning(p, key, f"{vi} “{item}” không có trong tệp; không kiểm tra được đã đăng ký "
                    "chưa (mã truy cập không đọc được API)",
                    f"{en} “{item}” is not in the file; whether it is registered was not "
                    "checked (no token that may read the API)")
        )  # fmt: skip

    def _refuse(self, p: Planned, key: str, vi: str, en: str) -> None:
        self.problems.append(Problem(p.sheet.name, p.cell(key), vi, en, row=p.row))
        self.refused[p.sheet.kind] += 1

    async def _compare(self, kind: SheetKind, planned: list[Planned]) -> None:
        """On a dry run, whether each org or cell is new, changed or the same as registered."""
        if not self.api.readable:
            return
        counts: dict[str, int] = {}
        for p in planned:
            what: Literal["orgs", "cells"] = "orgs" if kind == SheetKind.orgs else "cells"
            record = await self.api.record(what, p.event.subject)
            if not self.api.readable:
                return
            verdict = "new" if record is None else ("same" if _same(p, record) else "changed")
            counts[verdict] = counts.get(verdict, 0) + 1
        self.compared[kind] = counts

    async def _send(self, chunk: list[Planned]) -> None:
        if not chunk:
            return
        kind = chunk[0].sheet.kind
        self.sent[kind] += len(chunk)
        if self.dry_run:
            return
        accepted, duplicates, errors = await self.api.send(chunk)
        self.stored[kind] += len(accepted)
        self.unchanged[kind] += len(duplicates)
        for error in errors:
            index = error.get("index")
            if not isinstance(index, int) or not 0 <= index < len(chunk):
                continue
            planned = chunk[index]
            self.problems.append(
                service_problem(planned, str(error.get("field", "$")), str(error.get("message")))
            )
            self.refused[planned.sheet.kind] += 1


def _parent(p: Planned) -> str:
    data = p.event.data
    assert isinstance(data, OrgRegistered)
    return data.parent_id or ""


def _org(p: Planned) -> str:
    data = p.event.data
    assert isinstance(data, CellRegistered)
    return data.org_id


def _same(p: Planned, record: dict[str, object]) -> bool:
    data = msgspec.to_builtins(p.event.data)
    return all(record.get(k, v) == v for k, v in data.items() if k != "judged_from")


def _rows_after_header(
    sheet: Sheet, raw: RawSheet, advance: Callable[[int], None]
) -> Iterator[tuple[int, Sequence[object]]]:
    step = 0
    for number, values in raw.rows:
        step += 1
        if step == 1000:
            advance(step)
            step = 0
        if number > sheet.header_row:
            yield number, values
    advance(step)


def _chunks(
    mapper: Mapper,
    sheets: list[tuple[Sheet, RawSheet]],
    size: int,
    advance: Callable[[int], None],
) -> Iterator[list[Planned]]:
    chunk: list[Planned] = []
    for sheet, raw in sheets:
        for planned in mapper.rows(sheet, _rows_after_header(sheet, raw, advance)):
            chunk.append(planned)
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


_DONE = object()


async def _read_ahead(
    mapper: Mapper,
    sheets: list[tuple[Sheet, RawSheet]],
    size: int,
    advance: Callable[[int], None],
) -> AsyncIterator[list[Planned]]:
    """The chunks of `sheets`, read in a thread a couple of chunks ahead of the caller, who
    sends each while the next is read."""
    ready: queue.Queue[object] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for chunk in _chunks(mapper, sheets, size, advance):
                if not offer(chunk):
                    return
            offer(_DONE)
        except BaseException as exc:  # told to the caller, raised there
            offer(exc)

    reader = threading.Thread(target=read, name="chibo-import-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = await asyncio.to_thread(ready.get)
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()
