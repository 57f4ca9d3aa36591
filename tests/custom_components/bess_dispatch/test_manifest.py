"""manifest.json follows hassfest's rules for a custom integration, and agrees with the pins.

hassfest itself lives in Home Assistant's source tree, not in the wheel the tests run, so
the rules it applies to a custom integration's manifest are restated here (key order,
schema, versions, requirements, dependencies and the imports they must cover).
"""

import ast
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import homeassistant
from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant.const import Platform

REPO = Path(__file__).resolve().parents[3]
COMPONENT = REPO / "custom_components" / "bess_dispatch"
CORE_COMPONENTS = Path(homeassistant.__file__).parent / "components"

# The keys hassfest's custom-integration schema knows; any other key is an error.
KNOWN_KEYS = {
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "domain",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "name",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
# Integrations any integration may import without listing them (hassfest's allowance).
ALWAYS_ALLOWED_IMPORTS = {platform.value for platform in Platform} | {"homeassistant"}
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[a-z0-9,_-]+\])?==[A-Za-z0-9.+!-]+$")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = load_json(COMPONENT / "manifest.json")
    return loaded


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


def imported_integrations(path: Path) -> set[str]:
    """Every ``homeassistant.components.X`` a module imports (outside TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "homeassistant.components":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("homeassistant.components."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.split(".")[2]
                for alias in node.names
                if alias.name.startswith("homeassistant.components.")
            )
    return found


def test_keys_are_in_hassfest_order_domain_name_then_alphabetical() -> None:
    listed = list(manifest())
    assert listed[:2] == ["domain", "name"]
    assert listed[2:] == sorted(listed[2:]), listed


def test_only_keys_hassfest_knows() -> None:
    assert set(manifest()) <= KNOWN_KEYS, set(manifest()) - KNOWN_KEYS


def test_identity_matches_the_folder_and_collides_with_no_core_integration() -> None:
    data = manifest()
    assert data["domain"] == COMPONENT.name
    assert isinstance(data["name"], str)
    assert data["name"].strip()
    assert not (CORE_COMPONENTS / data["domain"]).exists()


def test_version_is_one_home_assistant_accepts() -> None:
    # A custom integration without a valid version is not loaded at all.
    version = AwesomeVersion(
        manifest()["version"],
        ensure_strategy=[
            AwesomeVersionStrategy.CALVER,
            AwesomeVersionStrategy.SEMVER,
            AwesomeVersionStrategy.SIMPLEVER,
            AwesomeVersionStrategy.BUILDVER,
            AwesomeVersionStrategy.PEP440,
        ],
    )
    assert version.strategy is not AwesomeVersionStrategy.UNKNOWN


def test_links_and_owners() -> None:
    data = manifest()
    for key in ("documentation", "issue_tracker"):
        url = urlparse(data[key])
        assert url.scheme == "https", key
        assert url.netloc, key
    assert data["codeowners"], "a code owner is required"
    for owner in data["codeowners"]:
        assert re.fullmatch(r"@[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?", owner), owner


def test_classes() -> None:
    data = manifest()
    assert data["iot_class"] in IOT_CLASSES
    assert data["integration_type"] in INTEGRATION_TYPES
    assert all(isinstance(name, str) for name in data["loggers"])


def test_config_flow_is_declared_and_present() -> None:
    assert manifest()["config_flow"] is True
    assert (COMPONENT / "config_flow.py").is_file()
    # hassfest's config_schema rule: a config-flow integration with async_setup declares
    # it takes no YAML.
    source = (COMPONENT / "__init__.py").read_text(encoding="utf-8")
    assert "CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)" in source


def test_requirements_are_pinned_and_are_the_pins_the_tests_run() -> None:
    pins = pinned_requirements()
    for requirement in manifest()["requirements"]:
        assert PINNED.match(requirement), f"{requirement} is not pinned as name==version"
        name, version = requirement.split("==")
        assert pins[name.split("[")[0].lower()] == version, requirement


def test_dependencies_exist_and_do_not_overlap() -> None:
    data = manifest()
    dependencies = set(data.get("dependencies", []))
    after = set(data.get("after_dependencies", []))
    assert not dependencies & after
    for domain in dependencies | after:
        assert (CORE_COMPONENTS / domain / "manifest.json").is_file(), domain


def test_every_imported_integration_is_a_dependency() -> None:
    """hassfest: importing another integration needs it in (after_)dependencies."""
    data = manifest()
    allowed = (
        ALWAYS_ALLOWED_IMPORTS
        | set(data.get("dependencies", []))
        | set(data.get("after_dependencies", []))
        # A platform this integration implements (diagnostics.py) may import its base.
        | {path.stem for path in COMPONENT.glob("*.py")}
    )
    for module in COMPONENT.rglob("*.py"):
        unlisted = imported_integrations(module) - allowed - {data["domain"]}
        assert not unlisted, f"{module.relative_to(REPO)} imports {sorted(unlisted)}"


def test_translations_cover_exactly_the_strings() -> None:
    strings = load_json(COMPONENT / "strings.json")
    assert load_json(COMPONENT / "translations" / "en.json") == strings
    assert keys(load_json(COMPONENT / "translations" / "ja.json")) == keys(strings)
