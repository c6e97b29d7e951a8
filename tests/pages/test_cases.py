"""Cases on the pages, in a real Chromium: an inspector opens a case from a cell's page and
walks it to `closed` by filling the forms the definition describes, while the cell's secretary
sends the remediation plan and its progress from her own pages; a form sent after someone else
moved the case says so and keeps what was typed; the board lists the cases by state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page

from services.contracts.calendar import VIETNAM
from services.contracts.roles import Role
from tests.factories import cell_registered, meeting_held, org_registered
from tests.pages.conftest import Stack, Watched

# The day as the people using the pages live it: in Vietnam, seven hours ahead of UTC.
TODAY = datetime.now(VIETNAM).date()
YEAR = TODAY.year
TREE = [
    org_registered("huyen", None, id="o-h"),
    org_registered("xa-9", "huyen", id="o-9"),
    cell_registered(
        "c-9", org_id="xa-9", established_on=f"{YEAR - 1}-01-01", id="cr-9", name="Chi bộ Ấp Bắc"
    ),
    cell_registered("c-10", org_id="xa-9", established_on=f"{YEAR - 1}-01-01", id="cr-10"),
]
MEETINGS = [
    meeting_held(f"m9-{m}", "c-9", held_at=f"{YEAR - 1}-{m:02d}-10T19:00:00+07:00", id=f"m9-{m}")
    for m in range(1, 12)  # none in December: an open finding for the case to cite
]
Opener = Callable[..., Watched]
IN_TEN_DAYS = (TODAY + timedelta(days=10)).isoformat()
IN_FIVE_DAYS = (TODAY + timedelta(days=5)).isoformat()


@pytest.fixture(scope="module")
def commune(stack: Stack) -> Stack:
    stack.post_events(TREE + MEETINGS)
    return stack


def fire(page: Page, trigger: str) -> None:
    """Open the trigger's form (a <details>) and leave the page on it."""
    form = page.locator(f"#do-{trigger}")
    if form.get_attribute("open") is None:
        form.locator("summary").click()


def send(page: Page, trigger: str) -> None:
    page.locator(f"#do-{trigger} form button[type=submit]:not([name=more])").click()


def state_of(page: Page) -> str:
    return page.locator(".state-now .tag").first.inner_text()


