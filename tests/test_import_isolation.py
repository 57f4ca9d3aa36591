"""The pure packages must not pull in Home Assistant: every core room and the optimizer.

Two checks, because each misses what the other sees: the source scan finds an import hidden
in a function body that a module import never runs; importing every module finds one that
arrives through a third-party package.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORE = REPO_ROOT / "custom_components" / "bess_dispatch" / "bess_dispatch_core"
OPTIMIZER = REPO_ROOT / "optimizer"
# The rooms this test must at least see; a new room is found on its own (rglob below).
EXPECTED_CORE_ROOMS = {"protocol", "link", "gateway", "sunspec"}


def homeassistant_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [
            f"{path.relative_to(REPO_ROOT)}:{node.lineno} {name}"
            for name in names
            if name.split(".")[0] == "homeassistant"
        ]
    return found


def test_the_core_has_the_expected_rooms() -> None:
    rooms = {path.parent.name for path in CORE.glob("*/__init__.py")}
    assert rooms >= EXPECTED_CORE_ROOMS


@pytest.mark.parametrize("package", [CORE, OPTIMIZER], ids=["core", "optimizer"])
def test_no_source_file_imports_homeassistant(package: Path) -> None:
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 20, f"too few sources under {package}"
    assert [hit for path in sources for hit in homeassistant_imports(path)] == []


IMPORT_ALL = """
import importlib, pkgutil, sys
for top in sys.argv[1:]:
    package = importlib.import_module(top)
    for info in pkgutil.walk_packages(package.__path__, top + "."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            importlib.import_module(info.name)
print(sorted(m for m in sys.modules if m.split(".")[0] == "homeassistant"))
"""


# The integration folder itself (as the optimizer's wheel maps it) and pure/ (the link
# the test and type-check configuration use).
@pytest.mark.parametrize("python_path", ["custom_components/bess_dispatch", "pure"])
def test_importing_every_core_module_loads_no_homeassistant(python_path: str) -> None:
    assert run_import_all(python_path, "bess_dispatch_core") == "[]"


def test_importing_every_optimizer_module_loads_no_homeassistant() -> None:
    assert run_import_all(os.pathsep.join([".", "pure"]), "optimizer") == "[]"


def run_import_all(python_path: str, *packages: str) -> str:
    env = dict(os.environ, PYTHONPATH=python_path)
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, *packages],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()
