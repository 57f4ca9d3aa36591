"""Control modes through model 124 on the real pymodbus server: registers and battery."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from bess_dispatch_core.gateway.actuator import ActuatorUnavailable
from bess_dispatch_core.gateway.control_law import ControlDecision, ControlSource
from bess_dispatch_core.gateway.modbus_actuator import ModbusStorageActuator
from bess_dispatch_core.protocol.command import ControlMode
from bess_dispatch_core.sunspec import DecodedModel, ModbusLink, refresh_model, scan_device
from tests.plugins.sunspec_device import PlainModbusServer, SunSpecDeviceServer

SETPOINT = ControlMode.SETPOINT
IDLE = ControlMode.IDLE
NO_DISCHARGE = ControlMode.NO_DISCHARGE
LIMIT_CHARGE = ControlMode.LIMIT_CHARGE
SELF_CONSUMPTION = ControlMode.SELF_CONSUMPTION


def decision(
    mode: ControlMode, setpoint: float | None = None, charge: float = 5.0, discharge: float = 5.0
) -> ControlDecision:
    return ControlDecision(mode, ControlSource.P2, setpoint, charge, discharge, frozenset())


def link_to(device: SunSpecDeviceServer | PlainModbusServer, *, unit_id: int = 1) -> ModbusLink:
    return ModbusLink(device.host, device.port, unit_id, timeout=1.0)


async def read_storage(device: SunSpecDeviceServer) -> DecodedModel:
    """Model 124 as a separate client reads it from the device."""
    async with link_to(device) as link:
        storage = (await scan_device(link)).storage
    assert storage is not None
    return storage


async def connection_noticed_lost(link: ModbusLink) -> None:
    """Let the client see the server's FIN (a stopped device resets its connections)."""
    async with asyncio.timeout(1.0):
        while link.connected:  # noqa: ASYNC110 - pymodbus offers a flag, not an event
            await asyncio.sleep(0.001)


#: (what, decision, the inverter's own wish W, (StorCtl_Mod, InWRte, OutWRte, RvrtTms), W).
MODE_CASES: list[tuple[str, ControlDecision, float, tuple[float, ...], float]] = [
    ("charge", decision(SETPOINT, 2.0), 0.0, (3, 40.0, -40.0, 60), 2_000.0),
    ("discharge", decision(SETPOINT, -3.0), 1_500.0, (3, -60.0, 60.0, 60), -3_000.0),
    ("clamped to WChaMax", decision(SETPOINT, 9.0, 9.0), 0.0, (3, 100.0, -100.0, 60), 5_000.0),
    ("idle", decision(IDLE, 0.0), -800.0, (3, 0.0, 0.0, 60), 0.0),
    (
        "no discharge holds",
        decision(NO_DISCHARGE, charge=5.0, discharge=0.0),
        -2_000.0,
        (3, 100.0, 0.0, 60),
        0.0,
    ),
    (
        "no discharge charges up to the cap",
        decision(NO_DISCHARGE, charge=2.0, discharge=4.0),
        4_000.0,
        (3, 40.0, 0.0, 60),
        2_000.0,
    ),
    (
        "limit charge caps charging",
        decision(LIMIT_CHARGE, charge=1.0, discharge=5.0),
        4_000.0,
        (3, 20.0, 100.0, 60),
        1_000.0,
    ),
    (
        "limit charge discharges within its cap",
        decision(LIMIT_CHARGE, charge=1.0, discharge=2.0),
        -2_500.0,
        (3, 20.0, 40.0, 60),
        -2_000.0,
    ),
    (
        "rates floored to the register, clamped to 100 %",
        decision(LIMIT_CHARGE, charge=1.23456, discharge=8.0),
        4_000.0,
        (3, 24.69, 100.0, 60),
        1_234.5,
    ),
    ("self-consumption releases", decision(SELF_CONSUMPTION), -800.0, (0, 100.0, 100.0, 0), -800.0),
    (
        "self-consumption keeps the hard limits",
        decision(SELF_CONSUMPTION, charge=5.0, discharge=0.0),
        -800.0,
        (3, 100.0, 0.0, 60),
        0.0,
    ),
    ("charge again", decision(SETPOINT, 1.0), 0.0, (3, 20.0, -20.0, 60), 1_000.0),
]


