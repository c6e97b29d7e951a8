"""Bounded request parameters both APIs share: every id, cursor and year has a length or a range.

Unbounded text reached PostgreSQL with NUL bytes, and unbounded integers past int64; both are
refused here with 400 naming the parameter, before any query runs.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from services.contracts.calendar import EARLIEST, LATEST
from services.contracts.events import IDENTIFIER_PATTERN as ID_PATTERN

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
# Cursors and page offsets.
IdCursor = Annotated[
    str, QueryParameter(pattern=r"^[A-Za-z0-9_-]{0,64}$", description="Cursor: last id seen")
]
NumberCursor = Annotated[
    int, QueryParameter(ge=0, le=BIGINT_MAX, description="Cursor: last id seen")
]
Offset = Annotated[int, QueryParameter(ge=0, le=10**9, description="rows to skip")]
Year = Annotated[int, QueryParameter(ge=EARLIEST.year, le=LATEST.year)]
