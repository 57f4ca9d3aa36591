"""Load forecast: median of the same slot of day over the last days of the same day type.

A median ignores the odd spike (a kettle, an oven) that an exponential average smears into
the profile, and the recent days follow the season.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..site import FloatArray

MIN_DAY_COVERAGE = 0.75


class RecentMedianProfile:
    """``measured`` and ``weekend`` cover every slot; a forecast reads only whole past days.

    ``measured`` may hold NaN for slots without a reading; days mostly without are skipped.
    """

    def __init__(
        self,
        measured: FloatArray,
        weekend: npt.NDArray[np.bool_],
        *,
        days: int = 14,
        slots_per_day: int = 48,
    ) -> None:
        if measured.shape != weekend.shape:
            raise ValueError("weekend: must have the same length as measured")
        if days < 1:
            raise ValueError(f"days: must be >= 1, got {days}")
        self._measured = measured
        self._weekend_day = weekend[::slots_per_day]
        # A day counts once readings cover MIN_DAY_COVERAGE of it (NaN marks a gap).
        whole_days = measured.shape[0] // slots_per_day
        seen = ~np.isnan(measured[: whole_days * slots_per_day]).reshape(whole_days, -1)
        complete = seen.mean(axis=1) >= MIN_DAY_COVERAGE
        self._complete_day = np.concatenate(
            [complete, np.zeros(self._weekend_day.shape[0] - whole_days, dtype=np.bool_)]
        )
        self._days = days
        self._slots = slots_per_day

    def profile(self, decision_slot: int, weekend: bool) -> FloatArray:
        """Per slot of day: median over the last ``days`` whole days of that type."""
        today = decision_slot // self._slots
        usable = (self._weekend_day[:today] == weekend) & self._complete_day[:today]
        past = np.flatnonzero(usable)[-self._days :]
        if past.size == 0:
            raise ValueError("decision_slot: no whole past day of this day type yet")
        rows = self._measured[(past[:, None] * self._slots + np.arange(self._slots)).ravel()]
        rows = rows.reshape(past.size, self._slots)
        if not np.any(np.isnan(rows)):
            return np.asarray(np.median(rows, axis=0))
        # Gaps: each slot's median over the days that have it; a slot no day has takes the
        # median of everything (a flat guess beats none).
        result = np.full(self._slots, float(np.nanmedian(rows)))
        for slot in np.flatnonzero(np.any(~np.isnan(rows), axis=0)):
            column = rows[:, slot]
            result[slot] = float(np.median(column[~np.isnan(column)]))
        return result

    def forecast(self, decision_slot: int, horizon: int) -> FloatArray:
        slots = np.arange(decision_slot, decision_slot + horizon)
        day_index = slots // self._slots
        weekend_of = self._weekend_of(day_index)
        result = np.empty(horizon)
        for kind in (False, True):
            chosen = weekend_of == kind
            if np.any(chosen):
                result[chosen] = self.profile(decision_slot, kind)[slots[chosen] % self._slots]
        return result

    def _weekend_of(self, day_index: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        known = np.minimum(day_index, self._weekend_day.shape[0] - 1)
        return np.asarray(self._weekend_day[known], dtype=np.bool_)
