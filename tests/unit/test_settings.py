"""Settings come from prefixed environment variables, as the README's tables name them."""

from __future__ import annotations

import pytest

from services.infra.errors import StartupError
from services.infra.settings import from_env
from services.rules.settings import PREFIX as RULES
from services.rules.settings import RulesSettings
from services.workflow.settings import PREFIX as WORKFLOW
from services.workflow.settings import WorkflowSettings

BASE = {
    "DATABASE_URL": "postgresql://db/chibo",
    "NATS_URL": "nats://127.0.0.1:4222",
    "CHIBO_AUTH_KEY": "unit-test-key-0123456789abcdef0123456789",
}


def test_the_rules_pool_and_outbox_poll_are_settings() -> None:
    default = from_env(RulesSettings, RULES, BASE)
    tuned = from_env(
        RulesSettings,
        RULES,
        BASE | {"CHIBO_RULES_POOL_SIZE": "4", "CHIBO_RULES_OUTBOX_POLL_SECONDS": "0.25"},
    )
    assert (default.pool_size, default.outbox_poll_seconds) == (16, 1.0)
    assert (tuned.pool_size, tuned.outbox_poll_seconds) == (4, 0.25)


def test_the_workflow_consumers_ack_wait_is_a_setting() -> None:
    default = from_env(WorkflowSettings, WORKFLOW, BASE)
    tuned = from_env(
        WorkflowSettings, WORKFLOW, BASE | {"CHIBO_WORKFLOW_CONSUMER_ACK_WAIT_SECONDS": "5"}
    )
    assert (default.consumer_ack_wait_seconds, tuned.consumer_ack_wait_seconds) == (30.0, 5.0)


def test_an_unknown_setting_is_refused_by_name() -> None:
    retired = BASE | {"CHIBO_RULES_CONSUMER_LANES": "2"}
    with pytest.raises(StartupError, match="unknown setting CHIBO_RULES_CONSUMER_LANES") as err:
        from_env(RulesSettings, RULES, retired)
    assert "CHIBO_RULES_CONSUMER_IN_FLIGHT" in str(err.value)  # what it may have meant
    with pytest.raises(StartupError, match="unknown setting CHIBO_RULES_NATS_USR"):
        from_env(RulesSettings, RULES, BASE | {"CHIBO_RULES_NATS_USR": "rules"})


def test_nested_and_shared_settings_are_known() -> None:
    env = BASE | {"CHIBO_RULES_NATS_USER": "rules", "CHIBO_RULES_NATS_PASSWORD": "secret",
                  "CHIBO_AUTH_ISSUER": "chibo", "CHIBO_WORKFLOW_PORT": "8002"}  # fmt: skip
    settings = from_env(RulesSettings, RULES, env)
    assert settings.nats.user == "rules"
