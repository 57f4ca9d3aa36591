"""The translations: English and Japanese say the same things, and every entity has a name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from custom_components.bess_dispatch.bess_dispatch_core.protocol.metrics import (
    METRICS,
    MetricKind,
)

INTEGRATION = Path(__file__).resolve().parents[3] / "custom_components" / "bess_dispatch"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((INTEGRATION / name).read_text(encoding="utf-8"))
    return document


def key_paths(node: Any, prefix: str = "") -> set[str]:
    if not isinstance(node, dict):
        return {prefix}
    return {path for key, value in node.items() for path in key_paths(value, f"{prefix}/{key}")}


def test_english_is_strings_json_and_japanese_has_the_same_keys() -> None:
    strings = load("strings.json")
    assert load("translations/en.json") == strings
    assert key_paths(load("translations/ja.json")) == key_paths(strings)


def test_every_energy_metric_and_its_power_sensor_have_a_name() -> None:
    for language in ("translations/en.json", "translations/ja.json"):
        sensors = load(language)["entity"]["sensor"]
        for metric in METRICS.values():
            if metric.kind is not MetricKind.ENERGY:
                continue
            assert sensors[metric.name]["name"], (language, metric.name)
            power = sensors[f"{metric.name}_power"]["name"]
            assert power, (language, metric.name)
            assert metric.name not in power, (language, metric.name)
