"""The dispatch MILP, assembled in bulk (numpy arrays, one highspy call) and solved by HiGHS.

Per slot t (length dt hours) the columns are PV used u, charge c, discharge d, import, export,
SoE at the end of the slot, and, only when needed, unserved load and soft-goal slacks.
Rows: AC power balance, SoE dynamics ``s_t = s_{t-1} + dt (eta_c c_t - d_t / eta_d)``, the
DC-link shared inverter ``|u + d - c| <= inverter_max``, and the soft goals.

Three either/or rules need binaries, each only in the slots where it can matter:

* charge or discharge, never both: only for a lossy battery (lossless, doing both moves no
  energy, so netting them is never worse);
* import or export, never both: only where export pays more than import (elsewhere netting
  never costs more);
* no grid charging (when forbidden): the battery charges only from PV left after the load,
  ``c <= max(u - L, 0)`` with L the load PV serves first (DC-link: what the inverter can
  pass). Its either/or is ``c = 0`` or ``u - c >= L``; without the binary the grid could
  serve the load while PV charges, i.e. grid charging by a detour.

Big-M values are the slot's real reach (import <= load + charge, export <= PV + discharge),
not the connection limits, so the relaxation stays tight.

:func:`optimize` first solves the LP relaxation (binaries continuous in [0, 1]). Its optimum is
a lower bound; if the point already keeps the rules, or netting it keeps them without raising
the objective, it is proven optimal. Otherwise HiGHS' branch and bound runs, started from the
repaired relaxation, for whatever is left of the time budget. The tests' reference
(tests/optimizer/reference/model_pulp.py) states the same model through PuLP, independently.

FCR (``site.fcr``, issue 19): one capacity column r_b (kW) per 3-hour block, with rows that
keep room for full activation either way in every slot of the block (battery, grid and DC-link
inverter limits, and the SoE band for the product's duration; :mod:`optimizer.fcr.headroom`
states the same bounds for a given dispatch). An offerable block earns forecast price x
aggregator share per kW; its capacity is a whole number of steps (an integer column) and,
where the minimum offer exceeds one step, zero or at least the minimum (a binary). An awarded
block is a duty: r_b <= award and r_b + shortfall_b >= award, the shortfall priced at the
penalty, so the model still always answers and a shortfall names the award it cannot honour.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import highspy
import numpy as np
import numpy.typing as npt

from .baselines import slot_flows
from .fcr.headroom import (
    capacity_left_kw,
    export_cap_kw,
    on_grid_kw,
    soe_bounds,
    structural_max_kw,
)
from .fcr.market import FcrMarket
from .physics import SELF_CONSUMPTION
from .result import Plan, PlanStatus, Violation
from .site import FloatArray, Site, Topology

_TOL_KW = 1e-7
_FCR_TOL_KW = 1e-6  # solver dust on a capacity: never worth a step less
_OBJ_TOL = 1e-7
_MIN_RUN_S = 0.005  # below this, starting HiGHS is pointless


@dataclass(frozen=True, slots=True)
class _Soft:
    """Soft SoE row: s[slot] >= bound (lower) or s[slot] <= bound (upper), slack penalised."""

    kind: str
    slot: int
    bound: float
    lower: bool


type IntArray = np.ndarray[tuple[int], np.dtype[np.int32]]


@dataclass(frozen=True, slots=True)
class _Fcr:
    """Where the FCR columns sit. ``r``: capacity per block; ``short``: shortfall per awarded
    block (``awarded`` their block indices); ``steps``: integer step count per block in
    ``stepped``; ``some``: zero-or-minimum binary per block in ``minimum``."""

    r: IntArray
    short: IntArray
    awarded: IntArray
    steps: IntArray
    stepped: IntArray
    some: IntArray
    minimum: IntArray


@dataclass(slots=True)
class _Model:
    """The LP/MILP as bounds, costs and (row, column, value) triplets, ready for highspy.

    ``binary`` lists the either/or columns: integer in the MILP, in [0, 1] in the relaxation.
    """

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    rows: IntArray
    cols: IntArray
    vals: FloatArray
    binary: IntArray
    integer: bool
    softs: tuple[_Soft, ...]
    unserved: bool
    battery_slots: IntArray  # slots with a charging-or-discharging binary
    grid_slots: IntArray  # slots with an importing-or-exporting binary
    pv_first_slots: IntArray  # slots with a PV-covers-the-load-first binary
    fcr: _Fcr


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


def served_first_kw(site: Site) -> FloatArray:
    """The load PV must cover before it may charge the battery (DC-link: what the shared
    inverter can pass to it; PV beyond that can only go to the battery)."""
    if site.topology is Topology.DC_LINK:
        assert site.grid.inverter_max_kw is not None
        return np.asarray(np.minimum(site.load_kw, site.grid.inverter_max_kw), dtype=np.float64)
    return site.load_kw


def grid_charged_kw(site: Site, charge_kw: FloatArray, pv_used_kw: FloatArray) -> FloatArray:
    """Charge power not covered by PV left after the load, per slot (0 where the rule holds)."""
    if site.grid.grid_charging_allowed:
        return np.zeros(site.slots)
    from_pv = np.maximum(pv_used_kw - served_first_kw(site), 0.0)
    return np.asarray(np.maximum(charge_kw - from_pv, 0.0), dtype=np.float64)


def _charge_cap(site: Site) -> FloatArray:
    cap = np.full(site.slots, site.battery.charge_max_kw)
    if not site.grid.grid_charging_allowed:
        cap = np.minimum(cap, site.pv_surplus_kw)
    return cap


def _grid_caps(site: Site, charge_cap: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Import and export each slot can really reach when they exclude each other."""
    grid = site.grid
    # Load the grid surely serves: all of it, unless unserved load is possible.
    load = site.load_kw if bool(np.all(site.load_kw <= grid.import_max_kw + 1e-12)) else 0.0
    imports = np.minimum(grid.import_max_kw, site.load_kw + charge_cap)
    export_max = grid.export_max_kw if grid.export_allowed else 0.0
    injection = site.pv_available_kw + site.battery.discharge_max_kw
    if site.topology is Topology.DC_LINK:
        assert grid.inverter_max_kw is not None
        imports = np.minimum(imports, site.load_kw + grid.inverter_max_kw)
        injection = np.minimum(injection, grid.inverter_max_kw)
    exports = np.clip(injection - load, 0.0, export_max)
    return imports, exports


