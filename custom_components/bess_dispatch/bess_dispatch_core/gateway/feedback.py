"""Counts the optimizer's TelemetryFeedback (``res/{siteId}/{gatewayId}/telemetry``).

``ok`` and ``error`` feedback are counted apart, the last error is kept (code, message,
``in_reply_to``, when) for an entity and the diagnostics, and payloads that are not valid
TelemetryFeedback are counted separately (never raised). A feedback message delivered twice
(QoS 1 redelivery, same ``message_id``) is counted once; the last ``id_memory`` ids are
remembered for that.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..protocol.responses import FeedbackStatus, TelemetryFeedback
from ..protocol.validation import parse_telemetry_feedback


@dataclass(frozen=True, slots=True)
class FeedbackError:
    """The latest ``error`` feedback: which telemetry message it concerns and why."""

    in_reply_to: str
    code: str | None
    message: str | None
    received_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "in_reply_to": self.in_reply_to,
            "code": self.code,
            "message": self.message,
            "received_at": self.received_at.isoformat(),
        }


class FeedbackCounter:
    """Feed it every payload received on the feedback topic."""

    def __init__(self, *, id_memory: int = 1000) -> None:
        if id_memory < 1:
            raise ValueError(f"id_memory must be >= 1, got {id_memory}")
        self.ok = 0
        self.errors = 0
        self.unparseable = 0
        self.duplicates = 0
        self.errors_by_code: dict[str, int] = {}
        self.last_error: FeedbackError | None = None
        self.last_unparseable: str | None = None
        """The first problem of the latest payload that could not be read."""
        self._seen: deque[str] = deque(maxlen=id_memory)
        self._seen_set: set[str] = set()

    def consume(self, payload: bytes | str, now: datetime) -> TelemetryFeedback | None:
        """Count one payload; returns the feedback, or None when it was not valid."""
        result = parse_telemetry_feedback(payload)
        if result.value is None:
            self.unparseable += 1
            self.last_unparseable = str(result.errors[0]) if result.errors else None
            return None
        feedback = result.value
        if self._remember(feedback.envelope.message_id):
            self.duplicates += 1
            return feedback
        if feedback.status is FeedbackStatus.OK:
            self.ok += 1
            return feedback
        self.errors += 1
        code = None if feedback.code is None else feedback.code.value
        key = code or "UNSPECIFIED"
        self.errors_by_code[key] = self.errors_by_code.get(key, 0) + 1
        self.last_error = FeedbackError(feedback.in_reply_to, code, feedback.message, now)
        return feedback

    def _remember(self, message_id: str) -> bool:
        """True when ``message_id`` was seen before; remembers it otherwise."""
        if message_id in self._seen_set:
            return True
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(message_id)
        self._seen_set.add(message_id)
        return False

    def to_dict(self) -> dict[str, Any]:
        """Counts and the last error, for diagnostics and entity attributes."""
        return {
            "ok": self.ok,
            "errors": self.errors,
            "unparseable": self.unparseable,
            "duplicates": self.duplicates,
            "errors_by_code": dict(self.errors_by_code),
            "last_error": None if self.last_error is None else self.last_error.to_dict(),
            "last_unparseable": self.last_unparseable,
        }
