"""Replies: CommandResponse (gateway -> optimizer) and TelemetryFeedback (optimizer -> gateway)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .envelope import Envelope, check_id
from .errors import ErrorCode, ProtocolError
from .limits import MAX_ERROR_TEXT, MAX_REPORTED_ERRORS
from .wire import encode


class ResponseStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class FeedbackStatus(StrEnum):
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CommandResponse:
    """The answer to every command received (``res/{siteId}/command``).

    ``in_reply_to``/``command_id`` are None when the command was too broken to read them.
    A rejection carries at least one error; a later ``RESOURCE_UNAVAILABLE`` report for an
    accepted command is sent as ``accepted`` with that error. The errors are bounded so the
    answer always fits in one broker packet (``limits``): the first ``MAX_REPORTED_ERRORS``,
    each cut to ``MAX_ERROR_TEXT``, then one error counting those left out.
    """

    envelope: Envelope
    in_reply_to: str | None
    command_id: str | None
    status: ResponseStatus
    errors: tuple[ProtocolError, ...] = ()

    def __post_init__(self) -> None:
        for name in ("in_reply_to", "command_id"):
            value = getattr(self, name)
            if value is not None:
                check_id(value, name)
        object.__setattr__(self, "status", ResponseStatus(self.status))
        object.__setattr__(self, "errors", _bounded(tuple(self.errors)))
        if self.status is ResponseStatus.REJECTED and not self.errors:
            raise ValueError("a rejected CommandResponse needs at least one error")

    @classmethod
    def accepted(
        cls,
        *,
        in_reply_to: str | None,
        command_id: str | None,
        now: datetime,
        errors: Sequence[ProtocolError] = (),
    ) -> CommandResponse:
        return cls(
            Envelope.new(now), in_reply_to, command_id, ResponseStatus.ACCEPTED, tuple(errors)
        )

    @classmethod
    def rejected(
        cls,
        *,
        in_reply_to: str | None,
        command_id: str | None,
        errors: Sequence[ProtocolError],
        now: datetime,
    ) -> CommandResponse:
        return cls(
            Envelope.new(now), in_reply_to, command_id, ResponseStatus.REJECTED, tuple(errors)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.envelope.to_dict(),
            "in_reply_to": self.in_reply_to,
            "command_id": self.command_id,
            "status": self.status.value,
            "errors": [error.to_dict() for error in self.errors],
        }

    def to_payload(self) -> bytes:
        return encode(self.to_dict())


def _bounded(errors: tuple[ProtocolError, ...]) -> tuple[ProtocolError, ...]:
    if len(errors) <= MAX_REPORTED_ERRORS + 1:  # +1: a bounded list read back stays as it is
        return tuple(_clipped(error) for error in errors)
    shown = tuple(_clipped(error) for error in errors[:MAX_REPORTED_ERRORS])
    left_out = len(errors) - len(shown)
    summary = ProtocolError(
        errors[MAX_REPORTED_ERRORS].code,
        "",
        f"{left_out} more errors not listed ({len(errors)} in all)",
    )
    return (*shown, summary)


def _clipped(error: ProtocolError) -> ProtocolError:
    if len(error.path) <= MAX_ERROR_TEXT and len(error.message) <= MAX_ERROR_TEXT:
        return error
    return ProtocolError(error.code, _clip(error.path), _clip(error.message))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else f"{text[: MAX_ERROR_TEXT - 3]}..."


@dataclass(frozen=True, slots=True)
class TelemetryFeedback:
    """``ok``/``error`` for one telemetry message (staging only)."""

    envelope: Envelope
    in_reply_to: str
    status: FeedbackStatus
    code: ErrorCode | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        check_id(self.in_reply_to, "in_reply_to")
        object.__setattr__(self, "status", FeedbackStatus(self.status))
        if self.code is not None:
            object.__setattr__(self, "code", ErrorCode(self.code))
        if self.message is not None and not isinstance(self.message, str):
            raise ValueError("message must be a string")

    @classmethod
    def ok(cls, *, in_reply_to: str, now: datetime) -> TelemetryFeedback:
        return cls(Envelope.new(now), in_reply_to, FeedbackStatus.OK)

    @classmethod
    def error(
        cls, *, in_reply_to: str, errors: Sequence[ProtocolError], now: datetime
    ) -> TelemetryFeedback:
        """One code (the first error's) and all errors in the message."""
        if not errors:
            raise ValueError("an error feedback needs at least one error")
        message = "; ".join(str(error) for error in errors)
        return cls(Envelope.new(now), in_reply_to, FeedbackStatus.ERROR, errors[0].code, message)

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            **self.envelope.to_dict(),
            "in_reply_to": self.in_reply_to,
            "status": self.status.value,
        }
        if self.code is not None:
            document["code"] = self.code.value
        if self.message is not None:
            document["message"] = self.message
        return document

    def to_payload(self) -> bytes:
        return encode(self.to_dict())
