"""Who may call what: HA users mapped to the API's three roles.

Installer: a Home Assistant administrator. Utility: a user named in a site's options
(*API: utility users*); such a user is a utility everywhere, even if also an administrator,
and reaches only the sites that name them. Homeowner: every other (non-admin) user.
README.md has the same table for people.
"""

from collections.abc import Iterable
from enum import StrEnum

from homeassistant.auth.models import User


class Role(StrEnum):
    HOMEOWNER = "homeowner"
    INSTALLER = "installer"
    UTILITY = "utility"


class Action(StrEnum):
    """One row of the permission table (an endpoint, or a method of one)."""

    READ_INDEX = "read_index"  # GET /sites, GET /openapi.json
    READ_STATUS = "read_status"
    READ_DETAIL = "read_detail"  # flow, history, plan, savings
    CONTROL = "control"  # mode, charge_limit
    EMERGENCY_STOP = "emergency_stop"
    READ_DEMAND_RESPONSE = "read_demand_response"
    WRITE_DEMAND_RESPONSE = "write_demand_response"


_ALL = frozenset(Role)
_OWNER_SIDE = frozenset({Role.HOMEOWNER, Role.INSTALLER})
_GRID_SIDE = frozenset({Role.INSTALLER, Role.UTILITY})

ALLOWED: dict[Action, frozenset[Role]] = {
    Action.READ_INDEX: _ALL,
    Action.READ_STATUS: _ALL,
    Action.READ_DETAIL: _OWNER_SIDE,
    Action.CONTROL: _OWNER_SIDE,
    Action.EMERGENCY_STOP: _OWNER_SIDE,
    Action.READ_DEMAND_RESPONSE: _ALL,
    Action.WRITE_DEMAND_RESPONSE: _GRID_SIDE,
}


def role_of(user: User, utility_users: Iterable[str]) -> Role:
    """``utility_users``: the user ids every loaded site's options name as its utility."""
    if user.id in set(utility_users):
        return Role.UTILITY
    if user.is_admin:
        return Role.INSTALLER
    return Role.HOMEOWNER
