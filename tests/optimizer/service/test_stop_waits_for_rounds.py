"""stop() waits for the planning rounds still running, so their state is saved with them.

It used to stop the link and save at once: a round mid-solve then finished after the save
(its plan never sent, what it learned lost on restart).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from optimizer.service.service import OptimizerService
from optimizer.service.site_memory import state_path

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_stop_waits_for_a_running_round(
    offline_service: OptimizerService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = offline_service
    runtime = service._sites["demo-site"]
    solving = threading.Event()
    release = threading.Event()

    def slow_round(_runtime: object, _now: datetime) -> None:
        solving.set()
        release.wait(5.0)
        runtime.state.observe_soe(6.0, T0)  # what the round learned

    monkeypatch.setattr(service, "_tick_site", slow_round)
    service.tick(T0, wait=False)
    assert solving.wait(5.0)
    stopper = threading.Thread(target=service.stop)
    stopper.start()
    stopper.join(0.3)
    assert stopper.is_alive(), "stop() returned while a round was still running"
    release.set()
    stopper.join(10.0)

    assert not stopper.is_alive()
    assert runtime.round is not None
    assert not runtime.round.is_alive()
    saved = json.loads(state_path(tmp_path, "demo-site").read_text(encoding="utf-8"))
    assert saved["soe_kwh"] == 6.0
