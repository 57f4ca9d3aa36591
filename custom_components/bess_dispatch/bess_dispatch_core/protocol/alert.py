"""Alerts (``dt/{siteId}/{gatewayId}/alert``): raised or cleared, published immediately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .envelope import Envelope, check_aware, check_id
from .timeformat import format_datetime
from .wire import encode


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alert:
    """``code`` names the condition (e.g. ``NO_SCHEDULE``); ``active`` false clears it."""

    envelope: Envelope
    code: str
    severity: Severity
    active: bool
    raised_at: datetime
    message: str

    def __post_init__(self) -> None:
        check_id(self.code, "code")
        object.__setattr__(self, "severity", Severity(self.severity))
        if not isinstance(self.active, bool):
            raise ValueError("active must be a bool")
        check_aware(self.raised_at, "raised_at")
        if not isinstance(self.message, str):
            raise ValueError("message must be a string")

    @classmethod
    def create(
        cls,
        *,
        code: str,
        severity: Severity,
        active: bool,
        raised_at: datetime,
        message: str,
        now: datetime,
    ) -> Alert:
        return cls(Envelope.new(now), code, severity, active, raised_at, message)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.envelope.to_dict(),
            "code": self.code,
            "severity": self.severity.value,
            "active": self.active,
            "raised_at": format_datetime(self.raised_at),
            "message": self.message,
        }

    def to_payload(self) -> bytes:
        return encode(self.to_dict())
