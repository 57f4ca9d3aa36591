"""The Modbus TCP link against a real pymodbus server: bad settings and spans are refused
naming the value, a request without a connection says so, a lost device is a lost
connection, and long reads are split into chunks the protocol allows."""

from __future__ import annotations

import pytest

from bess_dispatch_core.sunspec import (
    ModbusLink,
    SunSpecConnectionError,
    SunSpecError,
)
from simulators.sunspec_simulation import BASE_ADDRESS
from tests.plugins.sunspec_device import SunSpecDeviceServer


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"unit_id": 256}, "unit_id must be 0..255, got 256"),
        ({"port": 0}, "port must be 1..65535, got 0"),
        ({"timeout": 0.0}, "timeout must be positive, got 0.0"),
    ],
)
def test_bad_settings_are_refused_naming_the_value(
    settings: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ModbusLink("127.0.0.1", **settings)


async def test_bad_spans_are_refused_before_anything_is_sent(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    async with ModbusLink(sunspec_device.host, sunspec_device.port) as link:
        with pytest.raises(ValueError, match="register count must be positive, got 0"):
            await link.read_registers(BASE_ADDRESS, 0)
        with pytest.raises(ValueError, match=r"registers 65530\.\.65539 are outside 0\.\.65535"):
            await link.read_registers(65530, 10)
        with pytest.raises(ValueError, match="register count must be positive"):
            await link.write_registers(BASE_ADDRESS, [])
    assert sunspec_device.simulation.writes == []


async def test_a_request_without_a_connection_says_so(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    link = ModbusLink(sunspec_device.host, sunspec_device.port)
    with pytest.raises(SunSpecConnectionError, match="not connected"):
        await link.read_registers(BASE_ADDRESS, 2)


async def test_a_long_read_is_split_and_a_lost_device_is_an_error(
    sunspec_device: SunSpecDeviceServer,
) -> None:
    link = ModbusLink(sunspec_device.host, sunspec_device.port, timeout=0.5)
    await link.connect()
    try:
        image = sunspec_device.simulation.register_image()
        # More than one request may carry (125 registers): the chunks join up.
        assert await link.read_registers(BASE_ADDRESS, 300) == image[:300]
        await sunspec_device.stop()
        with pytest.raises(SunSpecError, match=f"{sunspec_device.port}"):
            await link.read_registers(BASE_ADDRESS, 2)
    finally:
        link.close()
        await sunspec_device.start()
