"""The metric catalogue (docs/protocol.md): names, meaning, kind, unit, who needs what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The metric names that code outside the catalogue refers to by name (gateway sources, the
# integration's mapping and entities, the optimizer): one spelling, here. The catalogue
# below uses them too, so a rename cannot leave a copy behind.
METER_IMPORT_AC = "meter_import_ac"
METER_EXPORT_AC = "meter_export_ac"
BATTERY_SOE = "battery_soe"
BATTERY_ENERGY_REMAINING = "battery_energy_remaining"
BATTERY_CHARGE_AC = "battery_charge_ac"
BATTERY_DISCHARGE_AC = "battery_discharge_ac"
BATTERY_CHARGE_DC = "battery_charge_dc"
BATTERY_TO_INVERTER_DC = "battery_to_inverter_dc"
SOLAR_NET_GENERATION_AC = "solar_net_generation_ac"
INVERTER_NET_OUTPUT_AC = "inverter_net_output_ac"
CURTAILMENT = "curtailment"


class UseCase(StrEnum):
    AC_LINK = "ac_link"
    DC_LINK = "dc_link"
    STANDALONE = "standalone"


class MetricKind(StrEnum):
    """``energy``: a flow, reported as kWh (lifetime/windowed) or kW (power topic).
    ``state``: a level, reported as its value on the power topic and as lifetime."""

    ENERGY = "energy"
    STATE = "state"


class Requirement(StrEnum):
    REQUIRED = "required"
    REQUIRED_WITH_LOAD = "required_with_load"  # "Required if on-site load exists"
    REQUIRED_WITH_GRID_CHARGING = "required_with_grid_charging"
    OPTIONAL = "optional"


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    description: str
    kind: MetricKind
    unit: str  # of the lifetime/windowed value (energy) or of the level (state)
    instant_unit: str  # of the value on the ``…/power`` topic
    requirement: Requirement
    use_cases: frozenset[UseCase]


_ALL = frozenset(UseCase)
_AC = frozenset({UseCase.AC_LINK})
_DC = frozenset({UseCase.DC_LINK})
_R = Requirement.REQUIRED
_L = Requirement.REQUIRED_WITH_LOAD
_O = Requirement.OPTIONAL


def _energy(name: str, requirement: Requirement, cases: frozenset[UseCase], text: str) -> Metric:
    return Metric(name, text, MetricKind.ENERGY, "kWh", "kW", requirement, cases)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        # Common to all use cases.
        _energy(METER_EXPORT_AC, _R, _ALL, "Energy exported to the grid at the main site meter."),
        _energy(METER_IMPORT_AC, _R, _ALL, "Energy imported from the grid at the main site meter."),
        Metric(
            BATTERY_SOE,
            "State of Energy: the energy currently stored in the battery.",
            MetricKind.STATE,
            "kWh",
            "kWh",
            _R,
            _ALL,
        ),
        Metric(
            BATTERY_ENERGY_REMAINING,
            "Usable capacity at nominal temperature including degradation and faulty cells "
            "(the most the battery can hold); at least daily.",
            MetricKind.STATE,
            "kWh",
            "kWh",
            _R,
            _ALL,
        ),
        _energy("grid_to_load_ac", _L, _ALL, "Energy from the site meter to an on-site load."),
        _energy(
            "load_demand_ac",
            _L,
            _ALL,
            "Total energy consumed by an on-site load: grid_to_load_ac plus battery_to_load_ac "
            "(AC-link) or inverter_to_load_ac (DC-link).",
        ),
        Metric(
            CURTAILMENT,
            "Curtailment by the TSO as captured from the on-site curtailment device; sent when "
            "it changes.",
            MetricKind.STATE,
            "kW",
            "kW",
            _O,
            _ALL,
        ),
        # AC-linked battery systems.
        _energy(
            SOLAR_NET_GENERATION_AC,
            _R,
            _AC,
            "Solar generation after curtailment: solar_to_load_ac + solar_to_battery_ac + "
            "solar_to_grid_ac.",
        ),
        _energy(
            BATTERY_CHARGE_AC,
            _R,
            _AC,
            "Energy charged into the battery: grid_to_battery_ac + solar_to_battery_ac.",
        ),
        _energy(
            BATTERY_DISCHARGE_AC,
            _R,
            _AC,
            "Energy discharged from the battery: battery_to_grid_ac + battery_to_load_ac.",
        ),
        _energy("solar_to_grid_ac", _O, _AC, "Energy from the solar system to the site meter."),
        _energy("solar_to_battery_ac", _O, _AC, "Energy from the solar system to the battery."),
        _energy("solar_to_load_ac", _O, _AC, "Energy from the solar system to an on-site load."),
        _energy("battery_to_grid_ac", _O, _AC, "Energy from the battery to the grid."),
        _energy("battery_to_load_ac", _O, _AC, "Energy from the battery to an on-site load."),
        _energy("grid_to_battery_ac", _O, _AC, "Grid energy sent to the battery."),
        # DC-linked battery systems.
        _energy(
            "solar_generation_dc",
            _R,
            _DC,
            "Solar generation on the DC side: solar_to_battery_dc + solar_to_inverter_dc.",
        ),
        _energy(
            BATTERY_CHARGE_DC,
            _R,
            _DC,
            "Energy charged into the battery on the DC side: solar_to_battery_dc + "
            "inverter_to_battery_dc.",
        ),
        _energy(
            BATTERY_TO_INVERTER_DC, _R, _DC, "Energy from the battery to the site inverter (DC)."
        ),
        _energy(
            INVERTER_NET_OUTPUT_AC,
            _L,
            _DC,
            "Net inverter output (to grid minus from grid), AC side: inverter_to_load_ac + "
            "inverter_to_grid_ac.",
        ),
        _energy(
            "solar_to_battery_dc", _O, _DC, "Energy from the solar system to the battery (DC)."
        ),
        _energy(
            "solar_to_inverter_dc", _O, _DC, "Energy from the solar system to the inverter (DC)."
        ),
        _energy("inverter_to_battery_dc", _O, _DC, "Energy from the inverter to the battery (DC)."),
        _energy(
            "inverter_to_load_ac", _L, _DC, "Energy from the inverter to an on-site load (AC)."
        ),
        _energy("inverter_to_grid_ac", _O, _DC, "Energy from the inverter to the grid (AC)."),
        _energy(
            "grid_to_inverter_ac",
            Requirement.REQUIRED_WITH_GRID_CHARGING,
            _DC,
            "Grid energy sent to the inverter (AC).",
        ),
    )
}


def metric(name: str) -> Metric:
    """Look a metric up by name; ValueError names an unknown one."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}") from None


