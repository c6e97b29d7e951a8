"""`chibo import` into a real rules service (PostgreSQL, NATS): a workbook with all three sheets
and the usual mistakes stores exactly its valid rows, names every refusal by sheet, cell and
reason, leaves the findings a backtest of the same events finds, changes nothing when imported
again, and corrects a meeting when a corrected file is imported."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client
from openpyxl import Workbook

from services.cli import main
from services.dev.servers import Servers
from services.rules.cli.importer import import_files
from services.rules.settings import RulesSettings
from tests.factories import cell_registered, meeting_held, org_registered
from tests.integration.conftest import on, settled
from tests.integration.test_live_findings import open_findings
from tests.integration.test_rules_api import RULES

FIRST = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


@pytest.fixture
def rules_settings(servers: Servers) -> RulesSettings:
    """A rules service taking the importer's batches of up to 1,000 events."""
    return RulesSettings(**on(servers))


ORG_ROWS = [
    ["xa-1", "Đảng bộ xã 1", None, None, None],
    ["xa-2", "Đảng bộ xã 2", None, "xa-1", "01/01/2024"],
    ["xa 3", "Tên có mã sai", None, "xa-1", None],  # A4: an id with a space
    ["xa-4", "Cấp trên không có", None, "khong-co", None],  # D5: unknown parent
]
CELL_ROWS = [
    ["cb-1", "Chi bộ thôn 1", "xa-1", "nông thôn", "Có", "01/01/2024", None],
    ["cb-2", "Chi bộ khu 2", "xa-2", "Đô thị ", "không", "01/01/2024", None],
    ["cb-3", "Chi bộ lạ", "xa-9", "nông thôn", "không", "01/01/2024", None],  # C4: unknown org
    ["cb-4", "Chi bộ trường", "xa-1", "trường học", "không", "01/01/2024", None],  # D5
    ["cb-5", "Chi bộ mới", "xa-1", "cơ quan", "không", "31/02/2025", None],  # F6
]


def _meeting_row(cell: str, month: int, **changes: Any) -> list[Any]:
    row: dict[str, Any] = {
        "cell": cell, "id": f"{cell}-{month:02d}", "day": f"10/{month:02d}/2025",
        "start": "19:30", "kind": "thường kỳ", "thematic": "không", "minutes": 120,
        "total": 10, "exempt": 0, "present": 9, "excused": "dv-9", "unexcused": None,
        "groups": None, "criticism": "có", "hcm": "Có",
    }  # fmt: skip
    row.update(changes)
    return list(row.values())


MEETING_ROWS = [
    *[_meeting_row("cb-1", m) for m in range(1, 12)],
    _meeting_row("cb-1", 3, id="cb-1-03b", thematic=" CÓ ", groups="3,4,5"),  # row 13
    _meeting_row("cb-2", 1, criticism="không", present=10, excused=None),  # 14: to correct
    _meeting_row("cb-2", 2, minutes="hai tiếng"),  # G15: text in a number column
    _meeting_row("cb-2", 3, day="31/02/2025"),  # C16: no such day
    _meeting_row("cb-2", 1, present=10, excused=None),  # B17: repeats row 14, other values
    _meeting_row("cb-9", 4),  # A18: a cell neither in the file nor registered: a warning
    _meeting_row("cb-2", 5, kind="họp mặt"),  # E19: unknown kind
]
EXPECTED_REFUSALS = [
    ("Tổ chức", "A4"),
    ("Tổ chức", "D5"),
    ("Chi bộ", "C4"),
    ("Chi bộ", "D5"),
    ("Chi bộ", "F6"),
    ("Sinh hoạt", "G15"),
    ("Sinh hoạt", "C16"),
    ("Sinh hoạt", "B17"),
    ("Sinh hoạt", "E19"),
]


def workbook(path: Path, meetings: list[list[Any]] = MEETING_ROWS) -> Path:
    """The test's workbook: orgs (a merged header cell), cells and meetings."""
    book = Workbook()
    orgs = book.active
    assert orgs is not None
    orgs.title = "Tổ chức"
    orgs.append(["Mã tổ chức", "Tên tổ chức", None, "Mã tổ chức cấp trên", "Xét từ ngày"])
    orgs.merge_cells("B1:C1")
    for row in ORG_ROWS:
        orgs.append(row)
    cells = book.create_sheet("Chi bộ")
    cells.append(["Mã chi bộ", "Tên chi bộ", "Mã tổ chức", "Loại hình", "Có chi ủy",
                  "Ngày thành lập", "Ngày giải thể"])  # fmt: skip
    for row in CELL_ROWS:
        cells.append(row)
    sheet = book.create_sheet("Sinh hoạt")
    sheet.append(
        ["Mã chi bộ", "Mã buổi", "Ngày họp", "Giờ bắt đầu", "Loại", "Kết hợp chuyên đề",
         "Thời lượng (phút)", "Tổng số đảng viên", "Miễn sinh hoạt", "Có mặt", "Vắng có lý do",
         "Vắng không lý do", "Nhóm chuyên đề", "Tự phê bình và phê bình",
         "Học tập và làm theo tư tưởng Hồ Chí Minh"]
    )  # fmt: skip
    for row in meetings:
        sheet.append(row)
    book.save(path)
    return path


