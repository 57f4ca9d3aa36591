"""The state file survives a power cut and a moment it cannot be read.

save_state renamed a file whose bytes might still be in the page cache (a power cut could
leave an empty file under the real name); load_state set a healthy file aside on any OSError
(a permission slip, an I/O hiccup), and the next save replaced it with a fresh state.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from optimizer.service.service import OptimizerService
from optimizer.service.site_memory import (
    SiteMemory,
    StateFileUnreadableError,
    load_state,
    save_state,
    state_path,
)
from optimizer.simulation.day_run import demo_config, sample_site

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
SITE = "site-a"


def test_the_bytes_reach_the_disk_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        events.append("fsync")
        real_fsync(descriptor)

    def replace(source: str | Path, target: str | Path) -> None:
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    state = SiteMemory(SITE, "UTC")
    state.observe_soe(4.0, T0)

    save_state(tmp_path, state)

    assert events[:2] == ["fsync", "replace"]  # the file's data first, then the rename
    assert json.loads(state_path(tmp_path, SITE).read_text(encoding="utf-8"))["soe_kwh"] == 4.0
    assert not list(tmp_path.glob("*.tmp"))


def _unreadable_once(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[int]:
    """Reading ``path`` fails with EIO until the returned list gets an item."""
    healed: list[int] = []
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == path and not healed:
            raise OSError(5, "Input/output error")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return healed


def test_a_file_that_cannot_be_read_now_is_left_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = SiteMemory(SITE, "UTC")
    state.observe_soe(4.0, T0)
    save_state(tmp_path, state)
    path = state_path(tmp_path, SITE)
    before = path.read_bytes()
    _unreadable_once(monkeypatch, path)

    with pytest.raises(StateFileUnreadableError, match="Input/output error"):
        load_state(tmp_path, SiteMemory(SITE, "UTC"), now=T0)

    assert path.exists()
    assert not list(tmp_path.glob("*.damaged-*"))
    monkeypatch.undo()
    assert path.read_bytes() == before


def test_the_service_keeps_the_file_and_reads_it_again_next_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = SiteMemory(SITE, "UTC")
    state.observe_soe(4.0, T0 - timedelta(minutes=1))
    save_state(tmp_path, state)
    path = state_path(tmp_path, SITE)
    healed = _unreadable_once(monkeypatch, path)
    day = [T0 + timedelta(minutes=30 * slot) for slot in range(48)]
    (tmp_path / "prices.csv").write_text("".join(f"{t.isoformat()},20\n" for t in day))
    config = demo_config(
        host="127.0.0.1",
        port=1,  # never started
        state_dir=tmp_path,
        price_file=tmp_path / "prices.csv",
        sites=(sample_site(SITE, "gw-1"),),
        export_price=8.0,
    )

    service = OptimizerService(config, clock=lambda: T0)

    error = service.status(SITE).last_error
    assert error is not None
    assert error.startswith("state file not readable")
    assert service.status(SITE).soe_kwh is None
    service.tick(T0)  # still unreadable: the file is not overwritten by the fresh state
    assert json.loads(path.read_text(encoding="utf-8"))["soe_kwh"] == 4.0
    healed.append(1)
    service.tick(T0 + timedelta(minutes=10))
    assert service.status(SITE).soe_kwh == 4.0
    assert service.status(SITE).last_error is None
    service.stop()
    assert not list(tmp_path.glob("*.damaged-*"))
