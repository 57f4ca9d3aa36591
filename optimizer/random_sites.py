"""Seeded random dispatch problems for property tests and the solve-time benchmark.

``random_site(rng)`` draws any kind of site (AC/DC link, stand-alone, FIP, forbidden export or
grid charging, negative prices). ``hard_site(rng)`` draws the class that once took 844 s to
prove optimal: 336 half-hour slots, a lossless battery with a small cycle cost, and a fixed
export price above the import price in most slots (importing and exporting at once would pay,
so every such slot needs an exclusivity decision).
"""

from __future__ import annotations

import numpy as np

from .site import Battery, FloatArray, Grid, Site, SoeWindow, Tariff, Topology


def _day_shape(rng: np.random.Generator, slots: int, slot_hours: float) -> FloatArray:
    """A daylight bump per day (0 at night), slightly noisy, peak 1."""
    hours = (np.arange(slots) * slot_hours) % 24
    bump = np.clip(np.sin((hours - 6) / 12 * np.pi), 0.0, None)
    noise = rng.uniform(0.6, 1.0, slots)
    return np.asarray(bump * noise, dtype=np.float64)


def hard_site(rng: np.random.Generator, slots: int = 336) -> Site:
    """Lossless battery, cycle cost ~0.08 JPY/kWh, export 16.06 JPY/kWh above import in
    about 85 % of the slots, a home's load and PV behind a 100 kW connection."""
    slot_hours = 0.5
    capacity = float(rng.choice([5.0, 10.0, 13.5]))
    power = float(rng.choice([3.0, 5.0]))
    import_price = rng.uniform(-5.0, 30.0, slots).round(2)
    export_price = import_price - rng.uniform(1.0, 10.0, slots)
    above = rng.random(slots) < 284 / 336
    export_price[above] = import_price[above] + 16.06
    return Site.build(
        topology=Topology.AC_LINK,
        battery=Battery(
            capacity_kwh=capacity,
            charge_max_kw=power,
            discharge_max_kw=power,
            soe_initial_kwh=float(rng.uniform(0.0, capacity)),
            soe_min_kwh=0.1 * capacity,
            soe_max_kwh=0.95 * capacity,
            charge_efficiency=1.0,
            discharge_efficiency=1.0,
            cycle_cost_per_kwh=0.081,
            terminal_value_per_kwh=max(float(np.median(import_price)), 0.0),
        ),
        grid=Grid(import_max_kw=100.0, export_max_kw=100.0),
        tariff=Tariff.of(import_price, export_price),
        pv_kw=4.0 * _day_shape(rng, slots, slot_hours),
        load_kw=rng.uniform(0.2, 2.5, slots),
        slot_hours=slot_hours,
    )


def random_site(rng: np.random.Generator, slots: int | None = None) -> Site:
    """Any kind of site, with negative prices in about a third of the draws."""
    n = int(rng.integers(4, 97)) if slots is None else slots
    slot_hours = float(rng.choice([0.25, 0.5, 1.0]))
    topology = list(Topology)[int(rng.integers(0, len(Topology)))]
    fip = topology is not Topology.STAND_ALONE and rng.random() < 0.25
    grid_charging = not fip and rng.random() < 0.6
    capacity = float(rng.choice([2.0, 5.0, 10.0, 13.5]))
    power = float(rng.choice([1.0, 3.0, 5.0]))
    soe_min = float(rng.choice([0.0, 0.1])) * capacity
    soe_max = float(rng.choice([1.0, 0.9])) * capacity
    low = float(rng.choice([0.0, 10.0, -10.0]))
    import_price = rng.uniform(low, 40.0, n).round(2)
    export_price = (import_price - rng.uniform(-20.0, 20.0, n)).round(2)
    premium = rng.uniform(0.0, 10.0, n).round(2) if fip else np.zeros(n)
    pv = np.zeros(n)
    load = np.zeros(n)
    if topology is not Topology.STAND_ALONE:
        pv = float(rng.choice([2.0, 4.0, 8.0])) * _day_shape(rng, n, slot_hours)
        load = rng.uniform(0.0, 3.0, n)
    windows: tuple[SoeWindow, ...] = ()
    if rng.random() < 0.2:
        windows = (SoeWindow(int(rng.integers(0, n)), min_kwh=0.5 * capacity),)
    return Site.build(
        topology=topology,
        battery=Battery(
            capacity_kwh=capacity,
            charge_max_kw=power,
            discharge_max_kw=power,
            soe_initial_kwh=float(rng.uniform(soe_min, soe_max)),
            soe_min_kwh=soe_min,
            soe_max_kwh=soe_max,
            charge_efficiency=float(rng.choice([1.0, 0.95, 0.9])),
            discharge_efficiency=float(rng.choice([1.0, 0.95, 0.9])),
            cycle_cost_per_kwh=float(rng.choice([0.0, 0.081, 1.0])),
            terminal_value_per_kwh=float(rng.choice([0.0, 10.0])),
        ),
        grid=Grid(
            import_max_kw=float(rng.choice([10.0, 100.0])),
            export_max_kw=float(rng.choice([0.0, 5.0, 100.0])),
            grid_charging_allowed=grid_charging,
            export_allowed=bool(rng.random() < 0.9),
            inverter_max_kw=power if topology is Topology.DC_LINK else None,
        ),
        tariff=Tariff.of(import_price, export_price, premium),
        pv_kw=pv,
        load_kw=load,
        slot_hours=slot_hours,
        soe_windows=windows,
    )
