"""Settings from prefixed environment variables into one typed object, built once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from services.infra.auth.claims import AuthSettings
from services.infra.errors import StartupError
from services.infra.messaging import NatsCredentials

_FIELD = re.compile(r"field `(\w+)`|at `\$\.(\w+)`|^`(\w+)`")
T = TypeVar("T", bound=msgspec.Struct)

# Connection URLs are shared by both services and by other tools, so they keep their usual names.
_UNPREFIXED = ("database_url", "nats_url")
# Nested settings both services must agree on (the token key) keep one prefix of their own;
# other nested settings take the service's prefix and their field name, e.g. CHIBO_RULES_NATS_.
_SHARED_PREFIXES = {"auth": "CHIBO_AUTH_"}


def from_env(kind: type[T], prefix: str, environ: Mapping[str, str] | None = None) -> T:
    """Build `kind` from `<PREFIX><FIELD>` variables (and DATABASE_URL / NATS_URL as they are).

    A field typed as a Struct is built the same way from its own variables (see above).
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    nested_prefixes: list[str] = []
    for field in msgspec.structs.fields(kind):
        nested = _struct_type(field.type)
        if nested is not None:
            sub_prefix = _SHARED_PREFIXES.get(field.name, f"{prefix}{field.name.upper()}_")
            nested_prefixes.append(sub_prefix)
            values[field.name] = from_env(nested, sub_prefix, env)
            continue
        names[field.name] = _variable(field.name, prefix)
        if names[field.name] in env:
            values[field.name] = env[names[field.name]]
    # A misspelt or retired setting would otherwise be ignored without a word. (With no
    # prefix, every variable of the environment would be suspect: nothing is checked.)
    known = set(names.values())
    for variable in sorted(env) if prefix else ():
        ours = variable.startswith(prefix) and variable not in known
        if ours and not any(variable.startswith(p) for p in nested_prefixes):
            raise StartupError(
                f"unknown setting {variable}; the {prefix}* settings are: "
                + ", ".join(sorted(n for n in known if n.startswith(prefix)))
            )
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        found = _FIELD.search(text)
        variable = names.get(found[1] or found[2] or found[3], "?") if found else "?"
        raise StartupError(f"setting {variable}: {text.split(' - at ')[0]}") from None


def _struct_type(annotation: Any) -> type[msgspec.Struct] | None:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


def _variable(field: str, prefix: str) -> str:
    return field.upper() if field in _UNPREFIXED else prefix + field.upper()


class ServiceSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """What every Chibo service needs to start; each service's settings add their own."""

    database_url: str
    nats_url: str
    # Token key, issuer, audience and lifetime: `CHIBO_AUTH_*`, the same for every service.
    auth: AuthSettings
    # This service's NATS identity: <PREFIX>NATS_USER and _PASSWORD, _TOKEN or _NKEY_SEED_FILE.
    nats: NatsCredentials = NatsCredentials()
    host: str = "127.0.0.1"
    port: int
    log_level: str = "info"
    # The largest request body the service reads (413 beyond it).
    max_body_bytes: int
    # The largest request head (request line and headers), and the most headers (431 beyond).
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100
