"""Built-in sample day for the demo and the tests: JEPX-like prices, a PV bell, a household.

Synthetic on purpose (no data files needed); ``--data`` swaps in the real Tokyo series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from optimizer.forecast.pv import clear_sky_pv_kw
from optimizer.site import FloatArray

SLOTS_PER_DAY = 48
RETAIL_ADDER = 12.0  # JPY/kWh on top of the spot price: network charges and levies
EXPORT_PRICE = 8.0  # JPY/kWh paid for exported PV (post-FIT buy-back level)


@dataclass(frozen=True, slots=True)
class DayProfiles:
    """Per 30-minute slot from ``start`` (local midnight), ``days`` x 48 slots."""

    start: datetime
    import_price: FloatArray  # JPY/kWh
    export_price: float
    pv_kw: FloatArray
    load_kw: FloatArray

    @property
    def slots(self) -> int:
        return int(self.import_price.shape[0])

    def slot_start(self, index: int) -> datetime:
        return self.start + index * timedelta(minutes=30)

    def index(self, moment: datetime) -> int:
        return min(int((moment - self.start) / timedelta(minutes=30)), self.slots - 1)

    def day(self, number: int) -> DayProfiles:
        window = slice(number * SLOTS_PER_DAY, (number + 1) * SLOTS_PER_DAY)
        return DayProfiles(
            self.start + timedelta(days=number),
            self.import_price[window],
            self.export_price,
            self.pv_kw[window],
            self.load_kw[window],
        )

    def write_price_csv(self, path: Path) -> None:
        """The ``timestamp,price`` layout the service reads."""
        lines = ["timestamp,price"] + [
            f"{self.slot_start(i).isoformat()},{self.import_price[i]:.3f}"
            for i in range(self.slots)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _hourly(values: list[float]) -> FloatArray:
    """24 hourly values -> 48 slots (each hour's value for both halves)."""
    return np.repeat(np.asarray(values, dtype=np.float64), 2)


# A spring weekday of JEPX Tokyo in shape: cheap night, midday solar dip, evening peak.
_SPOT = [10, 9.5, 9, 9, 9, 9.5, 11, 14, 15, 12, 8, 6, 5, 5, 6, 8, 12, 18, 24, 22, 18, 15, 13, 11]
# A four-person household: breakfast, a quiet day, a long evening.
_LOAD = [
    0.35,
    0.3,
    0.3,
    0.3,
    0.3,
    0.4,
    0.9,
    1.3,
    0.8,
    0.5,
    0.5,
    0.6,
    0.6,
    0.5,
    0.5,
    0.6,
    0.8,
    1.3,
    1.8,
    1.9,
    1.6,
    1.2,
    0.8,
    0.5,
]


def sample_days(first_day: datetime, days: int = 2, kwp: float = 4.0) -> DayProfiles:
    """``days`` identical sample days from ``first_day`` (local midnight, aware)."""
    zone = first_day.tzinfo if first_day.tzinfo is not None else ZoneInfo("Asia/Tokyo")
    start = first_day.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=zone)
    stamps = pd.date_range(start, periods=days * SLOTS_PER_DAY, freq="30min")
    pv = clear_sky_pv_kw(stamps, kwp) * 0.8  # a hazy clear day: system losses and haze
    spot = np.tile(_hourly(_SPOT), days)
    load = np.tile(_hourly(_LOAD), days)
    return DayProfiles(start, spot + RETAIL_ADDER, EXPORT_PRICE, pv, load)


def tokyo_days(data_dir: Path, first_day: datetime, days: int = 2) -> DayProfiles:
    """The real Tokyo home series (:func:`optimizer.data.load_tokyo_home`)."""
    from optimizer.data import load_tokyo_home

    series = load_tokyo_home(data_dir, first_day.date(), days)
    start = series.slot_starts[0].to_pydatetime()
    return DayProfiles(
        start, series.spot + RETAIL_ADDER, EXPORT_PRICE, series.pv_kw, series.load_kw
    )
