"""The envelope every message carries: schema version, message id and send time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .timeformat import format_datetime, is_aware, truncate_to_milliseconds
from .version import SCHEMA_VERSION, SchemaVersion

MAX_ID_LENGTH = 200


def check_id(value: str, what: str) -> None:
    """Ids are non-empty strings of bounded length; raise ValueError naming ``what``."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_ID_LENGTH} characters")


def check_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or not is_aware(value):
        raise ValueError(f"{what} must be a timezone-aware datetime")


@dataclass(frozen=True, slots=True)
class Envelope:
    """``schema_version``, ``message_id`` (a uuid4 string; a retransmission keeps it) and
    ``sent_at``."""

    schema_version: str
    message_id: str
    sent_at: datetime

    def __post_init__(self) -> None:
        SchemaVersion.parse(self.schema_version)
        check_id(self.message_id, "message_id")
        check_aware(self.sent_at, "sent_at")

    @classmethod
    def new(cls, now: datetime) -> Envelope:
        """A fresh envelope for a message sent at ``now``."""
        check_aware(now, "now")
        return cls(SCHEMA_VERSION, str(uuid.uuid4()), truncate_to_milliseconds(now))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "message_id": self.message_id,
            "sent_at": format_datetime(self.sent_at),
        }
