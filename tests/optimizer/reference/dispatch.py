"""Test reference: plan, baselines and modes in one call, checked against each other."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.baselines import no_battery, self_consumption_rule
from optimizer.model import optimize
from optimizer.modes import plan_actions
from optimizer.physics import Action
from optimizer.result import Plan
from optimizer.site import Site


@dataclass(frozen=True, slots=True)
class Dispatch:
    plan: Plan
    actions: tuple[Action, ...]  # per slot: the protocol mode the service sends
    no_battery_cost: float  # same horizon, same prices, no battery
    rule_cost: float  # same horizon with the self-consumption rule (net of terminal value)

    @property
    def expected_cost(self) -> float:
        """Energy plus cycle cost minus the value of the energy left (penalties excluded)."""
        return self.plan.energy_cost + self.plan.cycle_cost - self.plan.terminal_value


def dispatch(site: Site) -> Dispatch:
    plan = optimize(site)
    return Dispatch(
        plan,
        tuple(plan_actions(site, plan)),
        no_battery(site).net_cost,
        self_consumption_rule(site).net_cost,
    )