def _binary_slots(
    site: Site, charge_cap: FloatArray, import_cap: FloatArray, export_cap: FloatArray
) -> tuple[IntArray, IntArray, IntArray]:
    battery = site.battery
    lossy = battery.charge_efficiency * battery.discharge_efficiency < 1.0
    both = (charge_cap > 0) & (battery.discharge_max_kw > 0) & lossy
    tariff = site.tariff
    pays = tariff.export_price + tariff.export_premium > tariff.import_price
    grid = pays & (import_cap > 0) & (export_cap > 0)
    pv_first = (
        (charge_cap > 0) & (served_first_kw(site) > 0) & (not site.grid.grid_charging_allowed)
    )
    return (
        np.flatnonzero(both).astype(np.int32),
        np.flatnonzero(grid).astype(np.int32),
        np.flatnonzero(pv_first).astype(np.int32),
    )


def _build(site: Site, *, integer: bool) -> _Model:
    n = site.slots
    dt = site.slot_hours
    battery, grid, tariff = site.battery, site.grid, site.tariff
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    softs = _soft_goals(site)
    # Unserved load only when the grid alone might not cover the load.
    unserved = bool(np.any(site.load_kw > grid.import_max_kw + 1e-12))
    penalty = site.penalty
    t = np.arange(n)
    charge_cap = _charge_cap(site)
    import_cap, export_cap = _grid_caps(site, charge_cap)
    battery_slots, grid_slots, pv_first_slots = _binary_slots(
        site, charge_cap, import_cap, export_cap
    )

    block_count = 6 + (1 if unserved else 0)
    market = site.fcr
    blocks = () if market is None else market.blocks
    awarded = np.array(
        [i for i, b in enumerate(blocks) if b.awarded_kw is not None], dtype=np.int32
    )
    offerable = [i for i, b in enumerate(blocks) if b.offerable]
    step = 0.0 if market is None else market.product.step_kw
    minimum = 0.0 if market is None else market.product.min_offer_kw
    stepped = np.array(offerable if step > 0 else [], dtype=np.int32)
    needs_minimum = minimum > step + 1e-12
    minimum_blocks = np.array(offerable if needs_minimum else [], dtype=np.int32)
    first_fcr = block_count * n + len(softs)
    r_cols = first_fcr + np.arange(len(blocks))
    short_cols = first_fcr + len(blocks) + np.arange(awarded.shape[0])
    n_cont = first_fcr + len(blocks) + awarded.shape[0]
    z_battery = n_cont + np.arange(battery_slots.shape[0])
    z_grid = n_cont + battery_slots.shape[0] + np.arange(grid_slots.shape[0])
    z_pv = (
        n_cont + battery_slots.shape[0] + grid_slots.shape[0] + np.arange(pv_first_slots.shape[0])
    )
    n_either_or = n_cont + battery_slots.shape[0] + grid_slots.shape[0] + pv_first_slots.shape[0]
    step_cols = n_either_or + np.arange(stepped.shape[0])
    some_cols = n_either_or + stepped.shape[0] + np.arange(minimum_blocks.shape[0])
    n_cols = n_either_or + stepped.shape[0] + minimum_blocks.shape[0]
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
    upper[col[PV]] = site.pv_available_kw
    upper[col[CH]] = charge_cap
    upper[col[DIS]] = battery.discharge_max_kw
    upper[col[IMP]] = import_cap
    upper[col[EXP]] = export_cap
    lower[col[SOE]] = min(battery.soe_min_kwh, battery.soe_initial_kwh)
    upper[col[SOE]] = max(battery.soe_max, battery.soe_initial_kwh)
    if unserved:
        cost[unserved_cols] = penalty * dt
        upper[unserved_cols] = site.load_kw
    soft_cols = block_count * n + np.arange(len(softs))
    cost[soft_cols] = penalty
    upper[soft_cols] = np.inf
    upper[n_cont:] = 1.0
    reach = structural_max_kw(site)
    if market is not None:
        low, high = soe_bounds(site)
        duration = market.product.duration_hours
        at_start = min(
            (battery.soe_initial_kwh - low) * eta_d / duration,
            (high - battery.soe_initial_kwh) / (duration * eta_c),
        )
        for index, fcr_block in enumerate(blocks):
            if fcr_block.awarded_kw is not None:
                cap = min(fcr_block.awarded_kw, reach)
            elif fcr_block.offerable and reach >= minimum - 1e-12:
                cap = reach
                cost[r_cols[index]] = -market.revenue_per_kw(fcr_block, dt)
            else:
                cap = 0.0
            if fcr_block.first_slot == 0:
                cap = min(cap, max(at_start, 0.0))
            upper[r_cols[index]] = max(cap, 0.0)
        cost[short_cols] = penalty * dt * np.array([blocks[i].slots for i in awarded], dtype=float)
        upper[short_cols] = np.inf
        if step > 0:
            upper[step_cols] = math.floor(reach / step + 1e-9)

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    row_lower: list[FloatArray] = []
    row_upper: list[FloatArray] = []
    next_row = 0

    def add(row: IntArray, column: IntArray, value: float | FloatArray) -> None:
        rows.append(row.astype(np.int32))
        cols.append(column.astype(np.int32))
        vals.append(np.broadcast_to(np.asarray(value, dtype=np.float64), row.shape).copy())

    def new_rows(count: int, low: float | FloatArray, high: float | FloatArray) -> IntArray:
        nonlocal next_row
        index = (next_row + np.arange(count)).astype(np.int32)
        row_lower.append(np.broadcast_to(np.asarray(low, dtype=np.float64), (count,)).copy())
        row_upper.append(np.broadcast_to(np.asarray(high, dtype=np.float64), (count,)).copy())
        next_row += count
        return index

    # Balance: u + imp + d - c - exp (+ unserved) = load.
    balance = new_rows(n, site.load_kw, site.load_kw)
    add(balance, col[PV], 1.0)
    add(balance, col[IMP], 1.0)
    add(balance, col[DIS], 1.0)
    add(balance, col[CH], -1.0)
    add(balance, col[EXP], -1.0)
    if unserved:
        add(balance, unserved_cols, 1.0)
    # SoE: s_t - s_{t-1} - dt eta_c c_t + dt/eta_d d_t = (s0 for t = 0).
    start = np.zeros(n)
    start[0] = battery.soe_initial_kwh
    dynamics = new_rows(n, start, start)
    add(dynamics, col[SOE], 1.0)
    add(dynamics[1:], col[SOE][:-1], -1.0)
    add(dynamics, col[CH], -dt * eta_c)
    add(dynamics, col[DIS], dt / eta_d)
    if site.topology is Topology.DC_LINK:
        assert grid.inverter_max_kw is not None
        inverter = new_rows(n, -grid.inverter_max_kw, grid.inverter_max_kw)
        add(inverter, col[PV], 1.0)
        add(inverter, col[DIS], 1.0)
        add(inverter, col[CH], -1.0)
    if softs:
        soft_rows = np.arange(len(softs))
        slots = np.array([soft.slot for soft in softs])
        is_lower = np.array([soft.lower for soft in softs])
        bounds = np.array([soft.bound for soft in softs])
        soft_rows = new_rows(
            len(softs), np.where(is_lower, bounds, -np.inf), np.where(is_lower, np.inf, bounds)
        )
        add(soft_rows, col[SOE][slots], 1.0)
        add(soft_rows, soft_cols, np.where(is_lower, 1.0, -1.0))
    if not grid.grid_charging_allowed:
        # u - c >= 0 everywhere; where a load comes first, u - c >= L y with c <= cap y.
        covered = new_rows(n, 0.0, np.inf)
        add(covered, col[PV], 1.0)
        add(covered, col[CH], -1.0)
        first = pv_first_slots
        add(covered[first], z_pv, -served_first_kw(site)[first])
    if market is not None and blocks:
        _fcr_rows(site, market, r_cols=r_cols, col=col, add=add, new_rows=new_rows)
        for index, block_index in enumerate(awarded):
            duty = new_rows(1, blocks[block_index].awarded_kw or 0.0, np.inf)
            add(duty, r_cols[block_index : block_index + 1], 1.0)
            add(duty, short_cols[index : index + 1], 1.0)
        if stepped.shape[0]:
            whole = new_rows(stepped.shape[0], 0.0, 0.0)
            add(whole, r_cols[stepped], 1.0)
            add(whole, step_cols, -step)
        if minimum_blocks.shape[0]:
            at_least = new_rows(minimum_blocks.shape[0], 0.0, np.inf)
            add(at_least, r_cols[minimum_blocks], 1.0)
            add(at_least, some_cols, -minimum)
            at_most = new_rows(minimum_blocks.shape[0], -np.inf, 0.0)
            add(at_most, r_cols[minimum_blocks], 1.0)
            add(at_most, some_cols, -max(reach, minimum))
    # Either/or links: flow <= M z, or flow <= M (1 - z).
    links = (
        (col[CH][battery_slots], z_battery, charge_cap[battery_slots], False),
        (
            col[DIS][battery_slots],
            z_battery,
            np.full(battery_slots.shape[0], battery.discharge_max_kw),
            True,
        ),
        (col[IMP][grid_slots], z_grid, import_cap[grid_slots], False),
        (col[EXP][grid_slots], z_grid, export_cap[grid_slots], True),
        (col[CH][pv_first_slots], z_pv, charge_cap[pv_first_slots], False),
    )
    for flow, binary, big_m, complement in links:
        link = new_rows(flow.shape[0], -np.inf, big_m if complement else 0.0)
        add(link, flow, 1.0)
        add(link, binary, big_m if complement else -big_m)
    return _Model(
        cost,
        lower,
        upper,
        np.concatenate(row_lower),
        np.concatenate(row_upper),
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        np.arange(n_cont, n_cols, dtype=np.int32),
        integer,
        tuple(softs),
        unserved,
        battery_slots,
        grid_slots,
        pv_first_slots,
        _Fcr(
            r_cols.astype(np.int32),
            short_cols.astype(np.int32),
            awarded,
            step_cols.astype(np.int32),
            stepped,
            some_cols.astype(np.int32),
            minimum_blocks,
        ),
    )


