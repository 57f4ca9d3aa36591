"""Which ECHONET Lite properties give which reading, and how to turn their data into it.

A reading is one number the gateway can count or show (W, Wh, kWh, %), named like the
SunSpec readings. Sign conventions are the devices' own and the gateway's: battery power
positive = charging, meter power positive = import, PCS power positive = output.

The meter's cumulative amounts are counts: kWh = count x coefficient (0xD3, 1 when the
meter has none) x unit (0xE1). A property the node leaves out, refuses or fills with a
no-data code gives no reading (None) and a problem naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..gateway.metric_source import PERCENT, SourceQuantity
from .objects import (
    BATTERY_AC_CHARGED,
    BATTERY_AC_DISCHARGED,
    BATTERY_AC_EFFECTIVE_CAPACITY,
    BATTERY_CHARGED,
    BATTERY_DISCHARGED,
    BATTERY_POWER,
    BATTERY_RATED_ENERGY,
    BATTERY_REMAINING_PERCENT,
    BATTERY_REMAINING_WH,
    METER_COEFFICIENT,
    METER_EXPORTED,
    METER_IMPORTED,
    METER_MAX_COEFFICIENT,
    METER_MAX_COUNT,
    METER_POWER,
    METER_UNIT,
    METER_UNITS_KWH,
    PCS_INPUT,
    PCS_OUTPUT,
    PCS_POWER,
    SOLAR_GENERATED,
    SOLAR_POWER,
    EchonetClass,
)
from .values import EchonetValueError, signed, unsigned

#: Properties of one object as read: EPC -> data. A missing EPC was not answered.
type Properties = Mapping[int, bytes]


@dataclass(frozen=True, slots=True)
class ReadingSpec:
    """Where a reading comes from and what it is."""

    echonet_class: EchonetClass
    epcs: tuple[int, ...]  # read together; the first is the measurement itself
    quantity: SourceQuantity
    unit: str
    decode: Callable[[Properties], float]
    optional_epcs: tuple[int, ...] = ()  # read when the node has them (meter coefficient)


def _needed(props: Properties, epc: int, what: str) -> bytes:
    try:
        return props[epc]
    except KeyError:
        raise EchonetValueError(f"{what}: not answered") from None


def _u32(epc: int, scale: float, what: str) -> Callable[[Properties], float]:
    return lambda props: unsigned(_needed(props, epc, what), 4, what) * scale


def _s32(epc: int, what: str) -> Callable[[Properties], float]:
    return lambda props: float(signed(_needed(props, epc, what), 4, what))


def _soc(props: Properties) -> float:
    what = "0x027D 0xE4 remaining stored electricity 3"
    value = unsigned(_needed(props, BATTERY_REMAINING_PERCENT, what), 1, what)
    if value > 100:
        raise EchonetValueError(f"{what}: {value} % is above 100 %")
    return float(value)


def _solar_power(props: Properties) -> float:
    what = "0x0279 0xE0 instantaneous generation"
    return float(unsigned(_needed(props, SOLAR_POWER, what), 2, what))


def _meter_kwh(epc: int, what: str) -> Callable[[Properties], float]:
    def decode(props: Properties) -> float:
        count = unsigned(_needed(props, epc, what), 4, what)
        if count > METER_MAX_COUNT:
            raise EchonetValueError(f"{what}: {count} is above {METER_MAX_COUNT}")
        unit_what = "0x0288 0xE1 unit for cumulative amounts"
        unit_code = unsigned(_needed(props, METER_UNIT, unit_what), 1, unit_what)
        try:
            unit_kwh = METER_UNITS_KWH[unit_code]
        except KeyError:
            raise EchonetValueError(f"{unit_what}: unknown code 0x{unit_code:02X}") from None
        coefficient = 1
        if METER_COEFFICIENT in props:
            coef_what = "0x0288 0xD3 coefficient"
            coefficient = unsigned(props[METER_COEFFICIENT], 4, coef_what)
            if not 1 <= coefficient <= METER_MAX_COEFFICIENT:
                raise EchonetValueError(f"{coef_what}: {coefficient} is outside 1..999999")
        return count * coefficient * unit_kwh

    return decode


_BATTERY = EchonetClass.STORAGE_BATTERY
_SOLAR = EchonetClass.HOME_SOLAR
_METER = EchonetClass.SMART_METER
_PCS = EchonetClass.MULTI_INPUT_PCS
_E = SourceQuantity.ENERGY
_P = SourceQuantity.POWER
_S = SourceQuantity.ENERGY_STATE
_MILLI = 0.001

READINGS: dict[str, ReadingSpec] = {
    "battery_soc_percent": ReadingSpec(
        _BATTERY, (BATTERY_REMAINING_PERCENT,), SourceQuantity.SOC_PERCENT, PERCENT, _soc
    ),
    "battery_stored_energy_wh": ReadingSpec(
        _BATTERY,
        (BATTERY_REMAINING_WH,),
        _S,
        "Wh",
        _u32(BATTERY_REMAINING_WH, 1.0, "0x027D 0xE2 remaining stored electricity 1"),
    ),
    "battery_effective_capacity_wh": ReadingSpec(
        _BATTERY,
        (BATTERY_AC_EFFECTIVE_CAPACITY,),
        _S,
        "Wh",
        _u32(BATTERY_AC_EFFECTIVE_CAPACITY, 1.0, "0x027D 0xA0 AC effective capacity"),
    ),
    "battery_rated_energy_wh": ReadingSpec(
        _BATTERY,
        (BATTERY_RATED_ENERGY,),
        _S,
        "Wh",
        _u32(BATTERY_RATED_ENERGY, 1.0, "0x027D 0xD0 rated electric energy"),
    ),
    "battery_power_w": ReadingSpec(
        _BATTERY, (BATTERY_POWER,), _P, "W", _s32(BATTERY_POWER, "0x027D 0xD3 battery power")
    ),
    "battery_ac_charged_kwh": ReadingSpec(
        _BATTERY,
        (BATTERY_AC_CHARGED,),
        _E,
        "kWh",
        _u32(BATTERY_AC_CHARGED, _MILLI, "0x027D 0xA8 AC cumulative charging energy"),
    ),
    "battery_ac_discharged_kwh": ReadingSpec(
        _BATTERY,
        (BATTERY_AC_DISCHARGED,),
        _E,
        "kWh",
        _u32(BATTERY_AC_DISCHARGED, _MILLI, "0x027D 0xA9 AC cumulative discharging energy"),
    ),
    "battery_charged_kwh": ReadingSpec(
        _BATTERY,
        (BATTERY_CHARGED,),
        _E,
        "kWh",
        _u32(BATTERY_CHARGED, _MILLI, "0x027D 0xD8 cumulative charging energy"),
    ),
    "battery_discharged_kwh": ReadingSpec(
        _BATTERY,
        (BATTERY_DISCHARGED,),
        _E,
        "kWh",
        _u32(BATTERY_DISCHARGED, _MILLI, "0x027D 0xD6 cumulative discharging energy"),
    ),
    "solar_power_w": ReadingSpec(_SOLAR, (SOLAR_POWER,), _P, "W", _solar_power),
    "solar_generated_kwh": ReadingSpec(
        _SOLAR,
        (SOLAR_GENERATED,),
        _E,
        "kWh",
        _u32(SOLAR_GENERATED, _MILLI, "0x0279 0xE1 cumulative generation"),
    ),
    "grid_import_kwh": ReadingSpec(
        _METER,
        (METER_IMPORTED, METER_UNIT),
        _E,
        "kWh",
        _meter_kwh(METER_IMPORTED, "0x0288 0xE0 cumulative energy (normal direction)"),
        optional_epcs=(METER_COEFFICIENT,),
    ),
    "grid_export_kwh": ReadingSpec(
        _METER,
        (METER_EXPORTED, METER_UNIT),
        _E,
        "kWh",
        _meter_kwh(METER_EXPORTED, "0x0288 0xE3 cumulative energy (reverse direction)"),
        optional_epcs=(METER_COEFFICIENT,),
    ),
    "grid_power_w": ReadingSpec(
        _METER, (METER_POWER,), _P, "W", _s32(METER_POWER, "0x0288 0xE7 instantaneous power")
    ),
    "pcs_output_kwh": ReadingSpec(
        _PCS, (PCS_OUTPUT,), _E, "kWh", _u32(PCS_OUTPUT, _MILLI, "0x02A5 0xE0 cumulative output")
    ),
    "pcs_input_kwh": ReadingSpec(
        _PCS, (PCS_INPUT,), _E, "kWh", _u32(PCS_INPUT, _MILLI, "0x02A5 0xE3 cumulative input")
    ),
    "pcs_power_w": ReadingSpec(
        _PCS, (PCS_POWER,), _P, "W", _s32(PCS_POWER, "0x02A5 0xE7 instantaneous power")
    ),
}


def reading_names() -> tuple[str, ...]:
    return tuple(READINGS)


def decode_readings(
    names: tuple[str, ...] | list[str], properties: Mapping[EchonetClass, Properties]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """(reading -> value, reading -> why it has none) for ``names`` from what was read."""
    values: dict[str, float | None] = {}
    problems: dict[str, str] = {}
    for name in names:
        spec = READINGS[name]
        props = properties.get(spec.echonet_class)
        if props is None:
            values[name] = None
            problems[name] = f"{spec.echonet_class.label}: not answered"
            continue
        try:
            values[name] = spec.decode(props)
        except EchonetValueError as error:
            values[name] = None
            problems[name] = str(error)
    return values, problems
