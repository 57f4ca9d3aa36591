"""Load forecast from a weighted history, as Predbat forecasts a home's load.

Each past day of the last ``days`` counts with a weight: the same weekday as the day
forecast far above the same day type (weekday or weekend), far above the others, and every
weight decays with the day's age. The forecast of a slot is the weighted mean of that slot of
day over the days measured (NaN marks a gap), scaled up a little: for a home battery an
under-forecast load empties the battery too early, which costs more than the opposite error.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..site import FloatArray
from .load_median import MIN_DAY_COVERAGE

SAME_WEEKDAY, SAME_TYPE, OTHER = 9.0, 3.0, 1.0


class WeightedHistoryProfile:
    """``measured`` covers every slot (NaN: no reading); ``weekday`` is each day's 0..6."""

    def __init__(
        self,
        measured: FloatArray,
        weekday: npt.NDArray[np.int64],
        *,
        days: int = 28,
        decay: float = 0.9,
        scale: float = 1.05,
        slots_per_day: int = 48,
    ) -> None:
        if days < 1 or not 0 < decay <= 1 or scale <= 0:
            raise ValueError("days/decay/scale: need days >= 1, 0 < decay <= 1, scale > 0")
        whole = measured.shape[0] // slots_per_day
        if weekday.shape[0] < whole:
            raise ValueError("weekday: needs one entry per day of measured")
        self._rows = measured[: whole * slots_per_day].reshape(whole, slots_per_day)
        seen = ~np.isnan(self._rows)
        self._complete = seen.mean(axis=1) >= MIN_DAY_COVERAGE
        self._weekday = weekday
        self._days, self._decay, self._scale = days, decay, scale
        self._slots = slots_per_day

    def profile(self, today: int, target_day: int) -> FloatArray:
        """Per slot of day of ``target_day``, from the whole days before ``today``."""
        past = np.arange(max(today - self._days, 0), today)
        past = past[self._complete[past]]
        if past.size == 0:
            raise ValueError("decision_slot: no whole past day yet")
        target = int(self._weekday[target_day])
        kinds = self._weekday[past]
        weekend = kinds >= 5
        weights = np.where(
            kinds == target, SAME_WEEKDAY, np.where(weekend == (target >= 5), SAME_TYPE, OTHER)
        ) * self._decay ** (today - past)
        rows = self._rows[past]
        seen = ~np.isnan(rows)
        total = (np.where(seen, rows, 0.0) * weights[:, None]).sum(axis=0)
        weight = (seen * weights[:, None]).sum(axis=0)
        fallback = float(np.nanmean(rows))
        mean = np.divide(total, weight, out=np.full(self._slots, fallback), where=weight > 0)
        return np.asarray(mean * self._scale, dtype=np.float64)

    def forecast(self, decision_slot: int, horizon: int) -> FloatArray:
        slots = np.arange(decision_slot, decision_slot + horizon)
        today = decision_slot // self._slots
        day_of = slots // self._slots
        result = np.empty(horizon)
        for day in np.unique(day_of):
            chosen = day_of == day
            result[chosen] = self.profile(today, int(day))[slots[chosen] % self._slots]
        return result
