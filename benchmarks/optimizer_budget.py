"""Solve time and optimality gap of budgeted plans over random instances, against a reference.

    scripts/env python benchmarks/optimizer_budget.py [--instances 1000] [--budgets 0.3 0.8]

Instances come from optimizer.random_sites (seeded): ``random_site`` (any topology, FIP,
forbidden export or grid charging, negative prices, 4 to 96 slots) and, for a share of them,
``hard_site`` (336 slots, lossless battery, export above import in ~85 % of the slots: the
class that once took 844 s). Each is solved by ``optimize`` under each budget (the layer
budgets of the service) and once by the reference in the same run: the same HiGHS model
solved to a proven optimum (relative gap 1e-9), stopped after --reference-limit seconds (the
hard class rarely closes its last 1e-5 within minutes); its own statuses are printed. On the
non-hard instances the independent PuLP twin (binaries in every slot, PuLP + HiGHS) is also
solved, as a check that both formulations reach the same optimum.

``--fcr-share`` (default 0: the instances above, unchanged) turns that share of the random
instances into class ``fcr``: the same site with EPRX FCR blocks of 6 slots (issue 19), each
offerable at a random price (0-12 JPY/kW/30 min) or awarded (0.5-3 kW), so the step and
minimum-offer integers and the headroom rows are in the model; no PuLP twin for those.

Columns: wall time of ``optimize`` (build + solve), the gap the plan reports (to its own
best bound), the true gap to the reference optimum ((cost - optimum) / max(|optimum|, 1)),
and the reference's own time. Progress lines go to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent.parent / "custom_components/bess_dispatch"))

from optimizer.fcr.market import FcrBlock, FcrMarket, FcrProduct
from optimizer.model import optimize
from optimizer.random_sites import hard_site, random_site
from optimizer.site import Site
from tests.optimizer.reference.model_pulp import optimize_pulp


@dataclass
class Row:
    kind: str
    seconds: float
    reported_gap: float  # nan: no bound
    true_gap: float
    status: str


def true_gap(cost: float, optimum: float) -> float:
    return max(cost - optimum, 0.0) / max(abs(optimum), 1.0)


def percentiles(values: list[float]) -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return f"{'-':>10} {'-':>10} {'-':>10}"
    p50, p99 = np.percentile(finite, [50, 99])
    return f"{p50:10.4g} {p99:10.4g} {max(finite):10.4g}"


def _stop(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt  # HiGHS takes SIGINT for itself: SIGTERM prints what is done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--hard-share", type=float, default=0.1, help="share of hard_site")
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.3, 0.8])
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--pulp-limit", type=float, default=10.0, help="seconds per PuLP solve")
    parser.add_argument("--reference-limit", type=float, default=60.0, help="seconds")
    parser.add_argument("--fcr-share", type=float, default=0.0, help="share of the fcr class")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    rng = np.random.default_rng(args.seed)
    rows: dict[float, list[Row]] = {budget: [] for budget in args.budgets}
    reference_times: dict[str, list[float]] = {"random": [], "hard": [], "fcr": []}
    twin = Counter[str]()
    reference_status = Counter[str]()
    started = time.perf_counter()
    done = 0
    try:
        for index in range(args.instances):
            run_one(args, rng, rows, reference_times, reference_status, twin)
            done = index + 1
            if done % 25 == 0 or done == args.instances:
                elapsed = time.perf_counter() - started
                print(
                    f"[{done}/{args.instances}] {elapsed:6.0f} s elapsed, "
                    f"{elapsed / done * (args.instances - done):6.0f} s to go",
                    file=sys.stderr,
                    flush=True,
                )
    except KeyboardInterrupt:
        print(f"interrupted after {done} instances: the table covers those", flush=True)
    table(rows, reference_times)
    print(
        "reference: the same model, HiGHS to a proven optimum, this run ("
        + ", ".join(f"{name} {count}" for name, count in sorted(reference_status.items()))
        + f", limit {args.reference_limit:.0f} s); PuLP twin vs reference on the random class: "
        + ", ".join(f"{name} {count}" for name, count in sorted(twin.items()))
    )
    print(f"total {time.perf_counter() - started:.0f} s; gaps relative to max(|cost|, 1)")


def run_one(
    args: argparse.Namespace,
    rng: np.random.Generator,
    rows: dict[float, list[Row]],
    reference_times: dict[str, list[float]],
    reference_status: Counter[str],
    twin: Counter[str],
) -> None:
    hard = rng.random() < args.hard_share
    site: Site = hard_site(rng) if hard else random_site(rng)
    kind = "hard" if hard else "random"
    if not hard and args.fcr_share > 0 and rng.random() < args.fcr_share:
        site = with_fcr(rng, site)
        kind = "fcr"
    clock = time.perf_counter()
    reference = optimize(site, budget_s=args.reference_limit)
    reference_times[kind].append(time.perf_counter() - clock)
    reference_status[f"{kind} {reference.status.value}"] += 1
    optimum = reference.objective
    for budget in args.budgets:
        clock = time.perf_counter()
        plan = optimize(site, budget_s=budget)
        seconds = time.perf_counter() - clock
        reported = float("nan") if plan.gap is None else plan.gap
        gap = true_gap(plan.objective, optimum)
        rows[budget].append(Row(kind, seconds, reported, gap, plan.status.value))
    if kind == "random":
        try:
            other = optimize_pulp(site, solver="highs", time_limit=args.pulp_limit)
            same = abs(other.objective - optimum) <= 1e-6 * max(1.0, abs(optimum))
            twin["same" if same else "DIFFERENT"] += 1
        except RuntimeError:
            twin["no answer in limit"] += 1


def with_fcr(rng: np.random.Generator, site: Site) -> Site:
    """``site`` with FCR blocks of 6 slots: offerable at a random price, or awarded."""
    blocks = []
    for first in range(0, site.slots, 6):
        count = min(6, site.slots - first)
        if rng.random() < 0.25:
            blocks.append(FcrBlock(first, count, awarded_kw=float(rng.uniform(0.5, 3.0))))
        else:
            blocks.append(FcrBlock(first, count, price=float(rng.uniform(0, 12)), offerable=True))
    return replace(site, fcr=FcrMarket(FcrProduct(), tuple(blocks)))


def table(rows: dict[float, list[Row]], reference_times: dict[str, list[float]]) -> None:
    header = (
        f"{'budget':>7} {'class':>7} {'n':>5} | {'wall s p50':>10} {'p99':>10} {'max':>10} | "
        f"{'rep. gap p50':>12} {'p99':>10} {'max':>10} | {'true gap p50':>12} {'p99':>10} "
        f"{'max':>10} | {'ref s p50':>10} {'p99':>10} {'max':>10} | status"
    )
    print(header)
    print("-" * len(header))
    for budget, budget_rows in rows.items():
        for kind in ("random", "hard", "fcr", "all"):
            chosen = [r for r in budget_rows if kind in ("all", r.kind)]
            if not chosen:
                continue
            refs = (
                reference_times["random"] + reference_times["hard"] + reference_times["fcr"]
                if kind == "all"
                else reference_times[kind]
            )
            statuses = Counter(r.status for r in chosen)
            print(
                f"{budget:7.2f} {kind:>7} {len(chosen):5d} | "
                f"{percentiles([r.seconds for r in chosen])} | "
                f"  {percentiles([r.reported_gap for r in chosen])} | "
                f"  {percentiles([r.true_gap for r in chosen])} | "
                f"{percentiles(refs)} | "
                + ", ".join(f"{name} {count}" for name, count in sorted(statuses.items())),
                flush=True,
            )


if __name__ == "__main__":
    main()
