"""The `chibo` command: run the services and work with rules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from services.infra.errors import StartupError


def parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    root = argparse.ArgumentParser(prog="chibo", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run both services (embedded servers unless URLs set)")
    up.add_argument("--data-dir", type=Path, default=Path(".chibo"), help="default: .chibo")
    serve = commands.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=["rules", "workflow"])
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `chibo` console script."""
    args = parser().parse_args(argv)
    try:
        if args.command == "up":
            from services.launcher import up

            return up(args.data_dir.resolve())
        if args.command == "serve":
            from services.serve import serve

            serve(args.service)
            return 0
    except StartupError as exc:
        print(f"chibo: {exc.detail}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
