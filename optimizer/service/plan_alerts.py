"""The optimizer's alerts about a plan's inputs, in the protocol's alert form.

The gateway's alerts (``NO_SCHEDULE``, ``SOURCE_UNAVAILABLE:<metric>`` ...) travel on its
alert topic; these are the optimizer's side of the same idea, with the same code syntax and
severities, shown in the service's status (REST API, plan page) and logged as ``ALERT``:

- ``PRICES_MISSING`` (warning): the price feed covers fewer than the horizon's hours; the
  plan stops where trusted prices end and the self-consumption rule runs after that.
- ``TELEMETRY_GAP`` (warning): too few recent days of measured PV and load to forecast
  from (a gap of days, or a new site); the whole plan is the self-consumption rule.
- ``PV_FORECAST_UNAVAILABLE`` (warning): the site's ``pv_forecast_entity`` cannot be read,
  is not a PV forecast, or covers none of the horizon; the plan uses the service's own PV
  forecast instead.
"""

from __future__ import annotations

from .status import PlanAlert

PRICES_MISSING = "PRICES_MISSING"
TELEMETRY_GAP = "TELEMETRY_GAP"
PV_FORECAST_UNAVAILABLE = "PV_FORECAST_UNAVAILABLE"

__all__ = ["PRICES_MISSING", "PV_FORECAST_UNAVAILABLE", "TELEMETRY_GAP", "PlanAlert"]
