"""Where control decisions go: the battery's controls (Modbus, HA entities) or nowhere.

An actuator turns a :class:`ControlDecision` into whatever the battery understands. The
gateway applies every new decision and, through :class:`SetpointRefresher`, re-applies the
latest one well inside the device's revert timeout.
"""

from __future__ import annotations

from typing import Protocol

from .control_law import ControlDecision


class ActuatorUnavailable(Exception):  # noqa: N818 - the name says what the gateway reports
    """The battery cannot be reached, or it refused the decision."""


class Actuator(Protocol):
    """Something that makes the battery follow control decisions."""

    async def apply(self, decision: ControlDecision) -> None:
        """Make the battery follow ``decision``; :class:`ActuatorUnavailable` when the
        device cannot be reached or refuses."""
        ...

    async def release(self) -> None:
        """Hand the battery back to its own control (no limits from the gateway)."""
        ...


class NoActuator:
    """Entities only: the decision is shown in Home Assistant and automations act on it."""

    async def apply(self, decision: ControlDecision) -> None:
        return None

    async def release(self) -> None:
        return None
