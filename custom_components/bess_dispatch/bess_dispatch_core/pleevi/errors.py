"""One error type for every Pleevi value out of range: it names the field."""

from __future__ import annotations

import math

# A refused value is quoted with at most this many characters (a peer controls it).
_MAX_ECHO = 60


class PleeviValueError(ValueError):
    """A Pleevi value out of its range; the message starts with the field's path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def echo(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 3] + "..."


def number(field: str, value: object) -> float:
    """A finite int or float (bool and strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PleeviValueError(field, f"must be a number, got {echo(value)}")
    if not math.isfinite(value):
        raise PleeviValueError(field, f"must be a finite number, got {echo(value)}")
    return float(value)


def positive(field: str, value: object) -> float:
    if (result := number(field, value)) <= 0:
        raise PleeviValueError(field, f"must be > 0, got {echo(value)}")
    return result


def efficiency(field: str, value: object) -> float:
    if not 0 < (result := number(field, value)) <= 1:
        raise PleeviValueError(field, f"must be in (0, 1], got {echo(value)}")
    return result


def percent(field: str, value: object) -> float:
    if not 0 <= (result := number(field, value)) <= 100:
        raise PleeviValueError(field, f"must be in [0, 100], got {echo(value)}")
    return result


def priority(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise PleeviValueError(field, f"must be an integer in [1, 10], got {echo(value)}")
    return value


def text(field: str, value: object, *, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PleeviValueError(field, f"must be a non-empty string, got {echo(value)}")
    if len(value) > max_length:
        raise PleeviValueError(field, f"must be at most {max_length} characters")
    return value
