"""`chibo rules backtest|explain|eval|score --db` judge the stored facts exactly as `--events`
does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import msgspec
import pytest

from services.cli import main
from services.contracts.events import Event
from services.dev.servers import Servers
from services.infra import database
from services.rules.service.ingest import store
from tests.builders import RULES, cell, meeting, monthly, org, retraction

EARLIER, LATER = "2024-08-01T00:00:00Z", "2024-09-01T00:00:00Z"
ABSENT = [{"member_id": "p1", "excused": False}, {"member_id": "p2", "excused": True}]


def _history() -> list[list[Event]]:
    """Three delivery batches, with every awkward case of the event contract among them."""
    c1 = monthly("c1", date(2024, 1, 1), 6)  # a model regular meeting on the 10th, Jan to Jun
    first = [
        cell("c1", cell_type="agency", has_committee=True),
        *c1[:3],
        *c1[4:],
        # Corrections arriving before the record they correct: April's meeting was a committee one.
        meeting("c1-m202404", "c1", "2024-04-10T08:00:00+07:00", kind="committee", time=LATER),
        meeting("c1-mar-2", "c1", "2024-03-20T08:00:00+07:00", absences=ABSENT, event_id="dup"),
        # 20:30 on 31 July at UTC-05:00 is 1 August in Vietnam.
        meeting("c1-aug", "c1", "2024-07-31T20:30:00-05:00", criticism_held=False),
        *monthly("ghost", date(2024, 1, 1), 3),  # a cell that never registers: pending
        *monthly("late", date(2024, 2, 1), 3, hcm_study=False),
    ]
    second = [
        c1[3],  # the April original, older than its correction: history, it does not win
        meeting("c1-mar-2", "c1", "2024-03-20T08:00:00+07:00", event_id="dup"),  # a redelivery
        retraction("c1-m202402", "c1", time=LATER),
        retraction("c1-m202405", "c1", time="2019-01-01T00:00:00Z"),  # older: does not remove
        cell(
            "c2",
            cell_type="rural",
            has_committee=True,
            established_on="2024-02-15",
            dissolved_on="2024-05-20",
        ),
        meeting("c2-a", "c2", "2024-03-05T08:00:00+07:00", kind="thematic", topic_groups=[3, 4]),
        meeting("c2-b", "c2", "2024-04-05T08:00:00+07:00", members_present=7),
        meeting("c2-c", "c2", "2024-05-25T08:00:00+07:00"),  # after dissolution: not judged
    ]
    third = [cell("late", cell_type="urban", established_on="2024-01-01")]  # registers last
    return [first, second, third]


def _jsonl(batches: Sequence[Sequence[Event]], path: Path) -> Path:
    path.write_bytes(b"".join(msgspec.json.encode(e) + b"\n" for b in batches for e in b))
    return path


async def store_history(url: str, batches: Sequence[Sequence[Event]]) -> None:
    """Store the batches through the ingest path (judging nothing), schema made first."""
    pool = await database.create_pool(url, min_size=1, max_size=2)
    try:
        await database.migrate(pool, "rules", "services.rules.migrations")
        for batch in batches:
            await store(pool, batch)
    finally:
        await pool.close()


@pytest.fixture
async def stored(servers: Servers, clean: None, tmp_path: Path) -> tuple[Path, str]:
    """The JSONL file of the history and the URL of a database that ingested it."""
    batches = _history()
    await store_history(servers.database_url, batches)
    return _jsonl(batches, tmp_path / "events.jsonl"), servers.database_url


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    # The CLI runs its own event loop for --db, so it cannot run on the test's loop.
    status = await asyncio.to_thread(main, ["rules", *argv, "--rules", str(RULES)])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out, err


async def _both(
    capsys: pytest.CaptureFixture[str], stored: tuple[Path, str], *argv: str
) -> tuple[str, str]:
    """What the command prints on the events file and on the stored facts; what it tells on
    stderr (a backtest's summary) is the same too."""
    events, url = stored
    from_events, told = await _cli(capsys, *argv, "--events", str(events))
    from_db, told_from_db = await _cli(capsys, *argv, "--db", url)
    assert told_from_db == told
    return from_events, from_db


async def test_backtest_from_the_database_prints_exactly_what_the_events_file_gives(
    stored: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from_events, from_db = await _both(capsys, stored, "backtest", "--until", "2024-09-01")
    rows = [json.loads(line) for line in from_db.splitlines()]
    opened = {(r["rule_id"], r["cell_id"], r["scope"]) for r in rows}

    assert from_db == from_events
    months = {(c, s) for rule, c, s in opened if rule == "regular-meeting-monthly"}
    assert months == {
        *(("c1", m) for m in ("2024-02", "2024-04", "2024-07")),  # retracted, corrected, none
        ("c2", "2024-03"),  # February and May are not judged: established and dissolved mid-month
        *(("late", m) for m in ("2024-01", "2024-05", "2024-06", "2024-07", "2024-08")),
    }
    assert {c for _, c, _ in opened} == {"c1", "c2", "late"}  # the pending cell is not judged
    assert ("no-unexcused-absence", "c1", "meeting/c1-mar-2") in opened
    assert ("criticism-each-meeting", "c1", "meeting/c1-aug") in opened
    assert ("attendance-rate", "c2", "meeting/c2-b") in opened
    assert not any(s == "meeting/c2-c" for _, _, s in opened)  # after dissolution


async def test_backtest_with_passes_and_table_format_agree_too(
    stored: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("backtest", "--until", "2025-01-01", "--passes", "--format", "table")
    from_events, from_db = await _both(capsys, stored, *argv)
    assert from_db == from_events
    assert len(from_db.splitlines()) > 50


async def test_explain_and_score_read_the_database_like_the_events_file(
    stored: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    explain = ("explain", "--cell", "c1", "--rule", "regular-meeting-monthly", "--scope", "2024-04")
    explained = await _both(capsys, stored, *explain, "--until", "2024-09-01")
    scored = await _both(capsys, stored, "score", "--year", "2024")
    judged = await _both(capsys, stored, "eval", "regular-meeting-monthly", "--cell", "c1")

    assert explained[0] == explained[1]
    assert judged[0] == judged[1]
    assert "Phạm vi / Scope        tháng 4/2024\n" in judged[1]
    assert "Kết luận / Verdict     vi phạm\n" in explained[1]
    assert scored[0] == scored[1]
    assert [line.split("\t")[0] for line in scored[1].splitlines()] == [
        "cell_id",
        "c1",
        "c2",
        "late",
    ]


def test_db_without_a_database_url_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    status = main(["rules", "backtest", "--db", "--until", "2024-01-01"])
    assert (status, capsys.readouterr().err) == (
        2,
        "chibo: --db needs --database-url or the DATABASE_URL variable\n",
    )


def test_db_that_cannot_be_reached_is_an_error_not_a_hang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://nobody@/chibo?host={tmp_path}"  # no server listens there
    status = main(["rules", "backtest", "--db", "--database-url", url, "--until", "2024-01-01"])
    assert status == 2
    assert capsys.readouterr().err.startswith("chibo: cannot read the stored facts: ")


async def test_a_judging_start_holds_on_the_stored_facts_as_on_the_events(
    servers: Servers, clean: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = [
        [
            org("tinh", "Tỉnh", judged_from="2024-04-01"),
            org("xa", "Xã", parent_id="tinh"),  # sets none: the province's holds
            cell("old", established_on="2020-01-01", org_id="xa"),
            *monthly("old", date(2024, 6, 1), 2),
        ]
    ]
    await store_history(servers.database_url, history)
    stored = (_jsonl(history, tmp_path / "events.jsonl"), servers.database_url)
    from_events, from_db = await _both(capsys, stored, "backtest", "--until", "2024-12-01")
    assert from_db == from_events
    starts = {json.loads(line)["period_start"] for line in from_db.splitlines()}
    assert starts
    assert min(starts) >= "2024-04-01"
