"""The dispatch MILP, assembled in bulk (numpy arrays, one highspy call) and solved by HiGHS.

Per slot t (length dt hours) the columns are PV used, charge c, discharge d, import, export,
SoE at the end of the slot, and, only when needed, unserved load and soft-goal slacks.
Rows: AC power balance, SoE dynamics ``s_t = s_{t-1} + dt (eta_c c_t - d_t / eta_d)``, the
DC-link shared inverter ``|pv + d - c| <= inverter_max``, and the soft goals.

Exactness (no simultaneous charge+discharge, no simultaneous import+export) needs binaries.
We first solve the LP relaxation (the same model without them). Its optimum is a lower bound
on the MILP optimum; if it is already exclusive, or can be made exclusive by netting without
raising the objective, that point is MILP-feasible and therefore MILP-optimal (proven, no
branch and bound). Only otherwise - typically negative prices with zero cycle cost - do we
solve the MILP with HiGHS' branch and bound. :mod:`optimizer.model_pulp` states the same model
through PuLP as an independent reference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from .result import Plan, Violation
from .site import FloatArray, Site, Topology

_TOL_KW = 1e-7
_OBJ_TOL = 1e-7


class SolveError(RuntimeError):
    """HiGHS did not return an optimum (only for inconsistent numerics or a time limit)."""


@dataclass(frozen=True, slots=True)
class _Soft:
    """Soft SoE row: s[slot] >= bound (lower) or s[slot] <= bound (upper), slack penalised."""

    kind: str
    slot: int
    bound: float
    lower: bool


type IntArray = np.ndarray[tuple[int], np.dtype[np.int32]]


@dataclass(slots=True)
class _Model:
    """The LP/MILP as bounds, costs and (row, column, value) triplets, ready for highspy."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    rows: IntArray
    cols: IntArray
    vals: FloatArray
    integrality: IntArray | None
    softs: tuple[_Soft, ...]
    unserved: bool


# Column blocks, each T wide, in this order.
PV, CH, DIS, IMP, EXP, SOE = range(6)


def _soft_goals(site: Site) -> list[_Soft]:
    battery = site.battery
    n = site.slots
    softs: list[_Soft] = []
    for window in site.soe_windows:
        if window.min_kwh > 0:
            softs.append(_Soft("soe_window_min", window.slot, window.min_kwh, lower=True))
        if window.max_kwh is not None:
            softs.append(_Soft("soe_window_max", window.slot, window.max_kwh, lower=False))
    if battery.terminal_soe_target_kwh is not None:
        softs.append(_Soft("terminal_target", n - 1, battery.terminal_soe_target_kwh, True))
    # An initial SoE outside [min, max] is physical (it happens); the bounds become soft.
    if battery.soe_initial_kwh < battery.soe_min_kwh:
        softs.extend(_Soft("soe_min", t, battery.soe_min_kwh, True) for t in range(n))
    if battery.soe_initial_kwh > battery.soe_max:
        softs.extend(_Soft("soe_max", t, battery.soe_max, False) for t in range(n))
    return softs


