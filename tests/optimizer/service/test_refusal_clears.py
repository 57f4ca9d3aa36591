"""A refused reading is reported in last_error until the next good round, not for ever.

``_reject`` wrote last_error and nothing cleared it: one hostile message left the site
looking broken on the plan page after every later round had succeeded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bess_dispatch_core.protocol import LifetimeTelemetry, PowerTelemetry
from bess_dispatch_core.protocol.telemetry import Unit
from bess_dispatch_core.protocol.topics import lifetime_topic, power_topic
from optimizer.service.service import OptimizerService
from optimizer.service.telemetry_guard import PV, SOE
from optimizer.simulation.day_run import demo_config, sample_site

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
SITE, GATEWAY = "site-a", "gw-1"


def _service(state_dir: Path) -> OptimizerService:
    day = [T0 + timedelta(minutes=30 * slot) for slot in range(48)]
    (state_dir / "prices.csv").write_text("".join(f"{t.isoformat()},20\n" for t in day))
    config = demo_config(
        host="127.0.0.1",
        port=1,  # never started: the readings are handed to the service's message handler
        state_dir=state_dir,
        price_file=state_dir / "prices.csv",
        sites=(sample_site(SITE, GATEWAY),),
        export_price=8.0,
    )
    return OptimizerService(config, clock=lambda: T0)


def test_a_refusal_is_reported_until_the_next_good_round(tmp_path: Path) -> None:
    service = _service(tmp_path)
    soe = PowerTelemetry.create(
        value=5.0, measured_at=T0 - timedelta(minutes=1), now=T0, unit=Unit.KWH
    )
    service._on_message(power_topic(SITE, GATEWAY, SOE), soe.to_payload())
    future = LifetimeTelemetry.create(
        value=1.0, measured_at=datetime(2100, 1, 1, tzinfo=UTC), now=T0
    )
    service._on_message(lifetime_topic(SITE, GATEWAY, PV), future.to_payload())
    refused = service.status(SITE).last_error
    assert refused is not None
    assert refused.startswith("telemetry refused")
    assert "measured_at" in refused

    service.tick(T0)

    assert service.current_plan(SITE) is not None
    assert service.status(SITE).last_error is None
