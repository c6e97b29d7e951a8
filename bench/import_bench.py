"""Spreadsheet import: a workbook of `--rows` rows through `chibo import`, beside the same events
posted as JSON, in the same run.

    python -m bench.import_bench --rows 100000

On embedded PostgreSQL and NATS servers of its own (thrown away after), each side on a fresh
database and fresh streams, with a rules service process of its own:
1. the baseline: the events the workbook stands for (mapped before the clock starts), posted
   as JSON to `POST /events` in batches of 1,000, one request at a time;
2. `import_files`, the command's own code, on the workbook: read with openpyxl, every row
   mapped and checked, the API asked about the cells, the same batches posted.
The target: the import at least 0.8 of the JSON rate, and under 60 s for 100,000 rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import nats
from nats.js.errors import NotFoundError
from openpyxl import Workbook

from bench.ingest_bench import DATA, _fresh_database, _ready, _start_service
from services.contracts.codec import encode
from services.contracts.roles import Role
from services.dev.servers import Servers
from services.infra.auth import AuthSettings
from services.infra.auth.tokens import mint
from services.rules.adapters.workbook import sheets_of
from services.rules.cli.importer import BATCH, import_files
from services.rules.domain.sheets import Mapper, recognise

Row = tuple[str, float, str, float, float]
KEY = "bench-key-only-for-benchmarks-0123456789"  # the key bench.ingest_bench starts with
MEETINGS_PER_CELL = 48  # four years of monthly meetings
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def write_workbook(path: Path, rows: int, seed: int = 16) -> Path:
    """A workbook of about `rows` rows: a few orgs, cells, and four years of their meetings."""
    rng = random.Random(seed)
    cells = max(1, rows // (MEETINGS_PER_CELL + 1))
    book = Workbook(write_only=True)
    orgs = book.create_sheet("Tổ chức")
    orgs.append(["Mã tổ chức", "Tên tổ chức", "Mã tổ chức cấp trên", "Xét từ ngày"])
    orgs.append(["tinh", "Đảng bộ tỉnh", None, None])
    for org in range(10):
        orgs.append([f"xa-{org}", f"Đảng bộ xã {org}", "tinh", None])
    sheet = book.create_sheet("Chi bộ")
    sheet.append(["Mã chi bộ", "Tên chi bộ", "Mã tổ chức", "Loại hình", "Có chi ủy",
                  "Ngày thành lập", "Ngày giải thể"])  # fmt: skip
    kinds = ["nông thôn", "đô thị", "cơ quan", "doanh nghiệp"]
    for cell in range(cells):
        sheet.append([f"cb-{cell:05d}", f"Chi bộ {cell}", f"xa-{cell % 10}", rng.choice(kinds),
                      rng.choice(["có", "không"]), "01/01/2020", None])  # fmt: skip
    meetings = book.create_sheet("Sinh hoạt")
    meetings.append(["Mã chi bộ", "Mã buổi", "Ngày họp", "Giờ bắt đầu", "Loại",
                     "Kết hợp chuyên đề", "Thời lượng (phút)", "Tổng số đảng viên",
                     "Miễn sinh hoạt", "Có mặt", "Vắng có lý do", "Vắng không lý do",
                     "Nhóm chuyên đề", "Tự phê bình và phê bình",
                     "Học tập và làm theo tư tưởng Hồ Chí Minh"])  # fmt: skip
    left = rows - cells - 11
    for cell in range(cells):
        for month in range(min(MEETINGS_PER_CELL, left)):
            year, number = 2022 + month // 12, month % 12 + 1
            thematic = number % 3 == 0
            absent = rng.random() < 0.2
            meetings.append([
                f"cb-{cell:05d}", None, datetime(year, number, rng.randrange(1, 28)),
                "19:30", "thường kỳ", "có" if thematic else "không", rng.choice([60, 90, 120]),
                15, 1, 13 if absent else 14, "dv-1" if absent else None, None,
                "3,4,5" if thematic else None, rng.choice(["có", "không"]), "có",
            ])  # fmt: skip
        left -= min(MEETINGS_PER_CELL, left)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def measure(rows: int) -> list[Row]:
    """Both sides on embedded servers of their own; table rows for `./dev bench`."""
    servers = Servers(
        DATA / "import-servers", database="bench_import", throwaway=True, environment=False
    )
    with servers as infra:
        return asyncio.run(measure_on(infra.database_url, infra.nats_url, rows))


async def measure_on(database_url: str, nats_url: str, rows: int) -> list[Row]:
    """Both sides on these servers (each its own fresh database and streams)."""
    path = write_workbook(DATA / f"import-{rows}.xlsx", rows)
    bodies = _json_bodies(path)
    events = sum(len(b) for b in bodies)
    json_seconds = await _side(database_url, nats_url, "json", bodies, path)
    import_seconds = await _side(database_url, nats_url, "import", bodies, path)
    json_rate, import_rate = events / json_seconds, events / import_seconds
    return [
        (f"import {rows} rows (events/s)", import_rate, "JSON POST (events/s)", json_rate,
         import_rate / json_rate),
        (f"import {rows} rows (s)", import_seconds, "target (s)", 60.0, import_seconds / 60),
    ]  # fmt: skip


def _json_bodies(path: Path) -> list[list[bytes]]:
    """The workbook's events as JSON, batch by batch, as a source system would send them."""
    mapper = Mapper(STAMP)
    planned = []
    with sheets_of(path) as raw:
        for sheet in raw:
            found = recognise(sheet.name, sheet.head, mapper.problems)
            assert found is not None
            rows = ((n, r) for n, r in sheet.rows if n > found.header_row)
            planned += list(mapper.rows(found, rows))
    if [p for p in mapper.problems if p.severity == "error"]:
        raise RuntimeError(f"the bench workbook has faults: {mapper.problems[:3]}")
    events = [encode(p.event) for p in planned]
    return [events[start : start + BATCH] for start in range(0, len(events), BATCH)]


async def _side(
    database_url: str, nats_url: str, side: str, bodies: list[list[bytes]], path: Path
) -> float:
    """Seconds for one side, on a fresh database and fresh streams."""
    url = await _fresh_database(database_url, f"bench_import_{side}")
    await _drop_streams(nats_url)
    process, base = _start_service(url, nats_url)
    token = mint(AuthSettings(key=KEY), Role.admin, sub="bench")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        await _ready(base)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as client:
            started = time.perf_counter()
            if side == "json":
                for batch in bodies:
                    answer = await client.post(
                        "/events",
                        content=b"[" + b",".join(batch) + b"]",
                        headers={"content-type": "application/json"},
                    )
                    answer.raise_for_status()
            else:
                report = await import_files(client, [path], stamp=STAMP)
                if report.refused:
                    raise RuntimeError(f"the import refused rows: {report.problems[:3]}")
            seconds = time.perf_counter() - started
        await _check_stored(url, sum(len(b) for b in bodies))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    return seconds


async def _drop_streams(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for stream in await js.streams_info():
        name = stream.config.name or ""
        if name.startswith("CHIBO_"):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)
    await nc.close()


async def _check_stored(url: str, events: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        count = await conn.fetchval("select count(*) from rules.events")
    finally:
        await conn.close()
    if count != events:
        raise RuntimeError(f"{count} events stored, {events} sent")


def main(argv: list[str] | None = None) -> int:
    """Print the figures beside their baselines."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    for name, value, base_name, base, ratio in measure(args.rows):
        print(f"{name:<40} {value:>10.1f}   {base_name:<24} {base:>10.1f}   {ratio:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