def _build(site: Site, *, binaries: bool) -> _Model:
    n = site.slots
    dt = site.slot_hours
    battery, grid, tariff = site.battery, site.grid, site.tariff
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    softs = _soft_goals(site)
    # Unserved load only when the grid alone might not cover the load.
    unserved = bool(np.any(site.load_kw > grid.import_max_kw + 1e-12))
    penalty = site.penalty
    t = np.arange(n)

    block_count = 6 + (1 if unserved else 0)
    n_cont = block_count * n + len(softs)
    n_cols = n_cont + (2 * n if binaries else 0)
    col = {block: block * n + t for block in range(block_count)}
    unserved_cols = col[6] if unserved else t[:0]

    cost = np.zeros(n_cols)
    lower = np.zeros(n_cols)
    upper = np.zeros(n_cols)
    cycle = battery.cycle_cost_per_kwh * dt
    cost[col[CH]] = cycle
    cost[col[DIS]] = cycle
    cost[col[IMP]] = tariff.import_price * dt
    cost[col[EXP]] = -(tariff.export_price + tariff.export_premium) * dt
    cost[col[SOE][-1]] -= battery.terminal_value_per_kwh
    charge_max = np.full(n, battery.charge_max_kw)
    if not grid.grid_charging_allowed:
        charge_max = np.minimum(charge_max, site.pv_surplus_kw)
    upper[col[PV]] = site.pv_available_kw
    upper[col[CH]] = charge_max
    upper[col[DIS]] = battery.discharge_max_kw
    upper[col[IMP]] = grid.import_max_kw
    upper[col[EXP]] = grid.export_max_kw if grid.export_allowed else 0.0
    lower[col[SOE]] = min(battery.soe_min_kwh, battery.soe_initial_kwh)
    upper[col[SOE]] = max(battery.soe_max, battery.soe_initial_kwh)
    if unserved:
        cost[unserved_cols] = penalty * dt
        upper[unserved_cols] = site.load_kw
    soft_cols = block_count * n + np.arange(len(softs))
    cost[soft_cols] = penalty
    upper[soft_cols] = np.inf

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []

    def add(row: IntArray, column: IntArray, value: float | FloatArray) -> None:
        rows.append(row.astype(np.int32))
        cols.append(column.astype(np.int32))
        vals.append(np.broadcast_to(np.asarray(value, dtype=np.float64), row.shape).copy())

    # Balance rows 0..n-1: pv + imp + d - c - exp (+ unserved) = load.
    balance = t
    add(balance, col[PV], 1.0)
    add(balance, col[IMP], 1.0)
    add(balance, col[DIS], 1.0)
    add(balance, col[CH], -1.0)
    add(balance, col[EXP], -1.0)
    if unserved:
        add(balance, unserved_cols, 1.0)
    # SoE rows n..2n-1: s_t - s_{t-1} - dt eta_c c_t + dt/eta_d d_t = (s0 for t = 0).
    dynamics = n + t
    add(dynamics, col[SOE], 1.0)
    add(dynamics[1:], col[SOE][:-1], -1.0)
    add(dynamics, col[CH], -dt * eta_c)
    add(dynamics, col[DIS], dt / eta_d)
    row_lower = [site.load_kw, np.zeros(n)]
    row_lower[1][0] = battery.soe_initial_kwh
    row_upper = [site.load_kw, row_lower[1].copy()]
    next_row = 2 * n
    if site.topology is Topology.DC_LINK:
        assert grid.inverter_max_kw is not None
        inverter = next_row + t
        add(inverter, col[PV], 1.0)
        add(inverter, col[DIS], 1.0)
        add(inverter, col[CH], -1.0)
        row_lower.append(np.full(n, -grid.inverter_max_kw))
        row_upper.append(np.full(n, grid.inverter_max_kw))
        next_row += n
    if softs:
        soft_rows = next_row + np.arange(len(softs))
        slots = np.array([soft.slot for soft in softs])
        is_lower = np.array([soft.lower for soft in softs])
        bounds = np.array([soft.bound for soft in softs])
        add(soft_rows, col[SOE][slots], 1.0)
        add(soft_rows, soft_cols, np.where(is_lower, 1.0, -1.0))
        row_lower.append(np.where(is_lower, bounds, -np.inf))
        row_upper.append(np.where(is_lower, np.inf, bounds))
        next_row += len(softs)
    integrality: IntArray | None = None
    if binaries:
        # charging_t = 1 allows charge only; importing_t = 1 allows import only.
        charging = n_cont + t
        importing = n_cont + n + t
        upper[charging] = 1.0
        upper[importing] = 1.0
        integrality = np.zeros(n_cols, dtype=np.int32)
        integrality[n_cont:] = 1
        pairs = (
            (col[CH], charging, charge_max, 0.0),  # c - C b <= 0
            (col[DIS], charging, np.full(n, battery.discharge_max_kw), 1.0),  # d + D b <= D
            (col[IMP], importing, np.full(n, grid.import_max_kw), 0.0),
            (col[EXP], importing, upper[col[EXP]], 1.0),
        )
        for flow, binary, big_m, complement in pairs:
            link = next_row + t
            add(link, flow, 1.0)
            add(link, binary, np.where(complement, big_m, -big_m))
            row_lower.append(np.full(n, -np.inf))
            row_upper.append(big_m * complement)
            next_row += n
    return _Model(
        cost,
        lower,
        upper,
        np.concatenate(row_lower),
        np.concatenate(row_upper),
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        integrality,
        tuple(softs),
        unserved,
    )


def _run(model: _Model, *, time_limit: float | None) -> FloatArray:
    n_cols = model.cost.shape[0]
    n_rows = model.row_lower.shape[0]
    order = np.lexsort((model.rows, model.cols))
    index = model.rows[order]
    value = model.vals[order]
    start = np.searchsorted(model.cols[order], np.arange(n_cols + 1)).astype(np.int32)
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    if model.integrality is not None:
        highs.setOptionValue("mip_rel_gap", 1e-9)
        highs.setOptionValue("mip_abs_gap", 1e-7)
    if n_cols < 2000:
        highs.setOptionValue("presolve", "off")  # presolve costs more than it saves here
    highs.passModel(
        n_cols,
        n_rows,
        int(value.shape[0]),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        model.cost,
        model.col_lower,
        model.col_upper,
        model.row_lower,
        model.row_upper,
        start,
        index,
        value,
        np.zeros(n_cols, dtype=np.int32) if model.integrality is None else model.integrality,
    )
    highs.run()
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolveError(f"HiGHS: {highs.modelStatusToString(status)}")
    return np.asarray(highs.getSolution().col_value, dtype=np.float64)


