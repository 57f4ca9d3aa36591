"""Decoded SunSpec models -> the readings the gateway publishes (W, Wh, %, status).

Sign conventions (the gateway's, not every model's):
- ``inverter_ac_power_w``: AC output of the inverter (model 101-103 ``W``), positive out.
- ``grid_power_w``: the meter's ``W`` (models 201-204), positive = import from the grid.
- ``battery_power_w``: positive = charging. Model 802's ``W`` counts discharge as
  positive (power flowing out of the bank, as inverter and evcc readings do), so it is
  negated here.
Values a device does not implement stay ``None``; the gateway treats them as missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..units import soe_from_percent
from .decoding import DecodedModel
from .scanner import SunSpecDevice


@dataclass(frozen=True, slots=True)
class SunSpecReadings:
    """One poll's readings; ``None`` means the device does not provide it."""

    inverter_ac_power_w: float | None = None
    inverter_lifetime_energy_wh: float | None = None
    inverter_dc_power_w: float | None = None
    grid_power_w: float | None = None
    grid_import_energy_wh: float | None = None
    grid_export_energy_wh: float | None = None
    battery_soc_percent: float | None = None
    battery_capacity_wh: float | None = None
    battery_stored_energy_wh: float | None = None
    battery_power_w: float | None = None
    battery_max_charge_w: float | None = None
    battery_max_discharge_w: float | None = None
    battery_min_reserve_percent: float | None = None
    battery_charge_status: str | None = None


def readings_from_models(models: tuple[DecodedModel, ...] | list[DecodedModel]) -> SunSpecReadings:
    """Readings from whatever models were read (first of each kind, chain order)."""

    def first(*ids: int) -> DecodedModel | None:
        return next((m for m in models if m.model_id in ids), None)

    inverter = first(101, 102, 103)
    meter = first(201, 202, 203, 204)
    storage = first(124)
    battery = first(802)

    soc = _number(battery, "SoC")
    if soc is None:
        soc = _number(storage, "ChaState")
    capacity = _number(battery, "WHRtg")
    battery_w = _number(battery, "W")
    max_charge = _number(storage, "WChaMax")
    if max_charge is None:
        max_charge = _number(battery, "WChaRteMax")
    max_discharge = _number(battery, "WDisChaRteMax")
    if max_discharge is None:
        # Model 124 expresses both directions as a share of WChaMax.
        max_discharge = _number(storage, "WChaMax")
    return SunSpecReadings(
        inverter_ac_power_w=_number(inverter, "W"),
        inverter_lifetime_energy_wh=_number(inverter, "WH"),
        inverter_dc_power_w=_number(inverter, "DCW"),
        grid_power_w=_number(meter, "W"),
        grid_import_energy_wh=_number(meter, "TotWhImp"),
        grid_export_energy_wh=_number(meter, "TotWhExp"),
        battery_soc_percent=soc,
        battery_capacity_wh=capacity,
        battery_stored_energy_wh=(
            soe_from_percent(soc, capacity) if soc is not None and capacity is not None else None
        ),
        battery_power_w=-battery_w if battery_w is not None else None,
        battery_max_charge_w=max_charge,
        battery_max_discharge_w=max_discharge,
        battery_min_reserve_percent=_number(storage, "MinRsvPct"),
        battery_charge_status=_symbol(battery, "ChaSt") or _symbol(storage, "ChaSt"),
    )


def readings_from_device(device: SunSpecDevice) -> SunSpecReadings:
    return readings_from_models(device.models)


def _number(model: DecodedModel | None, name: str) -> float | None:
    return None if model is None else model.number(name)


def _symbol(model: DecodedModel | None, name: str) -> str | None:
    """The symbol name of an enum point's value (its number when the symbol is unknown)."""
    if model is None:
        return None
    value = model[name]
    if value is None:
        return None
    symbols = model.definition.point(name).symbols
    return next((symbol for symbol, number in symbols.items() if number == value), str(value))
