"""PV forecast: pvlib clear-sky output scaled by the recent measured / clear-sky ratio."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..site import FloatArray

TOKYO = (35.69, 139.76)
MIN_COVERAGE = 0.5


def seen_sums(measured: FloatArray, clear_sky: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Prefix sums of measured PV and of the clear sky over the slots that have a reading.

    NaN marks a slot without a reading (telemetry gap): it counts on neither side, so a gap
    does not read as a cloud.
    """
    seen = ~np.isnan(measured)
    measured_sum = np.concatenate([[0.0], np.cumsum(np.where(seen, measured, 0.0))])
    clear_sum = np.concatenate([[0.0], np.cumsum(np.where(seen, clear_sky, 0.0))])
    return measured_sum, clear_sum


def clear_sky_pv_kw(
    slot_starts: pd.DatetimeIndex,
    kwp: float,
    slot_hours: float = 0.5,
    where: tuple[float, float] = TOKYO,
) -> FloatArray:
    """Clear-sky AC output per slot: GHI (Haurwitz, needs no turbidity data) x kWp / 1 kW/m2."""
    from pvlib.location import Location

    middles = slot_starts + pd.Timedelta(hours=slot_hours / 2)
    ghi = Location(*where).get_clearsky(middles, model="haurwitz")["ghi"].to_numpy()
    return np.asarray(ghi, dtype=np.float64) / 1000.0 * kwp


class RatioForecast:
    """Forecast = clear-sky x a ratio of measured / clear-sky PV over recent days.

    One ratio per day-long window ending at the decision slot, one day earlier, and so on
    for ``days`` windows; the forecast uses their ``quantile``. ``measured`` may hold NaN
    for slots without a reading; a window half empty (by clear-sky energy) is left out. A high
    quantile biases the forecast upwards on purpose: for a home battery, under-forecasting PV
    (grid charging or holding energy the sun would have supplied) costs far more than
    over-forecasting it.
    """

    def __init__(
        self,
        measured: FloatArray,
        clear_sky: FloatArray,
        *,
        days: int = 2,
        quantile: float = 0.5,
        slots_per_day: int = 48,
    ) -> None:
        if measured.shape != clear_sky.shape:
            raise ValueError("clear_sky: must have the same length as measured")
        if days < 1 or not 0 <= quantile <= 1:
            raise ValueError("days/quantile: need days >= 1 and 0 <= quantile <= 1")
        self._clear = clear_sky
        self._measured_sum, self._clear_sum = seen_sums(measured, clear_sky)
        self._clear_full_sum = np.concatenate([[0.0], np.cumsum(clear_sky)])
        self._ends = np.arange(days) * slots_per_day
        self._window = slots_per_day
        self._quantile = quantile

    def ratio(self, decision_slot: int) -> float:
        ends = decision_slot - self._ends
        ends = ends[ends > 0]
        starts = np.maximum(ends - self._window, 0)
        clear = self._clear_sum[ends] - self._clear_sum[starts]
        measured = self._measured_sum[ends] - self._measured_sum[starts]
        # A window counts when readings cover at least half of its clear-sky energy.
        full = self._clear_full_sum[ends] - self._clear_full_sum[starts]
        useful = clear > np.maximum(MIN_COVERAGE * full, 1e-9)
        if not np.any(useful):
            return 1.0
        ratios = np.clip(measured[useful] / clear[useful], 0.0, 1.5)
        return float(np.quantile(ratios, self._quantile))

    def forecast(self, decision_slot: int, horizon: int) -> FloatArray:
        return self._clear[decision_slot : decision_slot + horizon] * self.ratio(decision_slot)
