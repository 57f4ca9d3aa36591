"""The model's optimum equals an independent exact dynamic program on small random instances.

The DP needs no LP solver. With charge and discharge exclusive, the SoE change of a slot fixes
the battery flows, and the best grid/PV split follows in closed form, so the slot cost f_t of
a SoE change is a known piecewise-linear function. Without grid charging, a charging slot
uses PV for the load and the charge first, so the grid can then only take power. The total
cost is piecewise linear in the SoE path, hence minimal at a vertex of the cells cut by the
kinks of the f_t and the SoE bounds: every SoE of such a vertex is an anchor (initial SoE, a
bound) plus or minus a chain of kink values. The DP runs over exactly those candidate values.
"""

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.model import optimize
from optimizer.site import Battery, FloatArray, Grid, Site, Tariff, Topology


@dataclass(frozen=True)
class Slot:
    dt: float
    eta_c: float
    eta_d: float
    charge_max: float
    discharge_max: float
    pv: float
    load: float
    import_max: float
    export_max: float
    import_price: float
    export_price: float
    cycle_cost: float
    pv_only_charge: bool  # grid charging forbidden: PV covers the load and the charge

    def cost(self, delta: FloatArray) -> FloatArray:
        """Cheapest cost of changing the SoE by ``delta`` kWh in this slot (inf: impossible)."""
        charge = np.where(delta > 0, delta / (self.eta_c * self.dt), 0.0)
        discharge = np.where(delta < 0, -delta * self.eta_d / self.dt, 0.0)
        need = self.load + charge - discharge  # AC power PV and grid must cover
        low = np.maximum(need - self.pv, -self.export_max)  # grid power range
        high = np.minimum(need, self.import_max)
        if self.pv_only_charge:
            # u >= load + charge, so the grid can only take power while charging.
            high = np.where(charge > 0, np.minimum(high, need - self.load - charge), high)

        def grid_cost(g: FloatArray) -> FloatArray:
            return self.dt * np.where(g > 0, self.import_price * g, self.export_price * g)

        best = np.minimum(grid_cost(low), grid_cost(high))
        best = np.where((low <= 0) & (high >= 0), np.minimum(best, 0.0), best)
        feasible = (
            (low <= high + 1e-12)
            & (charge <= self.charge_max + 1e-12)
            & (discharge <= self.discharge_max + 1e-12)
        )
        total = best + self.dt * self.cycle_cost * (charge + discharge)
        return np.where(feasible, total, np.inf)

    def kinks(self) -> list[float]:
        """SoE changes where the slot cost may bend or end."""
        needs = [
            0.0,
            self.pv,
            self.pv - self.export_max,
            self.import_max,
            self.import_max + self.pv,
            -self.export_max,
        ]
        deltas = [
            0.0,
            self.eta_c * self.dt * self.charge_max,
            -self.dt * self.discharge_max / self.eta_d,
        ]
        for need in needs:
            if need >= self.load:
                deltas.append(self.eta_c * self.dt * (need - self.load))
            else:
                deltas.append(-self.dt * (self.load - need) / self.eta_d)
        return deltas


def dp_optimum(slots: list[Slot], s0: float, low: float, high: float, value: float) -> float:
    n = len(slots)
    kinks = [np.unique(np.array(slot.kinks())) for slot in slots]

    def chain(start: FloatArray, first: int, last: int, sign: float) -> FloatArray:
        values = start
        for t in range(first, last):
            values = np.unique((values[:, None] + sign * kinks[t][None, :]).ravel())
        return values

    candidates: list[FloatArray] = [np.array([s0])]
    bounds = np.array([low, high])
    for t in range(1, n + 1):
        parts = [chain(np.array([s0]), 0, t, 1.0), bounds]
        for j in range(1, n + 1):
            if j < t:
                parts.append(chain(bounds, j, t, 1.0))
            elif j > t:
                parts.append(chain(bounds, t, j, -1.0))
        values = np.unique(np.concatenate(parts))
        candidates.append(values[(values >= low - 1e-12) & (values <= high + 1e-12)])
    future = -value * candidates[n]
    for t in range(n, 0, -1):
        delta = candidates[t][None, :] - candidates[t - 1][:, None]
        future = np.min(slots[t - 1].cost(delta) + future[None, :], axis=1)
    return float(future[0])


