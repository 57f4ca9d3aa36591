"""What the service knows about one site, kept across restarts (one JSON file per site).

Telemetry in: the latest SoE, and the gateway's lifetime counters turned into energy per
30-minute slot. A counter's increase between two readings is spread over the slots the
interval covers, in proportion to time, so readings need not fall on slot boundaries and a
repeated message (same value) adds nothing. A slot is complete once every counter has a
reading at or after its end; then its PV and load are derived and fed to the forecasts:

    pv   = solar_net_generation_ac                           (0 when the site reports none)
    load = meter_import_ac - meter_export_ac + pv - battery_charge_ac + battery_discharge_ac

that is the AC balance at the site's bus (what comes in from the grid, the PV and the battery
equals what the load takes). Without meter counters the load is unknown and that slot is
not used for the load forecast.
"""

from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from optimizer.addon.options import PvSystem
from optimizer.forecast.load import SmoothedProfile

from .site_forecast import HISTORY_DAYS, forecast_site

SLOT = timedelta(minutes=30)
SLOTS_PER_DAY = 48
PV = "solar_net_generation_ac"
IMPORT = "meter_import_ac"
EXPORT = "meter_export_ac"
CHARGE = "battery_charge_ac"
DISCHARGE = "battery_discharge_ac"
COUNTERS = (PV, IMPORT, EXPORT, CHARGE, DISCHARGE)
HISTORY_SLOTS = 2 * SLOTS_PER_DAY  # past slots the plan page shows
_RESPONSES_KEPT = 20
_FORMAT = 1


