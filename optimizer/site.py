"""Typed, validated inputs of one dispatch problem: battery, grid, topology, tariff, forecasts.

Every slot series is in kW (average power over the slot) or currency per kWh. Inconsistent
input raises :class:`InputError` naming the offending field, e.g.
``battery.soe_min_kwh > battery.soe_max_kwh``.

Sign conventions used everywhere in the optimizer: battery power is positive when charging
and negative when discharging (AC side, as in the protocol); grid power is positive when
importing and negative when exporting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .fcr.market import FcrMarket

type FloatArray = npt.NDArray[np.float64]


class InputError(ValueError):
    """Inconsistent dispatch input; the message starts with the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name


class Topology(StrEnum):
    """How battery and PV connect (the use cases of docs/protocol.md)."""

    AC_LINK = "ac_link"  # separate PV and battery inverters on the AC bus
    DC_LINK = "dc_link"  # one shared inverter; PV charges the battery on the DC side
    STAND_ALONE = "stand_alone"  # no PV and no load behind the meter


def _finite(name: str, value: float) -> float:
    # bool is an int to Python but never a quantity here; strings and None are refused too.
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputError(name, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InputError(name, f"must be a finite number, got {value!r}")
    return float(value)


def _flag(name: str, value: bool) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(name, f"must be true or false, got {value!r}")
    return bool(value)


def _instance[T](name: str, value: object, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise InputError(name, f"must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _non_negative(name: str, value: float) -> float:
    if _finite(name, value) < 0:
        raise InputError(name, f"must be >= 0, got {value!r}")
    return float(value)


def _efficiency(name: str, value: float) -> float:
    if not 0 < _finite(name, value) <= 1:
        raise InputError(name, f"must be in (0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Battery:
    """Usable energy window, power limits, losses and the value of what is left at the end.

    ``cycle_cost_per_kwh`` is charged on every kWh charged and every kWh discharged (AC side).
    ``terminal_value_per_kwh`` credits the energy stored at the end of the horizon;
    ``terminal_soe_target_kwh`` is a soft goal for the final SoE (penalised shortfall).
    """

    capacity_kwh: float
    charge_max_kw: float
    discharge_max_kw: float
    soe_initial_kwh: float
    soe_min_kwh: float = 0.0
    soe_max_kwh: float | None = None  # None: the capacity
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    cycle_cost_per_kwh: float = 0.0
    terminal_value_per_kwh: float = 0.0
    terminal_soe_target_kwh: float | None = None

    def __post_init__(self) -> None:
        capacity = _non_negative("battery.capacity_kwh", self.capacity_kwh)
        _non_negative("battery.charge_max_kw", self.charge_max_kw)
        _non_negative("battery.discharge_max_kw", self.discharge_max_kw)
        _efficiency("battery.charge_efficiency", self.charge_efficiency)
        _efficiency("battery.discharge_efficiency", self.discharge_efficiency)
        _non_negative("battery.cycle_cost_per_kwh", self.cycle_cost_per_kwh)
        _finite("battery.terminal_value_per_kwh", self.terminal_value_per_kwh)
        soe_min = _non_negative("battery.soe_min_kwh", self.soe_min_kwh)
        soe_max = _non_negative("battery.soe_max_kwh", self.soe_max)
        if soe_min > soe_max:
            raise InputError("battery.soe_min_kwh", "battery.soe_min_kwh > battery.soe_max_kwh")
        if soe_max > capacity:
            raise InputError("battery.soe_max_kwh", "battery.soe_max_kwh > battery.capacity_kwh")
        initial = _non_negative("battery.soe_initial_kwh", self.soe_initial_kwh)
        if initial > capacity:
            raise InputError(
                "battery.soe_initial_kwh", "battery.soe_initial_kwh > battery.capacity_kwh"
            )
        if self.terminal_soe_target_kwh is not None:
            target = _non_negative("battery.terminal_soe_target_kwh", self.terminal_soe_target_kwh)
            if target > capacity:
                raise InputError(
                    "battery.terminal_soe_target_kwh",
                    "battery.terminal_soe_target_kwh > battery.capacity_kwh",
                )

    @property
    def soe_max(self) -> float:
        return self.capacity_kwh if self.soe_max_kwh is None else self.soe_max_kwh


@dataclass(frozen=True, slots=True)
class Grid:
    """Connection limits and permissions. ``inverter_max_kw`` is the DC-link shared inverter."""

    import_max_kw: float
    export_max_kw: float
    grid_charging_allowed: bool = True
    export_allowed: bool = True
    inverter_max_kw: float | None = None

    def __post_init__(self) -> None:
        _non_negative("grid.import_max_kw", self.import_max_kw)
        _non_negative("grid.export_max_kw", self.export_max_kw)
        _flag("grid.grid_charging_allowed", self.grid_charging_allowed)
        _flag("grid.export_allowed", self.export_allowed)
        if self.inverter_max_kw is not None:
            _non_negative("grid.inverter_max_kw", self.inverter_max_kw)


@dataclass(frozen=True, slots=True)
class SoeWindow:
    """Soft goal: SoE at the END of ``slot`` within [min_kwh, max_kwh] (a scheduled SoC policy).

    A target by a deadline is ``SoeWindow(slot=deadline_slot, min_kwh=target)``.
    """

    slot: int
    min_kwh: float = 0.0
    max_kwh: float | None = None

    def __post_init__(self) -> None:
        # The slot range needs the horizon: Site checks it (and names the window's index).
        if isinstance(self.slot, bool) or not isinstance(self.slot, (int, np.integer)):
            raise InputError("soe_window.slot", f"must be a slot index, got {self.slot!r}")
        low = _non_negative("soe_window.min_kwh", self.min_kwh)
        if self.max_kwh is not None:
            high = _non_negative("soe_window.max_kwh", self.max_kwh)
            if low > high:
                raise InputError("soe_window.min_kwh", "soe_window.min_kwh > soe_window.max_kwh")


def _as_array(name: str, values: Sequence[float] | FloatArray) -> FloatArray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(name, f"must be a series of numbers ({error})") from None


def _length(name: str, values: Sequence[float] | FloatArray) -> int:
    array = _as_array(name, values)
    if array.ndim != 1:
        raise InputError(name, f"must be one-dimensional, got shape {array.shape}")
    return int(array.shape[0])


def _series(
    name: str, values: Sequence[float] | FloatArray, length: int, *, allow_inf: bool = False
) -> FloatArray:
    array = _as_array(name, values)
    if array.ndim != 1:
        raise InputError(name, f"must be one-dimensional, got shape {array.shape}")
    if array.shape[0] != length:
        raise InputError(name, f"has {array.shape[0]} slots, expected {length}")
    bad = np.isnan(array) if allow_inf else ~np.isfinite(array)
    if np.any(bad):
        raise InputError(name, f"slot {int(np.argmax(bad))} is not a finite number")
    return array


@dataclass(frozen=True, slots=True)
class Tariff:
    """Price per kWh per slot. ``export_premium`` is a FIP premium on exported PV energy.

    The premium is only allowed when grid charging is forbidden (see :class:`Site`): then the
    battery only stores PV left after the load, so every exported kWh is PV energy, directly
    or via the battery, and earns it (energy already stored at the start counts as PV).
    """

    import_price: FloatArray
    export_price: FloatArray
    export_premium: FloatArray

    @classmethod
    def of(
        cls,
        import_price: Sequence[float] | FloatArray,
        export_price: Sequence[float] | FloatArray,
        export_premium: Sequence[float] | FloatArray | None = None,
    ) -> Tariff:
        length = _length("tariff.import_price", import_price)
        premium = np.zeros(length) if export_premium is None else export_premium
        return cls(
            _series("tariff.import_price", import_price, length),
            _series("tariff.export_price", export_price, length),
            _series("tariff.export_premium", premium, length),
        )

    def __post_init__(self) -> None:
        # Direct construction must be as safe as Tariff.of: normalise and check every series.
        length = _length("tariff.import_price", self.import_price)
        for name in ("import_price", "export_price", "export_premium"):
            values = _series(f"tariff.{name}", getattr(self, name), length)
            object.__setattr__(self, name, values)
        if np.any(self.export_premium < 0):
            raise InputError("tariff.export_premium", "must be >= 0")

    def __len__(self) -> int:
        return int(self.import_price.shape[0])


@dataclass(frozen=True, slots=True)
class Site:
    """One dispatch problem over ``len(tariff)`` slots of ``slot_hours`` each."""

    topology: Topology
    battery: Battery
    grid: Grid
    tariff: Tariff
    pv_kw: FloatArray
    load_kw: FloatArray
    pv_cap_kw: FloatArray  # curtailment schedule: PV may not exceed this per slot
    slot_hours: float = 0.5
    soe_windows: tuple[SoeWindow, ...] = ()
    penalty_per_kwh: float = field(default=0.0)  # 0: derived from the prices
    fcr: FcrMarket | None = None  # FCR blocks of this horizon (None: energy only)

    @classmethod
    def build(
        cls,
        *,
        topology: Topology,
        battery: Battery,
        grid: Grid,
        tariff: Tariff,
        pv_kw: Sequence[float] | FloatArray | None = None,
        load_kw: Sequence[float] | FloatArray | None = None,
        pv_cap_kw: Sequence[float] | FloatArray | None = None,
        slot_hours: float = 0.5,
        soe_windows: Sequence[SoeWindow] = (),
        penalty_per_kwh: float = 0.0,
        fcr: FcrMarket | None = None,
    ) -> Site:
        """Validate and normalise; missing PV/load/caps mean zero PV, zero load, no cap."""
        n = len(_instance("tariff", tariff, Tariff))
        if n == 0:
            raise InputError("tariff.import_price", "needs at least one slot")
        zeros = np.zeros(n)
        pv = _series("pv_kw", zeros if pv_kw is None else pv_kw, n)
        load = _series("load_kw", zeros if load_kw is None else load_kw, n)
        cap = _series(
            "pv_cap_kw", np.full(n, np.inf) if pv_cap_kw is None else pv_cap_kw, n, allow_inf=True
        )
        return cls(
            topology,
            battery,
            grid,
            tariff,
            pv,
            load,
            cap,
            slot_hours,
            tuple(soe_windows),
            penalty_per_kwh,
            fcr,
        )

    def __post_init__(self) -> None:
        # Every path (build, the constructor, dataclasses.replace) passes through here.
        _instance("topology", self.topology, Topology)
        _instance("battery", self.battery, Battery)
        _instance("grid", self.grid, Grid)
        n = len(_instance("tariff", self.tariff, Tariff))
        if n == 0:
            raise InputError("tariff.import_price", "needs at least one slot")
        for name in ("pv_kw", "load_kw", "pv_cap_kw"):
            values = _series(name, getattr(self, name), n, allow_inf=name == "pv_cap_kw")
            if np.any(values < 0):
                raise InputError(name, f"slot {int(np.argmax(values < 0))} is negative")
            object.__setattr__(self, name, values)
        object.__setattr__(self, "soe_windows", tuple(self.soe_windows))
        for index, window in enumerate(self.soe_windows):
            _instance(f"soe_windows[{index}]", window, SoeWindow)
        if not 0 < _finite("slot_hours", self.slot_hours) <= 24:
            raise InputError("slot_hours", f"must be in (0, 24], got {self.slot_hours!r}")
        _non_negative("penalty_per_kwh", self.penalty_per_kwh)
        if self.topology is Topology.STAND_ALONE and (
            np.any(self.pv_kw > 0) or np.any(self.load_kw > 0)
        ):
            raise InputError("pv_kw", "a stand-alone battery has no PV and no load")
        if self.topology is Topology.DC_LINK and self.grid.inverter_max_kw is None:
            raise InputError("grid.inverter_max_kw", "a DC-link site needs its inverter limit")
        if np.any(self.tariff.export_premium < 0):
            raise InputError("tariff.export_premium", "must be >= 0")
        # FIP: grid-charged energy earns no premium. We forbid the combination instead of
        # tracking energy origin: without grid charging every exported kWh is PV energy.
        if np.any(self.tariff.export_premium > 0) and self.grid.grid_charging_allowed:
            raise InputError(
                "tariff.export_premium",
                "a FIP premium needs grid.grid_charging_allowed=False "
                "(grid-charged energy earns no premium)",
            )
        for index, window in enumerate(self.soe_windows):
            name = f"soe_windows[{index}]"
            if not 0 <= window.slot < n:
                raise InputError(f"{name}.slot", f"must be in [0, {n}), got {window.slot}")
        if self.fcr is not None:
            from .fcr.market import FcrMarket  # the FCR room imports this module

            _instance("fcr", self.fcr, FcrMarket).check_horizon(n)

    @property
    def slots(self) -> int:
        return len(self.tariff)

    @property
    def pv_available_kw(self) -> FloatArray:
        """PV the site may use per slot: the forecast under the curtailment cap."""
        return np.minimum(self.pv_kw, self.pv_cap_kw)

    @property
    def pv_surplus_kw(self) -> FloatArray:
        """PV left after the load: the only power that may charge without grid charging.

        DC-link: PV beyond the inverter limit can never reach the load, so it is surplus too.
        """
        pv = self.pv_available_kw
        if self.topology is Topology.DC_LINK:
            assert self.grid.inverter_max_kw is not None
            served = np.minimum(self.load_kw, self.grid.inverter_max_kw)
            return np.asarray(np.maximum(pv - served, 0.0), dtype=np.float64)
        return np.asarray(np.maximum(pv - self.load_kw, 0.0), dtype=np.float64)

    @property
    def penalty(self) -> float:
        """Price of one kWh of unmet goal or unserved load: far above any energy price."""
        if self.penalty_per_kwh > 0:
            return self.penalty_per_kwh
        prices = np.concatenate(
            [self.tariff.import_price, self.tariff.export_price + self.tariff.export_premium]
        )
        scale = max(float(np.max(np.abs(prices))), abs(self.battery.terminal_value_per_kwh))
        return 100.0 * max(scale, 1.0) + 10.0 * self.battery.cycle_cost_per_kwh
