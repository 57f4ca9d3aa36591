"""The JSON Schemas of what the gateway sends Pleevi, loaded from the package's files."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def measurement_schema() -> dict[str, Any]:
    return _load("measurement.schema.json")


@cache
def device_entry_schema() -> dict[str, Any]:
    return _load("device_entry.schema.json")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files(__package__).joinpath(name).read_text())
    return data
