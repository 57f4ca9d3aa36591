"""A message ready to publish: its topic and final payload bytes (envelope included)."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol.alert import Alert
from ..protocol.topics import TopicKind


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """``payload`` is built once, with a fresh ``message_id``; store and resend these exact
    bytes so a retransmission keeps the id. ``alert`` is the typed event behind an alert's
    payload, so a local consumer (repairs, the log) never decodes the bytes again."""

    topic: str
    payload: bytes
    kind: TopicKind
    message_id: str
    metric: str | None = None
    qos: int = 1
    alert: Alert | None = None
