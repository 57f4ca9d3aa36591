"""Exponential backoff with full jitter for broker reconnects.

Full jitter (a uniform delay between 0 and the exponential cap) spreads the reconnects of
many gateways after a broker outage instead of making them hit the broker in lockstep.

Given how long the link has been down, the cap is also at most a quarter of that
(``OUTAGE_SHARE``): without it a 20-second outage could be followed by a two-minute wait,
with it the link is back within a quarter of the outage's length once the broker is.
"""

from __future__ import annotations

import random
from collections.abc import Callable

OUTAGE_SHARE = 0.25


class ExponentialBackoff:
    """Delays ``uniform(0, min(maximum, initial * multiplier**attempt))``; reset on success."""

    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 300.0,
        multiplier: float = 2.0,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        if not initial > 0:
            raise ValueError(f"initial must be > 0 seconds, got {initial!r}")
        if not maximum >= initial:
            raise ValueError(f"maximum must be >= initial ({initial}), got {maximum!r}")
        if not multiplier >= 1:
            raise ValueError(f"multiplier must be >= 1, got {multiplier!r}")
        self._initial = initial
        self._maximum = maximum
        self._multiplier = multiplier
        self._random = random_source
        self._attempts = 0

    @property
    def attempts(self) -> int:
        """Failures since the last reset."""
        return self._attempts

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        # Stop multiplying once the cap is reached so a long outage cannot overflow a float.
        ceiling = self._initial
        for _ in range(self._attempts):
            ceiling *= self._multiplier
            if ceiling >= self._maximum:
                return self._maximum
        return min(ceiling, self._maximum)

    def next_delay(self, down_for: float | None = None) -> float:
        """The delay before the next attempt, in seconds; counts one more failure.

        ``down_for``: seconds since the link was last up (or first tried); caps the delay
        at ``OUTAGE_SHARE`` of it, but never below ``initial``.
        """
        fraction = self._random()
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"random_source must return a value in [0, 1], got {fraction!r}")
        ceiling = self.ceiling()
        if down_for is not None:
            ceiling = min(ceiling, max(self._initial, OUTAGE_SHARE * down_for))
        delay = fraction * ceiling
        self._attempts += 1
        return delay

    def reset(self) -> None:
        """Forget past failures (call after a successful connection)."""
        self._attempts = 0
