"""One reader for every settings file: typed values out of nested JSON, problems collected.

The add-on's options and the service's configuration both read through it, so a bad value
is reported the same way everywhere: the field's path and what is wrong with it, e.g.
``sites[1].max_soe_percent: 120 is above the maximum 100``. Problems are collected rather
than raised so the owner sees all of them at once.

(The MQTT protocol's validator reads in the same spirit but answers with wire error codes
for the peer, so it keeps its own reader.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class FieldReader:
    """Reads typed values out of nested JSON, collecting problems instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            self.fail(path, "is required")
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object, got {json_kind(value)}")
            return {}
        return value

    def text(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
        default: str | None = None,
    ) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            if default is None:
                self.fail(path, "is required")
            return default
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {json_kind(value)}")
            return default
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(path, f"{value!r} is not valid{': ' + hint if hint else ''}")
            return default
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {json_kind(value)}")
            return None
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
        default: float | None = None,
    ) -> float:
        value = data.get(key)
        if value is None:
            if default is not None:
                return default
            self.fail(path, "is required")
            return math.nan
        # bool is an int in Python; true/false is never a valid number here.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"must be a number, got {json_kind(value)}")
            return math.nan
        number = float(value)
        if not math.isfinite(number):
            self.fail(path, f"must be a finite number, got {value!r}")
            return math.nan
        if minimum is not None:
            if exclusive_minimum and number <= minimum:
                self.fail(path, f"{value} must be greater than {minimum:g}")
            elif not exclusive_minimum and number < minimum:
                self.fail(path, f"{value} is below the minimum {minimum:g}")
        if maximum is not None and number > maximum:
            self.fail(path, f"{value} is above the maximum {maximum:g}")
        return number

    def integer(self, data: Mapping[str, Any], key: str, path: str) -> int | None:
        value = data.get(key)
        # bool is an int in Python; true/false is never a valid integer here.
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be an integer, got {json_kind(value)}")
            return None
        return value

    def required_flag(self, data: Mapping[str, Any], key: str, path: str) -> bool | None:
        if data.get(key) is None:
            self.fail(path, "is required")
            return None
        return self.flag(data, key, path, default=False)

    def flag(self, data: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {json_kind(value)}")
            return default
        return value

    def choice[E: StrEnum](
        self, data: Mapping[str, Any], key: str, path: str, enum: type[E], default: E | None
    ) -> E | None:
        value = data.get(key)
        if value is None or value == "":
            if default is None:
                self.fail(path, f"is required (one of {_choices(enum)})")
            return default
        try:
            return enum(value)
        except ValueError:
            self.fail(path, f"{value!r} is not one of {_choices(enum)}")
            return default


def json_kind(value: object) -> str:
    """The JSON-ish name of a value's type, for error messages."""
    return "null" if value is None else type(value).__name__


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)