def _plan(
    site: Site, model: _Model, x: FloatArray, method: str, seconds: tuple[float, float]
) -> Plan:
    n = site.slots

    def block(index: int) -> FloatArray:
        return np.clip(x[index * n : (index + 1) * n], 0.0, None)

    charge, discharge = block(CH), block(DIS)
    imports, exports = block(IMP), block(EXP)
    soe = x[SOE * n : (SOE + 1) * n].copy()
    unserved = block(6) if model.unserved else np.zeros(n)
    return assemble_plan(
        site,
        charge=charge,
        discharge=discharge,
        imports=imports,
        exports=exports,
        pv_used=block(PV),
        unserved=unserved,
        soe=soe,
        method=method,
        seconds=seconds,
    )


def assemble_plan(
    site: Site,
    *,
    charge: FloatArray,
    discharge: FloatArray,
    imports: FloatArray,
    exports: FloatArray,
    pv_used: FloatArray,
    unserved: FloatArray,
    soe: FloatArray,
    method: str,
    seconds: tuple[float, float],
) -> Plan:
    """Costs and violations of a dispatch, recomputed from the flows (not the solver's value)."""
    dt = site.slot_hours
    battery, tariff = site.battery, site.tariff
    energy = float(
        dt
        * (tariff.import_price @ imports - (tariff.export_price + tariff.export_premium) @ exports)
    )
    cycle = float(battery.cycle_cost_per_kwh * dt * (charge.sum() + discharge.sum()))
    terminal = float(battery.terminal_value_per_kwh * soe[-1])
    violations: list[Violation] = []
    for soft in _soft_goals(site):
        value = soe[soft.slot]
        amount = soft.bound - value if soft.lower else value - soft.bound
        if amount > 1e-6:
            violations.append(Violation(soft.kind, soft.slot, float(amount)))
    for slot in np.flatnonzero(unserved > 1e-9):
        violations.append(Violation("unserved_load", int(slot), float(unserved[slot] * dt)))
    penalty = site.penalty * sum(v.amount_kwh for v in violations)
    return Plan(
        charge,
        discharge,
        imports,
        exports,
        pv_used,
        unserved,
        soe,
        energy,
        cycle,
        terminal,
        penalty,
        energy + cycle - terminal + penalty,
        tuple(violations),
        method,
        *seconds,
    )


def _repair(site: Site, plan: Plan) -> Plan | None:
    """Net out simultaneous flows keeping the SoE path; None if that breaks a limit."""
    dt = site.slot_hours
    battery, grid = site.battery, site.grid
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    stored = dt * (eta_c * plan.charge_kw - plan.discharge_kw / eta_d)  # kept exactly
    charge = np.where(stored > 0, stored / (dt * eta_c), 0.0)
    discharge = np.where(stored < 0, -stored * eta_d / dt, 0.0)
    pv = plan.pv_used_kw.copy()
    if site.topology is Topology.DC_LINK:
        assert grid.inverter_max_kw is not None
        over = np.maximum(pv + discharge - charge - grid.inverter_max_kw, 0.0)
        pv -= over  # netting frees power: curtail what the inverter cannot pass
    net = site.load_kw - plan.unserved_kw + charge - discharge - pv  # + import, - export
    export_cap = grid.export_max_kw if grid.export_allowed else 0.0
    spill = np.maximum(-net - export_cap, 0.0)
    pv -= spill
    net += spill
    imports = np.maximum(net, 0.0)
    exports = np.maximum(-net, 0.0)
    feasible = (
        np.all(pv >= -_TOL_KW)
        and np.all(imports <= grid.import_max_kw + _TOL_KW)
        and (
            site.topology is not Topology.DC_LINK
            or np.all(np.abs(pv + discharge - charge) <= (grid.inverter_max_kw or 0.0) + _TOL_KW)
        )
    )
    if not feasible:
        return None
    return assemble_plan(
        site,
        charge=charge,
        discharge=discharge,
        imports=imports,
        exports=exports,
        pv_used=np.maximum(pv, 0.0),
        unserved=plan.unserved_kw,
        soe=plan.soe_kwh,
        method="lp+repair",
        seconds=(plan.build_seconds, plan.solve_seconds),
    )


def optimize(site: Site, *, time_limit: float | None = None, force_mip: bool = False) -> Plan:
    """Cost-optimal exact dispatch (proven MILP optimum) for ``site``."""
    started = time.perf_counter()
    if not force_mip:
        model = _build(site, binaries=False)
        built = time.perf_counter()
        x = _run(model, time_limit=time_limit)
        solved = time.perf_counter()
        plan = _plan(site, model, x, "lp", (built - started, solved - built))
        if plan.max_simultaneity_kw() <= _TOL_KW:
            return plan  # the relaxation's optimum is MILP-feasible, hence MILP-optimal
        repaired = _repair(site, plan)
        scale = max(1.0, abs(plan.objective))
        if repaired is not None and repaired.objective <= plan.objective + _OBJ_TOL * scale:
            # Same lower bound reached by a MILP-feasible point: proven optimal.
            return repaired
        started = time.perf_counter()
    model = _build(site, binaries=True)
    built = time.perf_counter()
    x = _run(model, time_limit=time_limit)
    solved = time.perf_counter()
    return _plan(site, model, x, "mip", (built - started, solved - built))
