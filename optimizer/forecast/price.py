"""Price forecasts: a published series, a static time-of-use tariff, and an estimate for the
hours not yet published (median of the same slot on the same weekday of recent weeks).

JEPX day-ahead prices for day D+1 are published around 10:00 JST on day D, so a plan made at
or after 10:00 knows prices to the end of tomorrow, before 10:00 only to the end of today.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..site import FloatArray

SLOTS_PER_DAY = 48
PUBLICATION_SLOT = 20  # 10:00 in 30-minute slots


def published_until(decision_slot: int, slots_per_day: int = SLOTS_PER_DAY) -> int:
    """First slot index (exclusive bound) whose day-ahead price is not yet known."""
    day, slot_of_day = divmod(decision_slot, slots_per_day)
    known_days = day + (2 if slot_of_day >= PUBLICATION_SLOT * slots_per_day // 48 else 1)
    return known_days * slots_per_day


def same_weekday_median(
    prices: FloatArray, indices: npt.NDArray[np.integer[Any]] | Sequence[int], weeks: int = 4
) -> FloatArray:
    """Median of the price at the same slot of the same weekday over the last ``weeks``."""
    week = 7 * SLOTS_PER_DAY
    targets = np.asarray(indices, dtype=np.int64)
    lags = targets[:, None] - week * np.arange(1, weeks + 1)[None, :]
    if np.any(lags < 0):
        raise ValueError("indices: need at least `weeks` weeks of history before each index")
    return np.asarray(np.median(prices[lags], axis=1), dtype=np.float64)


def forecast_prices(prices: FloatArray, decision_slot: int, horizon: int) -> FloatArray:
    """Known prices where published, the same-weekday median estimate elsewhere."""
    indices = np.arange(decision_slot, decision_slot + horizon)
    known = published_until(decision_slot)
    result = np.empty(horizon)
    unknown = indices >= known
    result[~unknown] = prices[indices[~unknown]]
    if np.any(unknown):
        result[unknown] = same_weekday_median(prices, indices[unknown])
    return result


def time_of_use(
    table: Sequence[tuple[int, float]], first_slot_of_day: int, horizon: int
) -> FloatArray:
    """Static ToU tariff: ``table`` lists (start slot of day, price) sorted by start."""
    starts = np.array([start for start, _ in table])
    values = np.array([price for _, price in table])
    if starts.size == 0 or starts[0] != 0 or np.any(np.diff(starts) <= 0):
        raise ValueError("table: must start at slot 0 with strictly increasing starts")
    slot_of_day = (first_slot_of_day + np.arange(horizon)) % SLOTS_PER_DAY
    return values[np.searchsorted(starts, slot_of_day, side="right") - 1]
