"""The lock files say exactly what pyproject.toml asks for, and .venv holds exactly the lock.

pyproject.toml keeps version ranges for people who install Chibo as a library; `./dev` installs
from `requirements-dev.lock` and the image from `requirements.lock`, both written by `./dev lock`.
A dependency added to one side only, or a lock left behind, fails here with what to run.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RELOCK = "pyproject.toml and the lock files disagree: run `./dev lock`"


def locked(name: str) -> dict[str, Requirement]:
    """The lock file's pins by canonical name (hashes and `# via` comments dropped)."""
    text = (ROOT / name).read_text(encoding="utf-8").replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        entry = line.split("--hash", 1)[0].strip()
        if entry and not entry.startswith("#"):
            requirement = Requirement(entry)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def pinned_version(requirement: Requirement) -> Version:
    (spec,) = requirement.specifier
    assert spec.operator == "==", f"{requirement} is not an exact pin"
    return Version(spec.version)


def wanted(*, dev: bool) -> list[Requirement]:
    """What pyproject.toml asks for: the runtime and the build backend, and the dev tools."""
    texts = PROJECT["project"]["dependencies"] + PROJECT["build-system"]["requires"]
    if dev:
        texts += PROJECT["project"]["optional-dependencies"]["dev"]
    return [Requirement(text) for text in texts]


def unmet(requirements: Iterable[Requirement], lock: str) -> list[str]:
    pins, faults = locked(lock), []
    for requirement in requirements:
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            faults.append(f"{requirement} is not in {lock}")
        elif not requirement.specifier.contains(pinned_version(pin), prereleases=True):
            faults.append(f"{requirement} is at {pinned_version(pin)} in {lock}")
    return faults


def test_every_dependency_in_pyproject_is_locked_within_its_range() -> None:
    faults = unmet(wanted(dev=False), "requirements.lock")
    faults += unmet(wanted(dev=True), "requirements-dev.lock")
    assert not faults, f"{RELOCK}: " + "; ".join(faults)


def test_the_image_runs_the_versions_the_tests_ran() -> None:
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    differ = [
        f"{name} {pinned_version(pin)} vs {pinned_version(dev[name]) if name in dev else 'none'}"
        for name, pin in runtime.items()
        if name not in dev or pinned_version(dev[name]) != pinned_version(pin)
    ]
    assert not differ, f"{RELOCK}: " + "; ".join(differ)


def test_every_locked_package_is_needed_by_pyproject() -> None:
    # The closure of pyproject's requirements over what is installed, for this interpreter and
    # platform: a pin outside it was added to the lock by hand or left there by a removal.
    pins = locked("requirements-dev.lock")
    here = {name: pin for name, pin in pins.items() if pin.marker is None or pin.marker.evaluate()}
    needed: set[str] = set()
    todo = [(requirement, "") for requirement in wanted(dev=True)]
    while todo:
        requirement, extra = todo.pop()
        environment = {**default_environment(), "extra": extra}
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        todo += [(Requirement(r), x) for x in requirement.extras or {""} for r in _requires(name)]
        needed.add(name)
    assert not set(here) - needed, f"{RELOCK}: not needed: {sorted(set(here) - needed)}"


def test_venv_holds_exactly_the_locked_versions() -> None:
    pins = locked("requirements-dev.lock")
    drift = [
        f"{name} {_installed(name)} installed, {pinned_version(pin)} locked"
        for name, pin in pins.items()
        if (pin.marker is None or pin.marker.evaluate())
        and _installed(name) != str(pinned_version(pin))
    ]
    assert not drift, "the environment is not the lock's: run `./dev test`, which syncs it: " + (
        "; ".join(drift)
    )


def _requires(name: str) -> list[str]:
    try:
        return metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []


def _installed(name: str) -> str:
    try:
        return str(Version(metadata.version(name)))
    except metadata.PackageNotFoundError:
        return "none"
