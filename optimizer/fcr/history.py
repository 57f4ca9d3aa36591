"""EPRX FCR results per 3-hour block for one area, read from the data directory (never copied).

The file (see the data directory's README) has one row per block, product and area, with the
awarded MW and the average price in JPY per kW per 30 minutes, empty where nothing cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..site import FloatArray

EPRX_FILE = "eprx_fcr_3h_blocks_2024-04_2025-06.csv"
PRODUCTS = ("fcr", "fcr_offline")


@dataclass(frozen=True, slots=True)
class BlockHistory:
    """Every block of the file's span in order; ``price`` is NaN where the area did not clear."""

    starts: pd.DatetimeIndex  # JST
    price: FloatArray  # JPY per kW per 30 min

    @property
    def cleared(self) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
        return np.asarray(~np.isnan(self.price))

    @property
    def value(self) -> FloatArray:
        """What one kW offered earned in the block per 30 min (0 where nothing cleared)."""
        return np.asarray(np.nan_to_num(self.price, nan=0.0), dtype=np.float64)

    def index_of(self, start: pd.Timestamp) -> int:
        position = int(self.starts.searchsorted(start))
        if position >= len(self.starts) or self.starts[position] != start:
            raise KeyError(f"block {start.isoformat()}: not in the history")
        return position


def load_block_history(
    data_dir: Path, *, area: str = "tokyo", product: str = "fcr"
) -> BlockHistory:
    path = data_dir / EPRX_FILE
    if not path.is_file():
        raise FileNotFoundError(f"data: {path} not found (pass --data DIR)")
    if product not in PRODUCTS:
        raise ValueError(f"product: must be one of {PRODUCTS}, got {product!r}")
    frame = pd.read_csv(path)
    chosen = frame[(frame["area"] == area) & (frame["product"] == product)]
    if chosen.empty:
        raise ValueError(f"area: no {product} rows for {area!r} in {path.name}")
    starts = pd.DatetimeIndex(pd.to_datetime(chosen["block_start"])).tz_convert("Asia/Tokyo")
    price = chosen["avg_price_jpy_per_kw_30min"].to_numpy(dtype=np.float64)
    awarded = chosen["awarded_mw"].to_numpy(dtype=np.float64)
    price = np.where(awarded > 0, price, np.nan)
    order = np.argsort(starts.asi8)
    starts = starts[order]
    if not starts.is_unique:
        raise ValueError(f"data: duplicate {area} {product} blocks in {path.name}")
    return BlockHistory(starts, price[order])
