"""A clock the test or demo moves by hand, so a simulated day runs in seconds."""

from __future__ import annotations

import threading
from datetime import datetime


class SimulatedClock:
    """Callable like ``utc_now``; :meth:`set` moves it (never backwards)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start: must be timezone-aware")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        with self._lock:
            if now < self._now:
                raise ValueError(f"now: {now.isoformat()} is before {self._now.isoformat()}")
            self._now = now
