"""Energy per fixed window (``…/energy/PT5M``) from a lifetime kWh counter.

Windows are aligned to multiples of the window length since ``origin`` (default the Unix
epoch in UTC, so PT30M windows start at :00 and :30). The energy of a window is the
lifetime counter at its end minus at its start, each read by linear interpolation between
the two samples around the boundary.

Rules:

- A window is closed (returned) by the first sample at or after its end.
- The window in which the first sample falls is partial and is not reported (unless the
  sample lies exactly on its start): the counter is unknown at its start.
- Two consecutive samples further apart than ``max_gap`` are not interpolated between:
  every window with a boundary inside that gap is skipped, since how the energy spread
  over the gap is unknown. Counting restarts with the next window. Every window not
  reported (partial first one, gaps) is listed in ``WindowUpdate.skipped``.
- Samples must arrive in time order; earlier or equal times are ignored. A counter that
  goes down (it should not) yields zero for that window rather than negative energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    start: datetime
    end: datetime
    energy_kwh: float


@dataclass(frozen=True, slots=True)
class WindowUpdate:
    closed: list[ClosedWindow]
    skipped: list[tuple[datetime, datetime]]


class WindowAccumulator:
    """Turns (time, lifetime kWh) samples into aligned windowed energy."""

    def __init__(
        self,
        window: timedelta,
        *,
        origin: datetime = _EPOCH,
        max_gap: timedelta | None = None,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        if origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        self.window = window
        self._origin = origin
        self._max_gap = max_gap if max_gap is not None else max(window, timedelta(minutes=10))
        self._last: tuple[datetime, float] | None = None
        # Lifetime at the start of the open window, once known.
        self._open_start: datetime | None = None
        self._open_start_kwh: float | None = None

    def window_start(self, at: datetime) -> datetime:
        """Start of the window containing ``at``."""
        periods = (at - self._origin) // self.window
        return self._origin + periods * self.window

    def update(self, at: datetime, lifetime_kwh: float) -> WindowUpdate:
        """Feed one sample; returns the windows it closed and those it could not report."""
        if at.tzinfo is None:
            raise ValueError("sample time must be timezone-aware")
        closed: list[ClosedWindow] = []
        skipped: list[tuple[datetime, datetime]] = []
        if self._last is None:
            self._open_start = self.window_start(at)
            self._open_start_kwh = lifetime_kwh if at == self._open_start else None
            self._last = (at, lifetime_kwh)
            return WindowUpdate(closed, skipped)
        last_at, last_kwh = self._last
        if at <= last_at:
            return WindowUpdate(closed, skipped)
        gap = at - last_at > self._max_gap
        assert self._open_start is not None
        start, start_kwh = self._open_start, self._open_start_kwh
        end = start + self.window
        while end <= at:
            end_kwh: float | None
            if end == at:
                end_kwh = lifetime_kwh
            elif gap:
                end_kwh = None
            else:
                end_kwh = _interpolate(last_at, last_kwh, at, lifetime_kwh, end)
            if start_kwh is not None and end_kwh is not None:
                closed.append(ClosedWindow(start, end, max(0.0, end_kwh - start_kwh)))
            else:
                skipped.append((start, end))
            start, start_kwh = end, end_kwh
            end += self.window
        self._open_start, self._open_start_kwh = start, start_kwh
        self._last = (at, lifetime_kwh)
        return WindowUpdate(closed, skipped)

    def to_dict(self) -> dict[str, Any]:
        """The open window and the last sample (JSON-friendly), to continue after a restart."""
        return {
            "last_at": None if self._last is None else self._last[0].isoformat(),
            "last_kwh": None if self._last is None else self._last[1],
            "open_start": None if self._open_start is None else self._open_start.isoformat(),
            "open_start_kwh": self._open_start_kwh,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Continue from :meth:`to_dict` of an accumulator with the same window and origin."""
        last_at, last_kwh = data.get("last_at"), data.get("last_kwh")
        open_start = data.get("open_start")
        if last_at is None or last_kwh is None or open_start is None:
            self._last = None
            self._open_start = self._open_start_kwh = None
            return
        at = datetime.fromisoformat(str(last_at))
        start = datetime.fromisoformat(str(open_start))
        if start != self.window_start(at):
            raise ValueError("window state: open_start does not match this window length")
        start_kwh = data.get("open_start_kwh")
        self._last = (at, float(last_kwh))
        self._open_start = start
        self._open_start_kwh = None if start_kwh is None else float(start_kwh)


def _interpolate(t0: datetime, v0: float, t1: datetime, v1: float, at: datetime) -> float:
    span = (t1 - t0).total_seconds()
    return v0 + (v1 - v0) * (at - t0).total_seconds() / span
