"""Forecast of what one kW offered in an FCR block earns, from published results only.

A price taker earns the block's average price when the area clears and nothing otherwise, so
a forecast is an expected value per kW per 30 minutes of (price if cleared else 0). Results for
delivery day D are published by 15:00 on D-1, so at an offer for day D (11:30-14:00 on D-1) the
newest known day is D-1; :func:`published_days_before` states that.

Methods: the same block the day before (the default: Tokyo's results are persistent, and this
had the lowest error both on April-June 2025, used to choose it, and on FY2024); the mean of the
same block over the last ``days`` days; the mean of all blocks of the last ``days`` days.
:func:`forecast_errors` measures each against what every block really earned (MAE and bias).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..site import FloatArray
from .block_calendar import BLOCKS_PER_DAY
from .history import BlockHistory

DEFAULT_DAYS = 28


def published_days_before(target: int) -> int:
    """Index of the first block NOT known when offering block ``target`` (its day's start
    minus one day: day D-1's results are known at D-1's offer window, day D's are not)."""
    return (target // BLOCKS_PER_DAY) * BLOCKS_PER_DAY


def same_block_mean(value: FloatArray, target: int, days: int = DEFAULT_DAYS) -> float:
    """Mean earnings of the same block of the day over the last ``days`` published days."""
    known = published_days_before(target)
    lags = target - BLOCKS_PER_DAY * np.arange(1, days + 1)
    lags = lags[(lags >= 0) & (lags < known)]
    if lags.shape[0] == 0:
        return 0.0
    return float(np.mean(value[lags]))


def previous_day(value: FloatArray, target: int) -> float:
    lag = target - BLOCKS_PER_DAY
    return float(value[lag]) if lag >= 0 else 0.0


def recent_mean(value: FloatArray, target: int, days: int = DEFAULT_DAYS) -> float:
    known = published_days_before(target)
    first = max(known - days * BLOCKS_PER_DAY, 0)
    return float(np.mean(value[first:known])) if known > first else 0.0


def forecast_blocks(history: BlockHistory, targets: Sequence[int]) -> FloatArray:
    """The default forecast (JPY per kW per 30 min, expected) for each target block index."""
    value = history.value
    return np.array([previous_day(value, int(t)) for t in targets], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ForecastError:
    method: str
    mae: float  # JPY per kW per 30 min
    bias: float  # forecast - actual, mean
    mean_actual: float


def forecast_errors(
    history: BlockHistory, first: int, last: int, days: int = DEFAULT_DAYS
) -> list[ForecastError]:
    """Errors of the forecast and its references over blocks ``[first, last)``."""
    value = history.value
    actual = value[first:last]
    methods: dict[str, Callable[[int], float]] = {
        f"same block, mean of {days} d": lambda t: same_block_mean(value, t, days),
        "same block the day before": lambda t: previous_day(value, t),
        f"all blocks, mean of {days} d": lambda t: recent_mean(value, t, days),
    }
    result: list[ForecastError] = []
    for name, method in methods.items():
        forecast = np.array([method(t) for t in range(first, last)])
        error = forecast - actual
        result.append(
            ForecastError(
                name, float(np.mean(np.abs(error))), float(np.mean(error)), float(np.mean(actual))
            )
        )
    return result
