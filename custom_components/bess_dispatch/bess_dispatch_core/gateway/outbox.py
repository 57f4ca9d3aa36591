"""The store-and-forward queue: every outgoing message is persisted here before it is sent.

Storage is one SQLite file (stdlib sqlite3, WAL journal), so the queue survives a process
or Home Assistant restart. A message keeps its topic, its exact payload bytes (so a
retransmission carries the same ``message_id``), its QoS and its creation time, and is
deleted only when the broker acknowledged it (:meth:`Outbox.acknowledge`).

Bounding policy (:class:`OutboxPolicy`):

- ``max_messages``: when an append would exceed it, the *oldest* messages are dropped
  (reason ``queue_full``). Recent readings matter most to the optimizer, and the lifetime
  counters in later messages still carry the energy of the dropped ones.
- ``max_age``: messages created more than ``max_age`` before ``now`` are dropped (reason
  ``expired``) on every append and on :meth:`Outbox.expire`.

Drops are never silent: every call that drops returns the counts by reason, and the
running totals are persisted (:meth:`Outbox.drop_totals`) so they can be alerted on even
after a restart. A message the file could not store (locked, disk full: reason
``storage_error``) is counted with :meth:`Outbox.count_unstored`; that count is written with
the next transaction that succeeds.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Self

_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_created_at ON outbox (created_at);
CREATE INDEX IF NOT EXISTS outbox_topic_seq ON outbox (topic, seq);
CREATE TABLE IF NOT EXISTS drop_totals (
    reason TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"""


class DropReason(StrEnum):
    """Why the outbox discarded a message before it was acknowledged."""

    QUEUE_FULL = "queue_full"
    EXPIRED = "expired"
    STORAGE_ERROR = "storage_error"


def _no_drops() -> Mapping[DropReason, int]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class DropCounts:
    """Messages dropped by one operation (or in total), by reason."""

    by_reason: Mapping[DropReason, int] = field(default_factory=_no_drops)

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    def __bool__(self) -> bool:
        return self.total > 0

    def __add__(self, other: DropCounts) -> DropCounts:
        merged = dict(self.by_reason)
        for reason, count in other.by_reason.items():
            merged[reason] = merged.get(reason, 0) + count
        return DropCounts(MappingProxyType(merged))


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """Bounds of the queue; see the module docstring for what happens at each bound."""

    max_messages: int = 250_000
    max_age: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.max_messages < 1:
            raise ValueError(f"max_messages must be >= 1, got {self.max_messages!r}")
        if self.max_age <= timedelta(0):
            raise ValueError(f"max_age must be positive, got {self.max_age!r}")


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One stored message; ``seq`` grows with every append and orders messages by age."""

    seq: int
    topic: str
    payload: bytes
    qos: int
    created_at: float


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The stored message and what the append had to drop to respect the policy."""

    message: OutboxMessage
    dropped: DropCounts


_COLUMNS = "seq, topic, payload, qos, created_at"


def _check_message(topic: str, payload: bytes, qos: int) -> None:
    if not topic:
        raise ValueError("topic must not be empty")
    if qos not in (0, 1, 2):
        raise ValueError(f"qos must be 0, 1 or 2, got {qos!r}")
    if not isinstance(payload, bytes | bytearray):
        raise TypeError(f"payload must be bytes, got {type(payload).__name__}")


def _row_to_message(row: tuple[int, str, bytes, int, float]) -> OutboxMessage:
    seq, topic, payload, qos, created_at = row
    return OutboxMessage(seq, topic, bytes(payload), qos, created_at)