def test_an_inspector_and_a_secretary_walk_a_case_to_closed(
    commune: Stack, open_page: Opener
) -> None:
    inspector = open_page()
    page = inspector.page
    page.goto(commune.code_for(Role.inspector, org="xa-9", sub="ubkt-vu"))
    page.goto(f"{commune.web}/cells/c-9?year={YEAR - 1}")
    page.get_by_role("spinbutton", name="Năm").fill(str(YEAR - 1))
    # The findings policy proposed a case for the year's findings already: opening one goes to it.
    page.get_by_role("button", name="Mở hồ sơ kiểm tra").click()
    assert page.url.endswith("?exists=1")
    case_url = page.url.removesuffix("?exists=1")
    assert state_of(page) == "Đề xuất kiểm tra"
    fire(page, "accept")
    send(page, "accept")
    assert state_of(page) == "Trong kế hoạch"
    assert page.locator("svg.diagram .state.current text").text_content() == "Trong kế hoạch"
    inspector.shot("case-planned")

    # start: a team without a leader is refused by the guard, shown beside the form.
    fire(page, "start")
    start = page.locator("#do-start")
    start.get_by_label("Số quyết định kiểm tra").fill("15-QĐ/UBKT")
    start.get_by_label("Họ và tên").first.fill("Vũ Văn Kiểm")
    start.get_by_label("Ngày bắt đầu kiểm tra").fill(TODAY.isoformat())
    send(page, "start")
    assert "Đoàn kiểm tra phải có trưởng đoàn." in start.locator(".alert").inner_text()
    assert start.get_by_label("Số quyết định kiểm tra").input_value() == "15-QĐ/UBKT"
    # A field left blank is named beside it, before anything is sent.
    start.get_by_label("Số quyết định kiểm tra").fill("")
    start.get_by_label("Vai trò").first.select_option("leader")
    send(page, "start")
    assert start.locator("#f-decision_ref-fault").inner_text() == "Cần nhập mục này."
    start.get_by_label("Số quyết định kiểm tra").fill("15-QĐ/UBKT")
    start.get_by_role("button", name="Thêm dòng").click()
    assert start.get_by_label("Họ và tên").count() == 4
    start.get_by_label("Họ và tên").nth(1).fill("Lê Thị Tra")
    send(page, "start")
    assert page.url.endswith("?done=start#timeline")
    assert state_of(page) == "Đang kiểm tra"
    # Twenty days with the first one counted: nineteen left on the first day.
    assert "còn 19 ngày" in page.locator(".deadlines").inner_text()
    inspector.shot("case-in-progress")

    # The secretary reads the case from her cell and sends the self-report.
    secretary = open_page(phone=True)
    her = secretary.page
    her.goto(commune.code_for(Role.secretary, cell="c-9", sub="bt-mai"))
    her.get_by_role("link", name=f"Hồ sơ kiểm tra {YEAR - 1}").click()
    assert her.url == case_url
    assert her.locator("#do-start").count() == 0  # no inspector's trigger for her
    fire(her, "submit_self_report")
    her.locator("#do-submit_self_report").get_by_label("Báo cáo tự kiểm tra").fill(
        "Chi bộ đã tự kiểm tra việc sinh hoạt tháng 12."
    )
    send(her, "submit_self_report")
    assert state_of(her) == "Đã nhận báo cáo tự kiểm tra"
    secretary.fits()

    page.goto(case_url)
    fire(page, "verify")
    send(page, "verify")
    assert state_of(page) == "Đang thẩm tra, xác minh"
    fire(page, "conclude")
    conclude = page.locator("#do-conclude")
    conclude.get_by_label("Nội dung kết luận").fill("Chi bộ chưa sinh hoạt tháng 12.")
    conclude.locator("[name='f.shortcomings.0.text']").fill("Không sinh hoạt thường kỳ tháng 12")
    conclude.locator("input[type=checkbox]").first.check()
    conclude.get_by_label("Hạn khắc phục").fill(IN_TEN_DAYS)
    send(page, "conclude")
    assert state_of(page) == "Đã kết luận", conclude.inner_text()
    inspector.shot("case-concluded")

    # The plan, then progress, then the remediation, from the secretary's phone.
    her.goto(case_url)
    fire(her, "submit_plan")
    plan = her.locator("#do-submit_plan")
    plan.get_by_label("Việc cần làm").nth(0).fill("Sinh hoạt bù tháng 12")
    plan.get_by_label("Người phụ trách").nth(0).fill("bt-mai")
    plan.get_by_label("Hạn hoàn thành").nth(0).fill(IN_FIVE_DAYS)
    plan.get_by_label("Việc cần làm").nth(1).fill("Rút kinh nghiệm trong chi bộ")
    plan.get_by_label("Người phụ trách").nth(1).fill("pbt-son")
    plan.get_by_label("Hạn hoàn thành").nth(1).fill(IN_TEN_DAYS)
    send(her, "submit_plan")
    assert state_of(her) == "Đã có kế hoạch khắc phục"
    assert her.locator("#plan ~ .table-wrap tbody tr").count() == 2
    fire(her, "report_progress")
    progress = her.locator("#do-report_progress")
    assert progress.get_by_label("Việc số").nth(1).input_value() == "2"
    progress.get_by_label("Phần trăm hoàn thành").nth(0).fill("100")
    progress.get_by_label("Phần trăm hoàn thành").nth(1).fill("40")
    send(her, "report_progress")
    assert "40" in her.locator("#plan ~ .table-wrap").inner_text()
    fire(her, "report_remediation")
    send(her, "report_remediation")  # action 2 is at 40 %: the guard refuses
    assert "Chưa hoàn thành hết" in her.locator("#do-report_remediation .alert").inner_text()
    her.locator("#do-report_remediation").get_by_label("Phần trăm hoàn thành").nth(1).fill("100")
    send(her, "report_remediation")
    assert state_of(her) == "Đã báo cáo khắc phục"
    secretary.fits()
    secretary.shot("phone-case-secretary")
    secretary.check(refused=True)  # the refused remediation report answered 422

    page.goto(case_url)
    fire(page, "accept_remediation")
    page.locator("#do-accept_remediation").get_by_label("Ghi nhận của đoàn kiểm tra").fill(
        "Đã kiểm tra biên bản sinh hoạt bù."
    )
    send(page, "accept_remediation")
    assert state_of(page) == "Đã kết thúc"
    assert page.locator("#act + p").inner_text() == "Bạn không có thao tác nào ở trạng thái này."
    timeline = page.locator("ol.timeline > li")
    assert timeline.count() == 10  # opened, then nine transitions; the refusals are not there
    started = timeline.filter(has_text="Quyết định kiểm tra").inner_text()
    assert "Họ và tên: Vũ Văn Kiểm; Vai trò: Trưởng đoàn" in started
    assert "Đang kiểm tra" in started
    planned = timeline.filter(has_text="Đã kết luận → Đã có kế hoạch khắc phục").inner_text()
    assert "bt-mai (bí thư chi bộ)" in planned
    assert "Việc cần làm: Sinh hoạt bù tháng 12; Người phụ trách: bt-mai" in planned
    inspector.shot("case-closed")
    page.get_by_role("button", name="English").click()
    assert page.url == case_url
    assert state_of(page) == "closed"
    assert page.get_by_role("heading", name="Timeline").count() == 1
    assert "Name: Vũ Văn Kiểm; Role: leader" in page.locator("ol.timeline").inner_text()
    page.get_by_role("button", name="Tiếng Việt").click()
    inspector.check(refused=True)

    # The board and "my cases" list it as closed.
    page.goto(f"{commune.web}/cases/mine")
    assert page.url == f"{commune.web}/cases?mine=1"
    column = page.locator("section.column", has_text="Đã kết thúc")
    assert column.locator("li.card").count() == 1
    # A card names its cell as registered, not by its id.
    assert column.locator("li.card a").inner_text() == f"Chi bộ Ấp Bắc · {YEAR - 1}"
    inspector.shot("cases-board")


