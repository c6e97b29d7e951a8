"""The rules and workflow APIs, called over HTTP with the signed-in person's own token, so a
page shows exactly what the API lets that person see.

Answers are JSON decoded to plain values for the templates; a problem answer becomes an
`ApiError` with its status and problem details, an unreachable API an `ApiUnavailableError`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

import httpx
import msgspec

from services.web.errors import ApiError, ApiUnavailableError

Service = Literal["rules", "workflow"]
Params = Mapping[str, str | int | None]
_decode = msgspec.json.Decoder().decode
MAX_PAGES = 1_000
"""The most pages one list is read in: a bound on every paging loop."""


class Apis:
    """One connection pool per API, shared by every request of the pages service."""

    def __init__(self, rules_url: str, workflow_url: str, timeout: float) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits)
            for name, url in (("rules", rules_url), ("workflow", workflow_url))
        }
        self.calls = 0
        self.seconds = 0.0

    async def close(self) -> None:
        """Close both pools."""
        for client in self._clients.values():
            await client.aclose()

    def as_person(self, token: str) -> Caller:
        """Calls made on behalf of the person whose token this is."""
        return Caller(self, token)

    async def request(
        self,
        service: Service,
        method: str,
        path: str,
        token: str | None,
        *,
        params: Params | None = None,
        body: Any = None,
    ) -> httpx.Response:
        """One call; a problem answer (4xx, 5xx) raised as `ApiError`."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        content = None if body is None else msgspec.json.encode(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            answer = await self._clients[service].request(
                method, path, params=query, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            raise ApiUnavailableError(f"the {service} service cannot be reached: {exc}") from None
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - started
        if answer.status_code >= 400:
            try:
                problem = _decode(answer.content)
            except msgspec.DecodeError:
                problem = {"detail": answer.text[:200]}
            raise ApiError(answer.status_code, problem if isinstance(problem, dict) else {})
        return answer


class Caller:
    """The APIs as one person sees them."""

    def __init__(self, apis: Apis, token: str) -> None:
        self._apis, self._token = apis, token

    async def get(self, service: Service, path: str, params: Params | None = None) -> Any:
        """The decoded JSON of a GET."""
        answer = await self._apis.request(service, "GET", path, self._token, params=params)
        return _decode(answer.content)

    async def get_all(
        self,
        service: Service,
        path: str,
        params: Params,
        *,
        limit: int,
        max_pages: int = MAX_PAGES,
    ) -> tuple[list[Any], int | None]:
        """Every item of a paged list, at most `max_pages` pages of `limit`, and the list's
        `total` where the API tells it. Both cursors the APIs use are followed: an offset
        (`next_offset`, the workflow's) and the last id seen (`next_after`, the rules')."""
        items: list[Any] = []
        cursor: dict[str, str | int | None] = {}
        total: int | None = None
        for _ in range(max_pages):
            page = await self.get(service, path, {**params, "limit": limit, **cursor})
            items.extend(page["items"])
            total = page.get("total")
            if page.get("next_offset") is not None:
                cursor = {"offset": page["next_offset"]}
            elif page.get("next_after") is not None:
                cursor = {"after": page["next_after"]}
            else:
                break
        return items, total

    async def get_bytes(self, service: Service, path: str, params: Params | None = None) -> bytes:
        """The raw body of a GET (a CSV report, say)."""
        return (await self._apis.request(service, "GET", path, self._token, params=params)).content

    async def post(self, service: Service, path: str, body: Any = None) -> Any:
        """The decoded JSON of a POST."""
        answer = await self._apis.request(service, "POST", path, self._token, body=body)
        return _decode(answer.content) if answer.content else None
