"""Dependencies the rules API handlers receive, taken from the app's state."""

from __future__ import annotations

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from nats.js import JetStreamContext

from services.infra.auth.http import CLAIMS
from services.rules.metrics import Metrics
from services.rules.service.judging import Judge
from services.rules.service.reload import Reloader
from services.rules.settings import RulesSettings


def _pool(state: State) -> asyncpg.Pool:
    pool: asyncpg.Pool = state.pool
    return pool


def _judge(state: State) -> Judge:
    judge: Judge = state.judge
    return judge


def _settings(state: State) -> RulesSettings:
    settings: RulesSettings = state.settings
    return settings


def _metrics(state: State) -> Metrics:
    metrics: Metrics = state.metrics
    return metrics


def _js(state: State) -> JetStreamContext:
    js: JetStreamContext = state.js
    return js


def _reloader(state: State) -> Reloader:
    reloader: Reloader = state.reloader
    return reloader


DEPENDENCIES = {
    "pool": Provide(_pool, sync_to_thread=False),
    "judge": Provide(_judge, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
    "metrics": Provide(_metrics, sync_to_thread=False),
    "reloader": Provide(_reloader, sync_to_thread=False),
    "js": Provide(_js, sync_to_thread=False),
    **CLAIMS,
}

# What handlers declare: each parameter named as its dependency, marked explicitly.
Pool = NamedDependency[asyncpg.Pool]
JudgeDep = NamedDependency[Judge]
SettingsDep = NamedDependency[RulesSettings]
MetricsDep = NamedDependency[Metrics]
ReloaderDep = NamedDependency[Reloader]
JetStream = NamedDependency[JetStreamContext]
