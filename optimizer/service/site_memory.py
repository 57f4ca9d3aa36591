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

import copy
import json
import os
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from optimizer.forecast.load import SmoothedProfile
from optimizer.settings.site import PvSystem

from . import state_fields as fields
from . import telemetry_guard
from .site_forecast import HISTORY_DAYS, forecast_site
from .telemetry_guard import MAX_READING_AGE, PhysicalLimits

SLOT = timedelta(minutes=30)
SLOTS_PER_DAY = 48
PV = telemetry_guard.PV
IMPORT = telemetry_guard.IMPORT
EXPORT = telemetry_guard.EXPORT
CHARGE = telemetry_guard.CHARGE
DISCHARGE = telemetry_guard.DISCHARGE
COUNTERS = (PV, IMPORT, EXPORT, CHARGE, DISCHARGE)
HISTORY_SLOTS = 2 * SLOTS_PER_DAY  # past slots the plan page shows
_RESPONSES_KEPT = 20
# What a file this code wrote can hold: readings older than MAX_READING_AGE are refused and
# their open slots dropped; measured slots are kept for HISTORY_DAYS (+1 while closing).
MAX_OPEN_SLOTS = int((MAX_READING_AGE + timedelta(days=1)) / SLOT)
MAX_MEASURED_SLOTS = (HISTORY_DAYS + 2) * SLOTS_PER_DAY
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


