"""Exponential backoff with full jitter."""

from __future__ import annotations

import pytest

from bess_dispatch_core.link.backoff import OUTAGE_SHARE, ExponentialBackoff


def test_ceiling_doubles_up_to_the_maximum() -> None:
    backoff = ExponentialBackoff(initial=1.0, maximum=10.0, random_source=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.attempts == 6


def test_full_jitter_scales_the_ceiling_by_the_random_fraction() -> None:
    fractions = iter([0.0, 0.5, 0.25])
    backoff = ExponentialBackoff(initial=2.0, maximum=100.0, random_source=lambda: next(fractions))
    assert [backoff.next_delay() for _ in range(3)] == [0.0, 2.0, 2.0]


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = ExponentialBackoff(initial=1.0, maximum=60.0, random_source=lambda: 1.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next_delay() == 1.0


def test_a_long_outage_stays_at_the_maximum() -> None:
    backoff = ExponentialBackoff(initial=1.0, maximum=300.0, random_source=lambda: 1.0)
    for _ in range(5000):
        delay = backoff.next_delay()
    assert delay == 300.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"initial": 0.0}, "initial"),
        ({"initial": 5.0, "maximum": 1.0}, "maximum"),
        ({"multiplier": 0.5}, "multiplier"),
    ],
)
def test_bad_parameters_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ExponentialBackoff(**kwargs)


def test_random_source_out_of_range_is_refused() -> None:
    backoff = ExponentialBackoff(random_source=lambda: 1.5)
    with pytest.raises(ValueError, match="random_source"):
        backoff.next_delay()


def test_a_short_outage_caps_the_wait() -> None:
    """The probe: 117 s to reconnect after a 20 s outage. The wait is now at most a
    quarter of the time the link has been down, and never below ``initial``."""
    backoff = ExponentialBackoff(initial=1.0, maximum=120.0, random_source=lambda: 1.0)
    for _ in range(10):
        backoff.next_delay()
    assert backoff.ceiling() == 120.0
    assert backoff.next_delay(down_for=20.0) == 20.0 * OUTAGE_SHARE
    assert backoff.next_delay(down_for=0.5) == 1.0
    assert backoff.next_delay(down_for=3600.0) == 120.0
