"""Request heads are bounded before they are read whole: size and count answer 431, a huge token
401 at once; nothing grows the service's memory with what a client sends in headers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from services.dev.servers import Servers
from tests.e2e.conftest import ServiceProcess, wait_ready


@pytest.fixture(scope="module", params=["rules", "workflow"])
def service(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """Each service as a process (uvicorn, as deployed), ready; one per service for the module,
    since no test here writes anything."""
    log = tmp_path_factory.mktemp(request.param) / "service.log"
    process = ServiceProcess(request.param, servers, log)
    process.start()
    wait_ready(process.url)
    yield process
    process.stop()


def _exchange(port: int, head: bytes, body_bytes: int = 0, seconds: float = 10.0) -> bytes:
    """Send `head` (and then keep sending header bytes up to `body_bytes`) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as conn:
        conn.sendall(head)
        sent = 0
        try:
            while sent < body_bytes:
                conn.sendall(b"x" * 65536)
                sent += 65536
        except OSError:
            pass  # the server answered and closed while we were still sending: what we want
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def test_a_header_of_32_megabytes_answers_431_without_being_read_whole(
    service: ServiceProcess,
) -> None:
    started = time.monotonic()
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Junk: "
    answer = _exchange(service.port, head, body_bytes=32 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert time.monotonic() - started < 5


def test_too_many_headers_answer_431(service: ServiceProcess) -> None:
    lines = b"".join(b"X-H%d: v\r\n" % n for n in range(200))
    answer = _exchange(service.port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_usual_head_is_served(service: ServiceProcess) -> None:
    lines = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(50))
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + lines + b"\r\n"
    assert _exchange(service.port, head).startswith(b"HTTP/1.1 200 ")


def test_a_long_bogus_token_is_refused_at_once(service: ServiceProcess) -> None:
    token = b"a" * 20_000  # within the head limit, far beyond any token Chibo mints
    head = b"GET /outbox/parked HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
    started = time.monotonic()
    answer = _exchange(service.port, head + token + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert time.monotonic() - started < 1
