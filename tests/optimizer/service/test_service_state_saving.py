"""The service writes a site's state file at most every STATE_SAVE_EVERY, and on stop."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from optimizer.service.service import STATE_SAVE_EVERY, OptimizerService
from optimizer.service.site_memory import state_path

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def _saved_soe(path: Path) -> float | None:
    soe: float | None = json.loads(path.read_text(encoding="utf-8"))["soe_kwh"]
    return soe


def test_state_file_is_written_every_few_minutes_not_every_tick(
    offline_service: OptimizerService, tmp_path: Path
) -> None:
    service = offline_service
    state = service._sites["demo-site"].state
    path = state_path(tmp_path, "demo-site")

    service.tick(T0)
    assert _saved_soe(path) is None
    state.observe_soe(4.0, T0 + timedelta(seconds=10))
    service.tick(T0 + timedelta(seconds=20))
    assert _saved_soe(path) is None  # too soon
    service.tick(T0 + STATE_SAVE_EVERY)
    assert _saved_soe(path) == 4.0
    state.observe_soe(5.0, T0 + STATE_SAVE_EVERY + timedelta(seconds=10))
    service.stop()
    assert _saved_soe(path) == 5.0  # stopping always writes
