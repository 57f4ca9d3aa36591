"""addon/constraints.txt: every package of the add-on's environment, at the tested version.

The add-on installs the project's wheel under these pins (addon/install.sh). Each pin must be
the version the test environment runs, so what the tests exercised is what the image ships;
every runtime dependency of pyproject.toml is pinned; the plotting library is an extra only.
scripts/addon_wheels.sh proves the same set resolves as binary wheels for amd64 and aarch64.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints() -> dict[str, str]:
    pins = {}
    for raw in (ROOT / "addon" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line)
            assert match is not None, f"not an exact pin: {line!r}"
            pins[normalise(match[1])] = match[2]
    return pins


def runtime_dependencies() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {}
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None
        names[normalise(name[0])] = requirement
    return names


def test_every_pin_is_the_version_the_tests_run() -> None:
    differing = {}
    for name, pinned in constraints().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            differing[name] = (pinned, installed)
    assert differing == {}, "addon/constraints.txt vs the test environment"


def test_every_runtime_dependency_is_pinned_and_plots_are_an_extra() -> None:
    pins = constraints()
    dependencies = runtime_dependencies()

    assert set(dependencies) - set(pins) == set()
    assert "aiohttp" in dependencies
    assert "matplotlib" not in dependencies
    assert "matplotlib" not in pins
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert any(item.startswith("matplotlib") for item in extras["plots"])
