"""Load forecast: a weekday and a weekend slot-of-day profile, each exponentially smoothed."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..site import FloatArray


class SmoothedProfile:
    """``observe`` each measured slot; ``forecast`` reads the profile of the slot's day type."""

    def __init__(self, initial_kw: float, slots_per_day: int = 48, alpha: float = 0.15) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha: must be in (0, 1], got {alpha}")
        self.profile = np.full((2, slots_per_day), float(initial_kw))
        self._slots = slots_per_day
        self._alpha = alpha

    def observe(self, weekend: bool, slot_of_day: int, load_kw: float) -> None:
        row = self.profile[int(weekend)]
        row[slot_of_day] += self._alpha * (load_kw - row[slot_of_day])

    def forecast(
        self, weekend: npt.NDArray[np.bool_], slot_of_day: npt.NDArray[np.integer[Any]]
    ) -> FloatArray:
        """Per future slot: its day type (bool array) and its slot of day (int array)."""
        return self.profile[weekend.astype(np.int64), slot_of_day.astype(np.int64)]
