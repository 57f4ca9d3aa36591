"""The fleet backtest: real worker processes over a small data directory in the real format."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.backtest_fleet import (
    Job,
    fleet_jobs,
    format_fleet_table,
    run_fleet,
)
from optimizer.cli import main, parser
from optimizer.data import CAMSL_FILE, JEPX_FILE, TEPCO_FILE


def write_data(folder: Path) -> None:
    """Prices and area PV around the start of FY2024; 2018 loads for homes 189 and 208."""
    starts = pd.date_range("2024-02-20", "2024-04-10", freq="30min", tz="Asia/Tokyo")
    hour = np.asarray(starts.hour + starts.minute / 60)
    rng = np.random.default_rng(5)
    spot = 10 + 8 * np.sin((hour - 12) / 24 * 2 * np.pi) ** 2 + rng.random(len(starts))
    pv = (
        np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None) * 15000 * rng.uniform(0.3, 1, len(starts))
    )
    stamps = starts.strftime("%Y-%m-%dT%H:%M:%S+09:00")
    pd.DataFrame({"timestamp": stamps, "tokyo_price_jpy_per_kwh": spot}).to_csv(
        folder / JEPX_FILE, index=False
    )
    pd.DataFrame({"timestamp": stamps, "pv_tokyo_area_mw": pv}).to_csv(
        folder / TEPCO_FILE, index=False
    )
    days = pd.date_range("2018-01-01", "2018-12-31 23:30", freq="30min", tz="Asia/Tokyo")
    load_hour = np.asarray(days.hour)
    loads = {
        "timestamp": days.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
        "home189_load_kwh_per_slot": 0.1 + 0.3 * ((load_hour > 17) & (load_hour < 23)),
        "home208_load_kwh_per_slot": 0.2 + 0.1 * rng.random(len(days)),
    }
    pd.DataFrame(loads).to_csv(folder / CAMSL_FILE, index=False)


def test_every_home_year_and_export_is_a_job() -> None:
    jobs = fleet_jobs()
    assert len(jobs) == 20
    assert {(job.home, job.fiscal_year, job.scenario) for job in jobs} == {
        (home, year, export)
        for home in (137, 140, 162, 189, 208)
        for year in (2023, 2024)
        for export in ("a1", "a2")
    }


def test_jobs_run_in_worker_processes_with_one_progress_bar(tmp_path: Path) -> None:
    write_data(tmp_path)
    jobs = fleet_jobs([189, 208], [2024], ["a1", "a2"], days=1)
    out = io.StringIO()
    seen: list[Job] = []
    results = run_fleet(
        jobs, tmp_path, processes=2, out=out, on_result=lambda item: seen.append(item.job)
    )
    assert [item.job for item in results] == jobs
    assert sorted(seen, key=jobs.index) == jobs  # each as it finished
    assert "192/192 slots, 4/4 scenario-years" in out.getvalue()
    for item in results:
        r = item.result
        assert r.perfect <= min(r.rule, r.own) + 1e-6
        assert len(r.own_trace.soe_kwh) == 48
    table = format_fleet_table(results)
    assert table.count("\n 189 2024") == 2
    assert "median captured" in table
    assert "worse than the rule: " in table


def test_a_failing_job_raises_its_error(tmp_path: Path) -> None:
    write_data(tmp_path)
    with pytest.raises(ValueError, match="scenario: 'zz'"):
        run_fleet([Job(189, 2024, "zz", days=1)], tmp_path, processes=1, out=io.StringIO())
    with pytest.raises(ValueError, match="processes"):
        run_fleet([], tmp_path, processes=0)


def test_fleet_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["fleet", "--homes", "189", "--years", "2024"])
    assert args.homes == [189]
    assert args.mapping == "cautious"
    with pytest.raises(SystemExit):
        parser().parse_args(["fleet", "--homes", "a,b"])
    write_data(tmp_path)
    argv = ["fleet", "--data", str(tmp_path), "--homes", "189", "--years", "2024"]
    assert main([*argv, "--exports", "a1", "--days", "1", "--processes", "1"]) == 0
    printed = capsys.readouterr().out
    assert printed.count(" 189 2024 fixed") == 2  # as it finished, then in the table
