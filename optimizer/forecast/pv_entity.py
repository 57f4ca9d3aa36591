"""A Home Assistant solar forecast entity's attributes -> PV kW per 30-minute slot.

Two shapes, the ones HA's solar forecast integrations publish:

- Solcast: ``detailedForecast``, a list of ``{period_start, pv_estimate, pv_estimate10,
  pv_estimate90}`` per 30 minutes, the estimates the period's mean power in kW. The plan
  uses ``pv_estimate`` (the median); the other two are checked like it, since an entity that
  carries a broken one is broken.
- Open-Meteo Solar Forecast (and sensors of its shape): ``watts``, ``{ISO timestamp: W}``, the power
  at each instant (15-minute or hourly). A slot takes the power at its middle, interpolated
  between the samples either side when they are at most :data:`MAX_SAMPLE_GAP` apart.

``wh_period`` is not read: whether its key starts or ends the period differs between
integrations, and a wrong guess would move the sun by an hour.

Slots the entity does not cover are NaN: the caller fills them from its own forecast. Any
value that cannot be a PV forecast refuses the whole entity, naming the entry and field.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from optimizer.site import FloatArray

SLOT = timedelta(minutes=30)
# Solcast lists 7 days of 48 slots, Open-Meteo up to 16 days of 96 quarter hours; more is
# not a forecast but a flood, read on every planning round.
MAX_ENTRIES = 2000
# A forecast reaching further than this from the plan's start is not a forecast of it.
MAX_REACH = timedelta(days=16)
MAX_SAMPLE_GAP = timedelta(hours=1)
# Panels give at most about their peak power (a cold, clear edge-of-cloud day adds ~30 %);
# without a peak power, the grid connection the service assumes for any site bounds it.
PEAK_MARGIN = 1.5
UNKNOWN_PEAK_KW = 100.0
SOLCAST_FIELDS = ("pv_estimate", "pv_estimate10", "pv_estimate90")


class PvForecastError(ValueError):
    """The entity cannot be a PV forecast; the message names the attribute and entry."""


def pv_from_attributes(
    attributes: object, slot_starts: Sequence[datetime], *, kwp: float | None
) -> FloatArray:
    """PV kW for each slot of ``slot_starts`` (aware, consecutive); NaN where not covered."""
    if not isinstance(attributes, Mapping):
        raise PvForecastError("attributes: not an object")
    limit_kw = UNKNOWN_PEAK_KW if kwp is None else PEAK_MARGIN * kwp
    if not slot_starts:
        return np.zeros(0)
    first = slot_starts[0]
    if "detailedForecast" in attributes:
        periods = _solcast(attributes["detailedForecast"], limit_kw, first)
        return np.array([periods.get(start, math.nan) for start in slot_starts])
    if "watts" in attributes:
        samples = _watts(attributes["watts"], limit_kw, first)
        return _interpolate(samples, slot_starts)
    raise PvForecastError("attributes: neither detailedForecast (Solcast) nor watts")


def _moment(value: object, field: str, first: datetime) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise PvForecastError(f"{field}: {value[:40]!r} is not an ISO time") from None
    else:
        raise PvForecastError(f"{field}: not a time")
    if moment.tzinfo is None:
        raise PvForecastError(f"{field}: {moment.isoformat()} has no time zone")
    if abs(moment - first) > MAX_REACH:
        raise PvForecastError(
            f"{field}: {moment.isoformat()} is more than {MAX_REACH.days} days from now"
        )
    return moment


def _kw(value: object, field: str, limit_kw: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PvForecastError(f"{field}: {str(value)[:40]!r} is not a number")
    kw = float(value)
    if not math.isfinite(kw):
        raise PvForecastError(f"{field}: {kw} is not finite")
    if kw < 0:
        raise PvForecastError(f"{field}: {kw:g} kW is negative")
    if kw > limit_kw:
        raise PvForecastError(f"{field}: {kw:g} kW is more than this site's {limit_kw:g} kW")
    return kw


def _solcast(items: object, limit_kw: float, first: datetime) -> dict[datetime, float]:
    if not isinstance(items, list):
        raise PvForecastError("detailedForecast: not a list")
    if len(items) > MAX_ENTRIES:
        raise PvForecastError(f"detailedForecast: {len(items)} entries, at most {MAX_ENTRIES}")
    periods: dict[datetime, float] = {}
    for index, item in enumerate(items):
        path = f"detailedForecast[{index}]"
        if not isinstance(item, Mapping):
            raise PvForecastError(f"{path}: not an object")
        start = _moment(item.get("period_start"), f"{path}.period_start", first)
        if (start - first) % SLOT:
            raise PvForecastError(f"{path}.period_start: {start.isoformat()} is not on a slot")
        for name in SOLCAST_FIELDS:
            if name in item or name == "pv_estimate":
                _kw(item.get(name), f"{path}.{name}", limit_kw)
        periods[start] = float(item["pv_estimate"])
    return periods


def _watts(mapping: object, limit_kw: float, first: datetime) -> list[tuple[datetime, float]]:
    if not isinstance(mapping, Mapping):
        raise PvForecastError("watts: not an object of time: W")
    if len(mapping) > MAX_ENTRIES:
        raise PvForecastError(f"watts: {len(mapping)} entries, at most {MAX_ENTRIES}")
    samples: list[tuple[datetime, float]] = []
    for key, value in mapping.items():
        moment = _moment(key, f"watts[{str(key)[:40]}]", first)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PvForecastError(f"watts[{str(key)[:40]}]: {str(value)[:40]!r} is not a number")
        samples.append((moment, _kw(value / 1000.0, f"watts[{str(key)[:40]}]", limit_kw)))
    return sorted(samples)


def _interpolate(
    samples: list[tuple[datetime, float]], slot_starts: Sequence[datetime]
) -> FloatArray:
    result = np.full(len(slot_starts), math.nan)
    if not samples:
        return result
    times = [moment for moment, _ in samples]
    for index, start in enumerate(slot_starts):
        middle = start + SLOT / 2
        after = bisect.bisect_left(times, middle)
        if after == len(times):
            continue
        if times[after] == middle:
            result[index] = samples[after][1]
            continue
        if after == 0 or times[after] - times[after - 1] > MAX_SAMPLE_GAP:
            continue
        (t0, v0), (t1, v1) = samples[after - 1], samples[after]
        result[index] = v0 + (v1 - v0) * ((middle - t0) / (t1 - t0))
    return result
