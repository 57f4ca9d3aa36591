"""Control decisions to Home Assistant entities: a script, a setpoint number, a mode select.

For inverters Home Assistant already controls through another integration. Each target is
optional; the script gets every decision as variables (``mode``, ``setpoint_kw``,
``max_charge_kw``, ``max_discharge_kw``, ``source``) and can branch on the mode.
"""

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .bess_dispatch_core.gateway.actuator import ActuatorUnavailable
from .bess_dispatch_core.gateway.control_law import ControlDecision
from .bess_dispatch_core.protocol.command import ControlMode


class HomeAssistantActuator:
    def __init__(
        self,
        hass: HomeAssistant,
        *,
        script: str | None = None,
        setpoint_number: str | None = None,
        mode_select: str | None = None,
    ) -> None:
        self.hass = hass
        self.script = script
        self.setpoint_number = setpoint_number
        self.mode_select = mode_select

    async def apply(self, decision: ControlDecision) -> None:
        if self.mode_select is not None:
            await self._call(
                self.mode_select,
                "select_option",
                {"option": decision.mode.value.lower()},
            )
        if self.setpoint_number is not None and decision.setpoint_kw is not None:
            await self._call(self.setpoint_number, "set_value", {"value": decision.setpoint_kw})
        if self.script is not None:
            await self._call(
                self.script,
                "turn_on",
                {
                    "variables": {
                        "mode": decision.mode.value,
                        "setpoint_kw": decision.setpoint_kw,
                        "max_charge_kw": decision.max_charge_kw,
                        "max_discharge_kw": decision.max_discharge_kw,
                        "source": decision.source.value,
                    }
                },
            )

    async def release(self) -> None:
        if self.mode_select is not None:
            await self._call(
                self.mode_select,
                "select_option",
                {"option": ControlMode.SELF_CONSUMPTION.value.lower()},
            )
        if self.script is not None:
            await self._call(
                self.script,
                "turn_on",
                {"variables": {"mode": ControlMode.SELF_CONSUMPTION.value}},
            )

    async def _call(self, entity_id: str, service: str, data: dict[str, object]) -> None:
        # input_number/input_select have their own services with the same names.
        domain = entity_id.split(".", 1)[0]
        state = self.hass.states.get(entity_id)
        if state is None or (
            domain != "script" and state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN)
        ):
            raise ActuatorUnavailable(f"{entity_id} is not available")
        try:
            await self.hass.services.async_call(
                domain, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
            )
        except HomeAssistantError as err:
            raise ActuatorUnavailable(f"{domain}.{service} on {entity_id} failed: {err}") from err
