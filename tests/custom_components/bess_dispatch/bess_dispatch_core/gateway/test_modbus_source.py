"""SunSpecPoller against the real pymodbus server: readings -> pipeline -> valid telemetry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bess_dispatch_core.gateway.energy_counter import PowerFlow
from bess_dispatch_core.gateway.metric_source import SourceQuantity
from bess_dispatch_core.gateway.modbus_source import (
    SunSpecPoller,
    default_metric_map,
    metric_sources,
)
from bess_dispatch_core.gateway.telemetry_pipeline import TelemetryPipeline
from bess_dispatch_core.protocol import MetricKind, TopicKind, UseCase, required_metrics
from bess_dispatch_core.sunspec import ModbusLink, PointValue, scan_device
from tests.helpers.asyncapi import validated
from tests.plugins.sunspec_device import SunSpecDeviceServer

SITE, GATEWAY = "site-1", "gw-1"

AC_LINK_MAP = {
    "meter_import_ac": "grid_import_energy_wh",
    "meter_export_ac": "grid_export_energy_wh",
    "battery_soe": "battery_soc_percent",
    "battery_energy_remaining": "battery_capacity_wh",
    "solar_net_generation_ac": "inverter_lifetime_energy_wh",
    "battery_charge_ac": "battery_power_w",
    "battery_discharge_ac": "battery_power_w",
}
AC_LINK_LOAD = {
    "load_demand_ac": "ac_coupled_load_power_w",
    "grid_to_load_ac": "ac_coupled_grid_to_load_power_w",
}


def link_to(device: SunSpecDeviceServer) -> ModbusLink:
    return ModbusLink(device.host, device.port, device.unit_id, timeout=0.5)


def device_now(device: SunSpecDeviceServer) -> datetime:
    """The simulation's clock as a datetime: readings carry the device's time."""
    return datetime.fromtimestamp(device.clock(), UTC)


class Recorder:
    """What the poller reported."""

    def __init__(self) -> None:
        self.readings: list[tuple[str, float | None, datetime]] = []
        self.availability: list[tuple[bool, str | None]] = []
        self.changed = asyncio.Event()

    def reading(self, metric: str, value: float | None, at: datetime) -> None:
        self.readings.append((metric, value, at))
        self.changed.set()

    def available(self, available: bool, reason: str | None) -> None:
        self.availability.append((available, reason))
        self.changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (at most 5 s) until a callback makes ``condition`` true."""
        async with asyncio.timeout(5.0):
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    def last(self) -> dict[str, float | None]:
        return {metric: value for metric, value, _ in self.readings}


def poller_for(device: SunSpecDeviceServer, recorder: Recorder, **options: float) -> SunSpecPoller:
    return SunSpecPoller(
        link_to(device),
        metrics=AC_LINK_MAP,
        interval_s=options.pop("interval_s", 60.0),
        on_reading=recorder.reading,
        on_availability=recorder.available,
        clock=lambda: device_now(device),
        **options,
    )


