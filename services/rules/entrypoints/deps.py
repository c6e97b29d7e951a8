"""What the rules API's handlers receive: what the lifespan built, and who is calling."""

from __future__ import annotations

import asyncpg
from litestar.di import NamedDependency
from nats.aio.client import Client

from services.infra.auth.http import CLAIMS
from services.infra.lifespan import provide
from services.rules.service.judging import Judge
from services.rules.service.reload import Reloader
from services.rules.settings import RulesSettings

DEPENDENCIES = {**provide("pool", "judge", "settings", "reloader", "nats"), **CLAIMS}

# What handlers declare: each parameter named as its dependency.
Pool = NamedDependency[asyncpg.Pool]
JudgeDep = NamedDependency[Judge]
SettingsDep = NamedDependency[RulesSettings]
ReloaderDep = NamedDependency[Reloader]
Nats = NamedDependency[Client]
