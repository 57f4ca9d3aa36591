"""Build + solve time to a proven MILP optimum: this project vs plain PuLP (CBC, HiGHS) vs EMHASS.

    scripts/env python benchmarks/optimizer_speed.py --data ../shared/data

Same inputs for everyone: Tokyo home from 2024-04-01 (JEPX Tokyo spot + 14.6 JPY/kWh import,
export at spot, TEPCO PV shape x 4 kWp, CAMSL home 140), 10 kWh / 5 kW battery at 95 %/95 %,
starting and ending at 5 kWh, 10 kW grid both ways. Each solver's plan is re-priced with the
same formula (imports minus exports) and must reach the same cost.

EMHASS (pip ``emhass==0.18.7``, benchmark-only) pins a numpy that has no Python 3.14 build,
so it runs in its own interpreter through benchmarks/emhass_runner.py. Set it up once with a
host CPython 3.12 copied to a path that scripts/env also sees:

    cp -a ~/.pyenv/versions/3.12.1 artifacts/emhass/py312
    artifacts/emhass/py312/bin/python3.12 -m pip install emhass==0.18.7

CBC comes from ``pulp[cbc]`` (the ``cbc`` extra in pyproject, benchmark-only).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent.parent / "custom_components/bess_dispatch"))

from optimizer.data import load_tokyo_home
from optimizer.model import optimize
from optimizer.result import Plan
from optimizer.site import Battery, Grid, Site, Tariff, Topology
from tests.optimizer.reference.model_pulp import available_solvers, optimize_pulp

SIZES = (48, 336, 17_520)
RUNNER = Path(__file__).resolve().parent / "emhass_runner.py"
# A copy of a host CPython 3.12 with emhass installed, under the git-ignored artifacts/ so
# the same path works inside scripts/env (see the module docstring for how to make it).
DEFAULT_EMHASS = Path(__file__).resolve().parent.parent / "artifacts/emhass/py312/bin/python3.12"


def instance(data: Path, slots: int) -> Site:
    days = -(-slots // 48)
    series = load_tokyo_home(data, date(2024, 4, 1), days, year_first_day=date(2024, 4, 1))
    spot = series.spot[:slots]
    return Site.build(
        topology=Topology.AC_LINK,
        battery=Battery(
            capacity_kwh=10.0,
            charge_max_kw=5.0,
            discharge_max_kw=5.0,
            soe_initial_kwh=5.0,
            terminal_soe_target_kwh=5.0,
        ),
        grid=Grid(import_max_kw=10.0, export_max_kw=10.0),
        tariff=Tariff.of(spot + 14.6, spot),
        pv_kw=series.pv_kw[:slots],
        load_kw=series.load_kw[:slots],
    )


def timed(run: Callable[[], Plan], repeats: int) -> tuple[float, Plan]:
    times, plan = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        plan = run()
        times.append(time.perf_counter() - started)
    assert plan is not None
    return statistics.median(times), plan


def emhass(python: Path, site: Site, repeats: int, timeout: float) -> tuple[float, float] | str:
    """(median seconds, cost) or the reason it gave no answer."""
    if not python.exists():
        return f"not available: no EMHASS venv at {python}"
    request = {
        "import_price": site.tariff.import_price.tolist(),
        "export_price": site.tariff.export_price.tolist(),
        "pv_kw": site.pv_kw.tolist(),
        "load_kw": site.load_kw.tolist(),
        "battery": {"capacity_kwh": 10.0, "power_kw": 5.0, "eta": 0.95, "soc_initial": 0.5},
        "grid_kw": 10.0,
        "repeats": repeats,
        "timeout": timeout,
    }
    try:
        done = subprocess.run(
            [str(python), str(RUNNER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout * repeats + 60,
            check=False,
            env={**os.environ, "LD_LIBRARY_PATH": str(python.parent.parent / "lib")},
        )
    except subprocess.TimeoutExpired:
        return f"no answer in {timeout:.0f} s"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:60]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if answer["status"] != "Optimal":
        return f"status {answer['status']}"
    imports, exports = np.array(answer["import_kw"]), np.array(answer["export_kw"])
    cost = site.slot_hours * float(
        site.tariff.import_price @ imports - site.tariff.export_price @ exports
    )
    return statistics.median(answer["seconds"]), cost


def fmt(seconds: float, reference: float) -> str:
    return f"{seconds * 1000:9.1f} ms ({seconds / reference:5.1f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--emhass-python", type=Path, default=DEFAULT_EMHASS)
    parser.add_argument("--timeout", type=float, default=300.0, help="per solve, seconds")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    solvers = available_solvers()
    header = (
        f"{'slots':>6} | {'this project (median)':>22} {'method':>6} {'build':>8} | "
        f"{'PuLP+CBC':>22} | {'PuLP+HiGHS':>22} | {'EMHASS 0.18.7':>26} | "
        "same objective (cost - ours, JPY)"
    )
    print(header, flush=True)
    print("-" * len(header))
    for slots in args.sizes:
        site = instance(args.data, slots)
        repeats = 21 if slots <= 48 else 11 if slots <= 336 else 5
        ours, plan = timed(functools.partial(optimize, site), repeats)
        costs = {"ours": plan.energy_cost}
        cells = []
        for solver in ("cbc", "highs"):
            if solver not in solvers:
                cells.append(f"{'not available':>22}")
                continue
            try:
                seconds, other = timed(
                    functools.partial(optimize_pulp, site, solver=solver, time_limit=args.timeout),
                    1 if slots > 336 else 5,
                )
            except RuntimeError as error:
                cells.append(f"{str(error)[-22:]:>22}")
                continue
            costs[solver] = other.energy_cost
            cells.append(fmt(seconds, ours))
        answer = emhass(args.emhass_python, site, 1 if slots > 336 else 5, args.timeout)
        if isinstance(answer, str):
            cells.append(f"{answer[:26]:>26}")
        else:
            costs["emhass"] = answer[1]
            cells.append(f"{fmt(answer[0], ours):>26}")
        tolerance = 1e-6 * max(1.0, abs(costs["ours"]))
        deviations = ", ".join(
            f"{name} {cost - costs['ours']:+.1e}" for name, cost in costs.items() if name != "ours"
        )
        same = all(abs(cost - costs["ours"]) <= tolerance for cost in costs.values())
        print(
            f"{slots:>6} | {ours * 1000:19.1f} ms {plan.method:>6} "
            f"{plan.build_seconds * 1000:5.1f}ms"
            f" | {cells[0]} | {cells[1]} | {cells[2]} | "
            f"{'yes' if same else 'NO'}: cost {costs['ours']:,.2f} JPY; others {deviations}",
            flush=True,
        )
    print("times: build + solve to a proven MILP optimum; ratio = time / this project's time")


if __name__ == "__main__":
    main()
