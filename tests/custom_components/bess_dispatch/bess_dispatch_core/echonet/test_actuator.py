"""EchonetBatteryActuator against the uEcho battery: the decision -> operation mode and
power settings table, writes seen by the device, re-assertion, release to auto, refusals
and silence as ActuatorUnavailable (the gateway's BATTERY_UNREACHABLE)."""

from __future__ import annotations

import re

import pytest

from bess_dispatch_core.echonet.actuator import EchonetBatteryActuator, echonet_command
from bess_dispatch_core.echonet.client import EchonetClient
from bess_dispatch_core.echonet.objects import OperationMode
from bess_dispatch_core.gateway.actuator import ActuatorUnavailable
from bess_dispatch_core.gateway.control_law import ControlDecision, ControlSource
from bess_dispatch_core.gateway.watchdog import SetpointRefresher
from bess_dispatch_core.protocol.command import ControlMode
from tests.plugins.echonet_device import STORAGE_BATTERY, SimulatedEchonetNode, until

EB, EC, DA = 0xEB, 0xEC, 0xDA


def decision(
    mode: ControlMode,
    setpoint_kw: float | None = None,
    *,
    charge: float = 3.0,
    discharge: float = 3.0,
    source: ControlSource = ControlSource.P2,
) -> ControlDecision:
    return ControlDecision(mode, source, setpoint_kw, charge, discharge, frozenset())


@pytest.mark.parametrize(
    ("given", "mode", "settings"),
    [
        (decision(ControlMode.SETPOINT, 2.5), OperationMode.CHARGING, {EB: 2500}),
        (decision(ControlMode.SETPOINT, -1.2345), OperationMode.DISCHARGING, {EC: 1234}),
        (decision(ControlMode.SETPOINT, 0.0), OperationMode.STANDBY, {}),
        (decision(ControlMode.SETPOINT, 0.0004), OperationMode.STANDBY, {}),  # < 1 W
        (decision(ControlMode.IDLE, 0.0), OperationMode.STANDBY, {}),
        (decision(ControlMode.NO_DISCHARGE), OperationMode.STANDBY, {}),
        (
            decision(ControlMode.SELF_CONSUMPTION, charge=2.0, discharge=1.5),
            OperationMode.AUTO,
            {EB: 2000, EC: 1500},
        ),
        (decision(ControlMode.SELF_CONSUMPTION, discharge=0.0), OperationMode.STANDBY, {}),
        (
            decision(ControlMode.LIMIT_CHARGE, charge=0.5),
            OperationMode.AUTO,
            {EB: 500, EC: 3000},
        ),
        (
            decision(ControlMode.SELF_CONSUMPTION, source=ControlSource.FALLBACK),
            OperationMode.AUTO,
            {},
        ),
    ],
)
def test_decision_to_operation_mode_and_power_settings(
    given: ControlDecision, mode: OperationMode, settings: dict[int, int]
) -> None:
    assert echonet_command(given) == (mode, settings)


def test_setpoint_without_power_is_refused() -> None:
    with pytest.raises(ValueError, match=r"setpoint_kw is required"):
        echonet_command(decision(ControlMode.SETPOINT, None))


async def test_writes_are_seen_by_the_device_power_before_mode(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    actuator = EchonetBatteryActuator(echonet_client, echonet_node.host)
    await actuator.apply(decision(ControlMode.SETPOINT, 2.5))
    writes = [(w.epc, w.data) for w in echonet_node.writes_to(STORAGE_BATTERY)]
    assert writes == [(EB, (2500).to_bytes(4, "big")), (DA, b"\x42")]
    await actuator.apply(decision(ControlMode.SETPOINT, -1.8))
    assert echonet_node.value(STORAGE_BATTERY, EC) == (1800).to_bytes(4, "big")
    assert echonet_node.value(STORAGE_BATTERY, DA) == b"\x43"
    await actuator.apply(decision(ControlMode.NO_DISCHARGE))
    assert echonet_node.value(STORAGE_BATTERY, DA) == b"\x44"
    await actuator.release()
    assert echonet_node.value(STORAGE_BATTERY, DA) == b"\x46"
    actuator.close()


async def test_power_settings_the_battery_does_not_list_are_not_written(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    echonet_node.remove(STORAGE_BATTERY, EB)
    actuator = EchonetBatteryActuator(echonet_client, echonet_node.host)
    await actuator.apply(decision(ControlMode.SETPOINT, 1.0))
    assert [w.epc for w in echonet_node.writes_to(STORAGE_BATTERY)] == [DA]


async def test_refusal_and_silence_are_actuator_unavailable_and_the_refresher_reports_it(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    actuator = EchonetBatteryActuator(echonet_client, echonet_node.host)
    echonet_node.refuse(STORAGE_BATTERY, DA)
    with pytest.raises(ActuatorUnavailable, match=r"refused to apply SETPOINT: .*0xDA"):
        await actuator.apply(decision(ControlMode.SETPOINT, 1.0))
    echonet_node.refused.clear()
    echonet_node.silent = True
    with pytest.raises(ActuatorUnavailable, match=r"cannot release the battery: no "):
        await actuator.release()

    availability: list[bool] = []
    # Longer than a probe (four requests, each at least 0.1 s with pychonet) and the timeout.
    refresher = SetpointRefresher(actuator, refresh_s=2.5, on_availability=availability.append)
    refresher.submit(decision(ControlMode.SETPOINT, 1.0))
    refresher.start()
    try:
        await until(lambda: availability == [False])
        assert re.search(r"no (answer|ECHONET Lite node answers)", refresher.last_error or "")
        echonet_node.silent = False
        await until(lambda: availability == [False, True])
        # Re-asserted while it runs: ECHONET Lite has no revert timeout of its own.
        count = len(echonet_node.writes_to(STORAGE_BATTERY))
        await until(lambda: len(echonet_node.writes_to(STORAGE_BATTERY)) >= count + 4)
    finally:
        await refresher.stop()
    assert echonet_node.value(STORAGE_BATTERY, DA) == b"\x42"


async def test_a_node_without_a_battery_cannot_be_driven(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    echonet_node.remove(STORAGE_BATTERY, DA)
    actuator = EchonetBatteryActuator(echonet_client, echonet_node.host)
    with pytest.raises(ActuatorUnavailable, match=r"does not accept operation mode \(0xDA\)"):
        await actuator.release()
