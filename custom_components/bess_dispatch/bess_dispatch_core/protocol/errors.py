"""The protocol's error codes and the error value reported in CommandResponse.errors[]."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """The nine standard error codes (asyncapi.yaml, docs/protocol.md)."""

    MESSAGE_MALFORMED = "MESSAGE_MALFORMED"
    MISSING_FIELD = "MISSING_FIELD"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    FIELD_OUT_OF_RANGE = "FIELD_OUT_OF_RANGE"
    TIME_WINDOW_INVALID = "TIME_WINDOW_INVALID"
    DUPLICATE = "DUPLICATE"
    EXPIRED = "EXPIRED"
    RESOURCE_UNAVAILABLE = "RESOURCE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """One problem with a message: what, where (a field path like ``schedule[3].power_kw``;
    ``""`` for the whole message) and a human-readable explanation."""

    code: ErrorCode
    path: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.code.value} at {self.path or '$'}: {self.message}"


class ProtocolValidationError(ValueError):
    """Raised where a caller asks for a value that failed validation; carries the errors."""

    def __init__(self, errors: Iterable[ProtocolError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(error) for error in self.errors) or "invalid message")
