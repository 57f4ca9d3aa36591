"""An unreadable outbox file is set aside (renamed, kept) and a new one is started."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bess_dispatch_core.gateway.outbox import Outbox
from bess_dispatch_core.gateway.outbox_file import open_outbox, outbox_files

NOW = datetime(2026, 11, 21, 4, 30, 15, 123456, tzinfo=UTC)


def test_a_readable_file_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / ".storage" / "outbox.sqlite"
    opened = open_outbox(path, now=NOW)  # the folder is created on a fresh install
    opened.outbox.append("dt/a", b"1", 1, 0.0)
    opened.outbox.close()
    again = open_outbox(path, now=NOW)
    with again.outbox as outbox:
        assert (len(outbox), again.set_aside, again.error) == (1, None, None)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"this is not a database" * 100, id="garbage"),
        pytest.param(b"SQLite format 3\x00" + b"\xff" * 5000, id="broken-header"),
    ],
)
def test_an_unreadable_file_is_set_aside_and_replaced(tmp_path: Path, content: bytes) -> None:
    """The probe: garbage in the file failed the entry's set-up ("file is not a database")."""
    path = tmp_path / "outbox.sqlite"
    path.write_bytes(content)
    opened = open_outbox(path, now=NOW)
    with opened.outbox as outbox:
        outbox.append("dt/a", b"1", 1, 0.0)
        assert len(outbox) == 1
    assert opened.set_aside == tmp_path / "outbox.sqlite.unreadable-20261121T043015123456Z"
    assert opened.set_aside.read_bytes() == content
    assert opened.error is not None
    assert "DatabaseError" in opened.error
    assert [p.name for p in outbox_files(path)] == [
        "outbox.sqlite",
        opened.set_aside.name,
    ]


def test_a_newer_schema_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    Outbox(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version=99")
    opened = open_outbox(path, now=NOW)
    opened.outbox.close()
    assert opened.error is not None
    assert "schema version 99" in opened.error


def test_outbox_files_of_a_missing_folder(tmp_path: Path) -> None:
    assert outbox_files(tmp_path / "nowhere" / "outbox.sqlite") == []


def test_a_locked_file_is_not_set_aside(tmp_path: Path) -> None:
    """Locked is not damaged: its queued telemetry stays where it is for the next try."""
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as outbox:
        outbox.append("dt/a", b"1", 1, 0.0)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            open_outbox(path, now=NOW)
    finally:
        holder.close()
    assert [p.name for p in outbox_files(path)] == ["outbox.sqlite"]
    with Outbox(path) as outbox:
        assert len(outbox) == 1
