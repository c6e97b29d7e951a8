"""A standing-committee member reads her org's year in a real Chromium: the heat map of
regular meetings, each rule's trend, the cells table sorted and filtered, a quarter's report
downloaded as CSV and as Excel and read back; the page fits a phone and prints without its
forms; a rule author reads the last reload; nobody reaches an org beyond their own."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from services.contracts.calendar import VIETNAM
from services.contracts.roles import Role
from tests.factories import cell_registered, meeting_held, org_registered
from tests.pages.conftest import Stack, Watched, in_thread
from tests.tokens import bearer
from tests.waiting import eventually

Y = datetime.now(VIETNAM).year - 1  # a closed year (in Vietnam): every month of it judged
CELLS = {
    "c-a": "Chi bộ Ấp Đông",  # meets every month
    "c-b": "Chi bộ Bến Đò",  # meets January to June only
    "c-c": "Chi bộ Cầu Kè",  # founded on 1 July, meets every month since
    "c-d": "Chi bộ Đá Bạc",  # never meets
}
FOUNDED = {"c-c": f"{Y}-07-01"}
MONTHS = {"c-a": range(1, 13), "c-b": range(1, 7), "c-c": range(7, 13), "c-d": range(0)}
COMMUNE = org_registered("xa-1", "tinh", id="o-2")
COMMUNE["data"]["name"] = "Đảng bộ xã Một"
TREE = [
    org_registered("tinh", None, id="o-1"),
    COMMUNE,
    org_registered("xa-2", "tinh", id="o-3"),
    *(
        cell_registered(
            cell_id, name=name, org_id="xa-1", id=f"cr-{cell_id}",
            established_on=FOUNDED.get(cell_id, f"{Y - 1}-01-01"),
        )
        for cell_id, name in CELLS.items()
    ),
    cell_registered("c-x", org_id="xa-2", established_on=f"{Y - 1}-01-01", id="cr-x"),
]  # fmt: skip
MEETINGS = [
    meeting_held(
        f"{cell_id}-{m:02d}", cell_id, held_at=f"{Y}-{m:02d}-10T19:00:00+07:00",
        id=f"m-{cell_id}-{m}",
    )
    for cell_id, months in MONTHS.items()
    for m in months
]  # fmt: skip
HELD = {cell_id: {m for m in range(1, 13) if m in months} for cell_id, months in MONTHS.items()}

Opener = Callable[..., Watched]


def get_json(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def commune(stack: Stack) -> Stack:
    stack.post_events(TREE + MEETINGS)
    admin = bearer(Role.admin)

    async def proposed() -> set[str]:
        # The findings policy proposes inspecting the cells that missed months (c-b, c-d).
        page = await asyncio.to_thread(
            get_json, f"{stack.workflow}/cases?org_id=xa-1&limit=200", admin
        )
        return {case["cell_id"] for case in page["items"]}

    in_thread(lambda: asyncio.run(eventually(proposed, lambda c: c >= {"c-b", "c-d"}, 60)))
    return stack


def marks(watched: Watched, cell_id: str) -> list[tuple[int, str]]:
    """The heat map row of a cell: (month, class) of each square."""
    squares = watched.page.locator(f'svg.heat g[data-cell="{cell_id}"] rect.square')
    return [
        (int(s.get_attribute("data-month") or 0), (s.get_attribute("class") or "").split()[-1])
        for s in squares.all()
    ]


def test_a_viewer_reads_the_heat_map_and_the_trend(commune: Stack, open_page: Opener) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.viewer, org="xa-1"))
    page.goto(f"{commune.web}/orgs/xa-1?year={Y}")
    assert page.locator("h1").inner_text() == "Đảng bộ xã Một"
    for cell_id, held in HELD.items():
        expected = [
            (m, "held" if m in held else "not-judged" if cell_id == "c-c" and m < 7 else "missed")
            for m in range(1, 13)
        ]
        assert marks(watched, cell_id) == expected, cell_id
    # Each square says what it is when pointed at; the drawing says what it shows.
    tip = page.locator('svg.heat g[data-cell="c-b"] rect[data-month="7"] title').text_content()
    assert tip == f"Chi bộ Bến Đò · tháng 7/{Y}: không sinh hoạt"
    early = page.locator('svg.heat g[data-cell="c-c"] rect[data-month="2"] title').text_content()
    assert (
        early
        == f"Chi bộ Cầu Kè · tháng 2/{Y}: chưa đánh giá: chi bộ chưa thành lập hoặc đã giải thể"
    )
    assert page.locator("svg.heat title#heat-title").text_content() == (
        f"Sinh hoạt thường kỳ từng tháng · năm {Y}"
    )
    # The table alternative counts each month: January 2 held (a, b), 1 missed, 1 not judged.
    january = page.locator("#heat-table tbody tr").first
    assert january.locator("td").all_text_contents() == ["2", "1", "1"]

    # The trend of the monthly rule: January 2 of 3 judged cells met, July 2 of 4.
    monthly = page.locator('svg.trend g[data-rule="regular-meeting-monthly"]').first
    points = monthly.locator("circle title").all_text_contents()
    assert len(points) == 12
    assert points[0].endswith(f"tháng 1/{Y}: 66,7%"), points[0]
    assert points[6].endswith(f"tháng 7/{Y}: 50%"), points[6]
    quarters = page.locator('svg.trend g[data-rule="regular-meeting-monthly"]').nth(1)
    assert quarters.locator("circle title").first.text_content().endswith(f"quý I/{Y}: 66,7%")
    assert page.locator(".series-legend li").count() == 12
    watched.shot("org-report-vi")
    watched.check()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    tip = page.locator('svg.heat g[data-cell="c-b"] rect[data-month="7"] title').text_content()
    assert tip == f"Chi bộ Bến Đò · July {Y}: missed"
    assert points_of(watched)[0].endswith(f"January {Y}: 66.7%")
    watched.shot("org-report-en")
    watched.check()


def points_of(watched: Watched) -> list[str]:
    monthly = watched.page.locator('svg.trend g[data-rule="regular-meeting-monthly"]').first
    return monthly.locator("circle title").all_text_contents()


def table_ids(watched: Watched) -> list[str]:
    rows = watched.page.locator("#cells-table tbody tr")
    return [r.get_attribute("data-cell") or "" for r in rows.all()]


def scores(watched: Watched) -> list[tuple[int, str]]:
    """(score, cell id) of each row of the cells table, in its order."""
    rows = watched.page.locator("#cells-table tbody tr").all()
    return [
        (int(r.locator('td[data-label="Điểm"]').inner_text()), r.get_attribute("data-cell") or "")
        for r in rows
    ]


def test_a_viewer_sorts_and_filters_the_cells_and_reads_their_cases(
    commune: Stack, open_page: Opener
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.viewer, org="xa-1"))
    page.goto(f"{commune.web}/orgs/xa-1?year={Y}&period=Q3")
    assert table_ids(watched) == ["c-a", "c-b", "c-c", "c-d"]
    row = page.locator('#cells-table tr[data-cell="c-a"]')
    assert f"10/12/{Y}" in row.inner_text()  # its last regular meeting
    assert "Đề xuất kiểm tra" in page.locator('#cells-table tr[data-cell="c-d"]').inner_text()

    page.locator("#cells-table thead").get_by_role("link", name="Điểm").click()
    page.wait_for_url(lambda url: "sort=score" in url)
    assert "period=Q3" in page.url  # the other parameters are kept
    ascending = scores(watched)
    assert ascending == sorted(ascending)
    assert ascending[0][1] == "c-d"  # it never met: the lowest score
    assert page.locator('th[aria-sort="ascending"]').inner_text().startswith("Điểm")
    page.locator("#cells-table thead").get_by_role("link", name="Điểm").click()
    page.wait_for_url(lambda url: "dir=desc" in url)
    descending = scores(watched)
    assert [score for score, _ in descending] == sorted((s for s, _ in ascending), reverse=True)
    # The heat map follows the table's order.
    heat_rows = page.locator("svg.heat g.heat-row")
    assert heat_rows.first.get_attribute("data-cell") == descending[0][1]

    page.get_by_label("Tên hoặc mã có chứa").fill("ben do")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url(lambda url: "q=ben" in url)
    assert table_ids(watched) == ["c-b"]
    assert "sort=score" in page.url
    assert page.locator("svg.heat g.heat-row").count() == 1
    page.get_by_role("link", name="Bỏ lọc").click()
    page.wait_for_url(lambda url: "q=" not in url)
    page.get_by_label("Chỉ chi bộ có vi phạm đang mở").check()
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url(lambda url: "open=1" in url)
    with_open = table_ids(watched)
    assert "c-d" in with_open
    assert all(
        int(page.locator(f'tr[data-cell="{c}"] td[data-label="Vi phạm đang mở"]').inner_text()) > 0
        for c in with_open
    )
    watched.shot("org-report-filtered")
    watched.check()


def test_a_viewer_picks_a_quarter_and_downloads_it_as_csv_and_excel(
    commune: Stack, open_page: Opener
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.viewer, org="xa-1"))
    page.goto(f"{commune.web}/orgs/xa-1?year={Y}")
    page.get_by_label("Kỳ báo cáo").select_option(label=f"quý I/{Y}")
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url(lambda url: "period=Q1" in url)
    assert page.locator("#report").inner_text() == f"Báo cáo định kỳ · quý I/{Y}"
    # Q1: c-c not founded yet; c-a and c-b met every month, c-d never did.
    row = page.locator('#report-table tr[data-rule="regular-meeting-monthly"] td')
    assert row.all_inner_texts() == ["3", "1", "66,7%"]

    with page.expect_download() as waited:
        page.get_by_role("link", name="Tải về CSV").click()
    download = waited.value
    assert download.suggested_filename == f"chibo-xa-1-{Y}-Q1.csv"
    text = download.path().read_text(encoding="utf-8-sig")
    lines = {r[0]: r for r in csv.reader(io.StringIO(text))}
    assert lines["regular-meeting-monthly"][4:] == ["3", "1", "66.7"]

    with page.expect_download() as waited:
        page.get_by_role("link", name="Tải về Excel").click()
    download = waited.value
    assert download.suggested_filename == f"chibo-xa-1-{Y}-Q1.xlsx"
    # Playwright keeps a download under a name of its own, without the extension.
    sheet = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes())).active
    assert sheet is not None
    assert sheet["A1"].value == (
        f"Báo cáo định kỳ / Periodic report: Đảng bộ xã Một, quý I/{Y} / Q1 {Y}"
    )
    found = {r[0].value: r for r in sheet.iter_rows(min_row=4) if r[0].value}
    monthly = found["regular-meeting-monthly"]
    assert [c.value for c in monthly[3:5]] == [3, 1]
    assert monthly[5].value == pytest.approx(2 / 3, abs=0.001)
    assert monthly[5].number_format == "0.0%"

    # Printed, the report has no navigation and no forms.
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("form.filters").first.is_visible()
    assert page.locator("#report-table").is_visible()
    watched.check()


def test_the_org_report_fits_a_phone(commune: Stack, open_page: Opener) -> None:
    watched = open_page(phone=True)
    watched.page.goto(commune.code_for(Role.viewer, org="xa-1"))
    page = watched.page
    page.goto(f"{commune.web}/orgs/xa-1?year={Y}&period=Q1")
    assert page.locator("svg.heat g.heat-row").count() == 4
    # The headings are out of sight on a phone: the form sorts too.
    page.get_by_label("Sắp xếp theo").select_option(label="Điểm")
    page.get_by_label("Thứ tự").select_option(label="Giảm dần")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url(lambda url: "dir=desc" in url)
    assert "period=Q1" in page.url
    ranked = [score for score, _ in scores(watched)]
    assert ranked == sorted(ranked, reverse=True)
    watched.fits()
    watched.shot("phone-org-report")
    watched.check()


def test_a_rule_author_reads_the_last_reload(commune: Stack, open_page: Opener) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.rule_author))
    page.get_by_role("button", name="Nạp lại bộ quy tắc").click()
    assert page.locator(".alert.ok").inner_text().startswith("Bộ quy tắc không thay đổi.")
    page.goto(f"{commune.web}/rules")  # later, or on another replica
    last = page.locator("section.last-reload").inner_text()
    assert "Lần nạp gần nhất" in last
    assert "test-rule_author" in last
    assert "không thay đổi" in last
    watched.shot("rules-last-reload")
    watched.check()


@pytest.mark.parametrize(
    ("role", "scope"), [(Role.secretary, {"cell": "c-a"}), (Role.viewer, {"org": "xa-2"})]
)
def test_nobody_reaches_an_org_report_beyond_their_own(
    commune: Stack, open_page: Opener, role: Role, scope: dict[str, str]
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(role, **scope))
    for path in ("/orgs/xa-1", "/orgs/xa-1/report.csv", "/orgs/xa-1/report.xlsx"):
        answer = page.goto(f"{commune.web}{path}?year={Y}")
        assert answer is not None
        assert answer.status == 404, path
        assert page.locator("h1").inner_text() == "Không tìm thấy"
    watched.check(refused=True)


def test_an_org_of_many_cells_is_read_a_hundred_rows_at_a_time(
    stack: Stack, open_page: Opener
) -> None:
    many = [
        cell_registered(
            f"m-{n:03d}", name=f"Chi bộ khu phố {n:03d}", org_id="xa-many", id=f"cr-m-{n}",
            established_on=f"{Y - 1}-01-01",
        )
        for n in range(130)
    ]  # fmt: skip
    stack.post_events([org_registered("xa-many", None, id="o-many"), *many])
    watched = open_page()
    page = watched.page
    page.goto(stack.code_for(Role.viewer, org="xa-many"))
    page.goto(f"{stack.web}/orgs/xa-many?year={Y}&sort=cell&dir=desc")
    status = page.locator("#cells ~ p[role=status]").inner_text()
    assert status == "130 trong 130 chi bộ · đang xem 1\u2013100"
    ids = table_ids(watched)
    assert (len(ids), ids[0], ids[-1]) == (100, "m-129", "m-030")
    # The drawing shows the same hundred, and says so; so does its table of counts.
    assert page.locator("svg.heat g[data-cell]").count() == 100
    assert "1\u2013100 trong 130" in page.locator("#heat ~ p.note").inner_text()
    january = page.locator("#heat-table tbody tr").first.locator("td").all_text_contents()
    assert sum(int(n) for n in january) == 100
    pager = page.get_by_role("navigation", name="Các trang của bảng")
    assert pager.inner_text().split() == ["Trang", "1/2", "Trang", "sau", "→"]
    pager.get_by_role("link", name="Trang sau").click()
    page.wait_for_url(lambda url: "page=2" in url)
    ids = table_ids(watched)
    assert (len(ids), ids[0], ids[-1]) == (30, "m-029", "m-000")  # still sorted as asked
    assert page.locator("svg.heat g[data-cell]").count() == 30
    january = page.locator("#heat-table tbody tr").first.locator("td").all_text_contents()
    assert sum(int(n) for n in january) == 30
    # A new sort starts again from the first page.
    page.locator("#cells-table thead").get_by_role("link", name="Chi bộ").click()
    page.wait_for_url(lambda url: "page=" not in url)
    assert table_ids(watched)[0] == "m-000"
    watched.check()
