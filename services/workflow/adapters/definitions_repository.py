"""Definition texts in PostgreSQL, kept by version so a running case keeps the one it started with.

The caller owns the transaction.
"""

from __future__ import annotations

from services.infra.database import Connection


async def save_definition(
    conn: Connection, name: str, version: str, source: str, file: str
) -> None:
    """Keep a definition text under its version (once; versions are content hashes)."""
    await conn.execute(
        "insert into workflow.definitions (name, version, source, file) values ($1, $2, $3, $4)"
        " on conflict do nothing",
        name,
        version,
        source,
        file,
    )


async def definition_text(conn: Connection, name: str, version: str) -> tuple[str, str] | None:
    """The text and file name of a stored definition version, or None."""
    row = await conn.fetchrow(
        "select source, file from workflow.definitions where name = $1 and version = $2",
        name,
        version,
    )
    return (row["source"], row["file"]) if row else None
