"""The workflow service's settings, read from `CHIBO_WORKFLOW_*` (and DATABASE_URL, NATS_URL)."""

from __future__ import annotations

import msgspec

PREFIX = "CHIBO_WORKFLOW_"


class WorkflowSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Everything the workflow service needs to start; see the README for each variable."""

    database_url: str
    nats_url: str
    host: str = "127.0.0.1"
    port: int = 8002
    log_level: str = "info"
    max_body_bytes: int = 1024 * 1024
