"""Files on disk, read for the engine, which only ever sees their text or their events: a rules
folder, and a file of events to judge a history from.

A rules folder holds every `<rule_id>.yaml`, an optional `pack.yaml` (the score frame) and the
authors' test cases under `tests/`. An events file holds one CloudEvent per line.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

from services.contracts.codec import InvalidEventError, decode_event
from services.infra import yamlfile
from services.infra.errors import FileProblemsError, Problem
from services.rules.domain.facts import InMemoryFacts
from services.rules.domain.pack import RulePack, SourceFile, compile_pack
from services.rules.domain.scenarios import ScenarioResult, run_scenarios, scenario_problems
from services.rules.errors import RuleFileError

PACK_FILE = "pack.yaml"
TESTS_FOLDER = "tests"


def read_rules(directory: Path) -> RulePack:
    """Load and compile every rule in `directory`, or raise RuleFileError listing all faults."""
    problems: list[Problem] = []
    rules = []
    for path in rule_files(directory):
        try:
            rules.append(read(path, directory))
        except RuleFileError as exc:
            problems.extend(exc.problems)
    pack_path = directory / PACK_FILE
    try:
        frame = read(pack_path, directory) if pack_path.exists() else None
        pack = compile_pack(directory, rules, frame)
    except RuleFileError as exc:
        problems.extend(exc.problems)
    if problems:
        raise RuleFileError(sorted(problems))
    return pack


def rule_files(directory: Path) -> list[Path]:
    """The rule files of a folder: its `*.yaml` files except `pack.yaml` (not sub-folders)."""
    if not directory.is_dir():
        raise RuleFileError([Problem(str(directory), 1, 1, "not a folder of rules")])
    return sorted(p for p in directory.glob("*.yaml") if p.name != PACK_FILE)


def scenario_files(directory: Path) -> list[Path]:
    """The case files of a rules folder (`tests/*.yaml`)."""
    return sorted((directory / TESTS_FOLDER).glob("*.yaml"))


def run_scenario_file(path: Path, pack: RulePack) -> list[ScenarioResult]:
    """Run every case of the file at `path` against the whole pack."""
    return run_scenarios(read(path, path.parent), pack)


def failing_cases(directory: Path, pack: RulePack) -> list[ScenarioResult]:
    """Every case of the folder's test files that `pack` fails (raises RuleFileError when a
    case file itself is faulty)."""
    problems = problems_of(directory, pack)
    if problems:
        raise RuleFileError(problems)
    results = [r for path in scenario_files(directory) for r in run_scenario_file(path, pack)]
    return [result for result in results if not result.passed]


def untested(directory: Path, pack: RulePack) -> list[Problem]:
    """A warning for each rule of the pack that no case file tests."""
    tested = {path.stem for path in scenario_files(directory)}
    return [
        Problem(
            str(directory / f"{rule.id}.yaml"),
            1,
            1,
            f"warning: rule `{rule.id}` has no test cases; add {TESTS_FOLDER}/{rule.id}.yaml",
        )
        for rule in pack.rules
        if rule.id not in tested
    ]


def problems_of(directory: Path, pack: RulePack) -> list[Problem]:
    """Every fault in the case files of `directory`, without running the cases."""
    problems: list[Problem] = []
    sources = []
    for path in scenario_files(directory):
        try:
            sources.append(read(path, directory / TESTS_FOLDER))
        except RuleFileError as exc:
            problems.extend(exc.problems)
    return sorted(problems + scenario_problems(sources, pack))


def read(path: Path, folder: Path) -> SourceFile:
    """The file at `path` (in `folder`) as UTF-8 text named by its path."""
    # The bytes decoded as they are, line endings included, so that a rule's version (a hash
    # of its text) is the hash of the file itself.
    try:
        return SourceFile(str(path), yamlfile.read_text(path, folder))
    except FileProblemsError as exc:
        raise RuleFileError(exc.problems) from None


Rejected = Callable[[str], None]


def read_events(path: Path, rejected: Rejected, progress: Callable[[int], None]) -> InMemoryFacts:
    """Facts from every valid event in `path`; each invalid line is reported, never fatal.

    Blank lines are skipped. `progress` is called with the bytes read so far now and then.
    """
    facts = InMemoryFacts()
    apply, done = facts.apply, 0
    # Millions of long-lived records only grow the heap: cyclic GC passes would rescan them all
    # for nothing, so collection is paused while loading. (Decoding a batch of lines in one
    # call was measured too: slower than line by line, so it is not done.)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                done += len(line)
                if not number & 0xFFFF:
                    progress(done)
                if line.isspace():
                    continue
                try:
                    apply(decode_event(line))
                except InvalidEventError as exc:
                    rejected(f"{path}:{number}: {exc}")
    finally:
        if was_enabled:
            gc.enable()
    progress(done)
    return facts