class Outbox:
    """A persistent, bounded FIFO/LIFO queue of MQTT messages, safe to share between threads.

    Times are plain POSIX seconds given by the caller, so tests drive it with any clock.
    """

    def __init__(
        self, path: str | Path, policy: OutboxPolicy | None = None, *, lock_timeout: float = 5.0
    ) -> None:
        """``lock_timeout``: seconds a write waits for another process's lock on the file."""
        self._policy = policy or OutboxPolicy()
        self._path = str(path)
        self._lock = threading.Lock()
        # One connection shared by the callers' threads; the lock serialises every use.
        self._db = sqlite3.connect(
            self._path, timeout=lock_timeout, check_same_thread=False, isolation_level=None
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash; only an OS crash can lose the
            # last transactions, which the lifetime counters make good again.
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, _SCHEMA_VERSION):
                raise ValueError(
                    f"outbox file {self._path} has schema version {version}, "
                    f"expected {_SCHEMA_VERSION}"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
            # Kept in memory: COUNT(*) scans the table, and append needs it every time. The
            # oldest time and the drop totals too: HA's event loop reads them for sensors and
            # alerts, and must not wait for this lock while the forwarder writes.
            self._count = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            self._oldest = self._query_oldest_locked()
            rows = self._db.execute("SELECT reason, count FROM drop_totals").fetchall()
            self._drop_totals = DropCounts(
                MappingProxyType({DropReason(reason): count for reason, count in rows})
            )
            # Counted while the file could not be written; persisted by the next transaction.
            self._unpersisted = DropCounts()
        except BaseException:
            self._db.close()
            raise

    @property
    def policy(self) -> OutboxPolicy:
        return self._policy

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, topic: str, payload: bytes, qos: int, now: float) -> AppendResult:
        """Store a message created at ``now``; drops expired then oldest messages if needed."""
        stored, dropped = self.append_all([(topic, payload, qos)], now)
        return AppendResult(stored[0], dropped)

    def append_all(
        self, messages: Sequence[tuple[str, bytes, int]], now: float
    ) -> tuple[list[OutboxMessage], DropCounts]:
        """Store ``(topic, payload, qos)`` messages created at ``now`` in one transaction.

        All or none are stored (a batch larger than ``max_messages`` loses its own oldest,
        counted as ``queue_full``). One transaction per telemetry tick rather than per message:
        fewer write-ahead-log pages and checkpoints (SD cards), and one short hold of the
        lock instead of one per message.
        """
        for topic, payload, qos in messages:
            _check_message(topic, payload, qos)
        stored: list[OutboxMessage] = []
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            dropped = self._expire_locked(now)
            for topic, payload, qos in messages:
                cursor = self._db.execute(
                    "INSERT INTO outbox (topic, payload, qos, created_at) VALUES (?, ?, ?, ?)",
                    (topic, bytes(payload), qos, now),
                )
                seq = cursor.lastrowid
                assert seq is not None
                stored.append(OutboxMessage(seq, topic, bytes(payload), qos, now))
            self._count += len(stored)
            if stored:
                self._oldest = now if self._oldest is None else min(self._oldest, now)
            self._persist_unpersisted_locked()
            excess = self._count - self._policy.max_messages
            if excess > 0:
                cursor = self._db.execute(
                    "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)",
                    (excess,),
                )
                self._count -= cursor.rowcount
                dropped += self._count_drops_locked(DropReason.QUEUE_FULL, cursor.rowcount)
                self._oldest = self._query_oldest_locked()
        return stored, dropped

    def expire(self, now: float) -> DropCounts:
        """Drop messages older than the policy's ``max_age``."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            return self._expire_locked(now)

    def count_unstored(self, count: int = 1) -> DropCounts:
        """Messages that could not be stored (an SQLite error): dropped, and counted."""
        drops = DropCounts(MappingProxyType({DropReason.STORAGE_ERROR: count}))
        with self._lock:
            self._drop_totals += drops
            self._unpersisted += drops
        return drops

    def acknowledge(self, seq: int) -> bool:
        """Delete a message the broker acknowledged; False when it was no longer stored."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            self._count -= cursor.rowcount
            if cursor.rowcount:
                self._oldest = self._query_oldest_locked()
            return cursor.rowcount > 0

    def __len__(self) -> int:
        return self._count

    def max_seq(self) -> int:
        """The highest stored ``seq`` (0 when empty)."""
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM outbox").fetchone()
            return int(row[0] or 0)

    def oldest_created_at(self) -> float | None:
        """When the oldest stored message was created (None: empty); no database access."""
        return self._oldest

    def latest_per_topic(self, *, max_seq: int | None = None) -> list[OutboxMessage]:
        """The newest stored message of every topic (up to ``max_seq``), newest first."""
        limit = max_seq if max_seq is not None else -1
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE seq IN "
                "(SELECT MAX(seq) FROM outbox WHERE (? < 0 OR seq <= ?) GROUP BY topic) "
                "ORDER BY seq DESC",
                (limit, limit),
            ).fetchall()
        return [_row_to_message(row) for row in rows]

    def newest(
        self, limit: int, *, max_seq: int | None = None, exclude: Collection[int] = ()
    ) -> list[OutboxMessage]:
        """Up to ``limit`` messages, newest first, with ``seq <= max_seq``, skipping ``exclude``."""
        bound = max_seq if max_seq is not None else -1
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE (? < 0 OR seq <= ?) "
                "ORDER BY seq DESC LIMIT ?",
                (bound, bound, limit + len(exclude)),
            ).fetchall()
        messages = [_row_to_message(row) for row in rows if row[0] not in exclude]
        return messages[:limit]

    def oldest_after(
        self, after_seq: int, limit: int, *, exclude: Collection[int] = ()
    ) -> list[OutboxMessage]:
        """Up to ``limit`` messages with ``seq > after_seq``, oldest first, skipping ``exclude``."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit + len(exclude)),
            ).fetchall()
        messages = [_row_to_message(row) for row in rows if row[0] not in exclude]
        return messages[:limit]

    def drop_totals(self) -> DropCounts:
        """Every drop since the file was created, by reason (persisted); no database access."""
        return self._drop_totals

    def _query_oldest_locked(self) -> float | None:
        row = self._db.execute("SELECT MIN(created_at) FROM outbox").fetchone()
        return None if row[0] is None else float(row[0])

    def _expire_locked(self, now: float) -> DropCounts:
        cutoff = now - self._policy.max_age.total_seconds()
        cursor = self._db.execute("DELETE FROM outbox WHERE created_at < ?", (cutoff,))
        self._count -= cursor.rowcount
        if cursor.rowcount:
            self._oldest = self._query_oldest_locked()
        return self._count_drops_locked(DropReason.EXPIRED, cursor.rowcount)

    def _count_drops_locked(self, reason: DropReason, count: int) -> DropCounts:
        if count <= 0:
            return DropCounts()
        self._persist_drops_locked(reason, count)
        drops = DropCounts(MappingProxyType({reason: count}))
        self._drop_totals += drops
        return drops

    def _persist_drops_locked(self, reason: DropReason, count: int) -> None:
        self._db.execute(
            "INSERT INTO drop_totals (reason, count) VALUES (?, ?) "
            "ON CONFLICT(reason) DO UPDATE SET count = count + excluded.count",
            (reason.value, count),
        )

    def _persist_unpersisted_locked(self) -> None:
        for reason, count in self._unpersisted.by_reason.items():
            self._persist_drops_locked(reason, count)
        # Cleared before the commit: should the commit fail, the total is short by these,
        # never counted twice.
        self._unpersisted = DropCounts()
