"""The `chibo` command line: one parser, each area adding its own sub-commands."""

from __future__ import annotations

import argparse
import sys

from services.rules import commands as rules_commands


def build_parser() -> argparse.ArgumentParser:
    """The `chibo` argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="chibo", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rules_commands.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `chibo` command and return its exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
