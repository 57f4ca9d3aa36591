"""The actuator contract and the "none" actuator (entities only, automations act)."""

from bess_dispatch_core.gateway.actuator import Actuator, ActuatorUnavailable, NoActuator
from bess_dispatch_core.gateway.control_law import ControlDecision, ControlSource
from bess_dispatch_core.protocol.command import ControlMode


async def test_no_actuator_accepts_every_decision_and_does_nothing() -> None:
    actuator: Actuator = NoActuator()
    for mode in ControlMode:
        setpoint = 1.0 if mode is ControlMode.SETPOINT else None
        await actuator.apply(
            ControlDecision(mode, ControlSource.P0, setpoint, 5.0, 5.0, frozenset())
        )
    await actuator.release()


def test_unavailable_is_an_ordinary_exception() -> None:
    # The refresher catches it; it must not be a BaseException that escapes task handling.
    assert issubclass(ActuatorUnavailable, Exception)
