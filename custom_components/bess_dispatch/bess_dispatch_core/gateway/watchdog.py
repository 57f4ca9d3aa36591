"""Keeps the latest control decision alive on the battery: the gateway side of the watchdog.

A device with a revert timeout (model 124's ``InOutWRte_RvrtTms``) drops the controls when
nobody renews them, so a stopped gateway cannot leave the battery stuck on an old
setpoint. :class:`SetpointRefresher` renews them: it applies a new decision at once and
re-applies the latest one at least every ``refresh_s`` seconds, well inside the timeout.
When the battery cannot be reached it says so once (the gateway answers
RESOURCE_UNAVAILABLE and raises an alert) and once again when it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .actuator import Actuator, ActuatorUnavailable
from .control_law import ControlDecision

_LOGGER = logging.getLogger(__name__)

DEFAULT_REFRESH_S = 30.0

AvailabilityCallback = Callable[[bool], None]
Sleep = Callable[[float], Coroutine[Any, Any, None]]


class SetpointRefresher:
    """Applies decisions through ``actuator`` and renews the latest one periodically.

    ``revert_after_s`` is the device's revert timeout (None: the device has none);
    ``refresh_s`` must be shorter. ``on_availability(False)`` is called when an apply
    fails after the last one succeeded, ``on_availability(True)`` when one succeeds again.
    ``sleep`` and ``clock`` (monotonic seconds) are injectable so tests can run on a
    simulated device's clock. An apply taking longer than ``refresh_s`` counts as a failure.
    """

    def __init__(
        self,
        actuator: Actuator,
        *,
        refresh_s: float = DEFAULT_REFRESH_S,
        revert_after_s: float | None = None,
        on_availability: AvailabilityCallback | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(refresh_s) and refresh_s > 0):
            raise ValueError(f"refresh_s must be a finite number > 0 seconds, got {refresh_s!r}")
        if revert_after_s is not None and not refresh_s < revert_after_s:
            raise ValueError(
                f"refresh_s ({refresh_s}) must be shorter than the revert timeout "
                f"revert_after_s ({revert_after_s}), or the device reverts between refreshes"
            )
        self._actuator = actuator
        self.refresh_s = refresh_s
        self._on_availability = on_availability
        self._sleep = sleep
        self._clock = clock
        self._decision: ControlDecision | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._available = True
        self._last_error: str | None = None

    @property
    def decision(self) -> ControlDecision | None:
        """The decision being kept alive."""
        return self._decision

    @property
    def available(self) -> bool:
        """False from a failed apply until the next successful one."""
        return self._available

    @property
    def last_error(self) -> str | None:
        """Why the last apply failed (None after a success)."""
        return self._last_error

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def submit(self, decision: ControlDecision) -> None:
        """Make ``decision`` the one to keep; applied at once unless it is already the one."""
        if decision == self._decision:
            return
        self._decision = decision
        self._wake.set()

    def start(self) -> None:
        """Start renewing (in the running event loop); the current decision is applied now."""
        if self.running:
            raise RuntimeError("the setpoint refresher is already running")
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="bess_dispatch setpoint refresher"
        )

    async def stop(self) -> None:
        """Stop renewing. The controls stay until the device's revert timeout drops them."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # our caller is being cancelled, not just the refresher

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            started = self._clock()
            decision = self._decision
            if decision is not None:
                await self._apply(decision)
            elapsed = self._clock() - started
            await self._wait(max(0.0, self.refresh_s - elapsed))

    async def _apply(self, decision: ControlDecision) -> None:
        try:
            async with asyncio.timeout(self.refresh_s):
                await self._actuator.apply(decision)
        except ActuatorUnavailable as err:
            self._failed(str(err))
        except TimeoutError:
            self._failed(f"no answer within {self.refresh_s} s")
        except Exception as err:
            # A bug must not end the renewals silently: log it, report, keep going.
            _LOGGER.exception("applying %s failed", decision)
            self._failed(f"{type(err).__name__}: {err}")
        else:
            self._last_error = None
            if not self._available:
                _LOGGER.info("the battery answers again")
                self._set_available(True)

    def _failed(self, error: str) -> None:
        self._last_error = error
        if self._available:
            _LOGGER.warning("the battery cannot be controlled: %s", error)
            self._set_available(False)

    def _set_available(self, available: bool) -> None:
        self._available = available
        if self._on_availability is None:
            return
        try:
            self._on_availability(available)
        except Exception:
            _LOGGER.exception("availability callback failed")

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a new decision arrives."""
        if self._wake.is_set():
            return
        wake = asyncio.ensure_future(self._wake.wait())
        nap = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((wake, nap), return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            nap.cancel()
            await asyncio.gather(wake, nap, return_exceptions=True)
