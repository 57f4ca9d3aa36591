"""quality_scale.yaml grades every rule of the Integration Quality Scale, and says why not.

The rule list is the scale's (bronze to platinum, as hassfest knows it); a rule marked
exempt or todo carries a comment saying why; marks that files can show are checked.
"""

from pathlib import Path
from typing import Any

import yaml

COMPONENT = Path(__file__).resolve().parents[3] / "custom_components" / "bess_dispatch"
RULES = {
    # Bronze
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "docs-actions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    # Silver
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    # Gold
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    # Platinum
    "async-dependency",
    "inject-websession",
    "strict-typing",
}


def rules() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (COMPONENT / "quality_scale.yaml").read_text(encoding="utf-8")
    )["rules"]
    return loaded


def status(value: Any) -> str:
    return str(value["status"] if isinstance(value, dict) else value)


def test_every_rule_is_graded_once() -> None:
    assert set(rules()) == RULES


def test_every_exemption_and_todo_says_why() -> None:
    for rule, value in rules().items():
        assert status(value) in {"done", "todo", "exempt"}, rule
        if status(value) != "done":
            assert isinstance(value, dict), f"{rule}: {status(value)} without a comment"
            assert str(value.get("comment", "")).strip(), f"{rule}: no comment"


def test_marks_the_files_can_show() -> None:
    graded = {rule: status(value) for rule, value in rules().items()}
    if graded["brands"] == "done":
        assert (COMPONENT / "brand" / "icon.png").is_file()
    if graded["diagnostics"] == "done":
        assert (COMPONENT / "diagnostics.py").is_file()
    if graded["parallel-updates"] == "done":
        for platform in ("binary_sensor", "calendar", "event", "number", "select", "sensor"):
            source = (COMPONENT / f"{platform}.py").read_text(encoding="utf-8")
            assert "PARALLEL_UPDATES = " in source, platform
    if graded["icon-translations"] == "done":
        assert (COMPONENT / "icons.json").is_file()
    if graded["strict-typing"] == "done":
        assert (COMPONENT / "bess_dispatch_core" / "py.typed").is_file()
