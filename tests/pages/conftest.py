"""The pages in a real Chromium (Debian's, driven by Playwright), against the three services
as real processes on the session's PostgreSQL and NATS.

Every page a test opens is watched: a request to any host but loopback fails the test (and is
never sent), and so does an error on the browser's console. Screenshots go to
`.chibo/screenshots/`, which git ignores, to be looked at.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, Request, sync_playwright

from services.contracts.roles import Role
from services.dev.servers import Servers
from tests.conftest import ROOT, clean_servers
from tests.e2e.conftest import ServiceProcess, wait_ready
from tests.tokens import bearer

SCREENSHOTS = ROOT / ".chibo" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PHONE = {"width": 390, "height": 844}
INSTALL = "apt-get install -y chromium"
T = TypeVar("T")


def chromium() -> str:
    """Debian's Chromium on the PATH; `./dev test` installs it, else it says how."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(f"the page tests need Debian's Chromium: run `{INSTALL}` (as root)")
    return found


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # As root (CI, a container) Chromium's own sandbox cannot start; the pages are ours.
    launched = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
    yield launched
    launched.close()


def in_thread(work: Callable[[], T]) -> T:
    """`work` done in a thread of its own: Playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


@dataclass
class Stack:
    """The three services' base URLs."""

    web: str
    rules: str
    workflow: str
    processes: list[ServiceProcess] = field(default_factory=list)

    def post_events(self, events: list[dict[str, Any]]) -> None:
        """Post events as a source system does (in batches the service takes)."""
        for start in range(0, len(events), 50):
            body = json.dumps(events[start : start + 50]).encode()
            headers = bearer(Role.source) | {"Content-Type": "application/json"}
            request = urllib.request.Request(
                self.rules + "/events", data=body, headers=headers, method="POST"
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 202

    def code_for(self, role: Role, **scope: str) -> str:
        """A one-time sign-in link for a token of `role`, as `chibo up` prints them."""
        request = urllib.request.Request(
            self.web + "/signin/codes", headers=bearer(role, **scope), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return f"{self.web}/signin/{json.loads(answer.read())['code']}"


@pytest.fixture(scope="module")
def stack(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rules, workflow and pages services, started on clean schemas and streams."""
    in_thread(lambda: asyncio.run(clean_servers(servers)))
    logs = tmp_path_factory.mktemp("logs")
    rules = ServiceProcess("rules", servers, logs / "rules.log")
    workflow = ServiceProcess("workflow", servers, logs / "workflow.log")
    web = ServiceProcess(
        "web", servers, logs / "web.log", rules_url=rules.url, workflow_url=workflow.url
    )
    processes = [rules, workflow, web]
    for process in processes:
        process.start()
    try:
        for process in processes:
            ready = in_thread(lambda url=process.url: wait_ready(url))  # type: ignore[misc]
            assert ready == 200, process.log.read_text()
        yield Stack(web.url, rules.url, workflow.url, processes)
    finally:
        for process in processes:
            if process.process and process.process.poll() is None:
                process.stop()


@dataclass
class Watched:
    """A page and what it asked of the network and said on its console."""

    page: Page
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self, *, refused: bool = False) -> None:
        """No request left loopback; nothing went wrong on the console (but, when the test
        asked for a page that is refused, the browser's note of that status)."""
        assert self.outside == [], f"requests to other hosts: {self.outside}"
        errors = [e for e in self.errors if not (refused and "status of 4" in e)]
        assert errors == [], f"console errors: {errors}"

    def fits(self) -> None:
        """No horizontal scrolling at the page's width."""
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{self.page.url} scrolls sideways by {overflow} px"

    def shot(self, name: str) -> Path:
        """A full-page screenshot under `.chibo/screenshots/`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Any]:
    """`open_page(phone=False)`: a fresh browser context (no cookies) and a watched page."""
    contexts = []

    def opened(phone: bool = False) -> Watched:
        context = browser.new_context(viewport=PHONE if phone else {"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)  # a missing element fails in seconds, not half a minute
        watched = Watched(page)

        def guard(route: Any, request: Request) -> None:
            host = urlsplit(request.url).hostname or ""
            if request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
                route.continue_()
                return
            watched.outside.append(request.url)
            route.abort()

        page.route("**/*", guard)
        page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: watched.errors.append(str(exc)))
        return watched

    yield opened
    for context in contexts:
        context.close()
