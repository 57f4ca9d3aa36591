"""Real data for the backtest, read from a directory path (never copied into the project).

Tokyo home series (all 30-minute, JST, slot start stamps):
- price: JEPX day-ahead Tokyo area price, JPY/kWh.
- PV: TEPCO Tokyo-area PV output, scaled so the backtest year yields ``kwh_per_kwp`` x kWp.
- load: CAMSL household smart-meter load (Kiguchi et al., Energy 236 (2021) 121438), recorded
  in 2017-2018. Alignment across years: each target day takes the 2018 day with the same month
  and day, moved by -3..+3 days to the same weekday (one week earlier where that would fall
  after 2018, the end of the data). Weekday patterns therefore line up; public holidays do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .site import FloatArray

JEPX_FILE = "jepx_spot_30min_2022-04_2025-08.csv"
TEPCO_FILE = "tepco_area_solar_demand_30min_2022-04_2025-08.csv"
CAMSL_FILE = "camsl_tokyo_5homes_load_30min_2017-06_2018-12.csv"
LOAD_SOURCE_YEAR = 2018


@dataclass(frozen=True, slots=True)
class SiteSeries:
    """Aligned slot series from ``first_day`` 00:00 JST, ``days`` whole days."""

    slot_starts: pd.DatetimeIndex
    spot: FloatArray  # JPY/kWh
    pv_kw: FloatArray
    load_kw: FloatArray
    kwp: float  # PV size the series was scaled to


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"data: {path} not found (pass --data DIR)")
    frame = pd.read_csv(path, usecols=["timestamp", *columns])
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp")))
    return frame


def source_load_day(target: date) -> date:
    """The 2018 day standing in for ``target``: same month/day, shifted to the same weekday."""
    same_date = date(
        LOAD_SOURCE_YEAR, target.month, min(target.day, 28 if target.month == 2 else 31)
    )
    shift = (target.weekday() - same_date.weekday() + 3) % 7 - 3  # in -3..+3
    candidate = same_date + timedelta(days=shift)
    if candidate.year > LOAD_SOURCE_YEAR:
        candidate -= timedelta(days=7)
    return candidate


def load_tokyo_home(
    data_dir: Path,
    first_day: date,
    days: int,
    *,
    home: int = 140,
    kwp: float = 4.0,
    kwh_per_kwp: float = 1200.0,
    year_first_day: date | None = None,
) -> SiteSeries:
    """Series for ``days`` days from ``first_day``; PV scaled over the year starting at
    ``year_first_day`` (default ``first_day``) so that year yields kwh_per_kwp x kWp."""
    start = pd.Timestamp(first_day, tz="Asia/Tokyo")
    slot_starts = pd.date_range(start, periods=days * 48, freq="30min")
    prices = _read(data_dir / JEPX_FILE, ["tokyo_price_jpy_per_kwh"])
    spot = prices["tokyo_price_jpy_per_kwh"].reindex(slot_starts).to_numpy(dtype=np.float64)
    solar = _read(data_dir / TEPCO_FILE, ["pv_tokyo_area_mw"])["pv_tokyo_area_mw"]
    year_start = pd.Timestamp(year_first_day or first_day, tz="Asia/Tokyo")
    year = solar[(solar.index >= year_start) & (solar.index < year_start + pd.Timedelta(days=365))]
    scale = kwp * kwh_per_kwp / (float(year.clip(lower=0).sum()) * 0.5)  # kWh per MWh-slot
    pv = solar.reindex(slot_starts).clip(lower=0).to_numpy(dtype=np.float64) * scale
    loads = _read(data_dir / CAMSL_FILE, [f"home{home}_load_kwh_per_slot"]).iloc[:, 0]
    by_day = {
        day: group.to_numpy(dtype=np.float64) for day, group in loads.groupby(loads.index.date)
    }
    load = np.concatenate(
        [by_day[source_load_day(first_day + timedelta(days=d))] * 2.0 for d in range(days)]
    )
    for name, values in (("spot", spot), ("pv_kw", pv), ("load_kw", load)):
        if values.shape[0] != slot_starts.shape[0] or np.any(np.isnan(values)):
            raise ValueError(f"data: {name} has gaps between {first_day} and {days} days later")
    return SiteSeries(slot_starts, spot, pv, load, kwp)