class SiteMemory:
    """The service's memory of one site: telemetry, history, forecast profiles, layers sent.

    (Not the gateway's ``control_law.SiteState``, which is one instant's SoE, PV and load.)
    """

    def __init__(
        self,
        site_id: str,
        timezone: str,
        initial_load_kw: float = 0.5,
        has_load: bool = True,
        pv_system: PvSystem | None = None,
        *,
        limits: PhysicalLimits | None = None,
    ) -> None:
        self.site_id = site_id
        self.limits = limits  # None: readings are not checked against the site's physics
        self.zone = ZoneInfo(timezone)
        self.has_load = has_load
        self.pv_system = pv_system
        self.soe_kwh: float | None = None
        self.soe_at: datetime | None = None
        self.last_telemetry: datetime | None = None
        self.counters: dict[str, tuple[float, datetime]] = {}  # metric -> last reading
        self.slot_energy: dict[datetime, dict[str, float]] = {}  # open slots, kWh per metric
        # A counter reading refused as an impossible jump: if the next one continues from it,
        # the counter was re-based (a replaced meter) and is followed from there.
        self.jump_candidates: dict[str, tuple[float, datetime]] = {}
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
    def observe_soe(self, soe_kwh: float, at: datetime) -> str | None:
        """Take a SoE reading; returns why it is refused (outside the battery), else None."""
        problem = None if self.limits is None else self.limits.soe_problem(soe_kwh)
        if problem is not None:
            return problem
        if self.soe_at is None or at >= self.soe_at:
            self.soe_kwh, self.soe_at = soe_kwh, at
        self.seen(at)
        return None

    def observe_counter(self, metric: str, lifetime_kwh: float, at: datetime) -> str | None:
        """A lifetime reading; its increase since the previous one goes to the slots.

        Returns why it is refused (a rise the site cannot produce), else None.
        """
        previous = self.counters.get(metric)
        if previous is not None and at <= previous[1]:
            self.seen(at)
            return None  # older or repeated reading
        problem = self._jump_problem(metric, previous, lifetime_kwh, at)
        if problem is not None:
            candidate = self.jump_candidates.get(metric)
            self.jump_candidates[metric] = (lifetime_kwh, at)
            if candidate is None or self._jump_problem(metric, candidate, lifetime_kwh, at):
                return problem
            previous = None  # re-based: continues from the refused reading; gap unknown
        self.jump_candidates.pop(metric, None)
        self.seen(at)
        self.counters[metric] = (lifetime_kwh, at)
        if previous is None:
            return None
        value0, at0 = previous
        delta = lifetime_kwh - value0
        if delta < 0 or at - at0 > MAX_READING_AGE:
            return None  # a restarted counter, or a gap too long to spread: energy unknown
        span = (at - at0).total_seconds()
        start = slot_floor(at0)
        while start < at:
            end = start + SLOT
            overlap = (min(end, at) - max(start, at0)).total_seconds()
            if overlap > 0:
                slot = self.slot_energy.setdefault(start, {})
                slot[metric] = slot.get(metric, 0.0) + delta * overlap / span
            start = end
        return None

    def _jump_problem(
        self, metric: str, previous: tuple[float, datetime] | None, value: float, at: datetime
    ) -> str | None:
        if self.limits is None or previous is None or value < previous[0]:
            return None  # a first reading or a restart says nothing about the rate
        hours = (at - previous[1]).total_seconds() / 3600
        return self.limits.jump_problem(metric, value - previous[0], hours)

    def seen(self, at: datetime) -> None:
        if self.last_telemetry is None or at > self.last_telemetry:
            self.last_telemetry = at

    def close_slots(self, now: datetime | None = None) -> list[PastSlot]:
        """Derive PV and load of every slot all counters have passed; feed the profiles.

        Open slots older than MAX_READING_AGE before ``now`` are dropped: a counter silent
        that long cannot complete them (its next rise is not spread so far back).
        """
        if now is not None:
            oldest_open = now - MAX_READING_AGE
            for start in [start for start in self.slot_energy if start < oldest_open]:
                del self.slot_energy[start]
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

    def planning_copy(self) -> SiteMemory:
        """What the planner reads (SoE, measured slots, profiles), detached from this state
        so telemetry can go on while a solve runs off the service lock."""
        planning = copy.copy(self)
        planning.measured = dict(self.measured)
        planning.load_profile = copy.deepcopy(self.load_profile)
        planning.pv_profile = copy.deepcopy(self.pv_profile)
        return planning

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

    def restore(self, data: object) -> None:
        """Continue from :meth:`to_dict`; StateFieldError names what is malformed, and then
        nothing of this state has changed."""
        top = fields.mapping(data, "state")
        if top.get("format") != _FORMAT or top.get("site_id") != self.site_id:
            raise fields.StateFieldError(
                f"state of {self.site_id}: not a format {_FORMAT} state of this site"
            )

        def get(key: str) -> object:
            if key not in top:
                raise fields.StateFieldError(f"{key}: missing")
            return top[key]

        counters: dict[str, tuple[float, datetime]] = {}
        for metric, reading in fields.mapping(get("counters"), "counters").items():
            where = f"counters.{metric}"
            value, at = fields.sequence(reading, where, length=2)
            counters[metric] = (fields.number(value, where), fields.moment(at, where))
        slot_energy: dict[datetime, dict[str, float]] = {}
        for start, energy in fields.mapping(get("slot_energy"), "slot_energy").items():
            where = f"slot_energy.{start}"
            slot_energy[fields.moment(start, where)] = {
                metric: fields.number(kwh, f"{where}.{metric}")
                for metric, kwh in fields.mapping(energy, where).items()
            }
        if len(slot_energy) > MAX_OPEN_SLOTS:
            raise fields.StateFieldError(
                f"slot_energy: {len(slot_energy)} open slots, at most {MAX_OPEN_SLOTS}"
            )
        profiles = {key: _profile(get(key), key) for key in ("load_profile", "pv_profile")}
        history = fields.sequence(get("history"), "history")
        if len(history) > MAX_MEASURED_SLOTS:
            raise fields.StateFieldError(
                f"history: {len(history)} slots, at most {MAX_MEASURED_SLOTS}"
            )
        measured: dict[datetime, PastSlot] = {}
        for index, row in enumerate(history):
            where = f"history[{index}]"
            begin, pv, load, battery, soe = fields.sequence(row, where, length=5)
            moment = fields.moment(begin, where)
            measured[moment] = PastSlot(
                moment,
                fields.number(pv, f"{where}.pv_kw"),
                fields.optional_number(load, f"{where}.load_kw"),
                fields.number(battery, f"{where}.battery_kw"),
                fields.optional_number(soe, f"{where}.soe_kwh"),
            )
        responses: list[ResponseRecord] = []
        for index, row in enumerate(fields.sequence(get("responses"), "responses")):
            where = f"responses[{index}]"
            command_id, accepted, errors, at = fields.sequence(row, where, length=4)
            if not isinstance(accepted, bool):
                raise fields.StateFieldError(f"{where}.accepted: expected true or false")
            responses.append(
                ResponseRecord(
                    fields.optional_text(command_id, f"{where}.command_id"),
                    accepted,
                    fields.text(errors, f"{where}.errors"),
                    fields.moment(at, f"{where}.at"),
                )
            )
        layers = {
            name: fields.optional_text(command_id, f"layers.{name}")
            for name, command_id in fields.mapping(get("layers"), "layers").items()
            if name in self.layers
        }
        layers_sent_at = {
            name: fields.optional_moment(at, f"layers_sent_at.{name}")
            for name, at in fields.mapping(get("layers_sent_at"), "layers_sent_at").items()
            if name in self.layers_sent_at
        }
        soe_kwh = fields.optional_number(top.get("soe_kwh"), "soe_kwh")
        soe_at = fields.optional_moment(top.get("soe_at"), "soe_at")
        last_telemetry = fields.optional_moment(top.get("last_telemetry"), "last_telemetry")
        last_error = fields.optional_text(top.get("last_error"), "last_error")

        # Everything read: only now does the state change.
        self.soe_kwh, self.soe_at, self.last_telemetry = soe_kwh, soe_at, last_telemetry
        self.counters = counters
        self.slot_energy = slot_energy
        self.load_profile.profile[:, :] = profiles["load_profile"]
        self.pv_profile.profile[:, :] = profiles["pv_profile"]
        self.measured = measured
        self.responses.clear()
        self.responses.extend(responses)
        self.layers.update(layers)
        self.layers_sent_at.update(layers_sent_at)
        self.last_error = last_error


