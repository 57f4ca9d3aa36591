"""manifest.json, hacs.json and the translations agree with each other and the pins."""

import json
from pathlib import Path
from typing import Any

from homeassistant.const import __version__ as ha_version

REPO = Path(__file__).resolve().parents[3]
COMPONENT = REPO / "custom_components" / "bess_dispatch"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def pinned_requirements() -> dict[str, str]:
    pins = {}
    for raw in (REPO / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.split("[")[0].lower()] = version
    return pins


def keys(tree: Any, prefix: str = "") -> set[str]:
    if not isinstance(tree, dict):
        return {prefix}
    return set().union(*(keys(value, f"{prefix}.{key}") for key, value in tree.items()))


def test_manifest_has_what_hacs_and_hassfest_require() -> None:
    manifest = load_json(COMPONENT / "manifest.json")
    for key in (
        "domain",
        "name",
        "version",
        "iot_class",
        "integration_type",
        "requirements",
        "codeowners",
        "documentation",
        "issue_tracker",
        "config_flow",
    ):
        assert key in manifest, key
    assert manifest["domain"] == "bess_dispatch"
    assert manifest["config_flow"] is True


def test_manifest_requirements_are_the_pins_the_tests_run() -> None:
    pins = pinned_requirements()
    for requirement in load_json(COMPONENT / "manifest.json")["requirements"]:
        name, version = requirement.split("==")
        assert pins[name.lower()] == version, requirement


def test_hacs_minimum_is_the_home_assistant_the_tests_run() -> None:
    assert load_json(REPO / "hacs.json")["homeassistant"] == ha_version


def test_translations_cover_exactly_the_strings() -> None:
    strings = load_json(COMPONENT / "strings.json")
    assert load_json(COMPONENT / "translations" / "en.json") == strings
    assert keys(load_json(COMPONENT / "translations" / "ja.json")) == keys(strings)
