"""The live service's PV and load forecasts: the ones the backtest measured, on telemetry.

The backtest (:mod:`optimizer.backtest`) found these the best of what it tried on a real year:
PV = clear sky x the best measured/clear-sky ratio of the last 7 days, with the last 2 h's
ratio fading into it (:class:`~optimizer.forecast.pv_nowcast.NowcastForecast`); load = the
median of the same slot over the last 14 days of the same type (weekday or weekend,
:class:`~optimizer.forecast.load_median.RecentMedianProfile`). Here they read the slots the
site measured. Both run on a wall-clock grid of 48 local slots per day, so a day's pattern
stays at its local hour across daylight-saving changes; slots without a reading are NaN.

Until there is enough history (or, for PV, without the panels' size and place) the learned
daily profiles of :class:`~optimizer.service.site_memory.SiteMemory` stand in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.forecast.load_median import RecentMedianProfile
from optimizer.forecast.pv import RatioForecast, clear_sky_pv_kw
from optimizer.forecast.pv_nowcast import NowcastForecast
from optimizer.settings.site import PvSystem
from optimizer.site import FloatArray

SLOTS_PER_DAY = 48
PV_DAYS = 7  # ratio history, as in the backtest
LOAD_DAYS = 14  # same-type days in the median, as in the backtest
HISTORY_DAYS = 7 * 7  # enough calendar days to hold LOAD_DAYS weekend days


class Measured(Protocol):
    """One measured slot (a :class:`~optimizer.service.site_memory.PastSlot`)."""

    @property
    def pv_kw(self) -> float: ...

    @property
    def load_kw(self) -> float | None: ...


class _Grid:
    """Local wall-clock slots from midnight ``HISTORY_DAYS`` days before the first slot."""

    def __init__(self, first: datetime, zone: ZoneInfo, horizon_slots: int) -> None:
        local_first = first.astimezone(zone)
        self.zone = zone
        self.day0 = local_first.date() - timedelta(days=HISTORY_DAYS)
        last_day = (first + horizon_slots * timedelta(minutes=30)).astimezone(zone).date()
        self.days = (last_day - self.day0).days + 2
        self.size = self.days * SLOTS_PER_DAY

    def cell(self, moment: datetime) -> int:
        local = moment.astimezone(self.zone)
        slot = (local.hour * 60 + local.minute) // 30
        return (local.date() - self.day0).days * SLOTS_PER_DAY + slot

    def starts_utc(self) -> pd.DatetimeIndex:
        """The UTC instant of each cell (a spring-forward hour's cells move past the gap)."""
        midnight = datetime(self.day0.year, self.day0.month, self.day0.day)
        local = pd.date_range(midnight, periods=self.size, freq="30min")
        aware = local.tz_localize(self.zone, nonexistent="shift_forward", ambiguous=False)
        return aware.tz_convert(UTC)

    def weekend(self) -> npt.NDArray[np.bool_]:
        days = pd.date_range(self.day0, periods=self.days, freq="D")
        return np.repeat(np.asarray(days.dayofweek >= 5, dtype=np.bool_), SLOTS_PER_DAY)


def forecast_site(
    measured: Mapping[datetime, Measured],
    slot_starts: Sequence[datetime],
    zone: ZoneInfo,
    *,
    pv_place: PvSystem | None,
    fallback: tuple[FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """PV and load (kW) for ``slot_starts`` (consecutive, the first is the current slot).

    ``fallback`` is the learned-profile forecast for the same slots; it is used where the
    measured history cannot answer yet.
    """
    grid = _Grid(slot_starts[0], zone, len(slot_starts))
    pv = np.full(grid.size, np.nan)
    load = np.full(grid.size, np.nan)
    for start, reading in measured.items():
        cell = grid.cell(start)
        if 0 <= cell < grid.size:
            pv[cell] = reading.pv_kw
            if reading.load_kw is not None:
                load[cell] = reading.load_kw
    cells = np.array([grid.cell(start) for start in slot_starts])
    decision = int(cells[0])  # measured slots are closed ones: all before it
    reach = int(cells.max()) - decision + 1
    pv_fallback, load_fallback = fallback

    load_fc = load_fallback.copy()
    try:
        median = RecentMedianProfile(load, grid.weekend(), days=LOAD_DAYS)
        load_fc = median.forecast(decision, reach)[cells - decision]
    except ValueError:
        pass  # no whole past day of a needed type yet

    pv_fc = pv_fallback.copy()
    if pv_place is not None:
        clear = clear_sky_pv_kw(
            grid.starts_utc(), pv_place.kwp, where=(pv_place.latitude, pv_place.longitude)
        )
        seen_days = np.count_nonzero(~np.isnan(pv[:decision])) / SLOTS_PER_DAY
        if seen_days >= 1:
            day_level = RatioForecast(pv, clear, days=PV_DAYS, quantile=1.0)
            nowcast = NowcastForecast(pv, clear, day_level)
            pv_fc = nowcast.forecast(decision, reach)[cells - decision]
    return np.maximum(pv_fc, 0.0), np.maximum(load_fc, 0.0)