async def test_default_map_per_use_case_from_the_scanned_device(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    async with link_to(sunspec_device) as link:
        device = await scan_device(link)
    assert default_metric_map(device, UseCase.AC_LINK, has_load=False) == AC_LINK_MAP
    # With a load, the AC-link balance at the meter gives the load metrics.
    assert default_metric_map(device, UseCase.AC_LINK) == AC_LINK_MAP | AC_LINK_LOAD
    common = {name: AC_LINK_MAP[name] for name in list(AC_LINK_MAP)[:4]}
    assert default_metric_map(device, "standalone") == common
    # A hybrid inverter's balance does not give the load: left to other sources.
    assert default_metric_map(device, UseCase.DC_LINK) == common | {
        "inverter_net_output_ac": "inverter_lifetime_energy_wh",
        "battery_charge_dc": "battery_power_w",
        "battery_to_inverter_dc": "battery_power_w",
    }
    # Every proposal is a source the pipeline accepts.
    for use_case in UseCase:
        assert metric_sources(default_metric_map(device, use_case))
    load = {s.metric: s for s in metric_sources(AC_LINK_LOAD)}
    assert {s.quantity for s in load.values()} == {SourceQuantity.POWER}
    assert {s.flow for s in load.values()} == {None}  # one-way: never negative


def test_metric_sources_give_quantity_unit_and_flow() -> None:
    sources = {source.metric: source for source in metric_sources(AC_LINK_MAP)}
    assert sources["meter_import_ac"].quantity is SourceQuantity.ENERGY
    assert sources["meter_import_ac"].unit == "Wh"
    assert sources["battery_soe"].quantity is SourceQuantity.SOC_PERCENT
    assert sources["battery_energy_remaining"].quantity is SourceQuantity.ENERGY_STATE
    assert sources["battery_charge_ac"].flow is PowerFlow.POSITIVE
    assert sources["battery_discharge_ac"].flow is PowerFlow.NEGATIVE
    grid = {s.metric: s.flow for s in metric_sources({"meter_export_ac": "grid_power_w"})}
    assert grid == {"meter_export_ac": PowerFlow.NEGATIVE}


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        (
            {"battery_soe": "battery_charge_status"},
            "battery_soe: reading 'battery_charge_status' is",
        ),
        ({"meter_import_ac": "nope"}, "meter_import_ac: reading 'nope' is unknown"),
        ({"battery_soe": "battery_power_w"}, "battery_soe: quantity power"),
        ({"no_such_metric": "grid_power_w"}, "unknown metric 'no_such_metric'"),
    ],
)
def test_bad_maps_are_refused_naming_the_metric(metrics: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        metric_sources(metrics)
    with pytest.raises(ValueError, match=problem):
        SunSpecPoller(ModbusLink("127.0.0.1"), metrics=metrics, interval_s=1.0, on_reading=print)


async def test_polls_feed_every_required_ac_link_metric(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation, clock = sunspec_device.simulation, sunspec_device.clock
    simulation.own_battery_w = 2_000.0  # charging: every flow of the site moves
    clock.advance(200)  # 1_000_200 s: a multiple of the 5-minute window
    recorder = Recorder()
    poller = poller_for(sunspec_device, recorder)
    pipeline = TelemetryPipeline(
        site_id=SITE,
        gateway_id=GATEWAY,
        sources=metric_sources(AC_LINK_MAP),
        capacity_kwh=simulation.capacity_wh / 1000,
    )
    sent = []
    try:
        for _ in range(11):  # ten minutes, one poll a minute
            now = device_now(sunspec_device)
            assert await poller.poll_once(now)
            for metric, value, at in recorder.readings:
                pipeline.observe(metric, value, at)
            recorder.readings.clear()
            sent += pipeline.due(now)
            clock.advance(60)
    finally:
        await poller.stop()
    assert recorder.availability == [(True, None)]
    assert poller.device is not None
    assert poller.device.model_ids == (1, 103, 124, 203, 802)

    documents = [(message, validated(message.topic, message.payload)[1]) for message in sent]
    for item in required_metrics(UseCase.AC_LINK, has_load=False):
        kinds = {message.kind for message, _ in documents if message.metric == item.name}
        expected = {TopicKind.LIFETIME, TopicKind.POWER}
        if item.kind is MetricKind.ENERGY:
            expected = {TopicKind.LIFETIME, TopicKind.WINDOWED}
            if AC_LINK_MAP[item.name] == "battery_power_w":
                expected.add(TopicKind.POWER)
        assert kinds == expected, item.name

    def lifetimes(metric: str) -> list[float]:
        return [
            d["measurement_value"]["value"]
            for m, d in documents
            if m.metric == metric and m.kind is TopicKind.LIFETIME
        ]

    # 2 kW charging for ten minutes = 1/3 kWh; PV 3 kW - 2 kW charge = 1 kW out of the
    # inverter, the load takes 1 kW: no grid flow. The meters' lifetime continues from 0.
    assert lifetimes("battery_charge_ac")[-1] == pytest.approx(2.0 / 6, abs=1e-6)
    assert lifetimes("battery_discharge_ac")[-1] == pytest.approx(0.0, abs=1e-9)
    assert lifetimes("solar_net_generation_ac")[-1] == pytest.approx(1.0 / 6, abs=2e-3)
    assert set(lifetimes("battery_energy_remaining")) == {10.0}  # WHRtg 10 kWh
    # SoC 50 % of 10 kWh, charged at 2 kW since the clock started (200 s before the first
    # poll); SoC has 0.1 % resolution.
    soe = lifetimes("battery_soe")
    assert soe[0] == pytest.approx(5.0 + 2.0 * 200 / 3600, abs=0.011)
    assert soe[-1] == pytest.approx(5.0 + 2.0 * 800 / 3600, abs=0.011)


async def test_device_outage_reports_none_and_availability_once_each_way(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    server = sunspec_device.server
    recorder = Recorder()
    poller = poller_for(sunspec_device, recorder)
    try:
        assert await poller.poll_once(device_now(sunspec_device))
        assert all(value is not None for value in recorder.last().values())
        assert set(recorder.last()) == set(AC_LINK_MAP)

        await server.shutdown()
        for _ in range(3):
            recorder.readings.clear()
            assert not await poller.poll_once(device_now(sunspec_device))
            assert recorder.last() == dict.fromkeys(AC_LINK_MAP)
        assert [available for available, _ in recorder.availability] == [True, False]
        reason = recorder.availability[1][1]
        assert reason is not None
        assert f"{sunspec_device.port}" in reason
        assert poller.available is False

        await server.serve_forever(background=True)
        recorder.readings.clear()
        assert await poller.poll_once(device_now(sunspec_device))
        assert all(value is not None for value in recorder.last().values())
        assert [available for available, _ in recorder.availability] == [True, False, True]
    finally:
        await poller.stop()


async def test_unimplemented_point_is_reported_as_none(
    sunspec_device: SunSpecDeviceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The device's meter does not implement TotWhExp (it serves the "not implemented"
    # marker): that metric reads None while the others keep coming.
    simulation = sunspec_device.simulation
    values_of = simulation.point_values

    def without_export(model_id: int) -> dict[str, PointValue]:
        values = dict(values_of(model_id))
        if model_id == 203:
            del values["TotWhExp"]
        return values

    monkeypatch.setattr(simulation, "point_values", without_export)
    recorder = Recorder()
    poller = poller_for(sunspec_device, recorder)
    try:
        assert await poller.poll_once(device_now(sunspec_device))
    finally:
        await poller.stop()
    values = recorder.last()
    assert values["meter_export_ac"] is None
    assert values["meter_import_ac"] == 500_000.0
    assert all(v is not None for m, v in values.items() if m != "meter_export_ac")
    assert recorder.availability == [(True, None)]


async def test_running_poller_backs_off_and_stop_leaves_nothing_running(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    server = sunspec_device.server
    recorder = Recorder()
    poller = poller_for(sunspec_device, recorder, interval_s=0.02, max_retry_s=0.1)

    await poller.start()
    await poller.start()  # idempotent
    running_after_start = poller.running
    try:
        await recorder.until(lambda: len(recorder.availability) == 1)
        await server.shutdown()
        await recorder.until(lambda: len(recorder.availability) == 2)
        # Retries go on (with backoff), reporting None, without repeating the alert.
        retried = len(recorder.readings) + 3 * len(AC_LINK_MAP)
        await recorder.until(lambda: len(recorder.readings) >= retried)
        assert [available for available, _ in recorder.availability] == [True, False]
        await server.serve_forever(background=True)
        await recorder.until(lambda: len(recorder.availability) == 3)
    finally:
        await poller.stop()
    assert running_after_start
    assert [available for available, _ in recorder.availability] == [True, False, True]
    assert not poller.running
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert not [task for task in others if "sunspec poller" in task.get_name()]
    count = len(recorder.readings)
    await asyncio.sleep(0.1)
    assert len(recorder.readings) == count  # nothing polls after stop()
    await poller.stop()  # idempotent


def test_bad_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval_s must be > 0"):
        SunSpecPoller(ModbusLink("127.0.0.1"), metrics=AC_LINK_MAP, interval_s=0, on_reading=print)
    with pytest.raises(ValueError, match="metrics: map at least one metric"):
        SunSpecPoller(ModbusLink("127.0.0.1"), metrics={}, interval_s=1, on_reading=print)
