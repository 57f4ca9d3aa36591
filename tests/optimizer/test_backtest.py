"""The backtest machinery on a few days of synthetic data (the real year is not a unit test)."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.backtest import (
    TAIL_DAYS,
    WARMUP_DAYS,
    format_table,
    plot_week,
    run_scenario,
    standard_scenarios,
)
from optimizer.cli import main, parser
from optimizer.data import SiteSeries, source_load_day

DAYS = 2


def synthetic_series() -> SiteSeries:
    total = (WARMUP_DAYS + DAYS + TAIL_DAYS) * 48
    starts = pd.date_range("2024-05-01", periods=total, freq="30min", tz="Asia/Tokyo")
    hour = np.arange(total) % 48 / 2
    rng = np.random.default_rng(3)
    spot = 10 + 8 * np.sin((hour - 12) / 24 * 2 * np.pi) ** 2 + rng.random(total)
    pv = np.clip(3.5 * np.sin((hour - 6) / 12 * np.pi), 0, None) * rng.uniform(0.3, 1.0, total)
    load = 0.3 + 0.8 * ((hour > 17) & (hour < 23)) + 0.2 * rng.random(total)
    return SiteSeries(starts, spot, pv, load, 3.5)


def test_scenarios_on_synthetic_days(tmp_path: Path) -> None:
    series = synthetic_series()
    out = io.StringIO()
    results = [run_scenario(s, series, DAYS, out=out) for s in standard_scenarios()]
    assert "96/96" in out.getvalue()
    for result in results:
        assert result.perfect <= result.rule + 1e-6
        assert result.perfect <= result.own + 1e-6
        assert result.rule <= result.no_battery + 1e-6
        assert len(result.own_trace.soe_kwh) == DAYS * 48
    home, _, stand_alone = results
    assert home.pv_mae >= 0
    assert home.load_mae >= 0
    assert stand_alone.rule == 0.0
    assert stand_alone.perfect < 0
    table = format_table(results)
    assert "a1 home, export fixed 8.5" in table
    assert "captured" in table
    path = tmp_path / "week.png"
    plot_week(home, series, 0, path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_load_day_alignment_keeps_weekday() -> None:
    from datetime import date

    for target in (date(2024, 4, 1), date(2024, 12, 31), date(2025, 1, 1), date(2025, 2, 28)):
        source = source_load_day(target)
        assert source.weekday() == target.weekday()
        # Within 3 days, or a week earlier where the data ends (31 Dec 2018).
        limit = 6 if target.month == 12 else 3
        assert abs((source - date(2018, target.month, target.day)).days) <= limit


def test_cli_needs_a_subcommand_and_the_data(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args([])
    args = parser().parse_args(["backtest", "--days", "3"])
    assert args.days == 3
    assert args.data == Path("../shared/data")
    with pytest.raises(FileNotFoundError, match="data:"):
        main(["backtest", "--data", str(tmp_path), "--days", "1"])


def test_earlier_forecasts_remain_selectable() -> None:
    """Ratio-only PV and the smoothed load profile, as before the nowcast and median."""
    series = synthetic_series()
    home = standard_scenarios()[0]
    earlier = run_scenario(
        home, series, DAYS, pv_fade_slots=0.0, load_median_days=0, out=io.StringIO()
    )
    current = run_scenario(home, series, DAYS, out=io.StringIO())
    assert earlier.perfect == pytest.approx(current.perfect)
    assert earlier.load_mae != pytest.approx(current.load_mae)
    assert earlier.pv_mae != pytest.approx(current.pv_mae)


def test_the_ideas_under_measurement_are_selectable() -> None:
    """Issue 14's screened ideas: the weighted load history and the terminal-value quantile."""
    series = synthetic_series()
    home = standard_scenarios()[0]
    current = run_scenario(home, series, DAYS, out=io.StringIO())
    weighted = run_scenario(home, series, DAYS, load_weighted=True, out=io.StringIO())
    cheapest = run_scenario(home, series, DAYS, terminal_quantile=0.0, out=io.StringIO())
    assert weighted.perfect == pytest.approx(current.perfect)
    assert weighted.load_mae != pytest.approx(current.load_mae)
    assert cheapest.load_mae == pytest.approx(current.load_mae)
    assert np.isfinite(cheapest.own)
