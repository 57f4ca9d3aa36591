"""The simulated site's energy log: interpolation between samples, and its bounds."""

from __future__ import annotations

import pytest

from simulators.energy_log import EnergyLog


def test_energy_between_two_moments_is_interpolated_between_samples() -> None:
    log = EnergyLog()
    log.record(100.0, {"grid_import": 1_000.0})
    log.record(100.5, {"grid_import": 9_999.0})  # closer than a second: not kept
    log.record(110.0, {"grid_import": 2_000.0})
    log.record(130.0, {"grid_import": 2_000.0})

    assert log.at(105.0) == {"grid_import": pytest.approx(1_500.0)}
    assert log.at(110.0) == {"grid_import": 2_000.0}
    assert log.kwh_between(100.0, 120.0) == {"grid_import": pytest.approx(1.0)}


def test_a_moment_outside_the_samples_is_refused_naming_the_span() -> None:
    log = EnergyLog()
    with pytest.raises(ValueError, match="outside the recorded span \\(nothing\\)"):
        log.at(1.0)
    with pytest.raises(ValueError, match="no sample recorded yet"):
        _ = log.first_s
    log.record(10.0, {"x": 0.0})
    assert log.first_s == 10.0
    log.record(20.0, {"x": 1.0})
    with pytest.raises(ValueError, match=r"time 21.0 is outside the recorded span \(10.0..20.0\)"):
        log.at(21.0)


def test_the_log_keeps_at_most_its_bound() -> None:
    log = EnergyLog(max_samples=3)
    for second in range(10):
        log.record(float(second), {"x": float(second)})
    assert log.at(7.5) == {"x": pytest.approx(7.5)}
    with pytest.raises(ValueError, match=r"\(7\.0\.\.9\.0\)"):
        log.at(6.0)
