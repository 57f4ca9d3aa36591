"""Block price forecasts read only published results; their errors are measured."""

import numpy as np
import pandas as pd
import pytest

from optimizer.fcr.history import BlockHistory, load_block_history
from optimizer.fcr.price_forecast import (
    forecast_blocks,
    forecast_errors,
    previous_day,
    published_days_before,
    same_block_mean,
)


def history(days: int = 40) -> BlockHistory:
    starts = pd.date_range("2024-04-01", periods=days * 8, freq="3h", tz="Asia/Tokyo")
    price = np.where(np.arange(days * 8) % 8 == 6, 10.0, np.nan)  # 18:00 clears at 10
    price[8 * 30 :] = 20.0  # from day 30 every block clears at 20
    return BlockHistory(starts, price)


def test_forecast_uses_only_days_before_the_target_day() -> None:
    h = history()
    value = h.value
    target = 8 * 30 + 6  # day 30 18:00
    assert published_days_before(target) == 8 * 30
    assert previous_day(value, target) == 10.0  # day 29, not day 30's 20
    assert same_block_mean(value, target, days=7) == 10.0
    assert same_block_mean(value, 8 * 30 + 2, days=7) == 0.0  # that block never cleared
    np.testing.assert_allclose(forecast_blocks(h, [target, 8 * 31 + 1]), [10.0, 20.0])
    assert previous_day(value, 3) == 0.0  # no history yet


def test_errors_are_reported_for_each_method() -> None:
    h = history()
    errors = forecast_errors(h, 8 * 28, 8 * 32, days=7)
    assert [e.method for e in errors] == [
        "same block, mean of 7 d",
        "same block the day before",
        "all blocks, mean of 7 d",
    ]
    previous = errors[1]
    # Days 28-29: exact; day 30: 7 blocks earn 20 more than forecast, 18:00 10 more; day 31 exact.
    assert previous.mae == pytest.approx((7 * 20 + 10) / 32)
    assert previous.bias < 0


def test_reading_the_eprx_file_refuses_what_it_cannot_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileNotFoundError, match="--data"):
        load_block_history(tmp_path)
    (tmp_path / "eprx_fcr_3h_blocks_2024-04_2025-06.csv").write_text(
        "block_start,block_end,product,area,required_mw,offered_mw,awarded_mw,"
        "avg_price_jpy_per_kw_30min,max_price_jpy_per_kw_30min\n"
        "2024-04-01T00:00:00+09:00,2024-04-01T03:00:00+09:00,fcr,tokyo,890,10,5,3.5,4\n"
        "2024-04-01T03:00:00+09:00,2024-04-01T06:00:00+09:00,fcr,tokyo,890,0,0,,\n"
    )
    read = load_block_history(tmp_path)
    assert read.cleared.tolist() == [True, False]
    assert read.value.tolist() == [3.5, 0.0]
    with pytest.raises(ValueError, match="area"):
        load_block_history(tmp_path, area="kyushu")
    with pytest.raises(ValueError, match="product"):
        load_block_history(tmp_path, product="afrr")
    with pytest.raises(KeyError, match="not in the history"):
        read.index_of(pd.Timestamp("2030-01-01", tz="Asia/Tokyo"))


def test_error_table_lists_every_method() -> None:
    from datetime import date

    from optimizer.fcr.backtest import format_forecast_errors

    table = format_forecast_errors(history(), date(2024, 4, 29), 3, "fcr")
    assert "same block the day before" in table
    assert "24 blocks" in table