def slot_floor(moment: datetime) -> datetime:
    """Start of the 30-minute slot holding ``moment`` (UTC; :00/:30 in every whole-hour or
    half-hour zone)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 30, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class PastSlot:
    """One measured slot: average powers in kW and the SoE at its end."""

    start: datetime
    pv_kw: float
    load_kw: float | None
    battery_kw: float
    soe_kwh: float | None


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    command_id: str | None
    accepted: bool
    errors: str
    at: datetime


class SiteState:
    """Per-site telemetry, history, forecasts profiles and the layers sent."""

    def __init__(
        self,
        site_id: str,
        timezone: str,
        initial_load_kw: float = 0.5,
        has_load: bool = True,
        pv_system: PvSystem | None = None,
    ) -> None:
        self.site_id = site_id
        self.zone = ZoneInfo(timezone)
        self.has_load = has_load
        self.pv_system = pv_system
        self.soe_kwh: float | None = None
        self.soe_at: datetime | None = None
        self.last_telemetry: datetime | None = None
        self.counters: dict[str, tuple[float, datetime]] = {}  # metric -> last reading
        self.slot_energy: dict[datetime, dict[str, float]] = {}  # open slots, kWh per metric
        self.load_profile = SmoothedProfile(initial_load_kw if has_load else 0.0)
        self.pv_profile = SmoothedProfile(0.0, alpha=0.5)  # weather changes: recent days weigh
        # Every closed slot of the last HISTORY_DAYS, oldest first: what the forecasts learn
        # from and what the plan page shows.
        self.measured: dict[datetime, PastSlot] = {}
        self.responses: deque[ResponseRecord] = deque(maxlen=_RESPONSES_KEPT)
        self.layers: dict[str, str | None] = {"p2": None, "p1": None, "p0": None}
        self.layers_sent_at: dict[str, datetime | None] = {"p2": None, "p1": None, "p0": None}
        self.last_error: str | None = None

    # --- telemetry -----------------------------------------------------------------------
    def observe_soe(self, soe_kwh: float, at: datetime) -> None:
        if self.soe_at is None or at >= self.soe_at:
            self.soe_kwh, self.soe_at = soe_kwh, at
        self.seen(at)

    def observe_counter(self, metric: str, lifetime_kwh: float, at: datetime) -> None:
        """A lifetime reading; its increase since the previous one goes to the slots."""
        self.seen(at)
        previous = self.counters.get(metric)
        if previous is not None and at <= previous[1]:
            return  # older or repeated reading
        self.counters[metric] = (lifetime_kwh, at)
        if previous is None:
            return
        value0, at0 = previous
        delta = lifetime_kwh - value0
        if delta < 0:
            return  # the gateway's counter restarted: this interval's energy is unknown
        span = (at - at0).total_seconds()
        start = slot_floor(at0)
        while start < at:
            end = start + SLOT
            overlap = (min(end, at) - max(start, at0)).total_seconds()
            if overlap > 0:
                slot = self.slot_energy.setdefault(start, {})
                slot[metric] = slot.get(metric, 0.0) + delta * overlap / span
            start = end

    def seen(self, at: datetime) -> None:
        if self.last_telemetry is None or at > self.last_telemetry:
            self.last_telemetry = at

    def close_slots(self) -> list[PastSlot]:
        """Derive PV and load of every slot all counters have passed; feed the profiles."""
        if not self.counters:
            return []
        reached = min(at for _value, at in self.counters.values())
        closed: list[PastSlot] = []
        for start in sorted(self.slot_energy):
            if start + SLOT > reached:
                break
            energy = self.slot_energy.pop(start)
            hours = SLOT.total_seconds() / 3600
            pv = energy.get(PV, 0.0) / hours
            battery = (energy.get(CHARGE, 0.0) - energy.get(DISCHARGE, 0.0)) / hours
            load: float | None = None
            if IMPORT in self.counters and EXPORT in self.counters:
                grid = (energy.get(IMPORT, 0.0) - energy.get(EXPORT, 0.0)) / hours
                load = max(grid + pv - battery, 0.0)
            local = start.astimezone(self.zone)
            slot_of_day = (local.hour * 60 + local.minute) // 30
            weekend = local.weekday() >= 5
            for row in (False, True):
                self.pv_profile.observe(row, slot_of_day, pv)
            if load is not None and self.has_load:
                self.load_profile.observe(weekend, slot_of_day, load)
            record = PastSlot(start, pv, load, battery, self.soe_kwh)
            self.measured[start] = record
            closed.append(record)
        if closed:
            oldest = closed[-1].start - timedelta(days=HISTORY_DAYS + 1)
            for start in [start for start in self.measured if start < oldest]:
                del self.measured[start]
        return closed

    @property
    def history(self) -> list[PastSlot]:
        """The last HISTORY_SLOTS measured slots, oldest first."""
        return list(self.measured.values())[-HISTORY_SLOTS:]

    def seed_profiles(self, pv_kw: np.ndarray[Any, Any], load_kw: np.ndarray[Any, Any]) -> None:
        """Start the forecasts from a known day (48 slots from local midnight) instead of
        the flat default, as if the service had watched the site the day before."""
        self.pv_profile.profile[:, :] = pv_kw[None, :SLOTS_PER_DAY]
        self.load_profile.profile[:, :] = load_kw[None, :SLOTS_PER_DAY]

    def forecast(self, slot_starts: list[datetime]) -> tuple[np.ndarray[Any, Any], ...]:
        """PV and load forecasts (kW) for the given consecutive slots.

        The measured slots drive them (:mod:`optimizer.service.site_forecast`); the smoothed
        daily profiles answer where those cannot yet.
        """
        local = [start.astimezone(self.zone) for start in slot_starts]
        slot_of_day = np.array([(t.hour * 60 + t.minute) // 30 for t in local], dtype=np.int64)
        weekend = np.array([t.weekday() >= 5 for t in local], dtype=np.bool_)
        profiles = (
            np.maximum(self.pv_profile.forecast(weekend, slot_of_day), 0.0),
            np.maximum(self.load_profile.forecast(weekend, slot_of_day), 0.0),
        )
        if not slot_starts:
            return profiles
        return forecast_site(
            self.measured, slot_starts, self.zone, pv_place=self.pv_system, fallback=profiles
        )

    # --- commands ------------------------------------------------------------------------
    def record_response(self, record: ResponseRecord) -> None:
        self.responses.append(record)

    # --- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "format": _FORMAT,
            "site_id": self.site_id,
            "soe_kwh": self.soe_kwh,
            "soe_at": iso(self.soe_at),
            "last_telemetry": iso(self.last_telemetry),
            "counters": {m: [v, at.isoformat()] for m, (v, at) in self.counters.items()},
            "slot_energy": {s.isoformat(): e for s, e in self.slot_energy.items()},
            "load_profile": self.load_profile.profile.tolist(),
            "pv_profile": self.pv_profile.profile.tolist(),
            "history": [
                [p.start.isoformat(), p.pv_kw, p.load_kw, p.battery_kw, p.soe_kwh]
                for p in self.measured.values()
            ],
            "responses": [
                [r.command_id, r.accepted, r.errors, r.at.isoformat()] for r in self.responses
            ],
            "layers": dict(self.layers),
            "layers_sent_at": {k: iso(v) for k, v in self.layers_sent_at.items()},
            "last_error": self.last_error,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Continue from :meth:`to_dict`; ValueError names what is malformed."""
        if data.get("format") != _FORMAT or data.get("site_id") != self.site_id:
            raise ValueError(f"state of {self.site_id}: not a format {_FORMAT} state of this site")

        def when(text: object) -> datetime | None:
            return None if text is None else datetime.fromisoformat(str(text))

        self.soe_kwh = data.get("soe_kwh")
        self.soe_at = when(data.get("soe_at"))
        self.last_telemetry = when(data.get("last_telemetry"))
        self.counters = {
            m: (float(v), datetime.fromisoformat(at)) for m, (v, at) in data["counters"].items()
        }
        self.slot_energy = {
            datetime.fromisoformat(s): {k: float(x) for k, x in e.items()}
            for s, e in data["slot_energy"].items()
        }
        self.load_profile.profile[:, :] = np.asarray(data["load_profile"], dtype=np.float64)
        self.pv_profile.profile[:, :] = np.asarray(data["pv_profile"], dtype=np.float64)
        self.measured = {}
        for start, pv, load, battery, soe in data["history"]:
            moment = datetime.fromisoformat(start)
            self.measured[moment] = PastSlot(moment, pv, load, battery, soe)
        self.responses.clear()
        for command_id, accepted, errors, at in data["responses"]:
            self.responses.append(
                ResponseRecord(command_id, bool(accepted), str(errors), datetime.fromisoformat(at))
            )
        self.layers.update(data["layers"])
        self.layers_sent_at.update({k: when(v) for k, v in data["layers_sent_at"].items()})
        self.last_error = data.get("last_error")


def state_path(state_dir: Path, site_id: str) -> Path:
    return state_dir / f"site-{site_id}.json"


def save_state(state_dir: Path, state: SiteState) -> None:
    """Write atomically: a crash mid-write leaves the previous file."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(state_dir, state.site_id)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state.to_dict()), encoding="utf-8")
    os.replace(temporary, path)


def load_state(state_dir: Path, state: SiteState) -> bool:
    """Restore ``state`` from its file; False when there is none."""
    path = state_path(state_dir, state.site_id)
    if not path.is_file():
        return False
    try:
        state.restore(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
    return True
