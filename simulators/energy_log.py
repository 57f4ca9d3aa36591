"""The simulated site's energy counters over time, so a test can ask how much energy
flowed between two moments (e.g. over one of Home Assistant's statistics periods)."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping

#: One sample a second at most, two hours of them at most: bounded whatever runs.
MIN_SPACING_S = 1.0
MAX_SAMPLES = 7_200


class EnergyLog:
    """Samples of named counters (Wh); between samples the counters grow linearly, as the
    simulation integrates constant power between two requests."""

    def __init__(self, max_samples: int = MAX_SAMPLES) -> None:
        self._times: deque[float] = deque(maxlen=max_samples)
        self._values: deque[dict[str, float]] = deque(maxlen=max_samples)

    def record(self, time_s: float, counters: Mapping[str, float]) -> None:
        if self._times and time_s - self._times[-1] < MIN_SPACING_S:
            return
        self._times.append(time_s)
        self._values.append(dict(counters))

    @property
    def first_s(self) -> float:
        """When the first sample was taken (ValueError before any)."""
        if not self._times:
            raise ValueError("no sample recorded yet")
        return self._times[0]

    def at(self, time_s: float) -> dict[str, float]:
        """The counters at ``time_s`` (Wh). ValueError outside the recorded span."""
        times = list(self._times)
        if not times or not times[0] <= time_s <= times[-1]:
            span = f"{times[0]}..{times[-1]}" if times else "nothing"
            raise ValueError(f"time {time_s} is outside the recorded span ({span})")
        index = bisect.bisect_left(times, time_s)
        after = self._values[index]
        if times[index] == time_s or index == 0:
            return dict(after)
        before = self._values[index - 1]
        share = (time_s - times[index - 1]) / (times[index] - times[index - 1])
        return {name: before[name] + (after[name] - before[name]) * share for name in after}

    def kwh_between(self, start_s: float, end_s: float) -> dict[str, float]:
        """Energy (kWh) of every counter between two moments."""
        first, last = self.at(start_s), self.at(end_s)
        return {name: (last[name] - first[name]) / 1000.0 for name in last}
