"""The demo site's simulated day on a real broker, priced from the sample profiles' CSV."""

from __future__ import annotations

from pathlib import Path

from optimizer.simulation.day_run import DayRun, demo_config, sample_site
from optimizer.simulation.sample_profiles import DayProfiles
from tests.plugins.mosquitto_broker import Broker


def demo_day_run(
    broker: Broker, profiles: DayProfiles, tmp_path: Path, *, soe_kwh: float
) -> DayRun:
    """Day 1 of ``profiles`` with day 0 as history; not started yet."""
    price_file = tmp_path / "prices.csv"
    profiles.write_price_csv(price_file)
    config = demo_config(
        host=broker.host,
        port=broker.port,
        state_dir=tmp_path / "state",
        price_file=price_file,
        sites=(sample_site(),),
        export_price=profiles.export_price,
    )
    day = profiles.day(1)
    return DayRun.create(config, day, soe_kwh=soe_kwh, start=day.start, history=profiles.day(0))
