"""What requests carry, bounded and strict, in both APIs: every id, cursor and year has a length
or a range, and a body's types are its own.

Unbounded text reached PostgreSQL with NUL bytes, and unbounded integers past int64; both are
refused here with 400 naming the parameter, before any query runs. Litestar converts a body the
way it converts query strings, where everything arrives as text, so `"1"` passed for `1`:
`strict` decodes the body again with its own types.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.params import PathParameter, QueryParameter

from services.contracts.calendar import EARLIEST, LATEST
from services.contracts.events import IDENTIFIER_PATTERN as ID_PATTERN
from services.infra.errors import BadRequestError

# Largest value a PostgreSQL bigint (ids, offsets) holds.
BIGINT_MAX = 2**63 - 1

# Path segments naming an org, a cell, a case (UUID) or a workflow.
PathId = Annotated[str, PathParameter(pattern=ID_PATTERN)]
PathNumber = Annotated[int, PathParameter(ge=1, le=BIGINT_MAX)]

# Optional filters by id.
QueryId = Annotated[str | None, QueryParameter(pattern=ID_PATTERN)]
QueryOrg = Annotated[
    str | None, QueryParameter(pattern=ID_PATTERN, description="Cells under this org, any depth")
]
# A few ids at once, separated by commas.
MAX_LISTED_IDS = 200
_ID = ID_PATTERN.removeprefix("^").removesuffix("$")
QueryIds = Annotated[
    str | None,
    QueryParameter(
        pattern=rf"^{_ID}(?:,{_ID}){{0,{MAX_LISTED_IDS - 1}}}$",
        description=f"Ids separated by commas, at most {MAX_LISTED_IDS}",
    ),
]


def id_list(text: str | None) -> frozenset[str] | None:
    """The ids a `QueryIds` parameter names, or None when it was not given."""
    return None if text is None else frozenset(text.split(","))


# Cursors and page offsets.
IdCursor = Annotated[
    str, QueryParameter(pattern=r"^[A-Za-z0-9_-]{0,64}$", description="Cursor: last id seen")
]
NumberCursor = Annotated[
    int, QueryParameter(ge=0, le=BIGINT_MAX, description="Cursor: last id seen")
]
Offset = Annotated[int, QueryParameter(ge=0, le=10**9, description="rows to skip")]
Year = Annotated[int, QueryParameter(ge=EARLIEST.year, le=LATEST.year)]
QueryYear = Annotated[int | None, QueryParameter(ge=EARLIEST.year, le=LATEST.year)]


T = TypeVar("T")
_AT = re.compile(r" - at `\$\.?([^`]*)`$")


async def strict(request: Request[Any, Any, Any], data: T) -> T:
    """`data`, the body Litestar decoded, as the body decodes with its types held strictly: a
    number sent as text is refused, 400 naming its field."""
    try:
        return msgspec.json.decode(await request.body(), type=type(data))
    except msgspec.ValidationError as exc:
        found = _AT.search(str(exc))
        field = found[1] if found else ""
        raise BadRequestError(f"the body is invalid: {exc}", field=field) from None
