"""One site's live gateway inside Home Assistant.

Glue only: the broker link, the dispatcher and the control law live in the pure
``bess_dispatch_core`` package. This class moves messages from the link thread onto the
event loop, persists the schedule book, re-evaluates control at every schedule boundary,
command and SoE update, and tells the entities.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import partial
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .bess_dispatch_core.gateway.actuator import Actuator, ActuatorUnavailable, NoActuator
from .bess_dispatch_core.gateway.control_law import SiteState
from .bess_dispatch_core.gateway.dispatcher import (
    Dispatcher,
    DispatchState,
    ManualOverride,
    read_command,
)
from .bess_dispatch_core.gateway.watchdog import SetpointRefresher
from .bess_dispatch_core.link.link_failure import LinkError
from .bess_dispatch_core.link.mqtt_link import LinkStatus
from .bess_dispatch_core.protocol.errors import ErrorCode, ProtocolError
from .bess_dispatch_core.protocol.responses import CommandResponse
from .bess_dispatch_core.protocol.topics import command_response_topic, command_topic
from .broker_link import BrokerLink
from .const import DOMAIN
from .telemetry import SiteTelemetry
from .update_listeners import UpdateListeners

_LOGGER = logging.getLogger(__name__)

# Starts a task owned by the config entry (ConfigEntry.async_create_background_task), so
# unloading the entry cancels a command still being handled.
type SpawnTask = Callable[[Coroutine[Any, Any, Any], str], object]

EVENT_MODE_CHANGED = f"{DOMAIN}_mode_changed"
STORE_VERSION = 1
SAVE_DELAY_S = 1.0


def dispatcher_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry's schedule book and override survive restarts."""
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}.dispatcher")