def test_a_form_sent_after_someone_else_moved_the_case_says_so_and_keeps_what_was_typed(
    commune: Stack, open_page: Opener
) -> None:
    first, second = open_page(), open_page()
    one, other = first.page, second.page
    one.goto(commune.code_for(Role.inspector, org="xa-9", sub="ubkt-vu"))
    one.goto(f"{commune.web}/cells/c-10?year={YEAR - 1}")
    one.get_by_role("button", name="Mở hồ sơ kiểm tra").click()
    case_url = one.url.removesuffix("?exists=1")
    fire(one, "accept")
    send(one, "accept")
    other.goto(commune.code_for(Role.admin))
    other.goto(case_url)

    fire(one, "start")
    one.locator("#do-start").get_by_label("Số quyết định kiểm tra").fill("20-QĐ/UBKT")
    # Meanwhile the admin cancels the case.
    fire(other, "cancel")
    other.locator("#do-cancel").get_by_label("Ghi chú, lý do").fill("Trùng kế hoạch")
    send(other, "cancel")
    assert state_of(other) == "Đã hủy"

    send(one, "start")
    conflict = one.locator("#conflict")
    assert "Hồ sơ vừa được người khác thay đổi." in conflict.inner_text()
    assert "Đã hủy" in conflict.inner_text()
    # What was typed is still there to copy, named as the form named it.
    assert "Số quyết định kiểm tra\n20-QĐ/UBKT" in conflict.inner_text()
    assert state_of(one) == "Đã hủy"
    first.shot("case-conflict")
    first.check(refused=True)


def test_a_secretary_reaches_no_other_cell_s_case(commune: Stack, open_page: Opener) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.inspector, org="xa-9"))
    page.goto(f"{commune.web}/cells/c-10?year={YEAR - 1}")
    page.get_by_role("button", name="Mở hồ sơ kiểm tra").click()
    other_case = page.url.removesuffix("?exists=1")
    page.context.clear_cookies()
    page.goto(commune.code_for(Role.secretary, cell="c-9"))
    for elsewhere in (other_case, f"{commune.web}/cases"):
        answer = page.goto(elsewhere)
        assert answer is not None
        if elsewhere == other_case:
            assert answer.status == 404
    watched.check(refused=True)
