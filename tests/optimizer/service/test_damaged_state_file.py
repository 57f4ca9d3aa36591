"""A damaged state file is set aside and the site starts afresh; the service still starts.

``serve`` used to exit with a traceback on a file that was not JSON, truncated, empty or of
the wrong shape, and ``"soe_kwh": "abc"`` made every planning round fail. Each case here
writes a real file in the state dir, as a crash or a full disk leaves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from optimizer.service.service import OptimizerService
from optimizer.service.site_memory import SiteMemory, save_state, state_path
from optimizer.simulation.day_run import demo_config, sample_site

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
SITES = ("site-a", "site-b")


def _service(state_dir: Path) -> OptimizerService:
    day = [T0 + timedelta(minutes=30 * slot) for slot in range(48)]
    (state_dir / "prices.csv").write_text("".join(f"{t.isoformat()},20\n" for t in day))
    config = demo_config(
        host="127.0.0.1",
        port=1,  # never started
        state_dir=state_dir,
        price_file=state_dir / "prices.csv",
        sites=tuple(sample_site(site_id, "gw-1") for site_id in SITES),
        export_price=8.0,
    )
    return OptimizerService(config, clock=lambda: T0)


def _good_state(site_id: str) -> dict[str, Any]:
    state = SiteMemory(site_id, "Asia/Tokyo")
    state.observe_soe(4.0, T0 - timedelta(minutes=1))
    state.observe_counter("meter_import_ac", 10.0, T0 - timedelta(minutes=1))
    document: dict[str, Any] = state.to_dict()
    return document


def _with(**changes: Any) -> Callable[[str], bytes]:
    def damaged(site_id: str) -> bytes:
        return json.dumps({**_good_state(site_id), **changes}).encode()

    return damaged


DAMAGE: dict[str, Callable[[str], bytes]] = {
    "not JSON": lambda _site: b"\x00\xff garbage \x89PNG",
    "truncated": lambda site: json.dumps(_good_state(site)).encode()[:100],
    "empty": lambda _site: b"",
    "a list": lambda _site: b"[1, 2, 3]",
    "soe_kwh abc": _with(soe_kwh="abc"),
    "soe_kwh true": _with(soe_kwh=True),
    "counters not an object": _with(counters=[1, 2]),
    "counter value text": _with(counters={"meter_import_ac": ["x", T0.isoformat()]}),
    "naive time": _with(soe_at="2026-11-21T00:00:00"),
    "profile too short": _with(load_profile=[[0.5] * 10, [0.5] * 10]),
    "history row short": _with(history=[[T0.isoformat(), 1.0]]),
    "history NaN": _with(history=[[T0.isoformat(), float("nan"), None, 0.0, None]]),
    "too many open slots": _with(
        slot_energy={(T0 + timedelta(minutes=30 * i)).isoformat(): {} for i in range(20_000)}
    ),
    "layers wrong type": _with(layers={"p2": 5}),
    "missing key": _with(history=None),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_file_is_set_aside_and_the_other_site_is_restored(
    tmp_path: Path, damage: str
) -> None:
    damaged_path = state_path(tmp_path, "site-a")
    damaged_bytes = DAMAGE[damage]("site-a")
    damaged_path.write_bytes(damaged_bytes)
    healthy = SiteMemory("site-b", "Asia/Tokyo")
    healthy.observe_soe(7.0, T0 - timedelta(minutes=2))
    save_state(tmp_path, healthy)

    service = _service(tmp_path)

    status = service.status("site-a")
    assert status.last_error is not None
    assert status.last_error.startswith("state file damaged")
    assert status.soe_kwh is None  # fresh: nothing half-restored
    assert service.status("site-b").soe_kwh == 7.0
    (aside,) = tmp_path.glob(f"{damaged_path.name}.damaged-*")
    assert aside.read_bytes() == damaged_bytes  # kept for a look, never overwritten
    assert not damaged_path.exists()
    # The site works from fresh: a reading, a round, and a new file that reads back.
    service._sites["site-a"].state.observe_soe(3.0, T0)
    service.tick(T0)
    service.stop()
    assert json.loads(damaged_path.read_text(encoding="utf-8"))["soe_kwh"] == 3.0
    assert _service(tmp_path).status("site-a").last_error is None


def test_a_round_that_fails_stays_with_its_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(tmp_path)
    for site_id in SITES:
        service._sites[site_id].state.observe_soe(5.0, T0)
    original = service._sites["site-a"].state.planning_copy

    def broken_copy() -> SiteMemory:
        raise RuntimeError("site-a's state is broken")

    monkeypatch.setattr(service._sites["site-a"].state, "planning_copy", broken_copy)

    service.tick(T0)

    assert service.current_plan("site-b") is not None
    assert service.current_plan("site-a") is None
    error = service.status("site-a").last_error
    assert error == "planning round failed: site-a's state is broken"
    monkeypatch.setattr(service._sites["site-a"].state, "planning_copy", original)
    service.tick(T0 + timedelta(minutes=10))
    assert service.status("site-a").last_error is None
    assert service.current_plan("site-a") is not None


def test_times_ahead_of_the_clock_in_an_old_file_are_forgotten(tmp_path: Path) -> None:
    """An older version took readings stamped in 2100; they must not outrank real ones."""
    future = datetime(2100, 1, 1, tzinfo=UTC)
    state = SiteMemory("site-a", "Asia/Tokyo")
    state.observe_soe(4.0, future)
    state.observe_counter("meter_import_ac", 10.0, future)
    save_state(tmp_path, state)

    restored = _service(tmp_path)._sites["site-a"].state

    assert restored.last_telemetry is None
    assert restored.soe_kwh is None
    assert restored.counters == {}
    assert restored.observe_counter("meter_import_ac", 11.0, T0) is None
    assert restored.counters["meter_import_ac"] == (11.0, T0)
