"""`chibo import` as a person runs it: against a rules service process over HTTP, with a
source token from CHIBO_TOKEN, the problems and the summary printed, Vietnamese first."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli import main
from services.contracts.roles import Role
from tests.e2e.conftest import ServiceProcess, wait_ready
from tests.integration.test_spreadsheet_import import workbook
from tests.tokens import bearer


def test_the_command_imports_a_workbook_with_a_source_token_and_prints_the_summary(
    rules_process: ServiceProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules_process.start()
    wait_ready(rules_process.url)
    token = bearer(Role.source)["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("CHIBO_TOKEN", token)
    path = workbook(tmp_path / "chibo.xlsx")

    status = main(["import", str(path), "--url", rules_process.url])

    out = capsys.readouterr().out
    assert status == 1  # some rows were refused
    assert "Sinh hoạt!G15: “hai tiếng” không phải là số nguyên" in out
    # A source token may not read the API: unknown orgs and cells are warned of, not refused.
    assert "Chi bộ!C4: tổ chức “xa-9” không có trong tệp; không kiểm tra được" in out
    assert "Đã nhập: Tổ chức 3, Chi bộ 3, Sinh hoạt 14" in out
    assert out.index("Đã đọc") < out.index("Read 27 rows")


def test_the_template_has_the_three_sheets_and_their_headers(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "mau.xlsx"
    assert main(["import", "template", str(out)]) == 0

    book = load_workbook(out)
    assert book.sheetnames == ["Tổ chức", "Chi bộ", "Sinh hoạt"]
    assert [c.value for c in book["Tổ chức"][1]] == [
        "Mã tổ chức", "Tên tổ chức", "Mã tổ chức cấp trên", "Xét từ ngày"
    ]  # fmt: skip
