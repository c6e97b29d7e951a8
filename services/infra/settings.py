"""Settings from prefixed environment variables into one typed object, built once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TypeVar

import msgspec

from services.infra.errors import StartupError

_FIELD = re.compile(r"field `(\w+)`|at `\$\.(\w+)`")
T = TypeVar("T", bound=msgspec.Struct)

# Connection URLs are shared by both services and by other tools, so they keep their usual names.
_UNPREFIXED = ("database_url", "nats_url")


def from_env(kind: type[T], prefix: str, environ: Mapping[str, str] | None = None) -> T:
    """Build `kind` from `<PREFIX><FIELD>` variables (and DATABASE_URL / NATS_URL as they are)."""
    env = os.environ if environ is None else environ
    names = {f.name: _variable(f.name, prefix) for f in msgspec.structs.fields(kind)}
    values = {field: env[name] for field, name in names.items() if name in env}
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        found = _FIELD.search(text)
        variable = names.get(found[1] or found[2], "?") if found else "?"
        raise StartupError(f"setting {variable}: {text.split(' - at ')[0]}") from None


def _variable(field: str, prefix: str) -> str:
    return field.upper() if field in _UNPREFIXED else prefix + field.upper()
