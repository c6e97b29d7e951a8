"""NATS subjects and stream names, the only place they are spelled."""

EVENTS_STREAM = "CHIBO_EVENTS"
EVENTS_SUBJECTS = "chibo.events.>"
EVENTS_PREFIX = "chibo.events."
DLQ_STREAM = "CHIBO_DLQ"
DLQ_SUBJECTS = "chibo.dlq.>"
DLQ_EVENTS = "chibo.dlq.events"
DLQ_WORKFLOW = "chibo.dlq.workflow"


def event_subject(event_type: str) -> str:
    """The subject an event of `event_type` is published to, e.g. `chibo.events.meeting.held`."""
    return EVENTS_PREFIX + event_type


FINDINGS_STREAM = "CHIBO_FINDINGS"
FINDINGS_SUBJECTS = "chibo.findings.>"
_FINDING_CHANGES = {"open": "opened", "resolved": "resolved"}


def findings_subject(status: str) -> str:
    """Where a finding that became `status` is announced: `chibo.findings.opened|resolved`."""
    return "chibo.findings." + _FINDING_CHANGES[status]


WORKFLOW_STREAM = "CHIBO_WORKFLOW"
WORKFLOW_SUBJECTS = "chibo.workflow.>"
CASE_PREFIX = "chibo.workflow.case."
CELL_REGISTERED = EVENTS_PREFIX + "cell.registered"
ORG_REGISTERED = EVENTS_PREFIX + "org.registered"


def case_subject(trigger: str) -> str:
    """The subject a case transition is published to, e.g. `chibo.workflow.case.conclude`."""
    return CASE_PREFIX + trigger
