"""Store-and-forward: every outgoing message goes through the outbox, then the link.

A message is stored first (:meth:`Forwarder.submit`), sent when the link is connected and
deleted only when its publish is acknowledged (PUBACK for QoS 1). A publish that fails or is
not acknowledged before the connection drops stays stored and is sent again later with the
same payload bytes, hence the same ``message_id``.

Order on each (re)connection, with ``watermark`` = the newest stored message at that moment:

1. the latest stored message of every topic (newest first), at once: the optimizer gets the
   current state of each metric before any history;
2. messages submitted after the watermark ("live"), at once, oldest first;
3. the backlog (``seq <= watermark``), newest first, at ``backlog_rate`` messages per second
   (token bucket, one second of burst), so a long outage does not flood the broker.

Delivery is at least once: a publish the broker received but whose PUBACK was lost with
the connection is sent again (same bytes), and receivers de-duplicate on ``message_id``.
If the broker is simply unreachable nothing is sent, so nothing is duplicated.

At most ``max_in_flight`` publishes await acknowledgement at any time. One background thread
does the sending and the periodic expiry; :meth:`Forwarder.stop` joins it. No SQLite error
stops that thread (a locked or full file is retried on the next round), and a message the
outbox cannot store is retried once, then counted as a ``storage_error`` drop; those drops
are reported when storing works again, so the report itself can be stored.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..link.mqtt_link import LinkStatus, StateListener
from ..link.publish_handle import PublishHandle
from .outbox import DropCounts, Outbox, OutboxMessage

_LOGGER = logging.getLogger(__name__)

# A second try after this pause; SQLite itself already waited its busy timeout (5 s).
STORE_RETRY_PAUSE_S = 0.25


class PublishingLink(Protocol):
    """What the forwarder needs from :class:`MqttLink`."""

    @property
    def connected(self) -> bool: ...

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> PublishHandle: ...

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]: ...


@dataclass(frozen=True, slots=True)
class ForwarderStats:
    """Counters for diagnostic entities; ``dropped`` is the persisted total by reason."""

    connected: bool
    queued: int
    in_flight: int
    sent: int
    failed_publishes: int
    dropped: DropCounts
    last_sent_at: float | None


class Forwarder:
    """Outbox + link; thread-safe ``submit``; see the module docstring for the order."""

    def __init__(
        self,
        outbox: Outbox,
        link: PublishingLink,
        *,
        backlog_rate: float = 20.0,
        max_in_flight: int = 20,
        expire_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
        on_drop: Callable[[DropCounts], None] | None = None,
        name: str = "bess-dispatch-forwarder",
    ) -> None:
        if not backlog_rate > 0:
            raise ValueError(f"backlog_rate must be > 0 messages/s, got {backlog_rate!r}")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight!r}")
        self._outbox = outbox
        self._link = link
        self._rate = backlog_rate
        self._burst = max(1.0, backlog_rate)
        self._max_in_flight = max_in_flight
        self._expire_interval = expire_interval
        self._clock = clock
        self._on_drop = on_drop
        self._name = name
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._remove_listener: Callable[[], None] | None = None
        # Guarded by _cond:
        self._in_flight: dict[int, PublishHandle | None] = {}
        self._new_connection = True
        self._watermark = 0
        self._priority: list[OutboxMessage] = []
        self._sent = 0
        self._failed = 0
        self._last_sent_at: float | None = None
        self._unstored_unreported = DropCounts()

    # --- public API ----------------------------------------------------------------------
    def submit(self, topic: str, payload: bytes, qos: int = 1) -> OutboxMessage | None:
        """Store the message (durably) and wake the sender; returns the stored message.

        None when the outbox could not store it: the loss is counted (``storage_error``).
        """
        stored = self.submit_all([(topic, payload, qos)])
        return stored[0] if stored else None

    def submit_all(self, messages: Sequence[tuple[str, bytes, int]]) -> list[OutboxMessage]:
        """Store ``(topic, payload, qos)`` messages in one transaction and wake the sender.

        An empty list when the outbox could not store them: the loss is counted
        (``storage_error``, one per message).
        """
        if not messages:
            return []
        result = self._append(messages)
        if result is None:
            return []
        stored, dropped = result
        with self._cond:
            unstored, self._unstored_unreported = self._unstored_unreported, DropCounts()
        if unstored:
            _LOGGER.warning("outbox stores messages again after %d were lost", unstored.total)
            dropped += unstored
        if dropped:
            self._report_drops(dropped)
        with self._cond:
            self._cond.notify_all()
        return stored

    def _append(
        self, messages: Sequence[tuple[str, bytes, int]]
    ) -> tuple[list[OutboxMessage], DropCounts] | None:
        for attempt in range(2):
            try:
                return self._outbox.append_all(messages, self._clock())
            except sqlite3.Error as err:
                if attempt == 0:
                    time.sleep(STORE_RETRY_PAUSE_S)
                    continue
                lost = self._outbox.count_unstored(len(messages))
                with self._cond:
                    first = not self._unstored_unreported
                    self._unstored_unreported += lost
                if first:
                    _LOGGER.error("outbox cannot store messages, dropping them: %s", err)
        return None

    def stats(self) -> ForwarderStats:
        with self._cond:
            in_flight = len(self._in_flight)
            sent, failed, last = self._sent, self._failed, self._last_sent_at
        return ForwarderStats(
            connected=self._link.connected,
            queued=len(self._outbox),
            in_flight=in_flight,
            sent=sent,
            failed_publishes=failed,
            dropped=self._outbox.drop_totals(),
            last_sent_at=last,
        )

    def wait_drained(self, timeout: float) -> bool:
        """Block until the outbox is empty and nothing is in flight (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._outbox) or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.1))
        return True

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("forwarder already started")
        self._stop.clear()
        self._remove_listener = self._link.add_state_listener(self._on_link_state)
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sending and join the thread; stored messages stay in the outbox.

        Stop the link next, and close the outbox last: acknowledgements that arrive until
        the link stops still delete their messages.
        """
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    # --- internals -----------------------------------------------------------------------
    def _on_link_state(self, status: LinkStatus) -> None:
        with self._cond:
            if status.connected:
                self._new_connection = True
            self._cond.notify_all()

    def _report_drops(self, drops: DropCounts) -> None:
        _LOGGER.warning("outbox dropped messages: %s", dict(drops.by_reason))
        if self._on_drop is not None:
            try:
                self._on_drop(drops)
            except Exception:
                _LOGGER.exception("drop listener failed")

    def _run(self) -> None:
        tick = max(0.005, min(0.25, 1.0 / self._rate))
        tokens = 0.0
        last_refill = time.monotonic()
        last_expiry = float("-inf")
        while not self._stop.is_set():
            with self._cond:
                self._cond.wait(tick)
            now = time.monotonic()
            tokens = min(self._burst, tokens + (now - last_refill) * self._rate)
            last_refill = now
            if now - last_expiry >= self._expire_interval:
                last_expiry = now
                try:
                    drops = self._outbox.expire(self._clock())
                except Exception:
                    # A locked file must not end this thread: expiry runs again next interval.
                    _LOGGER.exception("outbox expiry failed; trying again later")
                else:
                    if drops:
                        self._report_drops(drops)
            if self._stop.is_set() or not self._link.connected:
                continue
            try:
                tokens = self._pump(tokens)
            except Exception:
                _LOGGER.exception("forwarder failed to send; retrying")

    def _pump(self, tokens: float) -> float:
        """Send what the order and the limits allow now; returns the tokens left."""
        with self._cond:
            if self._new_connection:
                self._new_connection = False
                self._watermark = self._outbox.max_seq()
                self._priority = self._outbox.latest_per_topic(max_seq=self._watermark)
            free = self._max_in_flight - len(self._in_flight)
            exclude = set(self._in_flight)
            priority = [m for m in self._priority if m.seq not in exclude][:free]
            self._priority = [m for m in self._priority if m.seq not in exclude][free:]
        batch = list(priority)
        free -= len(batch)
        if free > 0:
            live = self._outbox.oldest_after(self._watermark, free, exclude=exclude)
            batch += live
            free -= len(live)
        backlog_budget = min(free, int(tokens))
        if backlog_budget > 0:
            skip = exclude | {m.seq for m in batch} | {m.seq for m in self._priority}
            backlog = self._outbox.newest(backlog_budget, max_seq=self._watermark, exclude=skip)
            batch += backlog
            tokens -= len(backlog)
        for message in batch:
            if not self._send(message):
                break
        return tokens

    def _send(self, message: OutboxMessage) -> bool:
        with self._cond:
            if message.seq in self._in_flight:
                return True
            # Registered before publishing: the acknowledgement can arrive before publish returns.
            self._in_flight[message.seq] = None
        handle = self._link.publish(message.topic, message.payload, message.qos)
        with self._cond:
            if message.seq in self._in_flight:
                self._in_flight[message.seq] = handle
        handle.add_done_callback(lambda done: self._on_done(message.seq, done))
        return not (handle.done() and not handle.acknowledged)

    def _on_done(self, seq: int, handle: PublishHandle) -> None:
        if handle.acknowledged:
            try:
                self._outbox.acknowledge(seq)
            except Exception:
                # Still stored, so it is sent again later: at least once, never lost.
                _LOGGER.exception("outbox could not delete acknowledged message %d", seq)
        with self._cond:
            self._in_flight.pop(seq, None)
            if handle.acknowledged:
                self._sent += 1
                self._last_sent_at = self._clock()
            else:
                self._failed += 1
            self._cond.notify_all()
