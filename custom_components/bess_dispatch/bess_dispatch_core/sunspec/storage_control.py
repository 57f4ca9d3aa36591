"""Battery setpoints through SunSpec model 124 (basic storage controls).

Model 124 limits rather than commands: ``StorCtl_Mod`` bit 0 enables the charge limit
``InWRte`` and bit 1 the discharge limit ``OutWRte``, both in percent of ``WChaMax``.
With both bits set the battery power (positive = charging) is held inside
``[-OutWRte, +InWRte]`` percent of ``WChaMax``; a negative bound pushes the other way, so
``InWRte = x, OutWRte = -x`` forces charging at x % and ``OutWRte = x, InWRte = -x``
forces discharging (the reading of model 124 that hybrid inverters such as Fronius use).

``InOutWRte_RvrtTms`` is the watchdog: when that many seconds pass without a fresh write,
the device drops the rates back to its defaults by itself. The gateway refreshes the
setpoint well inside that time; if it stops, the inverter reverts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .decoding import DecodedModel
from .encoding import EncodableValue, encode_write
from .errors import SunSpecControlError
from .modbus_link import ModbusLink
from .scanner import STORAGE_MODEL_ID, SunSpecDevice, refresh_model

#: ``StorCtl_Mod`` bits (symbols CHARGE = bit 0, DiSCHARGE = bit 1 in the definition).
CHARGE_LIMIT_BIT = 1 << 0
DISCHARGE_LIMIT_BIT = 1 << 1
BOTH_LIMITS = CHARGE_LIMIT_BIT | DISCHARGE_LIMIT_BIT
#: The rate that means "no limit" (100 % of WChaMax).
FULL_RATE_PERCENT = 100.0
#: Largest revert timeout the uint16 register holds (0xFFFF means "not implemented").
MAX_REVERT_SECONDS = 0xFFFE


@dataclass(frozen=True, slots=True)
class StorageRates:
    """Rates for one setpoint: what is written to ``InWRte`` / ``OutWRte``."""

    #: Battery power actually asked for (W, positive = charging), after clamping.
    power_w: float
    charge_rate_percent: float
    discharge_rate_percent: float


@dataclass(frozen=True, slots=True)
class AppliedSetpoint:
    """What :meth:`StorageController.apply_setpoint_kw` wrote."""

    requested_kw: float
    applied_kw: float
    charge_rate_percent: float
    discharge_rate_percent: float
    revert_after_s: int
    clamped: bool


def rates_for_power(power_w: float, max_charge_w: float) -> StorageRates:
    """``InWRte`` / ``OutWRte`` that hold the battery at ``power_w`` (positive = charge),
    clamped to +-``max_charge_w`` (model 124 has one rate reference for both ways)."""
    if max_charge_w <= 0:
        raise SunSpecControlError(f"WChaMax must be positive, got {max_charge_w} W")
    clamped = max(-max_charge_w, min(max_charge_w, power_w))
    percent = abs(clamped) / max_charge_w * 100.0
    if clamped >= 0:
        return StorageRates(clamped, charge_rate_percent=percent, discharge_rate_percent=-percent)
    return StorageRates(clamped, charge_rate_percent=-percent, discharge_rate_percent=percent)


class StorageController:
    """Writes battery setpoints to one device's model 124 over a connected link."""

    def __init__(self, link: ModbusLink, storage: DecodedModel) -> None:
        if storage.model_id != STORAGE_MODEL_ID:
            raise SunSpecControlError(
                f"storage controls need model {STORAGE_MODEL_ID}, got model {storage.model_id}"
            )
        self._link = link
        self._model = storage
        self._check_controllable(storage)

    @classmethod
    def for_device(cls, link: ModbusLink, device: SunSpecDevice) -> StorageController:
        storage = device.storage
        if storage is None:
            raise SunSpecControlError(
                f"{link.where}: the device has no storage control model {STORAGE_MODEL_ID} "
                f"(models found: {', '.join(map(str, device.model_ids)) or 'none'})"
            )
        return cls(link, storage)

    @property
    def model(self) -> DecodedModel:
        """Model 124 as last read."""
        return self._model

    @property
    def max_charge_w(self) -> float:
        value = self._model.number("WChaMax")
        if value is None or value <= 0:
            raise SunSpecControlError(f"{self._link.where}: WChaMax is not set ({value})")
        return value

    async def refresh(self) -> DecodedModel:
        """Read model 124 again (state of charge, current controls)."""
        self._model = await refresh_model(self._link, self._model)
        return self._model

    async def apply_setpoint_kw(self, power_kw: float, *, revert_after_s: int) -> AppliedSetpoint:
        """Hold the battery at ``power_kw`` (positive = charge, negative = discharge, 0 =
        idle) until the next call, or until ``revert_after_s`` pass without one."""
        if not 1 <= revert_after_s <= MAX_REVERT_SECONDS:
            raise SunSpecControlError(
                f"revert_after_s must be 1..{MAX_REVERT_SECONDS}, got {revert_after_s}"
            )
        rates = rates_for_power(power_kw * 1000.0, self.max_charge_w)
        # Rates and timeout first, then the mode bits: the device never applies the
        # mode with the previous setpoint's rates.
        await self.write_points(
            {
                "OutWRte": rates.discharge_rate_percent,
                "InWRte": rates.charge_rate_percent,
                "InOutWRte_RvrtTms": revert_after_s,
            }
        )
        await self.write_points({"StorCtl_Mod": BOTH_LIMITS})
        applied_kw = rates.power_w / 1000.0
        return AppliedSetpoint(
            requested_kw=power_kw,
            applied_kw=applied_kw,
            charge_rate_percent=rates.charge_rate_percent,
            discharge_rate_percent=rates.discharge_rate_percent,
            revert_after_s=revert_after_s,
            clamped=abs(applied_kw - power_kw) > 1e-9,
        )

    async def release(self) -> None:
        """Hand the battery back to the inverter's own control (no limits, no timeout)."""
        await self.write_points({"StorCtl_Mod": 0})
        await self.write_points(
            {
                "OutWRte": FULL_RATE_PERCENT,
                "InWRte": FULL_RATE_PERCENT,
                "InOutWRte_RvrtTms": 0,
            }
        )

    async def write_points(self, values: Mapping[str, EncodableValue]) -> None:
        """Write writable model 124 points; adjacent points go in one request."""
        definition = self._model.definition
        encoded: list[tuple[int, list[int]]] = []
        for name, value in values.items():
            registers = encode_write(definition, name, value, self._model.scale_factor(name))
            encoded.append((definition.point(name).offset, registers))
        encoded.sort()
        runs: list[tuple[int, list[int]]] = []
        for offset, registers in encoded:
            if runs and runs[-1][0] + len(runs[-1][1]) == offset:
                runs[-1][1].extend(registers)
            else:
                runs.append((offset, list(registers)))
        for offset, registers in runs:
            await self._link.write_registers(self._model.address + offset, registers)

    def _check_controllable(self, storage: DecodedModel) -> None:
        missing = [
            name
            for name in ("StorCtl_Mod", "InWRte", "OutWRte", "InOutWRte_RvrtTms")
            if storage[name] is None
        ]
        if missing:
            raise SunSpecControlError(
                f"{self._link.where}: model 124 does not implement {', '.join(missing)}"
            )
