"""What the runtime and the telemetry need from a broker connection, whichever it is."""

from collections.abc import Callable
from typing import Protocol

from .bess_dispatch_core.link.mqtt_link import LinkStatus, MessageCallback, StateListener
from .bess_dispatch_core.link.publish_handle import PublishHandle


class BrokerLink(Protocol):
    """Implemented by the gateway's own paho link and by HA's MQTT integration's adapter."""

    @property
    def status(self) -> LinkStatus: ...

    @property
    def connected(self) -> bool: ...

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]: ...

    def subscribe(self, topic_filter: str, callback: MessageCallback, qos: int = 1) -> None: ...

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> PublishHandle: ...

    def start(self) -> None: ...

    def stop(self, timeout: float | None = None) -> None: ...
