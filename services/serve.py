"""Run one service under uvicorn: `chibo serve rules|workflow|web`."""

from __future__ import annotations

import gc
from typing import Literal

import httptools
import uvicorn
from litestar import Litestar
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from services.infra import logs
from services.infra.settings import ServiceSettings, from_env
from services.rules import app as rules_app
from services.rules import settings as rules_settings
from services.web import app as web_app
from services.web import settings as web_settings
from services.web.settings import WebSettings
from services.workflow import app as workflow_app
from services.workflow import settings as workflow_settings

ServiceName = Literal["rules", "workflow", "web"]
# Objects alive beyond which the youngest generation is collected (Python's default: 700).
YOUNG_GENERATION_THRESHOLD = 20_000


def build(name: ServiceName) -> tuple[Litestar, ServiceSettings | WebSettings]:
    """Read the service's settings from the environment and build its app."""
    if name == "web":
        webs = from_env(WebSettings, web_settings.PREFIX)
        return web_app.create_app(webs), webs
    if name == "rules":
        rs = from_env(rules_settings.RulesSettings, rules_settings.PREFIX)
        return rules_app.create_app(rs), rs
    ws = from_env(workflow_settings.WorkflowSettings, workflow_settings.PREFIX)
    return workflow_app.create_app(ws), ws


def serve(name: ServiceName) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully (lifespan drains and closes)."""
    app, settings = build(name)
    app.on_startup.extend([_freeze_heap, _tune_collector])
    logs.configure(name, settings.log_level)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        http=bounded_heads(settings.max_header_bytes, settings.max_headers),
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
        access_log=False,
    )


def bounded_heads(max_bytes: int, max_count: int) -> type[HttpToolsProtocol]:
    """uvicorn's HTTP protocol (httptools), refusing a request head larger than `max_bytes` or
    of more than `max_count` headers with 431, as it arrives.

    The parser keeps a header it has not finished reading in memory: a 32 MB header was read
    whole (16 at once took the service from 72 MB to 762 MB) before anything could look at it.
    Here the head's bytes are counted as they come, and the head is refused once past the limit,
    at most one read beyond it.
    """

    class BoundedHeads(HttpToolsProtocol):
        _heading, _head_bytes, _refusal = True, 0, ""

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._heading, self._head_bytes = True, 0

        def on_header(self, name: bytes, value: bytes) -> None:
            if len(self.headers) >= max_count:
                self._refuse(f"more than {max_count} headers")
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._heading = False
            size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
            if size > max_bytes:
                self._refuse(f"a request head of more than {max_bytes} bytes")
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            heading = self._heading
            super().data_received(data)
            if heading and self._heading and not self._refusal:  # all of it was head
                self._head_bytes += len(data)
                if self._head_bytes > max_bytes:
                    self._refusal = f"a request head of more than {max_bytes} bytes"
                    self.send_400_response(self._refusal)

        def _refuse(self, why: str) -> None:
            # Raised inside a parser callback, it ends the parse; uvicorn then answers through
            # `send_400_response`, which answers 431 for a refused head.
            self._refusal = why
            raise httptools.HttpParserError(why)

        def send_400_response(self, msg: str) -> None:
            if not self._refusal:
                super().send_400_response(msg)
                return
            body = f"Request header fields too large: {self._refusal}.".encode()
            self.transport.write(
                STATUS_LINE[431]
                + b"content-type: text/plain; charset=utf-8\r\n"
                + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
                + body
            )
            self.transport.close()

    return BoundedHeads


def _freeze_heap() -> None:
    """Keep what startup built (modules, the app, rule packs, definitions) out of the cyclic
    garbage collector's way.

    Untouched, each full collection walks all of it again: measured under load, 30 to 50 ms
    with the event loop held, several times a minute, which is the whole p99 of a request.
    Frozen objects are never collected, and none of these ever become garbage.
    """
    gc.collect()
    gc.freeze()


def _tune_collector() -> None:
    """Collect the youngest generation once 20,000 more objects are alive, not 700.

    The count is of container objects allocated and not yet freed: a batch of events keeps tens
    of thousands alive while it is judged, so at 700 the collector ran dozens of times a batch,
    walking the batch's objects and promoting them to be walked again. Measured in the live
    ingest bench (50k meetings), the rules service's time in the collector fell from 0.35-0.53 s
    to 0.21 s of its 5-6 s of CPU; the workflow service gets the same setting.
    """
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
