"""A sliding one-minute window of requests per user."""

import math
from collections import deque

WINDOW_S = 60.0
MAX_USERS = 10_000  # HA has far fewer users; bounds the table whatever happens


class RateLimiter:
    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}

    def check(self, user_id: str, limit: int, now: float) -> float | None:
        """Count one request; None if allowed, else the seconds until one more is allowed.

        A refused request is not counted, so a client that waits the answer's Retry-After
        gets through.
        """
        times = self._seen.get(user_id)
        if times is None:
            if len(self._seen) >= MAX_USERS:
                self._forget_idle(now)
            times = self._seen[user_id] = deque()
        while times and times[0] <= now - WINDOW_S:
            times.popleft()
        if len(times) >= limit:
            return max(0.0, times[len(times) - limit] + WINDOW_S - now)
        times.append(now)
        return None

    def _forget_idle(self, now: float) -> None:
        for user_id in [u for u, t in self._seen.items() if not t or t[-1] <= now - WINDOW_S]:
            del self._seen[user_id]


def retry_after_header(wait_s: float) -> str:
    """Whole seconds, at least 1 (RFC 9110 delay-seconds)."""
    return str(max(1, math.ceil(wait_s)))
