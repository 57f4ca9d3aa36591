"""The simulated SunSpec device itself: its server, its registers and its physics."""

from __future__ import annotations

import pytest

from bess_dispatch_core.sunspec import (
    ModbusLink,
    SunSpecModbusExceptionError,
    load_model_definition,
)
from simulators.sunspec_simulation import ManualClock, SunSpecSimulation
from tests.plugins.sunspec_device import SunSpecDeviceServer


async def test_server_serves_the_marker_and_chain_end(sunspec_device: SunSpecDeviceServer) -> None:
    simulation = sunspec_device.simulation
    assert sunspec_device.host == "127.0.0.1"
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        assert await link.read_registers(40000, 2) == [0x5375, 0x6E53]
        assert await link.read_registers(40002, 2) == [1, 66]
        assert await link.read_registers(simulation.end_address, 2) == [0xFFFF, 0]
        with pytest.raises(SunSpecModbusExceptionError):
            await link.read_registers(50000, 2)


async def test_simulation_follows_the_clock_between_requests(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation, clock = sunspec_device.simulation, sunspec_device.clock
    simulation.own_battery_w = 5_000.0
    cha_state = simulation.model_address(124) + load_model_definition(124).point("ChaState").offset
    async with ModbusLink(sunspec_device.host, sunspec_device.port, sunspec_device.unit_id) as link:
        before = await link.read_registers(cha_state, 1)
        clock.advance(3600)
        after = await link.read_registers(cha_state, 1)

    assert before == [500]
    assert after == [1000]  # 5 kW for an hour fills the other 5 kWh


def test_battery_power_is_the_own_wish_inside_the_window() -> None:
    simulation = SunSpecSimulation(clock=ManualClock())
    simulation.own_battery_w = 4_000.0
    assert simulation.battery_power_w == 4_000.0
    simulation.storctl_mod = 1
    simulation.in_rate_percent = 50.0
    assert simulation.battery_power_w == 2_500.0  # charge limited to 50 % of 5 kW
    simulation.storctl_mod = 3
    simulation.in_rate_percent = -20.0
    simulation.out_rate_percent = 20.0
    assert simulation.battery_power_w == -1_000.0  # forced discharge
    simulation.soc_percent = simulation.min_reserve_percent
    assert simulation.battery_power_w == 0.0  # at the reserve nothing leaves


def test_revert_happens_at_the_deadline_without_any_traffic() -> None:
    clock = ManualClock()
    simulation = SunSpecSimulation(clock=clock)
    simulation.storctl_mod = 3
    simulation.in_rate_percent = 40.0
    simulation.out_rate_percent = -40.0
    simulation.revert_timeout_s = 5
    simulation.last_control_write_s = clock()

    clock.advance(4)
    simulation.advance()
    assert simulation.battery_power_w == 2_000.0
    clock.advance(100)
    simulation.advance()

    assert (simulation.storctl_mod, simulation.revert_count) == (0, 1)
    assert simulation.soc_percent == pytest.approx(50.0 + 2_000 * 5 / 3600 / 10_000 * 100)


def test_refused_write_to_read_only_point_changes_nothing() -> None:
    simulation = SunSpecSimulation(clock=ManualClock())
    cha_state = simulation.model_address(124) + load_model_definition(124).point("ChaState").offset
    assert not simulation.write(cha_state, [900])
    assert not simulation.write(39_000, [1])
    assert simulation.writes == []
