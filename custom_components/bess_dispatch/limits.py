"""The owner's hard limits from a config entry (nameplate in data, extra limits in options)."""

from collections.abc import Mapping
from typing import Any

from .bess_dispatch_core.gateway.control_law import HardLimits
from .bess_dispatch_core.units import soe_from_percent
from .const import (
    CONF_EXPORT_LIMIT_KW,
    CONF_GRID_CHARGING,
    CONF_MAX_CHARGE_KW,
    CONF_MAX_DISCHARGE_KW,
    CONF_RAMP_KW_PER_S,
    CONF_SOE_MAX_PCT,
    CONF_SOE_MIN_PCT,
    CONF_USABLE_KWH,
)


def hard_limits(data: Mapping[str, Any], options: Mapping[str, Any]) -> HardLimits:
    usable = float(data[CONF_USABLE_KWH])
    ramp = options.get(CONF_RAMP_KW_PER_S)
    export = options.get(CONF_EXPORT_LIMIT_KW)
    return HardLimits(
        soe_min_kwh=soe_from_percent(float(data[CONF_SOE_MIN_PCT]), usable),
        soe_max_kwh=soe_from_percent(float(data[CONF_SOE_MAX_PCT]), usable),
        max_charge_kw=float(data[CONF_MAX_CHARGE_KW]),
        max_discharge_kw=float(data[CONF_MAX_DISCHARGE_KW]),
        ramp_kw_per_s=None if ramp is None else float(ramp),
        grid_charging_allowed=bool(options.get(CONF_GRID_CHARGING, True)),
        export_limit_kw=None if export is None else float(export),
    )