def _fcr_rows(
    site: Site,
    market: FcrMarket,
    *,
    r_cols: npt.NDArray[np.int64],
    col: dict[int, npt.NDArray[np.int64]],
    add: Callable[[IntArray, IntArray, float | FloatArray], None],
    new_rows: Callable[[int, float | FloatArray, float | FloatArray], IntArray],
) -> None:
    """Room for full activation either way in every slot of every block (see the module doc;
    :func:`optimizer.fcr.headroom.capacity_left_kw` is the same bound for a given dispatch)."""
    battery, grid = site.battery, site.grid
    slot = np.concatenate([np.arange(b.first_slot, b.first_slot + b.slots) for b in market.blocks])
    reserve = np.repeat(r_cols, [b.slots for b in market.blocks])
    count = slot.shape[0]

    def pair(limit: float, terms: tuple[tuple[int, float], ...]) -> None:
        rows = new_rows(count, -np.inf, limit)
        for block, sign in terms:
            add(rows, col[block][slot], sign)
        add(rows, reserve.astype(np.int32), 1.0)

    pair(battery.charge_max_kw, ((CH, 1.0), (DIS, -1.0)))
    pair(battery.discharge_max_kw, ((DIS, 1.0), (CH, -1.0)))
    pair(grid.import_max_kw, ((IMP, 1.0), (EXP, -1.0)))
    pair(export_cap_kw(site), ((EXP, 1.0), (IMP, -1.0)))
    if site.topology is Topology.DC_LINK:
        assert grid.inverter_max_kw is not None
        pair(grid.inverter_max_kw, ((PV, 1.0), (DIS, 1.0), (CH, -1.0)))
        pair(grid.inverter_max_kw, ((PV, -1.0), (DIS, -1.0), (CH, 1.0)))
    # SoE band at the end of every slot of a block, and at its start (the end of the slot
    # before; a block at slot 0 starts at the initial SoE, a bound on its column instead).
    before = np.array([b.first_slot - 1 for b in market.blocks if b.first_slot > 0], dtype=int)
    before_r = np.array([r for r, b in zip(r_cols, market.blocks, strict=True) if b.first_slot > 0])
    soe_slot = np.concatenate([slot, before]).astype(np.int64)
    soe_r = np.concatenate([reserve, before_r]).astype(np.int32)
    low, high = soe_bounds(site)
    duration = market.product.duration_hours
    floor_rows = new_rows(soe_slot.shape[0], low, np.inf)
    add(floor_rows, col[SOE][soe_slot], 1.0)
    add(floor_rows, soe_r, -duration / battery.discharge_efficiency)
    ceiling_rows = new_rows(soe_slot.shape[0], -np.inf, high)
    add(ceiling_rows, col[SOE][soe_slot], 1.0)
    add(ceiling_rows, soe_r, duration * battery.charge_efficiency)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one HiGHS run gave: a point (None: none found), its bound, whether proven."""

    x: FloatArray | None
    bound: float  # lower bound on the optimum (-inf: none)
    optimal: bool


def _run(
    model: _Model,
    *,
    time_limit: float | None,
    start: FloatArray | None = None,
    rel_gap: float = 1e-9,
) -> _Outcome:
    n_cols = model.cost.shape[0]
    n_rows = model.row_lower.shape[0]
    order = np.lexsort((model.rows, model.cols))
    index = model.rows[order]
    value = model.vals[order]
    starts = np.searchsorted(model.cols[order], np.arange(n_cols + 1)).astype(np.int32)
    integrality = np.zeros(n_cols, dtype=np.int32)
    if model.integer:
        integrality[model.binary] = 1
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    if model.integer:
        highs.setOptionValue("mip_rel_gap", max(rel_gap, 1e-9))
        highs.setOptionValue("mip_abs_gap", 1e-7)
        # The default (1e-6) accepts points that overfill the battery by a few Wh.
        highs.setOptionValue("mip_feasibility_tolerance", 1e-9)
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
        starts,
        index,
        value,
        integrality,
    )
    if start is not None and model.integer:
        solution = highspy.HighsSolution()
        solution.col_value = start.tolist()
        highs.setSolution(solution)
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    has_point = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    x = np.asarray(highs.getSolution().col_value, dtype=np.float64) if has_point else None
    optimal = status == highspy.HighsModelStatus.kOptimal and x is not None
    if model.integer:
        bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else -math.inf
    else:
        bound = float(info.objective_function_value) if optimal else -math.inf
    return _Outcome(x, bound, optimal)


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
        fcr_kw=np.clip(x[model.fcr.r], 0.0, None),
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
    fcr_kw: FloatArray | None = None,
) -> Plan:
    """Costs and violations of a dispatch, recomputed from the flows (not the solver's value).

    ``fcr_kw``: capacity per block of ``site.fcr`` (None: none kept)."""
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
    market = site.fcr
    blocks = () if market is None else market.blocks
    capacity = np.zeros(len(blocks)) if fcr_kw is None else np.asarray(fcr_kw, dtype=np.float64)
    revenue = 0.0
    for index, fcr_block in enumerate(blocks):
        assert market is not None
        if fcr_block.offerable:
            revenue += market.revenue_per_kw(fcr_block, dt) * float(capacity[index])
        elif fcr_block.awarded_kw is not None:
            # kW short x hours of the block: priced like a kWh of unmet goal.
            short = fcr_block.awarded_kw - float(capacity[index])
            if short > 1e-6:
                violations.append(
                    Violation("fcr_award", fcr_block.first_slot, short * fcr_block.slots * dt)
                )
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
        energy + cycle - terminal + penalty - revenue,
        tuple(violations),
        method,
        *seconds,
        fcr_kw=capacity,
        fcr_revenue=revenue,
    )


def _repair(site: Site, plan: Plan) -> Plan | None:
    """Make a point keep the either/or rules, keeping its SoE path; None if a limit breaks.

    Charge and discharge net to the same stored energy; a charging slot under the no-grid-
    charging rule uses enough PV to cover the load first (always available: the charge is
    capped by the PV surplus, and the extra PV exactly replaces grid power); the grid takes
    the net, curtailing PV that can go nowhere.
    """
    dt = site.slot_hours
    battery, grid = site.battery, site.grid
    eta_c, eta_d = battery.charge_efficiency, battery.discharge_efficiency
    stored = dt * (eta_c * plan.charge_kw - plan.discharge_kw / eta_d)  # kept exactly
    charge = np.where(stored > 0, stored / (dt * eta_c), 0.0)
    discharge = np.where(stored < 0, -stored * eta_d / dt, 0.0)
    pv = plan.pv_used_kw.copy()
    if not grid.grid_charging_allowed:
        needed = np.minimum(served_first_kw(site) + charge, site.pv_available_kw)
        pv = np.where(charge > _TOL_KW, np.maximum(pv, needed), pv)
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
        and np.all(grid_charged_kw(site, charge, pv) <= _TOL_KW)
    )
    if not feasible:
        return None
    pv = np.maximum(pv, 0.0)
    fcr_kw = plan.fcr_kw
    if site.fcr is not None:
        # Netting moves the net battery and grid power: keep only the capacity the netted
        # flows leave room for, whole steps of it (awards kept where room remains).
        left = capacity_left_kw(
            site,
            charge=charge,
            discharge=discharge,
            imports=imports,
            exports=exports,
            pv_used=pv,
            soe=plan.soe_kwh,
        )
        fcr_kw = on_grid_kw(site, np.minimum(plan.fcr_kw, left + _FCR_TOL_KW))
    return assemble_plan(
        site,
        charge=charge,
        discharge=discharge,
        imports=imports,
        exports=exports,
        pv_used=pv,
        unserved=plan.unserved_kw,
        soe=plan.soe_kwh,
        method=f"{plan.method}+repair",
        seconds=(plan.build_seconds, plan.solve_seconds),
        fcr_kw=fcr_kw,
    )


def keeps_rules(site: Site, plan: Plan) -> bool:
    """No charge with discharge, no import with export, no grid charging where forbidden,
    and FCR offers in whole steps of at least the minimum."""
    return (
        plan.max_simultaneity_kw() <= _TOL_KW
        and bool(np.all(grid_charged_kw(site, plan.charge_kw, plan.pv_used_kw) <= _TOL_KW))
        and (
            site.fcr is None
            or bool(np.all(np.abs(on_grid_kw(site, plan.fcr_kw) - plan.fcr_kw) <= _FCR_TOL_KW))
        )
    )


def _start(site: Site, model: _Model, plan: Plan) -> FloatArray:
    """A rule-keeping plan as a MIP start for ``model`` (binaries set to match it)."""
    n = site.slots
    x = np.zeros(model.cost.shape[0])
    blocks = (plan.pv_used_kw, plan.charge_kw, plan.discharge_kw, plan.import_kw)
    for block, values in enumerate((*blocks, plan.export_kw, plan.soe_kwh)):
        x[block * n : (block + 1) * n] = values
    if model.unserved:
        x[6 * n : 7 * n] = plan.unserved_kw
    soft_start = (7 if model.unserved else 6) * n
    for index, soft in enumerate(model.softs):
        value = plan.soe_kwh[soft.slot]
        x[soft_start + index] = max(soft.bound - value if soft.lower else value - soft.bound, 0.0)
    binaries = np.concatenate(
        [
            plan.discharge_kw[model.battery_slots] <= _TOL_KW,
            plan.import_kw[model.grid_slots] > _TOL_KW,
            plan.charge_kw[model.pv_first_slots] > _TOL_KW,
        ]
    )
    x[model.binary[: binaries.shape[0]]] = binaries.astype(np.float64)
    fcr = model.fcr
    if site.fcr is not None and fcr.r.shape[0]:
        x[fcr.r] = plan.fcr_kw
        awards = np.array([site.fcr.blocks[i].awarded_kw or 0.0 for i in fcr.awarded])
        x[fcr.short] = np.maximum(awards - plan.fcr_kw[fcr.awarded], 0.0)
        x[fcr.steps], x[fcr.some] = _fcr_choice(site, model, plan)
    return x


def _fcr_choice(site: Site, model: _Model, plan: Plan) -> tuple[FloatArray, FloatArray]:
    """The integer FCR columns matching ``plan``'s capacities: step counts, offer or not."""
    step = 0.0 if site.fcr is None else site.fcr.product.step_kw
    steps = np.round(plan.fcr_kw[model.fcr.stepped] / step) if step > 0 else np.zeros(0)
    some = (plan.fcr_kw[model.fcr.minimum] > _FCR_TOL_KW).astype(np.float64)
    return steps, some


def _polish(site: Site, relaxation: _Model, point: Plan, time_limit: float | None) -> Plan:
    """The best dispatch with ``point``'s either/or choices: one more LP, every binary fixed.

    Netting keeps the relaxation's SoE path, which was planned for profits only a fractional
    binary allows; re-solving with the choices fixed re-plans the path for them.
    """
    if time_limit is not None and time_limit < _MIN_RUN_S:
        return point
    lower, upper = relaxation.col_lower.copy(), relaxation.col_upper.copy()
    charging = point.discharge_kw[relaxation.battery_slots] <= _TOL_KW
    importing = point.import_kw[relaxation.grid_slots] > _TOL_KW
    from_pv = point.charge_kw[relaxation.pv_first_slots] > _TOL_KW
    choice = np.concatenate([charging, importing, from_pv, *_fcr_choice(site, relaxation, point)])
    choice = choice.astype(np.float64)
    lower[relaxation.binary] = choice
    upper[relaxation.binary] = choice
    fixed = replace(relaxation, col_lower=lower, col_upper=upper)
    outcome = _run(fixed, time_limit=time_limit)
    if not outcome.optimal or outcome.x is None:
        return point
    polished = _repair(site, _plan(site, fixed, outcome.x, "lp", (0.0, 0.0)))
    if polished is None or polished.objective >= point.objective:
        return point
    return replace(polished, method="lp+polish")


def _rule_plan(site: Site, seconds: tuple[float, float]) -> Plan:
    """What the battery does safely on its own (the self-consumption rule), as a plan."""
    n = site.slots
    flows = np.zeros((6, n))
    for t, slot in enumerate(slot_flows(site, lambda _slot, _soe: SELF_CONSUMPTION)):
        flows[:, t] = (
            slot.charge_kw,
            slot.discharge_kw,
            slot.import_kw,
            slot.export_kw,
            slot.pv_used_kw,
            slot.soe_end_kwh,
        )
    return assemble_plan(
        site,
        charge=flows[0],
        discharge=flows[1],
        imports=flows[2],
        exports=flows[3],
        pv_used=flows[4],
        unserved=np.zeros(n),
        soe=flows[5],
        method="rule",
        seconds=seconds,
        fcr_kw=_rule_fcr(site, flows),
    )


def _rule_fcr(site: Site, flows: npt.NDArray[np.float64]) -> FloatArray | None:
    """Awards the rule's own dispatch leaves room for (it offers nothing new)."""
    if site.fcr is None:
        return None
    left = capacity_left_kw(
        site,
        charge=flows[0],
        discharge=flows[1],
        imports=flows[2],
        exports=flows[3],
        pv_used=flows[4],
        soe=flows[5],
    )
    awards = np.array([b.awarded_kw or 0.0 for b in site.fcr.blocks])
    return np.asarray(np.minimum(left, awards), dtype=np.float64)


def _graded(plan: Plan, status: PlanStatus, bound: float, started: float) -> Plan:
    """``plan`` with its status, the best lower bound known, its gap to that bound, and the
    whole call's wall time (build + solve seconds add up to it)."""
    solve = max(time.perf_counter() - started - plan.build_seconds, 0.0)
    if not math.isfinite(bound):
        return replace(plan, status=status, bound=None, gap=None, solve_seconds=solve)
    bound = min(bound, plan.objective)
    gap = (plan.objective - bound) / max(abs(plan.objective), 1.0)
    return replace(plan, status=status, bound=bound, gap=gap, solve_seconds=solve)


def optimize(
    site: Site, *, budget_s: float | None = None, force_mip: bool = False, gap: float = 0.0
) -> Plan:
    """The cheapest rule-keeping dispatch found within ``budget_s`` seconds of wall time.

    Always answers. ``plan.status`` says how: OPTIMAL (proven, gap <= 1e-9), FEASIBLE (the
    budget ran out; the best branch-and-bound point, ``plan.gap`` from the best bound),
    RELAXATION_REPAIRED (no better point in time: the LP relaxation made rule-keeping), or
    RULE (no solver answer in time: the self-consumption rule). ``budget_s=None`` waits for
    a proven optimum however long that takes (tests, the benchmark's reference).
    ``force_mip`` skips the relaxation shortcut (tests of the MILP itself). ``gap`` > 0 stops
    as soon as a plan is proven within that relative gap of the optimum (FEASIBLE, with its
    gap; a year-long backtest of FCR offers, whose step columns rarely close to 1e-9 fast).
    """
    if budget_s is not None and not (math.isfinite(budget_s) and budget_s > 0):
        raise ValueError(f"budget_s: must be a positive number of seconds, got {budget_s!r}")
    if not (math.isfinite(gap) and 0.0 <= gap < 1.0):
        raise ValueError(f"gap: must be in [0, 1), got {gap!r}")
    started = time.perf_counter()
    deadline = None if budget_s is None else started + budget_s

    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    bound = -math.inf
    fallback: Plan | None = None
    if not force_mip:
        model = _build(site, integer=False)
        built = time.perf_counter()
        lp = _run(model, time_limit=left())
        solved = time.perf_counter()
        if not lp.optimal or lp.x is None:
            return _graded(
                _rule_plan(site, (built - started, solved - built)), PlanStatus.RULE, bound, started
            )
        bound = lp.bound
        plan = _plan(site, model, lp.x, "lp", (built - started, solved - built))
        if keeps_rules(site, plan):
            # The relaxation's optimum keeps every rule: MILP-feasible, hence optimal.
            return _graded(plan, PlanStatus.OPTIMAL, bound, started)
        fallback = _repair(site, plan)
        if fallback is not None:
            fallback = _polish(site, model, fallback, left())
        scale = max(1.0, abs(plan.objective))
        if fallback is not None and fallback.objective <= bound + _OBJ_TOL * scale:
            # Same lower bound reached by a rule-keeping point: proven optimal.
            return _graded(fallback, PlanStatus.OPTIMAL, bound, started)
        if fallback is not None and fallback.objective <= bound + gap * scale:
            return _graded(fallback, PlanStatus.FEASIBLE, bound, started)
    remaining = left()
    if remaining is not None and remaining < _MIN_RUN_S:
        return _finish(site, None, fallback, bound, started)
    mip_started = time.perf_counter()
    model = _build(site, integer=True)
    built = time.perf_counter()
    start = None if fallback is None else _start(site, model, fallback)
    mip = _run(model, time_limit=left(), start=start, rel_gap=gap)
    solved = time.perf_counter()
    bound = max(bound, mip.bound)
    best: Plan | None = None
    if mip.x is not None:
        raw = _plan(site, model, mip.x, "mip", (built - mip_started, solved - built))
        netted = _repair(site, raw)  # slots without a binary may still net to cheaper
        best = raw if netted is None or netted.objective > raw.objective else netted
        best = replace(best, method="mip")
        if mip.optimal:
            proven = gap == 0.0 or best.objective <= bound + _OBJ_TOL * max(1.0, abs(bound))
            status = PlanStatus.OPTIMAL if proven else PlanStatus.FEASIBLE
            return _graded(best, status, bound, started)
    return _finish(site, best, fallback, bound, started)


def _finish(
    site: Site, incumbent: Plan | None, repaired: Plan | None, bound: float, started: float
) -> Plan:
    """The better of the budget-limited MILP point and the repaired relaxation, else the rule."""
    if incumbent is not None and (repaired is None or incumbent.objective <= repaired.objective):
        return _graded(incumbent, PlanStatus.FEASIBLE, bound, started)
    if repaired is not None:
        return _graded(repaired, PlanStatus.RELAXATION_REPAIRED, bound, started)
    elapsed = time.perf_counter() - started
    return _graded(_rule_plan(site, (0.0, elapsed)), PlanStatus.RULE, bound, started)