prices = st.integers(-5, 30).map(float)
powers = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])


@st.composite
def instances(draw: st.DrawFn) -> Site:
    n = draw(st.integers(1, 3))
    stand_alone = draw(st.booleans())
    capacity = draw(st.sampled_from([1.0, 2.0, 4.0]))
    soe_min = draw(st.sampled_from([0.0, 0.5]))
    soe_max = draw(st.sampled_from([capacity, capacity - 0.25]))
    battery = Battery(
        capacity_kwh=capacity,
        charge_max_kw=draw(st.sampled_from([0.5, 1.0, 3.0])),
        discharge_max_kw=draw(st.sampled_from([0.5, 1.0, 3.0])),
        soe_initial_kwh=draw(st.floats(soe_min, soe_max)),
        soe_min_kwh=soe_min,
        soe_max_kwh=soe_max,
        charge_efficiency=draw(st.sampled_from([1.0, 0.95, 0.8])),
        discharge_efficiency=draw(st.sampled_from([1.0, 0.9])),
        cycle_cost_per_kwh=draw(st.sampled_from([0.0, 0.0, 1.5])),
        terminal_value_per_kwh=draw(st.sampled_from([0.0, 5.0, 20.0])),
    )
    load = [0.0] * n if stand_alone else draw(st.lists(powers, min_size=n, max_size=n))
    pv = [0.0] * n if stand_alone else draw(st.lists(powers, min_size=n, max_size=n))
    grid = Grid(
        import_max_kw=max(load) + draw(st.sampled_from([0.0, 1.0, 5.0])),
        export_max_kw=draw(st.sampled_from([0.0, 1.0, 5.0])),
        grid_charging_allowed=draw(st.booleans()),
        export_allowed=draw(st.booleans()),
    )
    return Site.build(
        topology=Topology.STAND_ALONE if stand_alone else Topology.AC_LINK,
        battery=battery,
        grid=grid,
        tariff=Tariff.of(
            draw(st.lists(prices, min_size=n, max_size=n)),
            draw(st.lists(prices, min_size=n, max_size=n)),
        ),
        pv_kw=pv,
        load_kw=load,
        slot_hours=draw(st.sampled_from([0.5, 1.0])),
    )


def as_slots(site: Site) -> list[Slot]:
    battery, grid = site.battery, site.grid
    charge_cap = np.full(site.slots, battery.charge_max_kw)
    if not grid.grid_charging_allowed:
        charge_cap = np.minimum(charge_cap, np.maximum(site.pv_kw - site.load_kw, 0.0))
    return [
        Slot(
            site.slot_hours,
            battery.charge_efficiency,
            battery.discharge_efficiency,
            float(charge_cap[t]),
            battery.discharge_max_kw,
            float(site.pv_kw[t]),
            float(site.load_kw[t]),
            grid.import_max_kw,
            grid.export_max_kw if grid.export_allowed else 0.0,
            float(site.tariff.import_price[t]),
            float(site.tariff.export_price[t]),
            battery.cycle_cost_per_kwh,
            not grid.grid_charging_allowed,
        )
        for t in range(site.slots)
    ]


@settings(max_examples=150, deadline=None)
@given(instances())
def test_model_matches_dynamic_program(site: Site) -> None:
    battery = site.battery
    expected = dp_optimum(
        as_slots(site),
        battery.soe_initial_kwh,
        battery.soe_min_kwh,
        battery.soe_max,
        battery.terminal_value_per_kwh,
    )
    plan = optimize(site)
    assert abs(plan.objective - expected) <= 1e-6, (plan.method, plan.objective, expected)
    assert plan.max_simultaneity_kw() <= 1e-7