def _check(use_case: UseCase, has_load: bool) -> UseCase:
    use_case = UseCase(use_case)
    if use_case is UseCase.STANDALONE and has_load:
        raise ValueError("a stand-alone battery site has no on-site load (use ac_link/dc_link)")
    return use_case


def _is_required(item: Metric, has_load: bool, can_charge_from_grid: bool) -> bool:
    return (
        item.requirement is Requirement.REQUIRED
        or (item.requirement is Requirement.REQUIRED_WITH_LOAD and has_load)
        or (item.requirement is Requirement.REQUIRED_WITH_GRID_CHARGING and can_charge_from_grid)
    )


def required_metrics(
    use_case: UseCase, *, has_load: bool, can_charge_from_grid: bool = False
) -> tuple[Metric, ...]:
    """Metrics the site must report (lifetime or windowed energy for each)."""
    use_case = _check(use_case, has_load)
    return tuple(
        item
        for item in METRICS.values()
        if use_case in item.use_cases and _is_required(item, has_load, can_charge_from_grid)
    )


def optional_metrics(
    use_case: UseCase, *, has_load: bool, can_charge_from_grid: bool = False
) -> tuple[Metric, ...]:
    """Metrics the site may report. Stand-alone sites have no load, so no load metrics."""
    use_case = _check(use_case, has_load)
    return tuple(
        item
        for item in METRICS.values()
        if use_case in item.use_cases
        and not _is_required(item, has_load, can_charge_from_grid)
        and not (
            use_case is UseCase.STANDALONE and item.requirement is Requirement.REQUIRED_WITH_LOAD
        )
    )
