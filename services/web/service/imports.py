"""A spreadsheet import from the pages: the file a person uploads read, checked and sent to
the rules API with their own token, exactly as `chibo import` does it, and its report."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

import httpx

from services.rules.adapters.workbook import SpreadsheetError, write_template
from services.rules.cli.importer import ImportFailedError, Report, import_files

SUFFIXES = (".xlsx", ".csv")
IMPORT_TIMEOUT_SECONDS = 600.0


class ImportRefusedError(Exception):
    """The file could not be imported at all; the message says why, in both languages."""


async def import_upload(
    rules_url: str, token: str, filename: str, content: bytes, *, dry_run: bool
) -> Report:
    """Import an uploaded `.xlsx` or `.csv` file (its rows checked first, every valid one sent,
    each refused one named by sheet and cell) as the person whose `token` this is."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportRefusedError(
            f"Chỉ nhận tệp .xlsx hoặc .csv, không nhận “{filename}”"
            f" — only .xlsx and .csv files are taken, not “{filename}”"
        )
    with tempfile.TemporaryDirectory(prefix="chibo-import-") as folder:
        # The name is kept, made safe: a CSV file's sheet is named by it in every refusal.
        stem = re.sub(r"[^\w.-]", "_", Path(filename).stem)[:100] or "upload"
        path = Path(folder) / f"{stem}{suffix}"
        path.write_bytes(content)
        try:
            # Reading a workbook is blocking work: the import runs on a thread of its own.
            return await asyncio.to_thread(asyncio.run, _import(rules_url, token, path, dry_run))
        except (ImportFailedError, SpreadsheetError) as exc:
            raise ImportRefusedError(str(exc).replace(folder + "/", "")) from None


async def _import(rules_url: str, token: str, path: Path, dry_run: bool) -> Report:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=rules_url, headers=headers, timeout=IMPORT_TIMEOUT_SECONDS
    ) as client:
        return await import_files(client, [path], dry_run=dry_run)


def template_bytes() -> bytes:
    """The import template as `chibo import template` writes it."""
    with tempfile.TemporaryDirectory(prefix="chibo-template-") as folder:
        path = Path(folder) / "chibo-mau-nhap.xlsx"
        write_template(path)
        return path.read_bytes()
