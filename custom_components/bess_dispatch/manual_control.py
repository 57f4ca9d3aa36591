"""The owner's manual modes as the select and the actions offer them."""

from datetime import datetime

from .bess_dispatch_core.gateway.dispatcher import ManualOverride
from .bess_dispatch_core.protocol.command import ControlMode
from .runtime import SiteRuntime

AUTO = "auto"  # follow the schedule


def manual_override(
    runtime: SiteRuntime, mode: ControlMode, until: datetime | None = None
) -> ManualOverride:
    """A manual mode with the values of the manual number entities."""
    return ManualOverride(
        mode,
        power_kw=runtime.manual_setpoint_kw if mode is ControlMode.SETPOINT else None,
        max_charge_kw=runtime.manual_charge_limit_kw if mode is ControlMode.LIMIT_CHARGE else None,
        until=until,
    )
