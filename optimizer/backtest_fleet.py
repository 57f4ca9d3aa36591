"""The backtest over every home and year the data holds, in parallel over the cores.

One job is one scenario-year: a CAMSL home, a Japanese fiscal year (April to March) and an
export tariff. Jobs run in worker processes (lowered priority: the machine is shared) and
report their slots done to one progress bar. The tables show, per scenario-year, the yearly
cost of each strategy, the share of perfect foresight's gain over the rule that own forecasts
capture, and each strategy's saving over no battery.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from .backtest import ScenarioResult, backtest_window, run_scenario, standard_scenarios
from .data import load_tokyo_home
from .modes import DEPLOYED_MAPPING

HOMES = (137, 140, 162, 189, 208)
FISCAL_YEARS = (2023, 2024)
EXPORTS = ("a1", "a2")  # export fixed, export at spot
YEAR_DAYS = 365
NICENESS = 10


@dataclass(frozen=True, slots=True)
class Job:
    home: int
    fiscal_year: int
    scenario: str  # the prefix of a standard scenario's name
    days: int = YEAR_DAYS
    mapping: str = DEPLOYED_MAPPING
    kwp: float = 4.0
    load_weighted: bool = False  # Predbat-style weighted history instead of the median
    terminal_quantile: float = 0.25  # of the forecast import prices, valuing what is left


@dataclass(frozen=True, slots=True)
class JobResult:
    job: Job
    result: ScenarioResult

    @property
    def worse_than_rule(self) -> bool:
        return self.result.own > self.result.rule + 1e-6


def fleet_jobs(
    homes: Sequence[int] = HOMES,
    fiscal_years: Sequence[int] = FISCAL_YEARS,
    scenarios: Sequence[str] = EXPORTS,
    *,
    days: int = YEAR_DAYS,
    mapping: str = DEPLOYED_MAPPING,
    load_weighted: bool = False,
    terminal_quantile: float = 0.25,
) -> list[Job]:
    return [
        Job(
            home,
            year,
            scenario,
            days,
            mapping,
            load_weighted=load_weighted,
            terminal_quantile=terminal_quantile,
        )
        for year in fiscal_years
        for scenario in scenarios
        for home in homes
    ]


# The worker process's end of the progress queue, set by the pool's initializer.
_worker_queue: list[multiprocessing.Queue[tuple[int, int, int]]] = []


def _init_worker(progress: multiprocessing.Queue[tuple[int, int, int]]) -> None:
    _worker_queue[:] = [progress]
    os.nice(max(NICENESS - os.nice(0), 0))  # at NICENESS, also when started under nice


def run_job(index: int, job: Job, data_dir: Path) -> JobResult:
    """One scenario-year; reports ``(index, done, total)`` to the pool's progress queue."""
    first_day = date(job.fiscal_year, 4, 1)
    load_from, load_days = backtest_window(first_day, job.days)
    series = load_tokyo_home(
        data_dir, load_from, load_days, home=job.home, kwp=job.kwp, year_first_day=first_day
    )
    matching = [s for s in standard_scenarios() if s.name.startswith(job.scenario)]
    if len(matching) != 1:
        raise ValueError(f"scenario: {job.scenario!r} names {len(matching)} scenarios, not one")

    def progress(done: int, total: int) -> None:
        for progress_queue in _worker_queue:
            progress_queue.put((index, done, total))

    result = run_scenario(
        matching[0],
        series,
        job.days,
        mapping=job.mapping,
        load_weighted=job.load_weighted,
        terminal_quantile=job.terminal_quantile,
        progress=progress,
    )
    return JobResult(job, result)


def _bar(out: TextIO, done: int, total: int, *, finished: int, jobs: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (total - done) if done else 0.0
    bar = "#" * (40 * done // max(total, 1))
    out.write(
        f"\r[{bar:<40}] {done:>7,}/{total:,} slots, {finished}/{jobs} scenario-years, "
        f"{elapsed:5.0f}s, eta {eta:5.0f}s"
    )
    out.flush()


def run_fleet(
    jobs: Sequence[Job],
    data_dir: Path,
    *,
    processes: int = 2,
    out: TextIO = sys.stderr,
    on_result: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Every job over ``processes`` worker processes, results in the order of ``jobs``.

    ``on_result`` sees each scenario-year as it finishes, so a long run that is stopped
    keeps what it measured.
    """
    if processes < 1:
        raise ValueError(f"processes: must be >= 1, got {processes}")
    started = time.perf_counter()
    total = sum(job.days * 48 for job in jobs)
    done = [0] * len(jobs)
    context = multiprocessing.get_context("spawn")
    progress: multiprocessing.Queue[tuple[int, int, int]] = context.Queue()
    with context.Pool(processes, initializer=_init_worker, initargs=(progress,)) as pool:
        pending = [
            pool.apply_async(run_job, (index, job, data_dir)) for index, job in enumerate(jobs)
        ]
        reported: set[int] = set()
        while True:
            finished = sum(task.ready() for task in pending)
            for index, task in enumerate(pending):
                if on_result is not None and index not in reported and task.ready():
                    reported.add(index)
                    if task.successful():
                        on_result(task.get())
            try:
                index, slots, _ = progress.get(timeout=1.0)
                done[index] = slots
            except queue.Empty:
                pass
            _bar(out, sum(done), total, finished=finished, jobs=len(jobs), started=started)
            if finished == len(jobs):
                break
        results = [task.get() for task in pending]  # raises a worker's error here
    out.write("\n")
    return results


def captured_median(results: Sequence[JobResult]) -> float:
    shares = [r.result.captured for r in results if r.result.captured == r.result.captured]
    return statistics.median(shares) if shares else float("nan")


FLEET_HEADER = (
    f"{'home':>4} {'FY':>4} {'export':<6} {'no battery':>11} {'rule':>10} {'own fcst':>10} "
    f"{'perfect':>10} {'captured':>9} {'saving rule':>11} {'saving own':>10} "
    f"{'saving perf':>11} {'guard':>6}"
)


def format_fleet_row(item: JobResult) -> str:
    job, r = item.job, item.result
    export = "fixed" if job.scenario == "a1" else "spot"
    flag = "  < rule" if item.worse_than_rule else ""
    return (
        f"{job.home:>4} {job.fiscal_year:>4} {export:<6} {r.no_battery:>11,.0f} "
        f"{r.rule:>10,.0f} {r.own:>10,.0f} {r.perfect:>10,.0f} {r.captured:>9.1%} "
        f"{r.no_battery - r.rule:>11,.0f} {r.no_battery - r.own:>10,.0f} "
        f"{r.no_battery - r.perfect:>11,.0f} {r.fallback_share:>6.0%}{flag}"
    )


def format_fleet_table(results: Sequence[JobResult]) -> str:
    lines = [FLEET_HEADER, "-" * len(FLEET_HEADER), *map(format_fleet_row, results)]
    worse = [item for item in results if item.worse_than_rule]
    lines.append(
        f"median captured {captured_median(results):.1%} over {len(results)} scenario-years; "
        f"worse than the rule: {len(worse)}"
        + (
            " ("
            + ", ".join(f"{w.job.home} FY{w.job.fiscal_year} {w.job.scenario}" for w in worse)
            + ")"
            if worse
            else ""
        )
    )
    lines.append(
        "yearly cost in JPY (lower is better); captured = (rule - own) / (rule - perfect); "
        "saving = no battery - strategy; guard = share of slots that followed the rule"
    )
    return "\n".join(lines)
