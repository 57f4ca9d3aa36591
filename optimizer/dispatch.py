"""One call for a caller (e.g. the future ``serve`` command): plan, baselines, modes."""

from __future__ import annotations

from dataclasses import dataclass

from .baselines import no_battery, self_consumption_rule
from .model import optimize
from .modes import plan_actions
from .physics import Action
from .result import Plan
from .site import Site


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