def _profile(value: object, field: str) -> np.ndarray[Any, Any]:
    rows = fields.sequence(value, field, length=2)
    table = [
        [fields.number(x, f"{field}[{r}]") for x in fields.sequence(row, f"{field}[{r}]")]
        for r, row in enumerate(rows)
    ]
    if any(len(row) != SLOTS_PER_DAY for row in table):
        raise fields.StateFieldError(f"{field}: expected 2 rows of {SLOTS_PER_DAY} numbers")
    return np.asarray(table, dtype=np.float64)


def state_path(state_dir: Path, site_id: str) -> Path:
    return state_dir / f"site-{site_id}.json"


def save_state(state_dir: Path, state: SiteMemory) -> None:
    """Write atomically and durably: a crash or power cut mid-write leaves the previous file.

    The bytes reach the disk (fsync) before the rename, or a power cut after it could leave
    an empty file under the real name; the directory is synced so the rename itself lasts.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(state_dir, state.site_id)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(json.dumps(state.to_dict()))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _sync_directory(state_dir)


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # a platform without directory handles: the rename is all we can do
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the file itself is synced
    finally:
        os.close(descriptor)


class StateFileUnreadableError(OSError):
    """The state file is there but could not be read now (I/O error, permissions, a lock).

    Nothing says the file is damaged, so it stays where it is, untouched.
    """


class DamagedStateFileError(ValueError):
    """The state file could not be read; it was moved to ``set_aside`` (None: could not)."""

    def __init__(self, path: Path, reason: str, set_aside: Path | None) -> None:
        where = f"set aside as {set_aside.name}" if set_aside else "could not be set aside"
        super().__init__(f"{path}: {reason} ({where}); starting this site afresh")
        self.set_aside = set_aside


def load_state(state_dir: Path, state: SiteMemory, *, now: datetime | None = None) -> bool:
    """Restore ``state`` from its file; False when there is none.

    A file that cannot be read whole (not JSON, truncated, empty, wrong shape or types) is
    renamed to ``site-<id>.json.damaged-<time>`` so nothing is lost and the next save does
    not overwrite it, and :class:`DamagedStateFileError` is raised; ``state`` is then unchanged.
    A file that cannot be read at the moment (an OSError) may be healthy: it is left in place
    and :class:`StateFileUnreadableError` is raised.
    """
    path = state_path(state_dir, state.site_id)
    if not path.is_file():
        return False
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StateFileUnreadableError(error.errno, f"{path}: {error.strerror}") from error
    try:
        state.restore(json.loads(data.decode("utf-8")))
    except (ValueError, RecursionError) as error:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        aside: Path | None = path.with_name(f"{path.name}.damaged-{stamp}")
        try:
            os.replace(path, aside)  # type: ignore[arg-type]
        except OSError:
            aside = None
        reason = str(error)[:300]  # a huge damaged value is not echoed whole
        raise DamagedStateFileError(path, reason, aside) from error
    return True
