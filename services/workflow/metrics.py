"""Prometheus metrics of the workflow service, beside every service's consumer lag."""

from __future__ import annotations

from services.infra.metrics import ServiceMetrics


class Metrics(ServiceMetrics):
    """What operators watch: cases opened and moved, deadlines passed, messages parked, lag."""

    def __init__(self) -> None:
        super().__init__()
        self.cases_opened = self.counter(
            "chibo_cases_opened", "Cases opened, by a person or by the findings policy", "by"
        )
        self.transitions = self.counter("chibo_case_transitions", "Triggers fired", "trigger")
        self.deadlines_passed = self.counter(
            "chibo_case_deadlines_passed", "Deadlines passed and announced", "deadline"
        )
        self.dead_lettered = self.counter(
            "chibo_workflow_dead_lettered", "Findings and registrations parked as never takeable"
        )
