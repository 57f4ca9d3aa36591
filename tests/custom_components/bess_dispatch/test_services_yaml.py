"""services.yaml, strings.json and icons.json describe the same actions (hassfest's rules).

hassfest refuses an action without a translated name and description, a field without
them, a selector whose translation_key has no options in strings.json, and an action
without an icon; the UI would otherwise show raw keys.
"""

import json
import re
from pathlib import Path
from typing import Any

import yaml

from custom_components.bess_dispatch.services import (
    SERVICE_CLEAR_OVERRIDE,
    SERVICE_LOAD_SCHEDULE,
    SERVICE_PLEEVI_DEVICE_ENTRY,
    SERVICE_PUBLISH_NOW,
    SERVICE_SET_CONTROL_MODE,
)

COMPONENT = Path(__file__).resolve().parents[3] / "custom_components" / "bess_dispatch"
REGISTERED = {
    SERVICE_SET_CONTROL_MODE,
    SERVICE_CLEAR_OVERRIDE,
    SERVICE_LOAD_SCHEDULE,
    SERVICE_PUBLISH_NOW,
    SERVICE_PLEEVI_DEVICE_ENTRY,
}
MDI = re.compile(r"^mdi:[a-z0-9]+(-[a-z0-9]+)*$")


def load(name: str) -> Any:
    text = (COMPONENT / name).read_text(encoding="utf-8")
    return yaml.safe_load(text) if name.endswith(".yaml") else json.loads(text)


def test_every_registered_action_is_described_translated_and_has_an_icon() -> None:
    services = load("services.yaml")
    assert set(services) == REGISTERED
    assert set(load("strings.json")["services"]) == REGISTERED
    assert set(load("icons.json")["services"]) == REGISTERED


def test_every_action_and_field_has_a_name_and_description() -> None:
    translated = load("strings.json")["services"]
    for service, spec in load("services.yaml").items():
        strings = translated[service]
        assert strings["name"].strip(), service
        assert strings["description"].strip(), service
        fields = (spec or {}).get("fields") or {}
        assert set(strings.get("fields", {})) == set(fields), service
        for field in fields:
            assert strings["fields"][field]["name"].strip(), f"{service}.{field}"
            assert strings["fields"][field]["description"].strip(), f"{service}.{field}"


def test_selector_translation_keys_have_their_options() -> None:
    selectors = load("strings.json")["selector"]
    for service, spec in load("services.yaml").items():
        for field_name, field in ((spec or {}).get("fields") or {}).items():
            selector = field.get("selector") or {}
            select = selector.get("select")
            if not isinstance(select, dict) or "translation_key" not in select:
                continue
            options = selectors[select["translation_key"]]["options"]
            assert set(select["options"]) <= set(options), f"{service}.{field_name}"


def test_icons_are_material_design_icon_names() -> None:
    def walk(tree: Any, path: str) -> None:
        if isinstance(tree, dict):
            for key, value in tree.items():
                walk(value, f"{path}.{key}")
        else:
            assert MDI.match(tree), f"{path}: {tree}"

    walk(load("icons.json"), "icons")
