"""The broker link through Home Assistant's own MQTT integration.

For a site whose optimizer (usually the add-on) listens on the broker HA already uses: no
second connection, no credentials of our own. It offers what the runtime, the telemetry
and the forwarder use from :class:`MqttLink`: subscribe, publish with a handle that
completes on the broker's PUBACK (HA's client waits for it), connection state.
"""

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, wait

from homeassistant.components import mqtt
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .bess_dispatch_core.link.link_failure import LinkError, LinkFailure
from .bess_dispatch_core.link.mqtt_link import LinkStatus, MessageCallback, StateListener
from .bess_dispatch_core.link.publish_handle import PublishHandle, PublishOutcome
from .bess_dispatch_core.link.state_listeners import StateListeners

_LOGGER = logging.getLogger(__name__)
_STOP_TIMEOUT_S = 10.0


class HomeAssistantMqttLink:
    """Thread-safe publish; subscriptions and state follow HA's MQTT client."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self._subscriptions: dict[str, tuple[int, MessageCallback]] = {}
        self._listeners = StateListeners[LinkStatus]()
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._status = LinkStatus(connected=False)
        self._pending: set[Future[None]] = set()
        self._stopped = False

    @property
    def status(self) -> LinkStatus:
        return self._status

    @property
    def connected(self) -> bool:
        return self._status.connected

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def subscribe(self, topic_filter: str, callback_: MessageCallback, qos: int = 1) -> None:
        """Recorded now, subscribed when started (and at once when already started)."""
        self._subscriptions[topic_filter] = (qos, callback_)
        if self._unsubscribe:
            self.hass.loop.call_soon_threadsafe(self._subscribe, topic_filter)

    def start(self) -> None:
        """Called in the event loop by the runtime."""
        self._unsubscribe.append(
            mqtt.async_subscribe_connection_status(self.hass, self._connection_changed)
        )
        for topic_filter in self._subscriptions:
            self._subscribe(topic_filter)
        self._connection_changed(mqtt.is_connected(self.hass))

    @callback
    def _subscribe(self, topic_filter: str) -> None:
        qos, deliver = self._subscriptions[topic_filter]

        @callback
        def received(message: mqtt.ReceiveMessage) -> None:
            payload = message.payload
            deliver(message.topic, payload.encode() if isinstance(payload, str) else bytes(payload))

        # encoding=None: payloads stay bytes, as the protocol parsers take them.
        self.hass.async_create_task(self._async_subscribe(topic_filter, received, qos))

    async def _async_subscribe(
        self,
        topic_filter: str,
        received: Callable[[mqtt.ReceiveMessage], None],
        qos: int,
    ) -> None:
        self._unsubscribe.append(
            await mqtt.async_subscribe(self.hass, topic_filter, received, qos, encoding=None)
        )

    @callback
    def _connection_changed(self, connected: bool) -> None:
        failure = (
            None
            if connected
            else LinkError(
                LinkFailure.CONNECTION_LOST, "Home Assistant's MQTT client is not connected"
            )
        )
        self._status = LinkStatus(connected=connected, failure=failure)
        self._listeners.notify(self._status)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> PublishHandle:
        """From any thread; the handle completes when HA's client has the PUBACK."""
        handle = PublishHandle(topic, qos)
        if self._stopped or not self._status.connected:
            handle.complete(PublishOutcome.FAILED, "not connected")
            return handle
        future = asyncio.run_coroutine_threadsafe(
            mqtt.async_publish(self.hass, topic, payload, qos, encoding=None), self.hass.loop
        )
        self._pending.add(future)

        def done(result: Future[None]) -> None:
            self._pending.discard(result)
            error = None if result.cancelled() else result.exception()
            if error is None:
                handle.complete(PublishOutcome.ACKNOWLEDGED)
            else:
                handle.complete(PublishOutcome.FAILED, str(error))

        future.add_done_callback(done)
        return handle

    def stop(self, timeout: float | None = None) -> None:
        """From the executor (as :meth:`MqttLink.stop`): unsubscribes on the event loop."""

        self._stopped = True
        # Publishes under way finish first: their PUBACKs still delete outbox messages.
        wait(list(self._pending), timeout or _STOP_TIMEOUT_S)

        async def unsubscribe() -> None:
            for remove in self._unsubscribe:
                remove()
            self._unsubscribe.clear()

        try:
            asyncio.run_coroutine_threadsafe(unsubscribe(), self.hass.loop).result(
                timeout or _STOP_TIMEOUT_S
            )
        except TimeoutError:
            _LOGGER.warning("Unsubscribing from Home Assistant's MQTT did not finish in time")
