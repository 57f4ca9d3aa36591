"""The metric catalogue follows the tables of docs/protocol.md."""

from __future__ import annotations

import pytest

from bess_dispatch_core.protocol import (
    METRICS,
    MetricKind,
    UseCase,
    metric,
    optional_metrics,
    required_metrics,
)

COMMON_REQUIRED = ["meter_export_ac", "meter_import_ac", "battery_soe", "battery_energy_remaining"]


def names(metrics: tuple[object, ...]) -> list[str]:
    return [m.name for m in metrics]  # type: ignore[attr-defined]


def test_required_per_use_case() -> None:
    assert names(required_metrics(UseCase.STANDALONE, has_load=False)) == COMMON_REQUIRED
    assert names(required_metrics(UseCase.AC_LINK, has_load=False)) == [
        *COMMON_REQUIRED,
        "solar_net_generation_ac",
        "battery_charge_ac",
        "battery_discharge_ac",
    ]
    assert names(required_metrics(UseCase.AC_LINK, has_load=True)) == [
        *COMMON_REQUIRED[:4],
        "grid_to_load_ac",
        "load_demand_ac",
        "solar_net_generation_ac",
        "battery_charge_ac",
        "battery_discharge_ac",
    ]
    assert names(required_metrics(UseCase.DC_LINK, has_load=True, can_charge_from_grid=True)) == [
        *COMMON_REQUIRED,
        "grid_to_load_ac",
        "load_demand_ac",
        "solar_generation_dc",
        "battery_charge_dc",
        "battery_to_inverter_dc",
        "inverter_net_output_ac",
        "inverter_to_load_ac",
        "grid_to_inverter_ac",
    ]


@pytest.mark.parametrize("use_case", list(UseCase))
@pytest.mark.parametrize("has_load", [False, True])
def test_required_and_optional_partition_the_use_case(use_case: UseCase, has_load: bool) -> None:
    if use_case is UseCase.STANDALONE and has_load:
        with pytest.raises(ValueError, match="no on-site load"):
            required_metrics(use_case, has_load=has_load)
        with pytest.raises(ValueError, match="no on-site load"):
            optional_metrics(use_case, has_load=has_load)
        return
    required = set(names(required_metrics(use_case, has_load=has_load)))
    optional = set(names(optional_metrics(use_case, has_load=has_load)))
    assert not required & optional
    if use_case is UseCase.STANDALONE:
        assert optional == {"curtailment"}
    else:
        assert required | optional == {n for n, m in METRICS.items() if use_case in m.use_cases}


def test_metric_facts() -> None:
    assert len(METRICS) == 26
    assert metric("battery_soe").kind is MetricKind.STATE
    assert metric("battery_soe").instant_unit == "kWh"
    assert metric("meter_import_ac").unit == "kWh"
    assert metric("meter_import_ac").instant_unit == "kW"
    assert all(m.description for m in METRICS.values())
    with pytest.raises(ValueError, match="unknown metric"):
        metric("volts")
