"""`chibo workflow ...`: lint definitions and the findings policy, print a definition's diagram."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from services.workflow.adapters.files import POLICY_FILE, read_definition, read_policies
from services.workflow.domain.machine import Workflow
from services.workflow.errors import DefinitionError
from services.workflow.service.registry import Registry

DEFAULT_DIR = Path("rules/workflows")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `workflow` and its sub-commands to a `chibo` argument parser."""
    workflow = subparsers.add_parser("workflow", help="lint and draw workflow definitions")
    sub = workflow.add_subparsers(dest="workflow_command", required=True, metavar="COMMAND")
    lint = sub.add_parser(
        "lint", help="validate definitions and the policy; faults as file:line:col"
    )
    lint.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=DEFAULT_DIR,
        metavar="FILE",
        help=f"a definition file, or a folder with {POLICY_FILE} (default {DEFAULT_DIR})",
    )
    lint.set_defaults(handler=lint_workflows)
    diagram = sub.add_parser("diagram", help="print a definition as a Mermaid state diagram")
    diagram.add_argument("file", type=Path, metavar="FILE")
    diagram.set_defaults(handler=print_diagram)


def lint_workflows(args: argparse.Namespace) -> int:
    """Print every fault as file:line:col and return 1, or say what was checked and return 0."""
    path: Path = args.path
    try:
        if path.is_dir():
            registry = Registry()
            loaded = registry.load_directory(path)
            policies = read_policies(path, registry.definitions())
            names = ", ".join(f"{w.definition.name}@{w.version}" for w in loaded)
            print(f"ok: {names or 'no definitions'}; {len(policies)} policies")
        elif path.exists():
            workflow = Workflow(read_definition(path))
            print(f"ok: {workflow.definition.name}@{workflow.version}")
        else:
            print(f"{path}:1:1: no such file or folder", file=sys.stderr)
            return 1
    except DefinitionError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    return 0


def print_diagram(args: argparse.Namespace) -> int:
    """Print the Mermaid diagram of one definition file."""
    try:
        print(Workflow(read_definition(args.file)).mermaid(), end="")
    except DefinitionError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    return 0
