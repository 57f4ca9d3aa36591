"""How much FCR capacity a dispatch leaves room for, per block: the one definition the model's
rows, its repair, the cancellation list and the backtest's reserve check share.

Full activation of r kW moves the battery by r either way from its baseline for the product's
duration, so in every slot of a block: charge - discharge + r <= charge limit, discharge -
charge + r <= discharge limit, the grid takes r more either way (import and export limits),
a DC-link inverter passes r more either way, and the SoE at both ends of the slot keeps
r x duration / discharge efficiency above the floor and r x duration x charge efficiency below
the ceiling. Downward activation charges from the grid, so where grid charging is forbidden
no capacity is offered at all.
"""

from __future__ import annotations

import math

import numpy as np

from ..site import FloatArray, Site, Topology


def soe_bounds(site: Site) -> tuple[float, float]:
    """The SoE window the band is kept inside: the owner's, widened to where the battery
    starts when it starts outside (the model's hard bounds; soft goals push it back)."""
    battery = site.battery
    return (
        min(battery.soe_min_kwh, battery.soe_initial_kwh),
        max(battery.soe_max, battery.soe_initial_kwh),
    )


def export_cap_kw(site: Site) -> float:
    return site.grid.export_max_kw if site.grid.export_allowed else 0.0


def structural_max_kw(site: Site) -> float:
    """The most capacity any slot could hold with the battery idle."""
    battery, grid = site.battery, site.grid
    if not grid.grid_charging_allowed:
        return 0.0
    limits = [
        battery.charge_max_kw,
        battery.discharge_max_kw,
        grid.import_max_kw,
        export_cap_kw(site),
    ]
    if site.topology is Topology.DC_LINK and grid.inverter_max_kw is not None:
        limits.append(grid.inverter_max_kw)
    return max(min(limits), 0.0)


def capacity_left_kw(
    site: Site,
    *,
    charge: FloatArray,
    discharge: FloatArray,
    imports: FloatArray,
    exports: FloatArray,
    pv_used: FloatArray,
    soe: FloatArray,
) -> FloatArray:
    """Per block of ``site.fcr``: the largest capacity the dispatch keeps room for (>= 0)."""
    market = site.fcr
    if market is None:
        return np.zeros(0)
    battery, grid = site.battery, site.grid
    duration = market.product.duration_hours
    low, high = soe_bounds(site)
    battery_kw = charge - discharge
    grid_kw = imports - exports
    room = [
        battery.charge_max_kw - battery_kw,
        battery.discharge_max_kw + battery_kw,
        grid.import_max_kw - grid_kw,
        export_cap_kw(site) + grid_kw,
    ]
    if site.topology is Topology.DC_LINK and grid.inverter_max_kw is not None:
        through = pv_used + discharge - charge
        room += [grid.inverter_max_kw - through, grid.inverter_max_kw + through]
    per_slot = np.min(np.vstack(room), axis=0)
    # SoE at the start of slot t is the end of t - 1 (the initial SoE for slot 0).
    starts = np.concatenate([[battery.soe_initial_kwh], soe[:-1]])
    for level in (starts, soe):
        per_slot = np.minimum(per_slot, (level - low) * battery.discharge_efficiency / duration)
        per_slot = np.minimum(per_slot, (high - level) / (duration * battery.charge_efficiency))
    left = np.empty(len(market.blocks))
    for index, block in enumerate(market.blocks):
        left[index] = float(np.min(per_slot[block.first_slot : block.first_slot + block.slots]))
    if not grid.grid_charging_allowed:
        left[:] = 0.0
    return np.maximum(left, 0.0)


def on_grid_kw(site: Site, capacity_kw: FloatArray) -> FloatArray:
    """Offerable capacities rounded down to the product's step and minimum (awards kept)."""
    market = site.fcr
    if market is None:
        return capacity_kw
    product = market.product
    result = capacity_kw.copy()
    for index, block in enumerate(market.blocks):
        if block.awarded_kw is not None:
            result[index] = min(result[index], block.awarded_kw)
            continue
        if not block.offerable:
            result[index] = 0.0
            continue
        value = result[index]
        if product.step_kw > 0:
            value = product.step_kw * math.floor(value / product.step_kw + 1e-6)
        if value < product.min_offer_kw - 1e-9:
            value = 0.0
        result[index] = max(value, 0.0)
    return result