async def test_every_mode_lands_in_model_124_and_drives_the_battery(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation = sunspec_device.simulation
    actuator = ModbusStorageActuator(link_to(sunspec_device))
    try:
        async with link_to(sunspec_device) as reader:
            storage = (await scan_device(reader)).storage
            assert storage is not None
            # In sequence: every mode must replace whatever the previous one left.
            for what, applied, own_w, registers, battery_w in MODE_CASES:
                simulation.own_battery_w = own_w
                await actuator.apply(applied)
                storage = await refresh_model(reader, storage)
                got = tuple(
                    storage.number(name)
                    for name in ("StorCtl_Mod", "InWRte", "OutWRte", "InOutWRte_RvrtTms")
                )
                assert got == pytest.approx(registers), what
                assert simulation.battery_power_w == pytest.approx(battery_w), what

            simulation.own_battery_w = 1_200.0
            await actuator.release()
            storage = await refresh_model(reader, storage)
    finally:
        actuator.close()
    assert (storage["StorCtl_Mod"], storage["InOutWRte_RvrtTms"]) == (0, 0)
    assert simulation.battery_power_w == 1_200.0


async def test_the_revert_timeout_is_the_constructor_argument(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    simulation, clock = sunspec_device.simulation, sunspec_device.clock
    actuator = ModbusStorageActuator(link_to(sunspec_device), revert_after_s=10)
    try:
        await actuator.apply(decision(NO_DISCHARGE, charge=5.0, discharge=0.0))
    finally:
        actuator.close()
    simulation.own_battery_w = -1_000.0
    assert simulation.revert_timeout_s == 10
    clock.advance(9.9)
    simulation.advance()
    assert simulation.battery_power_w == 0.0
    clock.advance(0.2)
    assert (await read_storage(sunspec_device))["StorCtl_Mod"] == 0
    assert simulation.battery_power_w == -1_000.0


@pytest.mark.parametrize("revert_after_s", [0, -5, 0xFFFF])
def test_revert_timeout_outside_the_register_is_refused(revert_after_s: int) -> None:
    with pytest.raises(ValueError, match=r"revert_after_s must be 1\.\.65534"):
        ModbusStorageActuator(ModbusLink("127.0.0.1", 1502), revert_after_s=revert_after_s)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens once the probe is closed


async def test_a_closed_port_is_unavailable(socket_enabled: None) -> None:
    actuator = ModbusStorageActuator(ModbusLink("127.0.0.1", _closed_port(), timeout=1.0))
    with pytest.raises(ActuatorUnavailable, match="cannot apply SETPOINT: cannot connect"):
        await actuator.apply(decision(SETPOINT, 1.0))
    with pytest.raises(ActuatorUnavailable, match="cannot release the battery"):
        await actuator.release()
    actuator.close()


async def test_a_device_without_storage_controls_refuses(
    modbus_server_without_sunspec: PlainModbusServer,
) -> None:
    actuator = ModbusStorageActuator(link_to(modbus_server_without_sunspec))
    with pytest.raises(ActuatorUnavailable, match="no SunSpec marker"):
        await actuator.apply(decision(IDLE, 0.0))
    actuator.close()


async def test_a_wrong_unit_id_refuses(sunspec_device: SunSpecDeviceServer) -> None:
    actuator = ModbusStorageActuator(link_to(sunspec_device, unit_id=7))
    with pytest.raises(ActuatorUnavailable, match="no device answers on unit id 7"):
        await actuator.apply(decision(IDLE, 0.0))
    actuator.close()


async def test_a_lost_connection_gets_one_reconnect(sunspec_device: SunSpecDeviceServer) -> None:
    simulation, server = sunspec_device.simulation, sunspec_device.server
    link = link_to(sunspec_device)
    actuator = ModbusStorageActuator(link)
    try:
        await actuator.apply(decision(SETPOINT, 1.0))
        # The device restarts: the connection is gone, the device is back.
        await server.shutdown()
        await connection_noticed_lost(link)
        await server.serve_forever(background=True)
        await actuator.apply(decision(SETPOINT, -2.0))
        assert simulation.battery_power_w == pytest.approx(-2_000.0)

        # The device stops for good: one attempt, then unavailable.
        await server.shutdown()
        await connection_noticed_lost(link)
        with pytest.raises(ActuatorUnavailable, match="cannot connect"):
            await actuator.apply(decision(SETPOINT, 3.0))
        assert simulation.battery_power_w == pytest.approx(-2_000.0)

        await server.serve_forever(background=True)
        await actuator.apply(decision(SETPOINT, 3.0))
        assert simulation.battery_power_w == pytest.approx(3_000.0)
    finally:
        actuator.close()


async def test_a_request_failing_on_a_dead_connection_is_retried_on_a_new_one(
    sunspec_device: SunSpecDeviceServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The device restarts and the client has not seen it yet: the write on the old
    # connection fails (no answer), the retry goes over a new connection.
    server = sunspec_device.server
    link = ModbusLink(sunspec_device.host, sunspec_device.port, timeout=0.2)
    actuator = ModbusStorageActuator(link)

    async def restart() -> None:
        await asyncio.sleep(0.05)
        await server.serve_forever(background=True)

    try:
        await actuator.apply(decision(SETPOINT, 1.0))
        await server.shutdown()
        assert link.connected
        with caplog.at_level(logging.DEBUG, "bess_dispatch_core.gateway.modbus_actuator"):
            async with asyncio.TaskGroup() as group:
                group.create_task(restart())
                await actuator.apply(decision(SETPOINT, 2.5))
    finally:
        actuator.close()
    assert "reconnecting once" in caplog.text
    assert sunspec_device.simulation.battery_power_w == pytest.approx(2_500.0)
