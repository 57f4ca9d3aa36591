"""Command line: ``python -m optimizer <subcommand>``; ``backtest``, ``serve``, ``demo``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from .modes import DEPLOYED_MAPPING, MAPPINGS

DEFAULT_DATA = Path("../shared/data")


def _backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest_window, format_table, plot_week, run_scenario, standard_scenarios
    from .data import load_tokyo_home

    first_day = date.fromisoformat(args.start)
    load_from, load_days = backtest_window(first_day, args.days)
    series = load_tokyo_home(
        args.data, load_from, load_days, home=args.home, kwp=args.kwp, year_first_day=first_day
    )
    scenarios = [s for s in standard_scenarios() if not args.only or s.name.startswith(args.only)]
    results = [
        run_scenario(
            scenario,
            series,
            args.days,
            guard_margin=args.guard_margin,
            mapping=args.mapping,
            oracle=frozenset(args.oracle.split(",")) - {""},
            pv_days=args.pv_days,
            pv_quantile=args.pv_quantile,
            risk_cost=args.risk_cost,
            load_alpha=args.load_alpha,
            pv_fade_slots=args.pv_fade,
            load_median_days=args.load_median_days,
            load_weighted=args.load_weighted,
            terminal_quantile=args.terminal_quantile,
        )
        for scenario in scenarios
    ]
    print(format_table(results))
    if results:
        day = min(args.plot_day, max(args.days - 7, 0))
        plot_week(results[0], series, day, args.plot)
        print(f"sample week written to {args.plot}")
    return 0


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part]
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas: {text!r}"
        ) from error


def _fleet(args: argparse.Namespace) -> int:
    from .backtest_fleet import (
        FLEET_HEADER,
        fleet_jobs,
        format_fleet_row,
        format_fleet_table,
        run_fleet,
    )

    jobs = fleet_jobs(
        args.homes,
        args.years,
        [part for part in args.exports.split(",") if part],
        days=args.days,
        mapping=args.mapping,
        load_weighted=args.load_weighted,
        terminal_quantile=args.terminal_quantile,
    )
    print(f"as they finish:\n{FLEET_HEADER}", flush=True)
    results = run_fleet(
        jobs,
        args.data,
        processes=args.processes,
        on_result=lambda item: print(format_fleet_row(item), flush=True),
    )
    print(format_fleet_table(results))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m optimizer", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    backtest = commands.add_parser("backtest", help="re-plan every 30 min over real data")
    backtest.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory")
    backtest.add_argument("--start", default="2024-04-01", help="first day (FY2024 default)")
    backtest.add_argument("--days", type=int, default=365)
    backtest.add_argument("--home", type=int, default=140, help="CAMSL home id")
    backtest.add_argument("--kwp", type=float, default=4.0)
    backtest.add_argument("--only", default="", help="run scenarios whose name starts so")
    backtest.add_argument("--guard-margin", type=float, default=0.0, help="JPY per 48 h plan")
    backtest.add_argument(
        "--mapping",
        default=DEPLOYED_MAPPING,
        choices=sorted(MAPPINGS),
        help="plan -> protocol modes (default: what the service sends)",
    )
    backtest.add_argument(
        "--oracle", default="", help="plan on the real future for these: price,pv,load"
    )
    backtest.add_argument("--pv-days", type=int, default=7, help="days of PV ratio history")
    backtest.add_argument("--pv-quantile", type=float, default=1.0, help="of the daily ratios")
    backtest.add_argument(
        "--risk-cost", type=float, default=0.0, help="planning-only cost per kWh cycled"
    )
    backtest.add_argument("--load-alpha", type=float, default=0.15, help="load smoothing")
    backtest.add_argument(
        "--pv-fade", type=float, default=6.0, help="nowcast fade in slots (0: ratio only)"
    )
    backtest.add_argument(
        "--load-median-days", type=int, default=14, help="same-slot median load (0: smoothing)"
    )
    backtest.add_argument(
        "--load-weighted", action="store_true", help="Predbat-style weighted load history"
    )
    backtest.add_argument(
        "--terminal-quantile", type=float, default=0.25, help="of forecast import prices"
    )
    backtest.add_argument("--plot", type=Path, default=Path("artifacts/backtest_week.png"))
    backtest.add_argument("--plot-day", type=int, default=120, help="first day of the week")
    backtest.set_defaults(handler=_backtest)
    fleet = commands.add_parser(
        "fleet", help="backtest every home and fiscal year in parallel (one table)"
    )
    fleet.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory")
    fleet.add_argument("--homes", type=_int_list, default=[137, 140, 162, 189, 208])
    fleet.add_argument("--years", type=_int_list, default=[2023, 2024], help="fiscal years")
    fleet.add_argument("--exports", default="a1,a2", help="a1 export fixed, a2 export at spot")
    fleet.add_argument("--days", type=int, default=365)
    fleet.add_argument("--processes", type=int, default=2, help="worker processes (niced)")
    fleet.add_argument("--mapping", default=DEPLOYED_MAPPING, choices=sorted(MAPPINGS))
    fleet.add_argument(
        "--load-weighted", action="store_true", help="Predbat-style weighted load history"
    )
    fleet.add_argument(
        "--terminal-quantile",
        type=float,
        default=0.25,
        help="of the forecast import prices, valuing the energy left (0: the cheapest)",
    )
    fleet.set_defaults(handler=_fleet)
    from .fcr.backtest import add_parser as add_fcr_backtest
    from .serve import add_parser as add_serve
    from .simulation.demo import add_parser as add_demo

    add_serve(commands)
    add_demo(commands)
    add_fcr_backtest(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
