"""Which HA entity measures which protocol metric, and whether its unit can serve it."""

from collections.abc import Mapping

import probatio as vol
from homeassistant.const import PERCENTAGE, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig

from .bess_dispatch_core.protocol.metrics import (
    BATTERY_ENERGY_REMAINING,
    BATTERY_SOE,
    CURTAILMENT,
    Metric,
    MetricKind,
    UseCase,
    optional_metrics,
    required_metrics,
)

ENERGY_UNITS: frozenset[str] = frozenset(
    {UnitOfEnergy.WATT_HOUR, UnitOfEnergy.KILO_WATT_HOUR, UnitOfEnergy.MEGA_WATT_HOUR}
)
POWER_UNITS: frozenset[str] = frozenset({UnitOfPower.WATT, UnitOfPower.KILO_WATT})
# battery_energy_remaining comes from the nameplate unless mapped, and curtailment is a TSO
# schedule, not a meter.
_NOT_MAPPED_HERE = frozenset({CURTAILMENT})

_ENERGY_OR_POWER = EntitySelector(
    EntitySelectorConfig(domain="sensor", device_class=["energy", "power"])
)
_STORED_ENERGY = EntitySelector(
    EntitySelectorConfig(domain="sensor", device_class=["energy_storage", "energy"])
)


def mappable_metrics(use_case: UseCase, has_load: bool) -> tuple[list[Metric], list[Metric]]:
    """(required, optional) metrics the sources step asks for."""
    required = [
        m for m in required_metrics(use_case, has_load=has_load) if m.name not in _NOT_MAPPED_HERE
    ]
    optional = [
        m for m in optional_metrics(use_case, has_load=has_load) if m.name not in _NOT_MAPPED_HERE
    ]
    # The nameplate stands in for battery_energy_remaining until a sensor is mapped.
    required_names = {m.name for m in required}
    if BATTERY_ENERGY_REMAINING in required_names:
        moved = next(m for m in required if m.name == BATTERY_ENERGY_REMAINING)
        required.remove(moved)
        optional.insert(0, moved)
    return required, optional


def sources_schema(use_case: UseCase, has_load: bool) -> vol.Schema:
    required, optional = mappable_metrics(use_case, has_load)
    fields: dict[vol.Marker, EntitySelector] = {}
    for metric in required:
        fields[vol.Required(metric.name)] = _selector(metric)
    for metric in optional:
        fields[vol.Optional(metric.name)] = _selector(metric)
    return vol.Schema(fields)


_STATE_OF_CHARGE = EntitySelector(
    EntitySelectorConfig(domain="sensor", device_class=["battery", "energy_storage"])
)


def _selector(metric: Metric) -> EntitySelector:
    if metric.name == BATTERY_SOE:
        return _STATE_OF_CHARGE
    return _STORED_ENERGY if metric.kind is MetricKind.STATE else _ENERGY_OR_POWER


def source_errors(hass: HomeAssistant, mapping: Mapping[str, str]) -> dict[str, str]:
    """Field errors naming each metric whose entity is missing or has an unusable unit."""
    errors: dict[str, str] = {}
    for metric_name, entity_id in mapping.items():
        state = hass.states.get(entity_id)
        if state is None:
            errors[metric_name] = "entity_not_found"
            continue
        unit = state.attributes.get("unit_of_measurement")
        allowed: frozenset[str] = ENERGY_UNITS | POWER_UNITS
        if metric_name == BATTERY_ENERGY_REMAINING:
            allowed = ENERGY_UNITS
        elif metric_name == BATTERY_SOE:
            allowed = ENERGY_UNITS | {PERCENTAGE}
        if unit not in allowed:
            errors[metric_name] = "incompatible_unit"
    return errors
