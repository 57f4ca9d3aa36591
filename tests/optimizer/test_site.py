"""Every inconsistent input raises InputError naming the field."""

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
        (
            {"soe_windows": [SoeWindow(slot=0, min_kwh=3.0, max_kwh=2.0)]},
            r"soe_windows\[0\].min_kwh > soe_windows\[0\].max_kwh",
        ),
        ({"soe_windows": [SoeWindow(slot=0, min_kwh=-1.0)]}, r"soe_windows\[0\].min_kwh"),
        ({"tariff": Tariff.of([1.0, 1.0], [0.0, 0.0], [1.0, 0.0])}, "tariff.export_premium"),
        ({"tariff": Tariff.of([1.0, 1.0], [0.0, 0.0], [-1.0, 0.0])}, "tariff.export_premium"),
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
