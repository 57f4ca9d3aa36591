"""PV nowcast: the last hours' measured / clear-sky ratio, fading into a day-level ratio.

Clouds persist for hours, not days: the ratio seen over the last ``recent_slots`` is the best
guess for the next slots, and it fades exponentially (time constant ``fade_slots``) towards
the day-level ratio of :class:`RatioForecast` further ahead. Slots without a reading (NaN)
are left out of the recent ratio.
"""

from __future__ import annotations

import numpy as np

from ..site import FloatArray
from .pv import RatioForecast, seen_sums

MIN_CLEAR_KWH = 0.05  # below this much clear-sky energy the recent ratio means nothing


class NowcastForecast:
    def __init__(
        self,
        measured: FloatArray,
        clear_sky: FloatArray,
        day_level: RatioForecast,
        *,
        recent_slots: int = 4,
        fade_slots: float = 6.0,
    ) -> None:
        if measured.shape != clear_sky.shape:
            raise ValueError("clear_sky: must have the same length as measured")
        if recent_slots < 1 or fade_slots <= 0:
            raise ValueError("recent_slots/fade_slots: need recent_slots >= 1 and fade_slots > 0")
        self._clear = clear_sky
        self._measured_sum, self._clear_sum = seen_sums(measured, clear_sky)
        self._day_level = day_level
        self._recent = recent_slots
        self._fade = fade_slots

    def recent_ratio(self, decision_slot: int) -> float | None:
        """Measured / clear-sky over the last slots, None when the sun was (nearly) down."""
        start = max(decision_slot - self._recent, 0)
        clear = self._clear_sum[decision_slot] - self._clear_sum[start]
        if clear < MIN_CLEAR_KWH:
            return None
        measured = self._measured_sum[decision_slot] - self._measured_sum[start]
        return float(np.clip(measured / clear, 0.0, 1.5))

    def forecast(self, decision_slot: int, horizon: int) -> FloatArray:
        day_ratio = self._day_level.ratio(decision_slot)
        recent = self.recent_ratio(decision_slot)
        ratio = np.full(horizon, day_ratio)
        if recent is not None:
            weight = np.exp(-np.arange(horizon) / self._fade)
            ratio = weight * recent + (1.0 - weight) * day_ratio
        return np.asarray(self._clear[decision_slot : decision_slot + horizon] * ratio)
