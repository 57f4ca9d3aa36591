"""How one protocol metric is measured: which kind of reading feeds it, in which unit.

The combinations the gateway understands (anything else is refused, naming the metric):

============== ======================================== ==============================
quantity       feeds                                    unit
============== ======================================== ==============================
ENERGY         an energy metric (lifetime counter)      Wh / kWh / MWh (+ semantics)
POWER          an energy metric (integrated), or the    W / kW (+ flow for energy
               ``curtailment`` state (kW, on change)    metrics fed by a signed sensor)
SOC_PERCENT    ``battery_soe`` (% x usable capacity)    %
ENERGY_STATE   ``battery_soe`` or                       Wh / kWh / MWh
               ``battery_energy_remaining`` (a level)
============== ======================================== ==============================

``flow`` picks one direction of a signed power sensor (a battery sensor, + charging, feeds
``battery_charge_ac`` with POSITIVE and ``battery_discharge_ac`` with NEGATIVE); without it
the sensor is taken as one-way: negative readings add no energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..protocol.metrics import BATTERY_SOE, CURTAILMENT, MetricKind, metric
from .energy_counter import MeterSemantics, PowerFlow, energy_unit, power_unit

PERCENT = "%"


class SourceQuantity(StrEnum):
    ENERGY = "energy"
    """An energy counter (Wh/kWh/MWh), ``total`` or ``total_increasing``."""
    POWER = "power"
    """A power reading (W/kW), integrated into energy by the gateway."""
    SOC_PERCENT = "soc_percent"
    """State of charge in %, times the usable capacity gives ``battery_soe``."""
    ENERGY_STATE = "energy_state"
    """A stored-energy level (Wh/kWh/MWh): ``battery_soe`` or ``battery_energy_remaining``."""


@dataclass(frozen=True, slots=True)
class MetricSource:
    """How ``metric`` (a name from the catalogue) is measured; invalid combinations raise
    ValueError naming the metric and the field."""

    metric: str
    quantity: SourceQuantity
    unit: str
    semantics: MeterSemantics | None = None
    flow: PowerFlow | None = None

    def __post_init__(self) -> None:
        described = metric(self.metric)  # ValueError for an unknown name
        name = self.metric
        quantity = _parse(SourceQuantity, self.quantity, name, "quantity")
        object.__setattr__(self, "quantity", quantity)
        if self.semantics is not None:
            semantics = _parse(MeterSemantics, self.semantics, name, "semantics")
            object.__setattr__(self, "semantics", semantics)
        if self.flow is not None:
            object.__setattr__(self, "flow", _parse(PowerFlow, self.flow, name, "flow"))
        is_energy = described.kind is MetricKind.ENERGY
        match self.quantity:
            case SourceQuantity.ENERGY:
                _require(is_energy, name, "quantity energy needs an energy metric")
                _unit(name, self.unit, energy=True)
                _require(self.flow is None, name, "flow applies to power sources only")
            case SourceQuantity.POWER:
                _require(
                    is_energy or name == CURTAILMENT,
                    name,
                    "quantity power feeds an energy metric or curtailment",
                )
                _unit(name, self.unit, energy=False)
                _require(self.semantics is None, name, "semantics applies to energy sources only")
                _require(
                    is_energy or self.flow is None, name, "flow applies to energy metrics only"
                )
            case SourceQuantity.SOC_PERCENT:
                _require(name == BATTERY_SOE, name, "quantity soc_percent feeds battery_soe only")
                _require(self.unit == PERCENT, name, f"unit must be '%', got {self.unit!r}")
                _require(self.semantics is None and self.flow is None, name, "no semantics/flow")
            case SourceQuantity.ENERGY_STATE:
                _require(
                    described.kind is MetricKind.STATE and described.unit == "kWh",
                    name,
                    "quantity energy_state feeds battery_soe or battery_energy_remaining only",
                )
                _unit(name, self.unit, energy=True)
                _require(self.semantics is None and self.flow is None, name, "no semantics/flow")

    @property
    def is_counter(self) -> bool:
        """True when the metric is an energy flow counted by the gateway."""
        return metric(self.metric).kind is MetricKind.ENERGY


def _parse[E: StrEnum](enum: type[E], value: str, name: str, field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        accepted = ", ".join(item.value for item in enum)
        raise ValueError(f"{name}: {field} {value!r} is not one of {accepted}") from None


def _require(condition: bool, name: str, problem: str) -> None:
    if not condition:
        raise ValueError(f"{name}: {problem}")


def _unit(name: str, unit: str, *, energy: bool) -> None:
    try:
        energy_unit(unit) if energy else power_unit(unit)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
