"""What a schedule is expected to cost (``economics`` on a command, optional since 2.4.0).

The optimizer states the plan's cost and at least one baseline's over the plan's horizon;
savings are derived (baseline minus plan), never sent, so they cannot contradict the costs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .envelope import check_aware
from .errors import ErrorCode, ProtocolError
from .timeformat import format_datetime

# Beyond any site's energy bill over a year, in any currency (a year of 100 MW at 30 JPY/kWh
# is about 3e10): larger is a unit mix-up or garbage.
MAX_AMOUNT = 1e12
# A plan's horizon is at most the fallback layer's year (a leap year included).
MAX_ECONOMICS_HORIZON = timedelta(days=366)
# ISO 4217 alphabetic codes: three capital ASCII letters (EUR, JPY, USD).
CURRENCY_CODE = re.compile(r"[A-Z]{3}", re.ASCII)
CURRENCY_PROBLEM = "must be an ISO 4217 code: three capital letters such as EUR or JPY"

_AMOUNTS = ("plan_cost", "no_battery_cost", "self_consumption_cost")
_BASELINES = ("no_battery_cost", "self_consumption_cost")


def economics_problems(
    *,
    currency: str,
    horizon_start: datetime,
    horizon_end: datetime,
    amounts: dict[str, float | None],
    path: str,
) -> list[ProtocolError]:
    """Semantic problems of an economics block (types are already right)."""
    problems: list[ProtocolError] = []

    def add(code: ErrorCode, field: str, message: str) -> None:
        problems.append(ProtocolError(code, f"{path}.{field}" if path else field, message))

    if CURRENCY_CODE.fullmatch(currency) is None:
        add(ErrorCode.FIELD_OUT_OF_RANGE, "currency", CURRENCY_PROBLEM)
    if horizon_start >= horizon_end:
        add(ErrorCode.TIME_WINDOW_INVALID, "horizon_end", "must be after horizon_start")
    elif horizon_end - horizon_start > MAX_ECONOMICS_HORIZON:
        add(
            ErrorCode.FIELD_OUT_OF_RANGE,
            "horizon_end",
            f"the horizon is longer than {MAX_ECONOMICS_HORIZON.days} days",
        )
    for field, value in amounts.items():
        if value is not None and (not math.isfinite(value) or abs(value) > MAX_AMOUNT):
            add(ErrorCode.FIELD_OUT_OF_RANGE, field, f"must be finite and within ±{MAX_AMOUNT:g}")
    if all(amounts.get(field) is None for field in _BASELINES):
        add(
            ErrorCode.MISSING_FIELD,
            "no_battery_cost",
            "needs no_battery_cost or self_consumption_cost: a saving needs a baseline",
        )
    return problems


@dataclass(frozen=True, slots=True)
class ScheduleEconomics:
    """The plan's expected cost over ``[horizon_start, horizon_end)`` as of ``as_of``.

    Costs are in ``currency``, net of export revenue; negative means the site earns. The
    baselines are the same horizon without the battery and under the battery's own
    self-consumption rule; at least one is given.
    """

    currency: str
    as_of: datetime
    horizon_start: datetime
    horizon_end: datetime
    plan_cost: float
    no_battery_cost: float | None = None
    self_consumption_cost: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.currency, str):
            raise ValueError("currency must be a string")
        for field in ("as_of", "horizon_start", "horizon_end"):
            check_aware(getattr(self, field), field)
        for field in _AMOUNTS:
            value = getattr(self, field)
            if value is None and field == "plan_cost":
                raise ValueError("plan_cost is required")
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"{field} must be a number")
        problems = economics_problems(
            currency=self.currency,
            horizon_start=self.horizon_start,
            horizon_end=self.horizon_end,
            amounts={field: getattr(self, field) for field in _AMOUNTS},
            path="",
        )
        if problems:
            raise ValueError("; ".join(str(problem) for problem in problems))

    @property
    def saving_vs_no_battery(self) -> float | None:
        return None if self.no_battery_cost is None else self.no_battery_cost - self.plan_cost

    @property
    def saving_vs_self_consumption(self) -> float | None:
        if self.self_consumption_cost is None:
            return None
        return self.self_consumption_cost - self.plan_cost

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "currency": self.currency,
            "as_of": format_datetime(self.as_of),
            "horizon_start": format_datetime(self.horizon_start),
            "horizon_end": format_datetime(self.horizon_end),
            "plan_cost": self.plan_cost,
        }
        for field in _BASELINES:
            value = getattr(self, field)
            if value is not None:
                document[field] = value
        return document
