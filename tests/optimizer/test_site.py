"""Every inconsistent input raises InputError naming the field."""

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from optimizer.site import Battery, Grid, InputError, Site, SoeWindow, Tariff, Topology


def battery(**changes: Any) -> Battery:
    fields: dict[str, Any] = {
        "capacity_kwh": 10.0,
        "charge_max_kw": 5.0,
        "discharge_max_kw": 5.0,
        "soe_initial_kwh": 5.0,
        "soe_min_kwh": 1.0,
        "soe_max_kwh": 9.0,
    }
    fields.update(changes)
    return Battery(**fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"soe_min_kwh": 9.5}, "battery.soe_min_kwh > battery.soe_max_kwh"),
        ({"capacity_kwh": -1.0}, "battery.capacity_kwh"),
        ({"soe_max_kwh": 11.0}, "battery.soe_max_kwh > battery.capacity_kwh"),
        ({"soe_initial_kwh": 12.0}, "battery.soe_initial_kwh > battery.capacity_kwh"),
        ({"soe_initial_kwh": -0.1}, "battery.soe_initial_kwh"),
        ({"charge_max_kw": -1.0}, "battery.charge_max_kw"),
        ({"discharge_max_kw": float("nan")}, "battery.discharge_max_kw"),
        ({"charge_efficiency": 0.0}, "battery.charge_efficiency"),
        ({"discharge_efficiency": 1.2}, "battery.discharge_efficiency"),
        ({"cycle_cost_per_kwh": -0.5}, "battery.cycle_cost_per_kwh"),
        ({"terminal_value_per_kwh": float("inf")}, "battery.terminal_value_per_kwh"),
        ({"terminal_soe_target_kwh": 10.5}, "battery.terminal_soe_target_kwh"),
    ],
)
def test_bad_battery(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        battery(**changes)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"import_max_kw": -1.0, "export_max_kw": 1.0}, "grid.import_max_kw"),
        ({"import_max_kw": 1.0, "export_max_kw": -1.0}, "grid.export_max_kw"),
        ({"import_max_kw": 1.0, "export_max_kw": 1.0, "inverter_max_kw": -2.0}, "grid.inverter"),
    ],
)
def test_bad_grid(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field):
        Grid(**kwargs)


def build(**changes: Any) -> Site:
    fields: dict[str, Any] = {
        "topology": Topology.AC_LINK,
        "battery": battery(),
        "grid": Grid(5.0, 5.0),
        "tariff": Tariff.of([10.0, 20.0], [5.0, 5.0]),
        "pv_kw": [1.0, 0.0],
        "load_kw": [0.5, 0.5],
    }
    fields.update(changes)
    return Site.build(**fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pv_kw": [1.0, 0.0, 0.0]}, "pv_kw: has 3 slots, expected 2"),
        ({"load_kw": [1.0]}, "load_kw: has 1 slots, expected 2"),
        ({"load_kw": [1.0, -1.0]}, "load_kw"),
        ({"pv_kw": [float("nan"), 0.0]}, "pv_kw"),
        ({"pv_cap_kw": [1.0, float("nan")]}, "pv_cap_kw"),
        ({"tariff": Tariff.of([], [])}, "tariff.import_price"),
        ({"slot_hours": 0.0}, "slot_hours"),
        ({"penalty_per_kwh": -1.0}, "penalty_per_kwh"),
        ({"topology": Topology.STAND_ALONE}, "pv_kw: a stand-alone battery has no PV"),
        ({"topology": Topology.DC_LINK}, "grid.inverter_max_kw"),
        ({"soe_windows": [SoeWindow(slot=2, min_kwh=1.0)]}, r"soe_windows\[0\].slot"),
        ({"soe_windows": [SoeWindow(slot=-1)]}, r"soe_windows\[0\].slot"),
        ({"soe_windows": [(0, 1.0, 2.0)]}, r"soe_windows\[0\]: must be a SoeWindow"),
        ({"pv_kw": [1.0, float("inf")]}, "pv_kw: slot 1 is not a finite number"),
        ({"load_kw": [float("-inf"), 0.0]}, "load_kw: slot 0 is not a finite number"),
        ({"pv_cap_kw": [1.0, -1.0]}, "pv_cap_kw: slot 1 is negative"),
        ({"pv_kw": ["a", 0.0]}, "pv_kw: must be a series of numbers"),
        ({"slot_hours": float("nan")}, "slot_hours"),
        ({"slot_hours": 25.0}, "slot_hours"),
        ({"penalty_per_kwh": float("inf")}, "penalty_per_kwh"),
        ({"tariff": "cheap"}, "tariff: must be a Tariff"),
        ({"tariff": Tariff.of([1.0, 1.0], [0.0, 0.0], [1.0, 0.0])}, "tariff.export_premium"),
    ],
)
def test_bad_site(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field):
        build(**changes)


