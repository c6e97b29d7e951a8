"""An admin imports a commune's spreadsheet from the pages: the template downloaded, the file
tried first (nothing sent), then imported, every refused cell named `Sheet!C12` with why; an
inspector imports for their own org only."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook, load_workbook

from services.contracts.roles import Role
from services.rules.domain.sheets import LAYOUTS, SheetKind
from tests.factories import org_registered
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


def test_only_an_admin_or_an_inspector_has_the_import_page(stack: Stack, open_page: Opener) -> None:
    watched = open_page()
    page = watched.page
    page.goto(stack.code_for(Role.viewer, org="xa-1"))
    answer = page.goto(stack.web + "/import")
    assert answer is not None
    assert answer.status == 403
    assert page.get_by_role("link", name="Nhập bảng tính").count() == 0
    watched.check(refused=True)


def test_an_inspector_imports_for_their_own_org_and_a_row_beyond_it_is_refused(
    stack: Stack, open_page: Opener, tmp_path: Path
) -> None:
    stack.post_events([org_registered("xa-nhap", None, id="o-nhap"),
                       org_registered("xa-khac", None, id="o-khac")])  # fmt: skip
    book = Workbook()
    cells = book.active
    assert cells is not None
    cells.title = "Chi bộ"
    cells.append([c.vi for c in LAYOUTS[SheetKind.cells].columns])
    cells.append(["cb-nhap-1", "Chi bộ Thôn Một", "xa-nhap", "nông thôn", "không", "01/01/2024"])
    cells.append(["cb-khac-1", "Chi bộ Thôn Khác", "xa-khac", "nông thôn", "không", "01/01/2024"])
    path = tmp_path / "chi-bo.xlsx"
    book.save(path)

    watched = open_page()
    page = watched.page
    page.goto(stack.code_for(Role.inspector, org="xa-nhap", sub="ubkt-nhap"))
    page.get_by_role("link", name="Nhập bảng tính").click()
    page.get_by_label("Tệp bảng tính").set_input_files(str(path))
    page.get_by_role("button", name="Nhập", exact=True).click()
    report = page.locator(".import-report").inner_text()
    assert "Chi bộ 1" in report  # imported: the cell of their own org
    refused = page.locator("table.problems tr.error").all_inner_texts()
    assert len(refused) == 1
    # The org column of the other commune's row: beyond her reach, it reads as absent.
    assert refused[0].startswith("Chi bộ!C3")
    assert "chưa được đăng ký trong phạm vi của tài khoản này" in refused[0]
    assert cell_status(stack, "cb-nhap-1") == 200
    assert cell_status(stack, "cb-khac-1") == 404
    watched.shot("import-inspector")
    watched.check()
