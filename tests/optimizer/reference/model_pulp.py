"""The same dispatch MILP stated row by row through PuLP, with the binaries always present.

Slower to build than :mod:`optimizer.model` but written independently, so tests use it as a
cross-check and the benchmark as the plain "PuLP + CBC / HiGHS" reference.
"""

from __future__ import annotations

import time

import numpy as np
import pulp

from optimizer.model import assemble_plan
from optimizer.result import Plan
from optimizer.site import Site, Topology


def _solver(name: str, time_limit: float | None) -> pulp.LpSolver:
    if name == "cbc":
        # CBC ships in pulp[cbc] (cbcbox), which PuLP runs as COIN_CMD.
        return pulp.COIN_CMD(msg=False, timeLimit=time_limit, gapRel=1e-9)  # type: ignore[no-untyped-call]
    if name == "highs":
        return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=1e-9)
    raise ValueError(f"solver: unknown {name!r}, expected 'highs' or 'cbc'")


def available_solvers() -> list[str]:
    """Which of "highs" and "cbc" PuLP can run here."""
    names = pulp.listSolvers(onlyAvailable=True)
    return [short for short, full in (("highs", "HiGHS"), ("cbc", "COIN_CMD")) if full in names]


def optimize_pulp(site: Site, *, solver: str = "highs", time_limit: float | None = None) -> Plan:
    """Build and solve the MILP with PuLP; same objective as :func:`optimizer.model.optimize`."""
    started = time.perf_counter()
    n, dt = site.slots, site.slot_hours
    battery, grid, tariff = site.battery, site.grid, site.tariff
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    penalty = site.penalty
    charge_cap = (
        np.minimum(battery.charge_max_kw, site.pv_surplus_kw)
        if not grid.grid_charging_allowed
        else np.full(n, battery.charge_max_kw)
    )
    export_cap = grid.export_max_kw if grid.export_allowed else 0.0
    soe_low = min(battery.soe_min_kwh, battery.soe_initial_kwh)
    soe_high = max(battery.soe_max, battery.soe_initial_kwh)
    problem = pulp.LpProblem("dispatch", pulp.LpMinimize)
    pv, charge, discharge, imports, exports, soe, unserved = [], [], [], [], [], [], []
    is_charging, is_importing = [], []
    objective: list[pulp.LpAffineExpression] = []
    for t in range(n):
        pv.append(problem.add_variable(f"pv_{t}", 0, float(site.pv_available_kw[t])))
        charge.append(problem.add_variable(f"c_{t}", 0, float(charge_cap[t])))
        discharge.append(problem.add_variable(f"d_{t}", 0, battery.discharge_max_kw))
        imports.append(problem.add_variable(f"imp_{t}", 0, grid.import_max_kw))
        exports.append(problem.add_variable(f"exp_{t}", 0, export_cap))
        soe.append(problem.add_variable(f"s_{t}", soe_low, soe_high))
        unserved.append(problem.add_variable(f"u_{t}", 0, float(site.load_kw[t])))
        is_charging.append(problem.add_variable(f"bc_{t}", cat="Binary"))
        is_importing.append(problem.add_variable(f"bg_{t}", cat="Binary"))
        problem += pv[t] + imports[t] + discharge[t] - charge[t] - exports[t] + unserved[
            t
        ] == float(site.load_kw[t])
        previous = soe[t - 1] if t > 0 else battery.soe_initial_kwh
        problem += soe[t] == previous + dt * eta_c * charge[t] - dt / eta_d * discharge[t]
        problem += charge[t] <= float(charge_cap[t]) * is_charging[t]
        problem += discharge[t] <= battery.discharge_max_kw * (1 - is_charging[t])
        problem += imports[t] <= grid.import_max_kw * is_importing[t]
        problem += exports[t] <= export_cap * (1 - is_importing[t])
        if not grid.grid_charging_allowed:
            # PV serves the load first (DC-link: what the inverter passes); only the rest
            # may charge: charge = 0, or pv - charge >= that load.
            first = float(site.load_kw[t])
            if site.topology is Topology.DC_LINK:
                assert grid.inverter_max_kw is not None
                first = min(first, grid.inverter_max_kw)
            from_pv = problem.add_variable(f"bp_{t}", cat="Binary")
            problem += charge[t] <= float(charge_cap[t]) * from_pv
            problem += pv[t] - charge[t] >= first * from_pv
            problem += pv[t] >= charge[t]
        if site.topology is Topology.DC_LINK:
            assert grid.inverter_max_kw is not None
            problem += pv[t] + discharge[t] - charge[t] <= grid.inverter_max_kw
            problem += pv[t] + discharge[t] - charge[t] >= -grid.inverter_max_kw
        objective.append(
            dt * float(tariff.import_price[t]) * imports[t]
            - dt * float(tariff.export_price[t] + tariff.export_premium[t]) * exports[t]
            + dt * battery.cycle_cost_per_kwh * (charge[t] + discharge[t])
            + dt * penalty * unserved[t]
        )
    goals: list[tuple[int, float, bool]] = []
    for window in site.soe_windows:
        if window.min_kwh > 0:
            goals.append((window.slot, window.min_kwh, True))
        if window.max_kwh is not None:
            goals.append((window.slot, window.max_kwh, False))
    if battery.terminal_soe_target_kwh is not None:
        goals.append((n - 1, battery.terminal_soe_target_kwh, True))
    if battery.soe_initial_kwh < battery.soe_min_kwh:
        goals.extend((t, battery.soe_min_kwh, True) for t in range(n))
    if battery.soe_initial_kwh > battery.soe_max:
        goals.extend((t, battery.soe_max, False) for t in range(n))
    for index, (slot, bound, lower) in enumerate(goals):
        slack = problem.add_variable(f"slack_{index}", 0)
        problem += (soe[slot] + slack >= bound) if lower else (soe[slot] - slack <= bound)
        objective.append(penalty * slack)
    problem += pulp.lpSum(objective) - battery.terminal_value_per_kwh * soe[-1]
    built = time.perf_counter()
    stats = problem.solve(_solver(solver, time_limit))
    solved = time.perf_counter()
    # GapLimit: stopped at the requested 1e-9 relative gap, i.e. proven optimal.
    if stats.status not in (pulp.LpSolveStatus.Optimal, pulp.LpSolveStatus.GapLimit):
        raise RuntimeError(f"PuLP/{solver}: {stats.status_str}")

    def values(variables: list[pulp.LpVariable]) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        return np.array([v.value() or 0.0 for v in variables], dtype=np.float64)

    return assemble_plan(
        site,
        charge=np.maximum(values(charge), 0),
        discharge=np.maximum(values(discharge), 0),
        imports=np.maximum(values(imports), 0),
        exports=np.maximum(values(exports), 0),
        pv_used=np.maximum(values(pv), 0),
        unserved=np.maximum(values(unserved), 0),
        soe=values(soe),
        method=f"pulp-{solver}",
        seconds=(built - started, solved - built),
    )
