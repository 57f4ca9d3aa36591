"""The result of one publish: completes when the broker acknowledged it, or fails."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum

_LOGGER = logging.getLogger(__name__)


class PublishOutcome(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    """QoS 1/2: the broker's PUBACK/PUBCOMP arrived; QoS 0: written to the socket."""
    FAILED = "failed"
    """Not sent or not acknowledged (not connected, or the connection dropped first)."""


class PublishHandle:
    """Thread-safe; completes exactly once. Callbacks run in the completing thread."""

    def __init__(self, topic: str, qos: int) -> None:
        self.topic = topic
        self.qos = qos
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outcome = PublishOutcome.PENDING
        self._reason = ""
        self._callbacks: list[Callable[[PublishHandle], None]] = []

    @property
    def outcome(self) -> PublishOutcome:
        return self._outcome

    @property
    def acknowledged(self) -> bool:
        return self._outcome is PublishOutcome.ACKNOWLEDGED

    @property
    def reason(self) -> str:
        """Why it failed (empty otherwise)."""
        return self._reason

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until complete; True if acknowledged."""
        self._done.wait(timeout)
        return self.acknowledged

    def add_done_callback(self, callback: Callable[[PublishHandle], None]) -> None:
        """Call ``callback(handle)`` on completion (at once if already complete)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def complete(self, outcome: PublishOutcome, reason: str = "") -> bool:
        """Settle the handle; False if it was already settled."""
        if outcome is PublishOutcome.PENDING:
            raise ValueError("outcome must be ACKNOWLEDGED or FAILED")
        with self._lock:
            if self._done.is_set():
                return False
            self._outcome = outcome
            self._reason = reason
            callbacks, self._callbacks = self._callbacks, []
            self._done.set()
        for callback in callbacks:
            try:
                callback(self)
            except Exception:
                # One broken listener must not stop the others or the network thread.
                _LOGGER.exception("publish callback failed for %s", self.topic)
        return True
