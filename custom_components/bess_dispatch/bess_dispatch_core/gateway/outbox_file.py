"""Opening the outbox file: an unreadable one is set aside and a new one started.

A corrupt file (garbage, a truncated copy, a newer schema) must not stop the site: commands
and control do not need the queue, and new telemetry needs a working one. The old file is
renamed, not deleted, so whatever it held can still be looked at.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .outbox import Outbox, OutboxPolicy

SET_ASIDE_MARK = ".unreadable-"
_COMPANIONS = ("", "-wal", "-shm")  # SQLite's WAL files go with the database


# SQLite's names for "this file is not (or no longer) a database".
DAMAGED_FILE_ERRORS = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})


@dataclass(frozen=True, slots=True)
class OpenedOutbox:
    """The outbox in use; ``set_aside`` and ``error`` say what happened to an unreadable one."""

    outbox: Outbox
    set_aside: Path | None = None
    error: str | None = None


def open_outbox(path: Path, *, now: datetime, policy: OutboxPolicy | None = None) -> OpenedOutbox:
    """Blocking: open ``path`` (creating its folder), or set it aside and start anew."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return OpenedOutbox(Outbox(path, policy))
    except ValueError as err:  # a schema this code does not know
        error = f"{type(err).__name__}: {err}"
    except sqlite3.DatabaseError as err:
        # Only a damaged file is set aside: a locked or unreadable-for-now one (busy, I/O)
        # still holds queued telemetry, so the caller retries later instead.
        if err.sqlite_errorname not in DAMAGED_FILE_ERRORS:
            raise
        error = f"{type(err).__name__}: {err}"
    aside = path.with_name(f"{path.name}{SET_ASIDE_MARK}{now.strftime('%Y%m%dT%H%M%S%fZ')}")
    for suffix in _COMPANIONS:
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(aside.with_name(aside.name + suffix))
    return OpenedOutbox(Outbox(path, policy), aside, error)


def outbox_files(path: Path) -> list[Path]:
    """The outbox file, its WAL companions and every file set aside from it."""
    names = {path.name + suffix for suffix in _COMPANIONS}
    if not path.parent.is_dir():
        return []
    return sorted(
        candidate
        for candidate in path.parent.iterdir()
        if candidate.name in names or candidate.name.startswith(path.name + SET_ASIDE_MARK)
    )