class SiteRuntime(UpdateListeners):
    """Broker link + dispatcher for one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        entry_id: str,
        site_id: str,
        gateway_id: str,
        link: BrokerLink,
        dispatcher: Dispatcher,
        telemetry: SiteTelemetry,
        spawn: SpawnTask,
        actuator: Actuator | None = None,
        revert_after_s: float | None = None,
    ) -> None:
        super().__init__()
        self.hass = hass
        self.entry_id = entry_id
        self.site_id = site_id
        self.gateway_id = gateway_id
        self.link = link
        self.dispatcher = dispatcher
        self.telemetry = telemetry
        self._spawn = spawn
        self.actuator = actuator if actuator is not None else NoActuator()
        # Renews the decision on the battery every 30 s (docs/protocol.md's watchdog): a gateway
        # that stops renewing lets a device with a revert timeout fall back by itself.
        self.refresher = SetpointRefresher(
            self.actuator,
            revert_after_s=revert_after_s,
            on_availability=self._battery_availability,
        )
        self.store = dispatcher_store(hass, entry_id)
        self.state: DispatchState | None = None
        self.gateway_device_id = ""  # device registry id, set when the entry is set up
        self.link_status = LinkStatus(connected=False)
        self.last_response: CommandResponse | None = None
        # Values the manual modes use (number entities, restored across restarts).
        self.manual_setpoint_kw = 0.0
        self.manual_charge_limit_kw = 0.0
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._boundary_timer: CALLBACK_TYPE | None = None
        self._auth_failure_handler: Callable[[LinkError], None] | None = None
        self._command_lock = asyncio.Lock()

    # --- life cycle ------------------------------------------------------------------------
    async def async_restore(self) -> None:
        """Resume the stored schedules (a restart continues mid-schedule)."""
        stored = await self.store.async_load()
        if stored is None:
            return
        try:
            self.dispatcher = Dispatcher.from_dict(self.dispatcher.limits, stored)
        except ValueError as err:
            # Losing a corrupt book is safe: the optimizer re-sends its layers, and until
            # then the fallback is the battery's own self-consumption.
            _LOGGER.warning(
                "Stored schedules for %s are unreadable, starting empty: %s", self.site_id, err
            )

    async def async_start(self, on_auth_failure: Callable[[LinkError], None]) -> None:
        self._auth_failure_handler = on_auth_failure
        self.link.subscribe(command_topic(self.site_id), self._command_from_link, qos=1)
        self._unsubscribe.append(self.link.add_state_listener(self._status_from_link))
        self.link.start()
        self.evaluate()
        self.refresher.start()

    async def async_stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._cancel_boundary_timer()
        await self.refresher.stop()
        # A clean stop hands the battery back at once instead of waiting for the device's
        # revert timeout; an unreachable battery reverts by itself.
        try:
            await self.actuator.release()
        except ActuatorUnavailable as err:
            _LOGGER.debug("Releasing the battery of %s failed: %s", self.site_id, err)
        close = getattr(self.actuator, "close", None)
        if callable(close):
            close()
        await self.hass.async_add_executor_job(self.link.stop)
        await self.store.async_save(self.dispatcher.to_dict())

    # --- link thread -> event loop -----------------------------------------------------------
    def _command_from_link(self, topic: str, payload: bytes) -> None:
        self.hass.loop.call_soon_threadsafe(self._command_arrived, payload)

    @callback
    def _command_arrived(self, payload: bytes) -> None:
        self._spawn(
            self.async_handle_command_payload(payload), f"{DOMAIN} command for {self.site_id}"
        )

    def _status_from_link(self, status: LinkStatus) -> None:
        self.hass.loop.call_soon_threadsafe(self._status_changed, status)

    @callback
    def _status_changed(self, status: LinkStatus) -> None:
        was_connected = self.link_status.connected
        self.link_status = status
        if was_connected != status.connected:
            if status.connected:
                _LOGGER.info("Connected to the optimizer broker for site %s", self.site_id)
            else:
                _LOGGER.warning(
                    "Lost the optimizer broker for site %s: %s", self.site_id, status.failure
                )
        if status.failure is not None and self._auth_failure_handler is not None:
            self._auth_failure_handler(status.failure)
        self._notify()

    # --- commands ----------------------------------------------------------------------------
    async def async_handle_command_payload(self, payload: bytes | str) -> CommandResponse:
        """A ``cmd/`` message: validate, take or reject, answer, re-evaluate.

        Validating and indexing run in the executor (a year-long command takes about a
        second); only the quick merge into the book runs on the event loop. The lock keeps
        commands in their order of arrival.
        """
        async with self._command_lock:
            now = dt_util.utcnow()
            try:
                read = await self.hass.async_add_executor_job(
                    partial(read_command, payload, now=now)
                )
                response = self.dispatcher.take(read, now=now)
            except Exception:
                # Whatever went wrong, the optimizer gets an answer, and the previous
                # schedules keep running (the book only changes on a successful offer).
                _LOGGER.exception("Handling a command for site %s failed", self.site_id)
                response = CommandResponse.rejected(
                    in_reply_to=None,
                    command_id=None,
                    errors=(ProtocolError(ErrorCode.INTERNAL_ERROR, "", "the gateway failed"),),
                    now=now,
                )
            self._answer(response)
            return response

    @callback
    def _answer(self, response: CommandResponse) -> None:
        self.last_response = response
        self.link.publish(command_response_topic(self.site_id), response.to_payload(), qos=1)
        if response.status == "accepted":
            self.store.async_delay_save(self.dispatcher.to_dict, SAVE_DELAY_S)
        self.evaluate()

    # --- manual override ------------------------------------------------------------------------
    @callback
    def set_override(self, override: ManualOverride) -> None:
        self.dispatcher.set_override(override, now=dt_util.utcnow())
        self.store.async_delay_save(self.dispatcher.to_dict, SAVE_DELAY_S)
        self.evaluate()

    @callback
    def set_manual_values(
        self, *, setpoint_kw: float | None = None, charge_limit_kw: float | None = None
    ) -> None:
        """New manual values; a manual mode in force follows them at once."""
        if setpoint_kw is not None:
            self.manual_setpoint_kw = setpoint_kw
        if charge_limit_kw is not None:
            self.manual_charge_limit_kw = charge_limit_kw
        override = self.dispatcher.override
        if override is not None and override.until is None:
            self.set_override(
                ManualOverride(
                    override.mode,
                    power_kw=self.manual_setpoint_kw if override.power_kw is not None else None,
                    max_charge_kw=(
                        self.manual_charge_limit_kw if override.max_charge_kw is not None else None
                    ),
                )
            )
        else:
            self._notify()

    @callback
    def clear_override(self) -> None:
        self.dispatcher.clear_override()
        self.store.async_delay_save(self.dispatcher.to_dict, SAVE_DELAY_S)
        self.evaluate()

    # --- evaluation --------------------------------------------------------------------------
    def site_state(self) -> SiteState:
        return SiteState(soe_kwh=self.telemetry.soe_kwh())

    @callback
    def evaluate(self) -> DispatchState:
        """Recompute the decision now; announce a mode change; arm the next boundary."""
        now = dt_util.utcnow()
        previous = self.state
        state = self.dispatcher.evaluate(now, self.site_state())
        self.state = state
        if previous is None or (
            previous.decision.mode,
            previous.decision.source,
        ) != (state.decision.mode, state.decision.source):
            self.hass.bus.async_fire(
                EVENT_MODE_CHANGED,
                {
                    "entry_id": self.entry_id,
                    "site_id": self.site_id,
                    "mode": state.decision.mode.value,
                    "source": state.decision.source.value,
                    "setpoint_kw": state.decision.setpoint_kw,
                    "previous_mode": None if previous is None else previous.decision.mode.value,
                },
            )
        self._arm_boundary_timer(state.next_change)
        self.telemetry.report_schedule(covered=state.entry is not None)
        self.refresher.submit(state.decision)
        if not self.refresher.available:
            # A command that starts applying while the battery is away is told too.
            self._report_unavailable(state)
        self._notify()
        return state

    @callback
    def _battery_availability(self, available: bool) -> None:
        """The actuator lost or regained the battery (reported once each way)."""
        self.telemetry.report_battery(available, self.refresher.last_error)
        if available:
            _LOGGER.info("The battery of site %s answers again", self.site_id)
            self.dispatcher.battery_reachable()
        else:
            _LOGGER.warning(
                "The battery of site %s cannot be reached: %s",
                self.site_id,
                self.refresher.last_error,
            )
            if self.state is not None:
                self._report_unavailable(self.state)
        self._notify()

    def _report_unavailable(self, state: DispatchState) -> None:
        """RESOURCE_UNAVAILABLE for the command in force (the dispatcher says it once each)."""
        response = self.dispatcher.unavailable_response(state, now=dt_util.utcnow())
        if response is not None:
            self.last_response = response
            self.link.publish(command_response_topic(self.site_id), response.to_payload(), qos=1)

    def _arm_boundary_timer(self, at: datetime | None) -> None:
        self._cancel_boundary_timer()
        if at is not None:
            self._boundary_timer = async_track_point_in_utc_time(
                self.hass, self._boundary_reached, at
            )

    def _cancel_boundary_timer(self) -> None:
        if self._boundary_timer is not None:
            self._boundary_timer()
            self._boundary_timer = None

    @callback
    def _boundary_reached(self, now: datetime) -> None:
        self._boundary_timer = None
        self.evaluate()
