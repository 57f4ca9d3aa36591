"""One simulated day, service and simulated site over a real broker, in accelerated time.

Used by ``python -m optimizer demo`` and the end-to-end tests. Every step (5 simulated
minutes) the site simulates up to now and sends its telemetry, the service ticks, and the
runner waits until the messages of that step have crossed the broker (bounded waits), so a
day takes seconds and stays deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bess_dispatch_core.link.mqtt_link import BrokerSettings
from optimizer.service.service import OptimizerService
from optimizer.settings.broker import BrokerMode, BrokerOptions
from optimizer.settings.options import AddonOptions, LogLevel
from optimizer.settings.service_config import (
    HomeAssistantApi,
    MqttConnection,
    ServiceConfig,
    WebSettings,
)
from optimizer.settings.site import SiteSettings, UseCase
from optimizer.settings.tariff import SpotFormat, TariffKind, TariffSettings

from .clock import SimulatedClock
from .sample_profiles import DayProfiles
from .simulated_site import SimulatedSite

STEP = timedelta(minutes=5)
_WAIT_S = 2.0


def sample_site(site_id: str = "demo-site", gateway_id: str = "gw-1") -> SiteSettings:
    """A 10 kWh / 3 kW home battery next to 4 kWp of PV."""
    return SiteSettings(
        site_id=site_id,
        gateway_id=gateway_id,
        use_case=UseCase.AC_LINK,
        battery_capacity_kwh=10.0,
        max_charge_kw=3.0,
        max_discharge_kw=3.0,
        min_soe_percent=10.0,
        max_soe_percent=95.0,
        round_trip_efficiency=0.9,
        has_load=True,
        gateway_password=None,
    )


def demo_config(
    *,
    host: str,
    port: int,
    state_dir: Path,
    price_file: Path,
    sites: tuple[SiteSettings, ...],
    export_price: float,
    timezone: str = "Asia/Tokyo",
    test_mode: bool = True,
) -> ServiceConfig:
    options = AddonOptions(
        sites=sites,
        tariff=TariffSettings(
            kind=TariffKind.SPOT_FILE,
            spot_source=str(price_file),
            spot_format=SpotFormat.TIMESTAMP_PRICE,
            tou_periods=(),
            entity_id=None,
            export_price=export_price,
            currency="JPY",
        ),
        broker=BrokerOptions(mode=BrokerMode.OWN, tls=False, certfile="", keyfile=""),
        log_level=LogLevel.INFO,
        test_mode=test_mode,
    )
    return ServiceConfig(
        options=options,
        mqtt=MqttConnection(host, port, None, None, False, "bess-optimizer-demo"),
        web=WebSettings("127.0.0.1", 0, ()),
        home_assistant=HomeAssistantApi("http://127.0.0.1:8123/api", "SUPERVISOR_TOKEN"),
        timezone=timezone,
        state_dir=state_dir,
    )


def wait_for(condition: Callable[[], bool], timeout: float = _WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)
    return True


@dataclass
class DayRun:
    """A service and one simulated site on the same simulated clock."""

    service: OptimizerService
    site: SimulatedSite
    clock: SimulatedClock

    @classmethod
    def create(
        cls,
        config: ServiceConfig,
        profiles: DayProfiles,
        *,
        soe_kwh: float,
        start: datetime,
        history: DayProfiles | None = None,
    ) -> DayRun:
        clock = SimulatedClock(start)
        service = OptimizerService(config, clock=clock)
        settings = config.options.sites[0]
        if history is not None:
            service.seed_profiles(settings.site_id, history.pv_kw, history.load_kw)
        broker = BrokerSettings(
            host=config.mqtt.host,
            port=config.mqtt.port,
            client_id=f"sim-{settings.site_id}",
            keepalive=30,
            connect_timeout=5.0,
        )
        site = SimulatedSite(settings, broker, profiles, soe_kwh=soe_kwh, start=start)
        return cls(service, site, clock)

    def start(self) -> None:
        self.service.start()
        self.site.start()
        wait_for(lambda: self.service.link.connected and self.site.link.connected, 10.0)

    def stop(self) -> None:
        self.site.stop()
        self.service.stop()

    def step(self, now: datetime) -> None:
        """Advance everything to ``now`` and let the step's messages arrive."""
        self.clock.set(now)
        site_id = self.site.settings.site_id
        self.site.advance(now)
        if self.site.telemetry_enabled and self.site.link.connected and self.service.link.connected:
            wait_for(lambda: self.service.readings_at(site_id, now))
        self.service.tick(now)
        if self.service.link.connected and self.site.link.connected:
            wait_for(lambda: self.service.awaiting_responses(site_id) == 0)

    def run(
        self,
        start: datetime,
        end: datetime,
        progress: Callable[[datetime], None] | None = None,
        between: Callable[[datetime], None] | None = None,
    ) -> None:
        now = start
        while now <= end:
            if between is not None:
                between(now)
            self.step(now)
            if progress is not None:
                progress(now)
            now += STEP
