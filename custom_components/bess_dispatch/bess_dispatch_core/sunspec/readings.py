"""Decoded SunSpec models -> the readings the gateway publishes (W, Wh, %, status).

Sign conventions (the gateway's, not every model's):
- ``inverter_ac_power_w``: AC output of the inverter (model 101-103 ``W``), positive out.
- ``grid_power_w``: the meter's ``W`` (models 201-204), positive = import from the grid.
- ``battery_power_w``: positive = charging. Model 802's ``W`` counts discharge as
  positive (power flowing out of the bank, as inverter and evcc readings do), so it is
  negated here.
- ``ac_coupled_load_power_w``: what the on-site load draws, from the power balance at the
  meter of an AC-coupled site (AC-link: this inverter carries the PV, the battery has an
  inverter of its own on the same AC bus): grid + inverter AC - battery. Model 802 measures
  the battery on its DC side, so the battery inverter's losses count as load. Never below 0:
  the three points are read one after another, a moment apart.
- ``ac_coupled_grid_to_load_power_w``: the part of that load the grid supplies (the import,
  at most the load; the rest of an import charges the battery).
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
    ac_coupled_load_power_w: float | None = None
    ac_coupled_grid_to_load_power_w: float | None = None


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
    inverter_w = _number(inverter, "W")
    grid_w = _number(meter, "W")
    battery_charge_w = -battery_w if battery_w is not None else None
    load_w = _ac_coupled_load_w(grid_w, inverter_w, battery_charge_w)
    return SunSpecReadings(
        inverter_ac_power_w=inverter_w,
        inverter_lifetime_energy_wh=_number(inverter, "WH"),
        inverter_dc_power_w=_number(inverter, "DCW"),
        grid_power_w=grid_w,
        grid_import_energy_wh=_number(meter, "TotWhImp"),
        grid_export_energy_wh=_number(meter, "TotWhExp"),
        battery_soc_percent=soc,
        battery_capacity_wh=capacity,
        battery_stored_energy_wh=(
            soe_from_percent(soc, capacity) if soc is not None and capacity is not None else None
        ),
        battery_power_w=battery_charge_w,
        battery_max_charge_w=max_charge,
        battery_max_discharge_w=max_discharge,
        battery_min_reserve_percent=_number(storage, "MinRsvPct"),
        battery_charge_status=_symbol(battery, "ChaSt") or _symbol(storage, "ChaSt"),
        ac_coupled_load_power_w=load_w,
        ac_coupled_grid_to_load_power_w=(
            min(max(grid_w, 0.0), load_w) if grid_w is not None and load_w is not None else None
        ),
    )


def _ac_coupled_load_w(
    grid_w: float | None, inverter_w: float | None, battery_charge_w: float | None
) -> float | None:
    if grid_w is None or inverter_w is None or battery_charge_w is None:
        return None
    return max(grid_w + inverter_w - battery_charge_w, 0.0)


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
