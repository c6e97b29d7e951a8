"""The workflow service's settings, read from `CHIBO_WORKFLOW_*` (and DATABASE_URL, NATS_URL)."""

from __future__ import annotations

from services.infra.settings import ServiceSettings

PREFIX = "CHIBO_WORKFLOW_"


class WorkflowSettings(ServiceSettings, kw_only=True, frozen=True):
    """Everything the workflow service needs to start; see the README for each variable."""

    port: int = 8002
    max_body_bytes: int = 1024 * 1024
    # Workflow definitions (`*.yaml`) and the findings policy (`policy.yaml`).
    definitions_dir: str = "rules/workflows"
    # PostgreSQL connections per process: one per concurrent request in flight at most.
    pool_size: int = 20
    # How often passed deadlines are looked for, and unsent outbox rows when nothing wakes it.
    deadline_poll_seconds: float = 60.0
    outbox_poll_seconds: float = 0.5
    # Unacknowledged findings and registrations are redelivered after this long.
    consumer_ack_wait_seconds: float = 30.0
    findings_consumer_name: str = "workflow-findings"
    cells_consumer_name: str = "workflow-cells"
    orgs_consumer_name: str = "workflow-orgs"
    # How long JetStream keeps workflow events, and their replicas (3 on a cluster).
    stream_max_age_days: float = 365.0
    stream_replicas: int = 1
