"""A lean HTTP/1.1 keep-alive load generator: the client must cost far less than the server.

httpx spends more CPU per request than the services do, which on a small machine would measure
the client. This speaks just enough HTTP/1.1 (Content-Length bodies, keep-alive) for Chibo's JSON.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

import msgspec


class Connection:
    """One keep-alive connection to host:port."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        self.reader, self.writer = reader, writer
        self.host, self.port = host, port

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host, port)

    async def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send one request and read its status and body; a GET on a connection the server
        closed while it sat idle (past its keep-alive) is sent again on a new one."""
        try:
            return await self._request(method, path, body, headers)
        except (asyncio.IncompleteReadError, ConnectionError):
            if method != "GET":
                raise
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return await self._request(method, path, body, headers)

    async def _request(
        self, method: str, path: str, body: object, headers: dict[str, str] | None
    ) -> tuple[int, bytes]:
        payload = b"" if body is None else msgspec.json.encode(body)
        lines = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        """Close the connection."""
        self.writer.close()


class Figures(msgspec.Struct, frozen=True):
    """Throughput and latency of one load run."""

    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


async def run(
    host: str,
    port: int,
    concurrency: int,
    per_worker: int,
    make_request: Callable[[int, int], tuple[str, str, object, dict[str, str]]],
    max_seconds: float = 600.0,
) -> Figures:
    """`concurrency` workers send `per_worker` requests each, built by `make_request(worker, i)`."""
    connections = [await Connection.open(host, port) for _ in range(concurrency)]

    async def send(worker: int, i: int) -> bool:
        method, path, body, headers = make_request(worker, i)
        status, _ = await connections[worker].request(method, path, body, headers)
        return status < 300

    try:
        return await timed(concurrency, per_worker, send, max_seconds)
    finally:
        for connection in connections:
            connection.close()


async def timed(
    concurrency: int,
    per_worker: int,
    work: Callable[[int, int], Awaitable[bool]],
    max_seconds: float = 600.0,
) -> Figures:
    """`concurrency` workers each await `work(worker, i)` (true when it succeeded) `per_worker`
    times, none starting after `max_seconds`; the latency of each, from start to end."""
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + max_seconds

    async def worker(n: int) -> None:
        nonlocal errors
        for i in range(per_worker):
            if time.perf_counter() > deadline:
                return
            begun = time.perf_counter()
            ok = await work(n, i)
            latencies.append(time.perf_counter() - begun)
            errors += not ok

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    count = len(latencies)
    return Figures(
        requests=count,
        seconds=round(seconds, 2),
        per_second=round(count / seconds),
        p50_ms=round(latencies[count // 2] * 1000, 2),
        p95_ms=round(_rank(latencies, 0.95) * 1000, 2),
        p99_ms=round(_rank(latencies, 0.99) * 1000, 2),
        errors=errors,
    )


def _rank(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]
