"""Control decisions to an ECHONET Lite storage battery (0x027D): operation mode (0xDA)
and charging / discharging power settings (0xEB / 0xEC, W).

=========================================== ========== ==================================
decision (after the owner's hard limits)    0xDA       power settings written first
=========================================== ========== ==================================
fallback (nothing covers now), release      auto       none
SETPOINT / IDLE, setpoint > 0               charging   0xEB = setpoint
SETPOINT / IDLE, setpoint < 0               discharging 0xEC = -setpoint
SETPOINT / IDLE, setpoint 0                 standby    none
NO_DISCHARGE, or discharge capped at 0      standby    none
SELF_CONSUMPTION / LIMIT_CHARGE otherwise   auto       0xEB = charge cap, 0xEC = discharge cap
=========================================== ========== ==================================

ECHONET Lite has no mode that charges from PV surplus only, so holding energy (no
discharge) is standby: surplus PV is exported instead of stored while it lasts. In auto the
battery follows its own logic; the caps are written to 0xEB/0xEC for devices that honour
them in auto, and they are the hard limits' caps, never more. Power settings are written
only when the battery lists them in its set map; watts are floored so a cap is never
exceeded. ECHONET Lite has no revert timeout: the gateway re-asserts the decision
periodically (:class:`~..gateway.watchdog.SetpointRefresher`) and writes auto when it
releases the battery (unload) and when it falls back.
"""

from __future__ import annotations

import asyncio
import logging
import math

from ..gateway.actuator import ActuatorUnavailable
from ..gateway.control_law import ControlDecision, ControlSource
from ..protocol.command import ControlMode
from .client import EchonetClient
from .errors import EchonetError, EchonetRefusedError, EchonetTimeoutError
from .node import ObjectMaps
from .objects import (
    BATTERY_CHARGE_POWER_SETTING,
    BATTERY_DISCHARGE_POWER_SETTING,
    BATTERY_OPERATION_MODE,
    EchonetClass,
    OperationMode,
)
from .values import encode_unsigned

_LOGGER = logging.getLogger(__name__)

#: 0xEB / 0xEC are unsigned long watts; no home battery comes near this.
MAX_POWER_SETTING_W = 1_000_000


def echonet_command(decision: ControlDecision) -> tuple[OperationMode, dict[int, int]]:
    """(operation mode, power settings in W by EPC) for ``decision``."""
    if decision.source is ControlSource.FALLBACK:
        return OperationMode.AUTO, {}
    mode = decision.mode
    if mode is ControlMode.SETPOINT or mode is ControlMode.IDLE:
        if mode is ControlMode.SETPOINT and decision.setpoint_kw is None:
            raise ValueError("setpoint_kw is required for a SETPOINT decision")
        setpoint = 0.0 if mode is ControlMode.IDLE else (decision.setpoint_kw or 0.0)
        watts = _floor_w(abs(setpoint))
        if watts == 0:
            return OperationMode.STANDBY, {}
        if setpoint > 0:
            return OperationMode.CHARGING, {BATTERY_CHARGE_POWER_SETTING: watts}
        return OperationMode.DISCHARGING, {BATTERY_DISCHARGE_POWER_SETTING: watts}
    discharge_w = 0 if mode is ControlMode.NO_DISCHARGE else _floor_w(decision.max_discharge_kw)
    if discharge_w == 0:
        return OperationMode.STANDBY, {}
    return OperationMode.AUTO, {
        BATTERY_CHARGE_POWER_SETTING: _floor_w(decision.max_charge_kw),
        BATTERY_DISCHARGE_POWER_SETTING: discharge_w,
    }


def _floor_w(kw: float) -> int:
    if not math.isfinite(kw) or kw <= 0:
        return 0
    return min(MAX_POWER_SETTING_W, math.floor(kw * 1000.0 + 1e-9))


class EchonetBatteryActuator:
    """Applies control decisions to the storage battery object of the node at ``host``.

    The node is probed on first use and again after it stopped answering. Every failure
    (no answer, a refused property) raises :class:`ActuatorUnavailable` naming it: the
    gateway then answers RESOURCE_UNAVAILABLE and raises ``BATTERY_UNREACHABLE``.
    """

    def __init__(self, client: EchonetClient, host: str) -> None:
        self._client = client
        self.host = host
        self._battery: ObjectMaps | None = None
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return f"ECHONET Lite {self.host}"

    async def apply(self, decision: ControlDecision) -> None:
        mode, settings = echonet_command(decision)
        await self._write(mode, settings, f"apply {decision.mode.value}")

    async def release(self) -> None:
        """Hand the battery back to its own control: operation mode auto."""
        await self._write(OperationMode.AUTO, {}, "release the battery")

    def close(self) -> None:
        """Nothing to close: the UDP socket belongs to the client, shared by the site."""
        self._battery = None

    async def _write(self, mode: OperationMode, settings: dict[int, int], what: str) -> None:
        async with self._lock:
            try:
                battery = await self._battery_object()
                values = {
                    epc: encode_unsigned(watts, 4, f"0x{epc:02X}")
                    for epc, watts in settings.items()
                    if epc in battery.set_map
                }
                if values:
                    # Power first: a mode must not run for a moment on the previous power.
                    await self._client.set(self.host, battery.obj, values)
                await self._client.set(
                    self.host, battery.obj, {BATTERY_OPERATION_MODE: bytes([mode])}
                )
            except EchonetRefusedError as err:
                raise ActuatorUnavailable(f"{self.where} refused to {what}: {err}") from err
            except EchonetTimeoutError as err:
                self._battery = None  # probe again when it answers
                raise ActuatorUnavailable(f"cannot {what}: {err}") from err
            except EchonetError as err:
                raise ActuatorUnavailable(f"cannot {what}: {err}") from err
            _LOGGER.debug("%s: %s, operation mode %s %s", self.where, what, mode.name, settings)

    async def _battery_object(self) -> ObjectMaps:
        if self._battery is None:
            node = await self._client.probe(self.host)
            battery = node.find(EchonetClass.STORAGE_BATTERY)
            if battery is None:
                raise EchonetRefusedError(f"{self.host} has no storage battery (0x027D)", ())
            if BATTERY_OPERATION_MODE not in battery.set_map:
                raise EchonetRefusedError(
                    f"{self.host} {battery.obj} does not accept operation mode (0xDA) writes",
                    (BATTERY_OPERATION_MODE,),
                )
            self._battery = battery
        return self._battery
