"""`chibo token`: mint a bearer token from the configured key (`CHIBO_AUTH_KEY`)."""

from __future__ import annotations

import argparse
import sys

from services.contracts.roles import Role
from services.infra.auth.claims import AuthSettings
from services.infra.auth.tokens import TokenRequestError, mint, parse_ttl
from services.infra.settings import from_env

PREFIX = "CHIBO_AUTH_"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `token` to a `chibo` argument parser."""
    token = subparsers.add_parser(
        "token",
        help="mint a bearer token from CHIBO_AUTH_KEY",
        description="Print a signed token for one role. Inspectors and viewers need --org "
        "(they reach every cell below it), secretaries --cell; other roles need neither.",
    )
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    scope = token.add_mutually_exclusive_group()
    scope.add_argument("--org", help="the org an inspector or viewer reaches (any depth)")
    scope.add_argument("--cell", help="the cell a secretary reaches")
    token.add_argument("--ttl", default=None, help="lifetime, e.g. 30m, 8h, 7d (default 8h)")
    token.add_argument("--sub", default=None, help="who holds it (default: the role's name)")
    token.set_defaults(handler=mint_token)


def mint_token(args: argparse.Namespace) -> int:
    """Print one token on stdout; faults on stderr with exit status 2."""
    settings = from_env(AuthSettings, PREFIX)
    try:
        ttl = parse_ttl(args.ttl) if args.ttl else None
        print(
            mint(
                settings,
                Role(args.role),
                sub=args.sub or args.role,
                org=args.org,
                cell=args.cell,
                ttl=ttl,
            )
        )
    except TokenRequestError as exc:
        print(f"chibo token: {exc}", file=sys.stderr)
        return 2
    return 0
