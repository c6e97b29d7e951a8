"""An admin imports a commune's spreadsheet from the pages: the template downloaded, the file
tried first (nothing sent), then imported, every refused cell named `Sheet!C12` with why."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

from services.contracts.roles import Role
from tests.integration.test_spreadsheet_import import EXPECTED_REFUSALS, workbook
from tests.pages.conftest import Stack, Watched
from tests.tokens import bearer

Opener = Callable[..., Watched]


def cell_status(stack: Stack, cell_id: str) -> int:
    request = urllib.request.Request(f"{stack.rules}/cells/{cell_id}", headers=bearer(Role.admin))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_admin_tries_then_imports_a_workbook_and_reads_each_refusal(
    stack: Stack, open_page: Opener, tmp_path: Path
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(stack.code_for(Role.admin))
    # With no org yet, the org tree page says so (an HTML page, not its source).
    assert page.locator("h1").count() == 1
    page.get_by_role("link", name="Nhập bảng tính").click()
    assert page.locator("h1").inner_text() == "Nhập dữ liệu từ bảng tính"

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải mẫu nhập liệu").click()
    template = tmp_path / "mau.xlsx"
    download.value.save_as(template)
    assert load_workbook(template).sheetnames == ["Tổ chức", "Chi bộ", "Sinh hoạt"]

    book = workbook(tmp_path / "xa-lich-su.xlsx")
    page.get_by_label("Tệp bảng tính").set_input_files(str(book))
    page.get_by_label("Chạy thử: chỉ kiểm tra, chưa gửi gì").check()
    page.get_by_role("button", name="Nhập", exact=True).click()
    assert "Sẽ gửi (chạy thử, chưa gửi gì)" in page.locator(".import-report").inner_text()
    assert cell_status(stack, "cb-1") == 404  # nothing sent

    page.get_by_label("Tệp bảng tính").set_input_files(str(book))
    page.get_by_role("button", name="Nhập", exact=True).click()
    report = page.locator(".import-report")
    assert "Đã nhập: Tổ chức 2, Chi bộ 2, Sinh hoạt 14" in report.inner_text()
    refused = [
        tuple(row.split("!"))
        for row in page.locator("table.problems tr.error th").all_inner_texts()
    ]
    assert refused == [(sheet, cell) for sheet, cell in EXPECTED_REFUSALS]
    assert "không phải là số nguyên" in page.locator("tr.error", has_text="G15").inner_text()
    assert cell_status(stack, "cb-1") == 200
    watched.fits()
    watched.shot("import-report")
    watched.check()

    # Again: the same file is one import.
    page.get_by_label("Tệp bảng tính").set_input_files(str(book))
    page.get_by_role("button", name="Nhập", exact=True).click()
    assert "đã nhập trước đây, không đổi" in page.locator(".import-report").inner_text()


def test_only_an_admin_has_the_import_page(stack: Stack, open_page: Opener) -> None:
    watched = open_page()
    page = watched.page
    page.goto(stack.code_for(Role.viewer, org="xa-1"))
    answer = page.goto(stack.web + "/import")
    assert answer is not None
    assert answer.status == 403
    assert page.get_by_role("link", name="Nhập bảng tính").count() == 0
    watched.check(refused=True)
