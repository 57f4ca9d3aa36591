"""The optimizer's rooms import one another in one direction only (issue #18).

settings <- addon; settings <- service <- simulation; service.status <- web; serve.py wires
service and web. Read from the source with ``ast`` (nothing is imported), so a lazy import
inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

OPTIMIZER = Path(__file__).resolve().parents[2] / "optimizer"

# room -> the optimizer rooms its modules must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "settings": ("optimizer.service", "optimizer.addon", "optimizer.web", "optimizer.simulation"),
    "service": ("optimizer.addon", "optimizer.web", "optimizer.simulation", "optimizer.serve"),
    "addon": ("optimizer.service", "optimizer.web", "optimizer.simulation"),
    "web": ("optimizer.addon", "optimizer.simulation", "optimizer.settings.options"),
    "simulation": ("optimizer.addon", "optimizer.web"),
    # A pure translation of Pleevi's format into the model's terms: settings use it.
    "pleevi": (
        "optimizer.settings",
        "optimizer.service",
        "optimizer.addon",
        "optimizer.web",
        "optimizer.simulation",
    ),
    # FCR (#19): model-side and backtest code; the service uses it, never the reverse.
    "fcr": (
        "optimizer.service",
        "optimizer.addon",
        "optimizer.web",
        "optimizer.simulation",
        "optimizer.serve",
    ),
}
# The one door between web/ and service/: the status the service publishes.
WEB_MAY_IMPORT_FROM_SERVICE = {"optimizer.service.status"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(OPTIMIZER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved to absolute names."""
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names.add(base)
            # "from optimizer.service import status" imports optimizer.service.status
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _room_files(room: str) -> list[Path]:
    return sorted((OPTIMIZER / room).rglob("*.py"))


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_does_not_import_what_depends_on_it(room: str) -> None:
    files = _room_files(room)
    assert files, f"optimizer/{room}/ has no modules"
    wrong: list[str] = []
    for path in files:
        for name in imported_modules(path):
            for forbidden in FORBIDDEN[room]:
                if name == forbidden or name.startswith(forbidden + "."):
                    wrong.append(f"{path.relative_to(OPTIMIZER.parent)} imports {name}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_web_reaches_the_service_only_through_its_status() -> None:
    wrong = sorted(
        f"{path.relative_to(OPTIMIZER.parent)} imports {name}"
        for path in _room_files("web")
        for name in imported_modules(path)
        if name.startswith("optimizer.service")
        and name not in WEB_MAY_IMPORT_FROM_SERVICE
        and not any(name.startswith(allowed + ".") for allowed in WEB_MAY_IMPORT_FROM_SERVICE)
        and name != "optimizer.service"
    )
    assert not wrong, "\n".join(wrong)


def test_no_optimizer_module_imports_home_assistant() -> None:
    wrong = sorted(
        f"{path.relative_to(OPTIMIZER.parent)} imports {name}"
        for path in OPTIMIZER.rglob("*.py")
        for name in imported_modules(path)
        if name == "homeassistant" or name.startswith("homeassistant.")
    )
    assert not wrong, "\n".join(wrong)


def test_the_reader_sees_relative_and_lazy_imports() -> None:
    """The check itself: a relative import and one inside a function are both found."""
    module = OPTIMIZER / "service" / "planner.py"
    names = imported_modules(module)
    assert "optimizer.service.prices" in names  # "from .prices import PriceSource"
    assert "optimizer.trusted_plan" in names  # an absolute import
    lazy = OPTIMIZER / "simulation" / "sample_profiles.py"
    assert "optimizer.data" in imported_modules(lazy)  # imported inside a function
