"""People at work on the pages, in a real Chromium: a standing-committee member reads the
org, a secretary reads her cell and reaches nothing else, a rule author reloads the pack;
every page offline by construction, in Vietnamese first and English a click away."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from services.contracts.calendar import VIETNAM
from services.contracts.roles import Role
from tests.factories import cell_registered, meeting_held, org_registered
from tests.pages.conftest import Stack, Watched
from tests.tokens import bearer

YEAR = datetime.now(VIETNAM).year  # the year in Vietnam, where the services count it
TREE = [
    org_registered("tinh", None, id="o-1"),
    org_registered("xa-1", "tinh", id="o-2"),
    org_registered("xa-2", "tinh", id="o-3"),
    cell_registered("c-a", org_id="xa-1", established_on=f"{YEAR - 1}-01-01", id="cr-a"),
    cell_registered("c-b", org_id="xa-1", established_on=f"{YEAR - 1}-01-01", id="cr-b"),
    cell_registered("c-x", org_id="xa-2", established_on=f"{YEAR - 1}-01-01", id="cr-x"),
]
# c-a meets every month of last year, once without self-criticism; the others never meet.
MEETINGS = [
    meeting_held(
        f"a-{m:02d}", "c-a", held_at=f"{YEAR - 1}-{m:02d}-10T19:00:00+07:00",
        criticism_held=m != 4, id=f"ma-{m}",
    )
    for m in range(1, 13)
]  # fmt: skip

Opener = Callable[..., Watched]


@pytest.fixture(scope="module")
def commune(stack: Stack) -> Stack:
    stack.post_events(TREE + MEETINGS)
    return stack


def test_the_api_docs_open_offline(stack: Stack, open_page: Opener) -> None:
    for url in (stack.rules, stack.workflow):
        watched = open_page()
        watched.page.goto(url + "/schema/swagger")
        watched.page.locator(".swagger-ui .info .title").wait_for(timeout=15_000)
        watched.check()
    watched.shot("api-docs")


def test_a_viewer_reads_the_org_and_a_cell_in_both_languages(
    commune: Stack, open_page: Opener
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.viewer, org="xa-1"))
    # Home for a standing-committee member is their org.
    assert page.url == f"{commune.web}/orgs/xa-1"
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == "Đảng bộ xa-1"
    rows = page.locator("#cells ~ .table-wrap tbody tr")
    assert rows.count() == 2
    assert "Chi bộ c-a" in rows.nth(0).inner_text()
    watched.shot("org-vi")
    watched.check()

    page.get_by_role("link", name="Chi bộ c-a").click()
    assert page.url == f"{commune.web}/cells/c-a"
    page.goto(f"{commune.web}/cells/c-a?year={YEAR - 1}")
    findings = page.locator("ul.findings li")
    texts = findings.all_inner_texts()
    assert any(
        "Buổi sinh hoạt thường kỳ ngày 10/04/" in text and "tự phê bình và phê bình" in text
        for text in texts
    ), texts
    watched.shot("cell-vi")
    criticism = findings.filter(has_text="tự phê bình và phê bình")
    criticism.get_by_role("link", name="Giải thích").click()
    assert page.url.startswith(f"{commune.web}/findings/")
    facts = page.locator("dl.facts").inner_text()
    assert "Hướng dẫn 12-HD/BTCTW" in facts
    assert "Buổi sinh hoạt thường kỳ ngày 10/04/" in facts
    watched.shot("finding-vi")

    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Basis" in page.locator("dl.facts").inner_text()
    page.goto(f"{commune.web}/cells/c-a?year={YEAR - 1}")
    assert page.get_by_role("heading", name=f"Compliance calendar {YEAR - 1}").count() == 1
    watched.shot("cell-en")
    watched.check()


@pytest.mark.parametrize(
    "path", ["/orgs/xa-1", "/cells/c-a", "/findings/1", "/rules", "/cases", "/cases/mine"]
)
def test_the_main_pages_fit_a_phone(commune: Stack, open_page: Opener, path: str) -> None:
    watched = open_page(phone=True)
    watched.page.goto(commune.code_for(Role.admin))
    watched.page.goto(commune.web + path + (f"?year={YEAR - 1}" if "cells" in path else ""))
    assert watched.page.locator("h1").count() == 1
    watched.fits()
    watched.shot("phone" + path.replace("/", "-"))
    watched.check()


def test_a_secretary_sees_her_cell_and_nothing_else(commune: Stack, open_page: Opener) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.secretary, cell="c-b"))
    assert page.url == f"{commune.web}/cells/c-b"
    for elsewhere in ("/cells/c-a", "/orgs/xa-1", "/findings/1"):
        answer = page.goto(commune.web + elsewhere)
        assert answer is not None
        assert answer.status == 404
        assert page.locator("h1").inner_text() == "Không tìm thấy"
    watched.shot("secretary-404")
    watched.check(refused=True)


def test_signing_in_by_form_and_out_keeps_the_token_out_of_urls_and_pages(
    commune: Stack, open_page: Opener
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.web + "/orgs/xa-1")
    assert page.url.startswith(f"{commune.web}/signin?next=")
    token = bearer(Role.inspector, org="xa-1")["Authorization"].removeprefix("Bearer ")
    page.get_by_label("Mã truy cập").fill(token)
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.url == f"{commune.web}/orgs/xa-1"
    assert token not in page.content()
    cookie = next(c for c in page.context.cookies() if c["name"] == "chibo_session")
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Lax")
    page.get_by_role("button", name="Đăng xuất").click()
    assert page.url == f"{commune.web}/signin"
    page.goto(commune.web + "/orgs/xa-1")
    assert page.url.startswith(f"{commune.web}/signin")
    # A used code does not sign in twice.
    link = commune.code_for(Role.viewer, org="xa-1")
    page.goto(link)
    page.context.clear_cookies()
    answer = page.goto(link)
    assert answer is not None
    assert answer.status == 401
    assert "đã được dùng hoặc đã hết hạn" in page.locator(".alert").inner_text()
    watched.check(refused=True)


def test_a_rule_author_reloads_the_pack_and_reads_what_it_did(
    commune: Stack, open_page: Opener
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(commune.code_for(Role.rule_author))
    assert page.url == f"{commune.web}/rules"
    assert page.locator("tbody tr").count() == 12
    page.get_by_role("button", name="Nạp lại bộ quy tắc").click()
    assert page.locator(".alert.ok").inner_text().startswith("Bộ quy tắc không thay đổi.")
    watched.shot("rules")
    watched.check()
