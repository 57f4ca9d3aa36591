"""Control decisions to a SunSpec inverter's model 124 storage controls over Modbus TCP.

Model 124 holds the battery power (positive = charging) inside the window
``[-OutWRte, +InWRte]`` percent of ``WChaMax`` (see :mod:`..sunspec.storage_control`):

- SETPOINT / IDLE: the window is pinned at the setpoint (``apply_setpoint_kw``);
- NO_DISCHARGE: ``[0, +max_charge]``: the inverter charges as it likes, never discharges;
- LIMIT_CHARGE: ``[-max_discharge, +max_charge]``;
- SELF_CONSUMPTION: ``release()``, unless the decision's caps are tighter than the device
  (SoE at a limit, the owner's power or export limits): a release would drop those hard
  limits, so the window holds them instead.

Every write carries the revert timeout: if the gateway stops refreshing, the inverter
drops the controls by itself. The connection is opened (and the device scanned) lazily on
the first call; a connection lost since the last call gets one reconnect attempt.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from ..protocol.command import ControlMode
from ..sunspec.errors import SunSpecConnectionError, SunSpecError
from ..sunspec.modbus_link import ModbusLink
from ..sunspec.scanner import scan_device
from ..sunspec.storage_control import (
    BOTH_LIMITS,
    FULL_RATE_PERCENT,
    MAX_REVERT_SECONDS,
    StorageController,
)
from .actuator import ActuatorUnavailable
from .control_law import ControlDecision

_LOGGER = logging.getLogger(__name__)

#: docs/protocol.md (watchdog): a mode not renewed within 60 seconds is dropped (the watchdog).
DEFAULT_REVERT_AFTER_S = 60
# Rates are floored to the register's resolution so rounding never exceeds a cap; the
# epsilon keeps exact multiples (20 % = 2000 * 0.01) from flooring one step down.
_FLOOR_EPSILON = 1e-9


class ModbusStorageActuator:
    """Applies control decisions through one device's model 124 on ``link``.

    ``link`` may be unconnected; it is connected on first use. ``revert_after_s`` is
    written with every decision: the inverter reverts that long after the last write.
    """

    def __init__(self, link: ModbusLink, *, revert_after_s: int = DEFAULT_REVERT_AFTER_S) -> None:
        if not 1 <= revert_after_s <= MAX_REVERT_SECONDS:
            raise ValueError(
                f"revert_after_s must be 1..{MAX_REVERT_SECONDS} seconds, got {revert_after_s!r}"
            )
        self._link = link
        self.revert_after_s = revert_after_s
        self._controller: StorageController | None = None
        # One transaction at a time: a refresh and a release must not interleave writes.
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return self._link.where

    async def apply(self, decision: ControlDecision) -> None:
        async def write(controller: StorageController) -> None:
            await self._write(controller, decision)

        await self._with_controller(write, f"apply {decision.mode.value}")

    async def release(self) -> None:
        async def write(controller: StorageController) -> None:
            await controller.release()

        await self._with_controller(write, "release the battery")

    def close(self) -> None:
        """Close the connection (the controls stay until the revert timeout)."""
        self._controller = None
        self._link.close()

    async def _with_controller(
        self, action: Callable[[StorageController], Awaitable[None]], what: str
    ) -> None:
        async with self._lock:
            reconnected = False
            while True:
                controller = self._controller
                if controller is None or not self._link.connected:
                    reconnected = True
                    try:
                        controller = await self._connect()
                    except SunSpecError as err:
                        self.close()
                        raise ActuatorUnavailable(f"cannot {what}: {err}") from err
                try:
                    await action(controller)
                except SunSpecConnectionError as err:
                    self.close()
                    if reconnected:
                        raise ActuatorUnavailable(f"cannot {what}: {err}") from err
                    _LOGGER.debug("%s: connection lost (%s), reconnecting once", self.where, err)
                    continue
                except SunSpecError as err:
                    # Refused (Modbus exception, no WChaMax...): scan afresh next time.
                    self.close()
                    raise ActuatorUnavailable(f"{self.where} refused to {what}: {err}") from err
                return

    async def _connect(self) -> StorageController:
        await self._link.connect()
        self._controller = StorageController.for_device(self._link, await scan_device(self._link))
        return self._controller

    async def _write(self, controller: StorageController, decision: ControlDecision) -> None:
        mode = decision.mode
        if mode is ControlMode.SETPOINT or mode is ControlMode.IDLE:
            if mode is ControlMode.SETPOINT and decision.setpoint_kw is None:
                raise ValueError("setpoint_kw is required for a SETPOINT decision")
            setpoint = 0.0 if mode is ControlMode.IDLE else (decision.setpoint_kw or 0.0)
            applied = await controller.apply_setpoint_kw(
                setpoint, revert_after_s=self.revert_after_s
            )
            if applied.clamped:
                _LOGGER.debug(
                    "%s: %.3f kW clamped to WChaMax: %.3f kW",
                    self.where,
                    setpoint,
                    applied.applied_kw,
                )
            return
        discharge_kw = 0.0 if mode is ControlMode.NO_DISCHARGE else decision.max_discharge_kw
        charge = _rate_percent(controller, "InWRte", decision.max_charge_kw)
        discharge = _rate_percent(controller, "OutWRte", discharge_kw)
        if mode is ControlMode.SELF_CONSUMPTION and min(charge, discharge) >= FULL_RATE_PERCENT:
            await controller.release()
            return
        # Rates and timeout before the mode bits, as apply_setpoint_kw does.
        await controller.write_points(
            {"OutWRte": discharge, "InWRte": charge, "InOutWRte_RvrtTms": self.revert_after_s}
        )
        await controller.write_points({"StorCtl_Mod": BOTH_LIMITS})


def _rate_percent(controller: StorageController, point: str, cap_kw: float) -> float:
    """``cap_kw`` as a rate in percent of WChaMax, within 0..100, floored to the register."""
    percent = cap_kw * 1000.0 / controller.max_charge_w * 100.0
    percent = min(FULL_RATE_PERCENT, max(0.0, percent))
    step = 10.0 ** (controller.model.scale_factor(point) or 0)
    return math.floor(percent / step + _FLOOR_EPSILON) * step
