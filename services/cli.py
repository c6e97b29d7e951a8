"""The `chibo` command line: one parser, each area adding its own sub-commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from services.infra.auth import commands as token_commands
from services.infra.errors import FileProblemsError, StartupError
from services.rules.cli import commands as rules_commands
from services.rules.cli import importer
from services.workflow.cli import commands as workflow_commands


def build_parser() -> argparse.ArgumentParser:
    """The `chibo` argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="chibo", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = subparsers.add_parser("up", help="run every service (embedded servers unless URLs set)")
    up.add_argument("--data-dir", type=Path, default=Path(".chibo"), help="default: .chibo")
    up.set_defaults(handler=_up)
    cluster = subparsers.add_parser(
        "cluster",
        help="run deploy/'s layout on this machine: a 3-node JetStream cluster, 2 replicas each",
    )
    cluster.add_argument("--data-dir", type=Path, default=Path(".chibo"), help="default: .chibo")
    cluster.set_defaults(handler=_cluster)
    serve = subparsers.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=["rules", "workflow", "web"])
    serve.set_defaults(handler=_serve)
    asyncapi = subparsers.add_parser("asyncapi", help="print the AsyncAPI description (YAML)")
    asyncapi.set_defaults(handler=_asyncapi)
    token_commands.add_parser(subparsers)
    rules_commands.add_parser(subparsers)
    importer.add_parser(subparsers)
    workflow_commands.add_parser(subparsers)
    return parser


def _up(args: argparse.Namespace) -> int:
    from services.dev.launcher import up

    return up(args.data_dir.resolve())


def _cluster(args: argparse.Namespace) -> int:
    from services.dev.launcher import up

    return up(args.data_dir.resolve(), cluster=True)


def _serve(args: argparse.Namespace) -> int:
    from services.serve import serve

    serve(args.service)
    return 0


def _asyncapi(args: argparse.Namespace) -> int:
    import yaml

    from services.contracts.asyncapi import document

    print(yaml.safe_dump(document(), allow_unicode=True, sort_keys=False), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `chibo` command and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()
    except StartupError as exc:
        print(f"chibo: {exc.detail}", file=sys.stderr)
        return 2
    except FileProblemsError as exc:  # rule or workflow files that do not load: every fault
        print(exc, file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
