"""The setpoint refresher against the real pymodbus server: renewals keep the controls,
a stopped gateway lets the inverter revert by itself, outages are reported once."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bess_dispatch_core.gateway.actuator import ActuatorUnavailable
from bess_dispatch_core.gateway.control_law import ControlDecision, ControlSource
from bess_dispatch_core.gateway.modbus_actuator import ModbusStorageActuator
from bess_dispatch_core.gateway.watchdog import SetpointRefresher
from bess_dispatch_core.protocol.command import ControlMode
from bess_dispatch_core.sunspec import ModbusLink, refresh_model, scan_device
from simulators.sunspec_simulation import ManualClock
from tests.plugins.sunspec_device import SunSpecDeviceServer

REVERT_S = 60
REFRESH_S = 30.0


def setpoint(kw: float) -> ControlDecision:
    return ControlDecision(ControlMode.SETPOINT, ControlSource.P2, kw, 5.0, 5.0, frozenset())


NO_DISCHARGE = ControlDecision(
    ControlMode.NO_DISCHARGE, ControlSource.P1, None, 5.0, 0.0, frozenset()
)


class DeviceTime:
    """The refresher's sleep on a simulated clock: time passes only as the test grants it."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.naps: list[float] = []
        self._budget = 0.0
        self._granted = asyncio.Event()
        self._parked = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        remaining = seconds
        while True:
            step = min(remaining, self._budget)
            self.clock.advance(step)
            self._budget -= step
            remaining -= step
            if remaining <= 0:
                return
            self._granted.clear()
            self._parked.set()
            await self._granted.wait()

    async def settle(self) -> None:
        """Until the refresher waits for time not granted yet (it has done what it can)."""
        self._parked.clear()
        async with asyncio.timeout(2.0):
            await self._parked.wait()

    async def run_for(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass for the refresher."""
        self._budget += seconds
        self._parked.clear()
        self._granted.set()
        async with asyncio.timeout(2.0):
            await self._parked.wait()


def actuator_for(device: SunSpecDeviceServer, *, timeout: float = 1.0) -> ModbusStorageActuator:
    link = ModbusLink(device.host, device.port, device.unit_id, timeout=timeout)
    return ModbusStorageActuator(link, revert_after_s=REVERT_S)


def refresher_for(
    actuator: ModbusStorageActuator, time: DeviceTime, events: list[bool] | None = None
) -> SetpointRefresher:
    return SetpointRefresher(
        actuator,
        refresh_s=REFRESH_S,
        revert_after_s=actuator.revert_after_s,
        on_availability=None if events is None else events.append,
        sleep=time.sleep,
        clock=time.clock,
    )


def health(refresher: SetpointRefresher) -> tuple[bool, str | None]:
    return refresher.available, refresher.last_error


def control_write_times(device: SunSpecDeviceServer) -> list[float]:
    return [at for at, names in device.simulation.writes if "StorCtl_Mod" in names]


@pytest.mark.parametrize("refresh_s", [60.0, 61.0])
def test_refresh_must_be_shorter_than_the_revert_timeout(refresh_s: float) -> None:
    with pytest.raises(ValueError, match=r"refresh_s \(.*\) must be shorter than the revert"):
        SetpointRefresher(
            ModbusStorageActuator(ModbusLink("127.0.0.1")), refresh_s=refresh_s, revert_after_s=60
        )


@pytest.mark.parametrize("refresh_s", [0.0, -1.0, float("nan"), float("inf")])
def test_refresh_must_be_positive(refresh_s: float) -> None:
    with pytest.raises(ValueError, match="refresh_s must be a finite number > 0"):
        SetpointRefresher(ModbusStorageActuator(ModbusLink("127.0.0.1")), refresh_s=refresh_s)


async def test_renewals_keep_a_setpoint_across_many_revert_periods(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation = sunspec_device.simulation
    time = DeviceTime(sunspec_device.clock)
    actuator = actuator_for(sunspec_device)
    refresher = refresher_for(actuator, time)
    refresher.submit(setpoint(2.0))
    refresher.start()
    try:
        await time.settle()
        assert simulation.battery_power_w == pytest.approx(2_000.0)
        await time.run_for(5 * REVERT_S)
    finally:
        await refresher.stop()
        actuator.close()

    assert simulation.revert_count == 0
    assert (simulation.storctl_mod, simulation.revert_timeout_s) == (3, REVERT_S)
    assert simulation.battery_power_w == pytest.approx(2_000.0)
    writes = control_write_times(sunspec_device)
    assert len(writes) == 11  # at start, then every 30 s for 300 s
    assert max(b - a for a, b in itertools.pairwise(writes)) == REFRESH_S
    # 2 kW for 300 s into 10 kWh.
    assert simulation.soc_percent == pytest.approx(50.0 + 2_000 * 300 / 3600 / 10_000 * 100)


async def test_the_inverter_reverts_by_itself_when_the_gateway_stops(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation, clock = sunspec_device.simulation, sunspec_device.clock
    simulation.own_battery_w = -1_000.0  # left alone, the inverter would discharge
    time = DeviceTime(clock)
    actuator = actuator_for(sunspec_device)
    refresher = refresher_for(actuator, time)
    refresher.submit(setpoint(2.0))
    refresher.start()
    try:
        await time.settle()
        await time.run_for(2 * REVERT_S + 10)
    finally:
        # The gateway stops: no more renewals, its connection is gone.
        await refresher.stop()
        actuator.close()
    assert not refresher.running
    last_write = simulation.last_control_write_s
    assert last_write is not None

    async with ModbusLink(sunspec_device.host, sunspec_device.port) as reader:
        storage = (await scan_device(reader)).storage
        assert storage is not None
        clock.advance(last_write + REVERT_S - 0.5 - clock())
        held = await refresh_model(reader, storage)
        assert held["StorCtl_Mod"] == 3
        assert held["InWRte"] == pytest.approx(40.0)
        assert simulation.battery_power_w == pytest.approx(2_000.0)

        clock.advance(1.0)
        reverted = await refresh_model(reader, storage)
    assert (reverted["StorCtl_Mod"], reverted["InWRte"], reverted["OutWRte"]) == (0, 100, 100)
    assert simulation.revert_count == 1
    assert simulation.battery_power_w == pytest.approx(-1_000.0)  # its own control again


async def test_a_new_decision_is_applied_at_once(sunspec_device: SunSpecDeviceServer) -> None:
    simulation, clock = sunspec_device.simulation, sunspec_device.clock
    simulation.own_battery_w = -1_500.0
    time = DeviceTime(clock)
    actuator = actuator_for(sunspec_device)
    refresher = refresher_for(actuator, time)
    refresher.submit(setpoint(2.0))
    refresher.start()
    try:
        await time.settle()
        await time.run_for(10)  # part of the way to the next renewal
        started = clock()
        refresher.submit(NO_DISCHARGE)
        await time.settle()
        assert clock() == started  # no waiting for the renewal
        assert refresher.decision is NO_DISCHARGE
        assert (simulation.storctl_mod, simulation.out_rate_percent) == (3, 0.0)
        assert simulation.battery_power_w == 0.0

        # The same decision again is no news: it waits for its renewal.
        writes = len(control_write_times(sunspec_device))
        refresher.submit(NO_DISCHARGE)
        await time.run_for(REFRESH_S - 1)
        assert len(control_write_times(sunspec_device)) == writes
        await time.run_for(1)
        assert len(control_write_times(sunspec_device)) == writes + 1
    finally:
        await refresher.stop()
        actuator.close()
    # The renewal after a new decision counts from that decision.
    assert time.naps == [REFRESH_S, REFRESH_S, REFRESH_S]


async def test_an_unreachable_battery_is_reported_once_and_its_recovery_too(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation, server = sunspec_device.simulation, sunspec_device.server
    events: list[bool] = []
    time = DeviceTime(sunspec_device.clock)
    # A short request timeout: the first renewal after the stop may go to the dead connection.
    actuator = actuator_for(sunspec_device, timeout=0.2)
    refresher = refresher_for(actuator, time, events)
    refresher.submit(setpoint(1.5))
    refresher.start()
    try:
        await time.settle()
        assert (events, health(refresher)) == ([], (True, None))

        await server.shutdown()
        await time.run_for(REFRESH_S)
        assert events == [False]
        available, error = health(refresher)
        assert not available
        assert "cannot connect" in str(error)
        await time.run_for(2 * REFRESH_S)  # more failed renewals: still one report
        assert events == [False]

        await server.serve_forever(background=True)
        await time.run_for(REFRESH_S)
        assert events == [False, True]
        assert health(refresher) == (True, None)
        await time.run_for(2 * REFRESH_S)
        assert events == [False, True]
    finally:
        await refresher.stop()
        actuator.close()
    # Unrenewed during the outage, the inverter had reverted; the setpoint is back.
    assert simulation.revert_count == 1
    assert simulation.battery_power_w == pytest.approx(1_500.0)


class FlakyActuator:
    """Fails as told, records what it applied (for the refresher's own error handling)."""

    def __init__(self, failures: list[BaseException | None]) -> None:
        self.failures = failures
        self.applied: list[ControlDecision] = []

    async def apply(self, decision: ControlDecision) -> None:
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        self.applied.append(decision)

    async def release(self) -> None:
        return None


async def test_a_bug_in_an_actuator_does_not_end_the_renewals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    actuator = FlakyActuator([RuntimeError("boom"), ActuatorUnavailable("still down"), None])
    events: list[bool] = []
    time = DeviceTime(ManualClock())
    refresher = SetpointRefresher(
        actuator, on_availability=events.append, sleep=time.sleep, clock=time.clock
    )
    refresher.submit(setpoint(1.0))
    refresher.start()
    try:
        await time.settle()
        assert (events, refresher.last_error) == ([False], "RuntimeError: boom")
        assert "applying" in caplog.text
        await time.run_for(30)
        assert (events, refresher.last_error) == ([False], "still down")
        await time.run_for(30)
        assert events == [False, True]
        assert actuator.applied == [setpoint(1.0)]
    finally:
        await refresher.stop()


async def test_an_apply_that_hangs_counts_as_a_failure() -> None:
    class HangingActuator(FlakyActuator):
        async def apply(self, decision: ControlDecision) -> None:
            await asyncio.Event().wait()

    events: list[bool] = []
    reported = asyncio.Event()

    def on_availability(available: bool) -> None:
        events.append(available)
        reported.set()

    refresher = SetpointRefresher(
        HangingActuator([]), refresh_s=0.02, on_availability=on_availability
    )
    refresher.submit(setpoint(1.0))
    refresher.start()
    try:
        async with asyncio.timeout(1.0):
            await reported.wait()
    finally:
        await refresher.stop()
    assert events == [False]
    assert refresher.last_error == "no answer within 0.02 s"


async def test_start_stop_lifecycle() -> None:
    refresher = SetpointRefresher(FlakyActuator([]))
    await refresher.stop()  # never started: nothing to do
    refresher.start()
    with pytest.raises(RuntimeError, match="already running"):
        refresher.start()
    running_before = refresher.running
    await refresher.stop()
    await refresher.stop()
    assert (running_before, refresher.running) == (True, False)
    assert refresher.decision is None