def _held(cell: str, month: int, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "held_at": f"2025-{month:02d}-10T19:30:00+07:00", "duration_minutes": 120,
        "members_total": 10, "members_exempt": 0, "members_present": 9,
        "absences": [{"member_id": "dv-9", "excused": True}],
    }  # fmt: skip
    fields.update(changes)
    return meeting_held(fields.pop("meeting_id", f"{cell}-{month:02d}"), cell, **fields)


# The events the valid rows stand for, written by hand.
EQUIVALENT = [
    org_registered("xa-1", None),
    org_registered("xa-2", "xa-1"),
    cell_registered("cb-1", org_id="xa-1", has_committee=True, established_on="2024-01-01"),
    cell_registered("cb-2", org_id="xa-2", cell_type="urban", established_on="2024-01-01"),
    *[_held("cb-1", m) for m in range(1, 12)],
    _held("cb-1", 3, meeting_id="cb-1-03b", includes_thematic=True, topic_groups=[3, 4, 5]),
    _held("cb-2", 1, criticism_held=False, members_present=10, absences=[]),
    _held("cb-9", 4),
]


def backtest(events: list[dict[str, Any]], tmp_path: Path, capsys: Any) -> set[tuple[str, ...]]:
    """The violations `chibo rules backtest` finds in `events` up to the service's today."""
    path = tmp_path / "equivalent.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    capsys.readouterr()
    argv = ["rules", "backtest", "--events", str(path), "--until", "2025-12-15"]
    assert main([*argv, "--rules", str(RULES)]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {(f["rule_id"], f["cell_id"], f["scope"]) for f in map(json.loads, lines)}


async def stored(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch("select type, count(*) as n from rules.events group by type")
    return {r["type"]: r["n"] for r in rows}


async def test_a_workbook_stores_its_valid_rows_names_its_refusals_and_imports_once(
    rules: AsyncTestClient,
    nc: Client,
    db: asyncpg.Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = workbook(tmp_path / "chibo.xlsx")

    report = await import_files(rules, [path], stamp=FIRST)
    await settled(nc, db)

    refused = [(p.sheet, p.cell) for p in report.problems if p.severity == "error"]
    assert refused == EXPECTED_REFUSALS
    assert all(p.vi and p.en and p.vi != p.en for p in report.problems)
    assert [(p.sheet, p.cell) for p in report.warnings] == [("Sinh hoạt", "A18")]
    assert report.stored == {"orgs": 2, "cells": 2, "meetings": 14}
    assert report.refused == len(EXPECTED_REFUSALS)
    assert await stored(db) == {"org.registered": 2, "cell.registered": 2, "meeting.held": 14}
    cells = (await rules.get("/cells")).json()["items"]
    assert sorted(c["cell_id"] for c in cells) == ["cb-1", "cb-2"]
    committee = {c["cell_id"]: c["has_committee"] for c in cells}
    assert committee == {"cb-1": True, "cb-2": False}

    expected = backtest(EQUIVALENT, tmp_path, capsys)
    assert ("criticism-each-meeting", "cb-2", "meeting/cb-2-01") in expected
    findings = await open_findings(rules)
    assert findings == expected

    again = await import_files(rules, [path], stamp=FIRST + timedelta(hours=1))
    await settled(nc, db)

    assert sum(again.stored.values()) == 0
    assert again.unchanged == {"orgs": 2, "cells": 2, "meetings": 14}
    assert await stored(db) == {"org.registered": 2, "cell.registered": 2, "meeting.held": 14}
    assert await open_findings(rules) == findings


async def test_a_corrected_file_corrects_the_meeting_and_its_findings(
    rules: AsyncTestClient, nc: Client, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await import_files(rules, [workbook(tmp_path / "first.xlsx")], stamp=FIRST)
    corrected = [list(row) for row in MEETING_ROWS]
    corrected[12] = _meeting_row("cb-2", 1, criticism="có", present=10, excused=None)
    path = workbook(tmp_path / "corrected.xlsx", corrected)

    report = await import_files(rules, [path], stamp=FIRST + timedelta(days=1))
    await settled(nc, db)

    assert report.stored == {"orgs": 0, "cells": 0, "meetings": 1}
    row = await db.fetchrow(
        "select criticism_held, event_time from rules.meetings where meeting_id = 'cb-2-01'"
    )
    assert row is not None
    assert row["criticism_held"] is True
    findings = await open_findings(rules)
    assert ("criticism-each-meeting", "cb-2", "meeting/cb-2-01") not in findings


async def test_a_dry_run_tells_what_would_change_and_sends_nothing(
    rules: AsyncTestClient, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await rules.post("/events", json=[org_registered("xa-1", None, id="o-1")])

    report = await import_files(rules, [workbook(tmp_path / "w.xlsx")], dry_run=True)

    assert await stored(db) == {"org.registered": 1}
    assert report.sent == {"orgs": 2, "cells": 2, "meetings": 14}
    assert report.compared["orgs"] == {"changed": 1, "new": 1}
    assert report.compared["cells"] == {"new": 2}
    assert "Sẽ gửi (chạy thử, chưa gửi gì): Tổ chức 2, Chi bộ 2, Sinh hoạt 14" in report.text()