def test_tariff_lengths_must_match() -> None:
    with pytest.raises(InputError, match=r"tariff.export_price: has 1 slots, expected 2"):
        Tariff.of([1.0, 2.0], [1.0])
    with pytest.raises(InputError, match=r"tariff\.import_price"):
        Tariff.of(np.zeros((2, 2)), np.zeros(2))


def test_good_input_and_derived_values() -> None:
    site = build(pv_cap_kw=[0.8, 0.0])
    assert site.slots == 2
    assert site.pv_available_kw.tolist() == [0.8, 0.0]
    assert site.pv_surplus_kw.tolist() == pytest.approx([0.3, 0.0])
    assert site.penalty >= 100 * 20
    premium = build(
        tariff=Tariff.of([1.0, 1.0], [0.0, 0.0], [1.0, 0.0]),
        grid=Grid(5.0, 5.0, grid_charging_allowed=False),
    )
    assert premium.tariff.export_premium.tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"slot": 0, "min_kwh": 2.0, "max_kwh": float("nan")}, "soe_window.max_kwh"),
        ({"slot": 0, "min_kwh": float("nan")}, "soe_window.min_kwh"),
        ({"slot": 0, "min_kwh": float("inf")}, "soe_window.min_kwh"),
        ({"slot": 0, "min_kwh": -1.0}, "soe_window.min_kwh"),
        ({"slot": 0, "max_kwh": -1.0}, "soe_window.max_kwh"),
        ({"slot": 0, "min_kwh": 3.0, "max_kwh": 2.0}, "soe_window.min_kwh > soe_window.max_kwh"),
        ({"slot": 1.5}, "soe_window.slot"),
        ({"slot": True}, "soe_window.slot"),
        ({"slot": 0, "min_kwh": "2"}, "soe_window.min_kwh: must be a number"),
    ],
)
def test_bad_soe_window(kwargs: dict[str, Any], field: str) -> None:
    # The case: a NaN maximum used to be accepted and silently ignored.
    with pytest.raises(InputError, match=field):
        SoeWindow(**kwargs)


@pytest.mark.parametrize(
    ("prices", "field"),
    [
        (([float("nan"), 1.0], [0.0, 0.0], [0.0, 0.0]), "tariff.import_price: slot 0"),
        (([1.0, 1.0], [0.0, float("inf")], [0.0, 0.0]), "tariff.export_price: slot 1"),
        (([1.0, 1.0], [0.0], [0.0, 0.0]), "tariff.export_price: has 1 slots, expected 2"),
        (([1.0, 1.0], [0.0, 0.0], [0.0]), "tariff.export_premium: has 1 slots, expected 2"),
        (([1.0, 1.0], [0.0, 0.0], [0.0, -1.0]), "tariff.export_premium: must be >= 0"),
        ((1.0, [0.0], [0.0]), "tariff.import_price: must be one-dimensional"),
    ],
)
def test_tariff_built_directly_is_validated(prices: tuple[Any, Any, Any], field: str) -> None:
    # Not only Tariff.of: the constructor itself, the path that once reached the solver.
    with pytest.raises(InputError, match=field):
        Tariff(*prices)


def test_tariff_built_directly_is_normalised() -> None:
    tariff = Tariff([1, 2], [0, 0], [0, 0])  # type: ignore[arg-type]
    assert tariff.import_price.dtype == np.float64
    assert len(tariff) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"grid_charging_allowed": "no"}, "grid.grid_charging_allowed"),
        ({"export_allowed": None}, "grid.export_allowed"),
        ({"import_max_kw": float("nan")}, "grid.import_max_kw"),
        ({"export_max_kw": float("inf")}, "grid.export_max_kw"),
        ({"inverter_max_kw": float("nan")}, "grid.inverter_max_kw"),
    ],
)
def test_bad_grid_flags_and_numbers(kwargs: dict[str, Any], field: str) -> None:
    fields: dict[str, Any] = {"import_max_kw": 1.0, "export_max_kw": 1.0}
    fields.update(kwargs)
    with pytest.raises(InputError, match=field):
        Grid(**fields)


def test_site_constructor_and_replace_are_validated() -> None:
    good = build()
    with pytest.raises(InputError, match="load_kw: has 1 slots, expected 2"):
        Site(
            good.topology,
            good.battery,
            good.grid,
            good.tariff,
            good.pv_kw,
            np.zeros(1),
            good.pv_cap_kw,
        )
    with pytest.raises(InputError, match="pv_kw: slot 0 is not a finite number"):
        replace(good, pv_kw=np.array([np.nan, 0.0]))
    with pytest.raises(InputError, match="battery: must be a Battery"):
        replace(good, battery=None)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"battery\.capacity_kwh: must be a number"):
        battery(capacity_kwh=None)
