"""The one %<->energy SoE conversion."""

from __future__ import annotations

import math

import pytest

from bess_dispatch_core.units import percent_of_capacity, soe_from_percent, soe_kwh


def test_soe_from_soc_and_capacity() -> None:
    assert soe_kwh(50.0, 13.5) == pytest.approx(6.75)
    with pytest.raises(ValueError, match="soc_percent"):
        soe_kwh(101.0, 10.0)
    with pytest.raises(ValueError, match="capacity_kwh"):
        soe_kwh(50.0, 0.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, True, "50"])
def test_a_reading_that_is_not_a_number_names_the_field(bad: object) -> None:
    with pytest.raises(ValueError, match="soc_percent must be a finite number"):
        soe_kwh(bad, 10.0)  # type: ignore[arg-type]


def test_percent_and_energy_are_inverse() -> None:
    assert soe_from_percent(10.0, 13.5) == pytest.approx(1.35)
    assert soe_from_percent(50.0, 10_000.0) == 5_000.0  # any unit: Wh here
    assert percent_of_capacity(soe_from_percent(37.0, 13.5), 13.5) == pytest.approx(37.0)
