"""One MQTT connection to a broker, kept up by a single background thread.

Built on paho-mqtt 2.x (``CallbackAPIVersion.VERSION2``, MQTT 3.1.1 by default). Every
connection attempt uses a fresh paho client driven by our own thread, so:

- reconnects follow :class:`ExponentialBackoff` (full jitter), reset on a successful CONNACK,
  and never wait more than a quarter of the time the link has been down;
- nothing paho queued for a dead connection is replayed behind our back: a publish that was
  not acknowledged fails its :class:`PublishHandle` and the caller (the forwarder) decides
  what to resend, keeping the payload and so the ``message_id``;
- subscriptions are restored on every connection before the link reports "connected";
- failures are classified (:class:`LinkFailure`) for the config flow and repair issues.

All socket I/O happens in the link thread: publishes from other threads only queue the
packet and wake the thread. :meth:`MqttLink.stop` joins the thread, leaving none behind.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from .backoff import ExponentialBackoff
from .link_failure import LinkError, LinkFailure, classify_connack, classify_connect_error
from .publish_handle import PublishHandle, PublishOutcome
from .state_listeners import StateListeners

_LOGGER = logging.getLogger(__name__)

_LOOP_TICK = 0.1  # seconds; bounds how long stop() and a connection check wait
_SUBACK_FAILURE = 0x80

MessageCallback = Callable[[str, bytes], None]


class MqttProtocol(StrEnum):
    V311 = "3.1.1"
    V5 = "5"


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where and how to connect. ``tls`` comes from :func:`build_tls_context`."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    tls: ssl.SSLContext | None = None
    protocol: MqttProtocol = MqttProtocol.V311
    keepalive: int = 60
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host.strip():
            raise ValueError("host must be a non-empty string")
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValueError(f"port must be an integer in 1..65535, got {self.port!r}")
        if self.password is not None and not self.username:
            raise ValueError("password needs a username")
        if self.keepalive < 5:
            raise ValueError(f"keepalive must be >= 5 seconds, got {self.keepalive!r}")
        if not self.connect_timeout > 0:
            raise ValueError(f"connect_timeout must be > 0, got {self.connect_timeout!r}")


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """What state listeners get: connected, or not with the last failure."""

    connected: bool
    failure: LinkError | None = None


class _RecordingSSLSocket(ssl.SSLSocket):
    """Keeps the TLS error paho swallows (it only logs it), to classify the failure.

    With TLS 1.3 a broker rejects a client certificate after the handshake, so the alert
    surfaces on the first read, inside paho's loop.
    """

    recv_error: OSError | None = None

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        try:
            return super().recv(buflen, flags)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except OSError as err:
            self.recv_error = err
            raise


def _paho_protocol(protocol: MqttProtocol) -> MQTTProtocolVersion:
    return (
        MQTTProtocolVersion.MQTTv5 if protocol is MqttProtocol.V5 else MQTTProtocolVersion.MQTTv311
    )


class _Session:
    """One paho client for one connection; used only by the link thread (or a probe)."""

    def __init__(
        self,
        settings: BrokerSettings,
        client_id: str,
        on_message: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self._settings = settings
        self._on_message = on_message
        self._lock = threading.Lock()
        self._pending: dict[int, PublishHandle] = {}
        self._early_acks: dict[int, ReasonCode] = {}
        self._closed = False
        self._connack: ReasonCode | None = None
        self._subacks: dict[int, list[ReasonCode]] = {}
        self._socket: Any = None
        self.failure: LinkError | None = None
        protocol = _paho_protocol(settings.protocol)
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True if protocol is MQTTProtocolVersion.MQTTv311 else None,
            protocol=protocol,
            reconnect_on_failure=False,
        )
        client.enable_logger(_LOGGER)
        if settings.username:
            client.username_pw_set(settings.username, settings.password)
        if settings.tls is not None:
            settings.tls.sslsocket_class = _RecordingSSLSocket
            client.tls_set_context(settings.tls)
            if not settings.tls.check_hostname:
                # The context still verifies the chain; paho's own name check would break.
                client.tls_insecure_set(True)
        client.on_connect = self._handle_connect
        client.on_publish = self._handle_publish
        client.on_subscribe = self._handle_subscribe
        client.on_message = self._handle_message
        client.on_socket_open = self._handle_socket_open
        # A write hook stops paho from writing on the caller's thread: publish() only queues
        # and wakes the loop, so every socket operation stays in the link thread.
        client.on_socket_register_write = _ignore_socket_event
        self.client = client

    # --- paho callbacks (link thread) ----------------------------------------------------
    def _handle_socket_open(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        self._socket = sock
        # Small MQTT packets otherwise wait for the previous packet's ACK (Nagle): measured
        # ~40 ms per command response on loopback (benchmarks/command_latency.py).
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle_connect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        self._connack = reason

    def _handle_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        _props: Any,
    ) -> None:
        self._subacks[mid] = reasons

    def _handle_publish(
        self, _client: mqtt.Client, _userdata: Any, mid: int, reason: ReasonCode, _props: Any
    ) -> None:
        with self._lock:
            handle = self._pending.pop(mid, None)
            if handle is None:
                # The ack beat the registration in publish(); it picks this up.
                self._early_acks[mid] = reason
                return
        _settle(handle, reason)

    def _handle_message(self, _client: mqtt.Client, _userdata: Any, message: Any) -> None:
        if self._on_message is not None:
            self._on_message(str(message.topic), bytes(message.payload))

    # --- connection ----------------------------------------------------------------------
    def open(self, stop: threading.Event, subscriptions: list[tuple[str, int]]) -> None:
        """Connect, wait for CONNACK and SUBACKs; raise LinkError when that fails."""
        settings = self._settings
        deadline = time.monotonic() + settings.connect_timeout
        self.client.connect_timeout = settings.connect_timeout
        try:
            self.client.connect(settings.host, settings.port, keepalive=settings.keepalive)
        except Exception as err:
            raise classify_connect_error(err) from err
        self._loop_until(lambda: self._connack is not None, deadline, stop, "CONNACK")
        assert self._connack is not None
        if self._connack.is_failure:
            raise classify_connack(self._connack.value, str(self._connack))
        if subscriptions:
            result, mid = self.client.subscribe(subscriptions)
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
                raise LinkError(LinkFailure.CONNECTION_LOST, f"subscribe failed ({result})")
            self._loop_until(lambda: mid in self._subacks, deadline, stop, "SUBACK")
            for (topic, _qos), reason in zip(subscriptions, self._subacks[mid], strict=False):
                if reason.value >= _SUBACK_FAILURE:
                    _LOGGER.warning("broker refused subscription to %s (%s)", topic, reason)

    def _loop_until(
        self, condition: Callable[[], bool], deadline: float, stop: threading.Event, what: str
    ) -> None:
        while not condition():
            if stop.is_set():
                raise LinkError(LinkFailure.CONNECTION_LOST, "link stopped while connecting")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkError(LinkFailure.TIMEOUT, f"no {what} from the broker in time")
            rc = self.client.loop(min(_LOOP_TICK, remaining))
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not condition():
                raise self.lost_failure(rc)

    def lost_failure(self, rc: MQTTErrorCode) -> LinkError:
        """Classify the end of the connection from what the socket recorded."""
        recorded = getattr(self._socket, "recv_error", None)
        failure = None if recorded is None else classify_connect_error(recorded)
        if failure is not None and failure.failure is not LinkFailure.CONNECTION_LOST:
            return failure
        if rc == MQTTErrorCode.MQTT_ERR_CONN_REFUSED and self._connack is not None:
            return classify_connack(self._connack.value, str(self._connack))
        if self._connack is None and self._settings.tls is not None:
            # TLS 1.3 checks the client certificate after the handshake: a broker refusing
            # it sends an alert and closes, and the reset of a connection with our CONNECT
            # still unread can discard that alert before we read it (seen under load).
            # Credentials are answered by CONNACK, so a TLS close before it is the
            # certificate.
            return LinkError(
                LinkFailure.CERTIFICATE_REJECTED,
                "the broker closed the TLS connection before answering CONNECT: it did not "
                f"accept the client certificate ({recorded or mqtt.error_string(rc)})",
            )
        if failure is not None:
            return failure
        return LinkError(
            LinkFailure.CONNECTION_LOST,
            f"the broker closed the connection ({mqtt.error_string(rc)})",
        )

    def loop_once(self) -> bool:
        """Run the network once; False when the connection ended (see ``failure``)."""
        rc = self.client.loop(_LOOP_TICK)
        if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            return True
        self.failure = self.lost_failure(rc)
        return False

    def publish(self, topic: str, payload: bytes, qos: int) -> PublishHandle:
        handle = PublishHandle(topic, qos)
        info = self.client.publish(topic, payload, qos=qos)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            handle.complete(PublishOutcome.FAILED, mqtt.error_string(info.rc))
            return handle
        with self._lock:
            if self._closed:
                early = None
                closed = True
            else:
                closed = False
                early = self._early_acks.pop(info.mid, None)
                if early is None:
                    self._pending[info.mid] = handle
        if closed:
            handle.complete(PublishOutcome.FAILED, "connection lost before acknowledgement")
        elif early is not None:
            _settle(handle, early)
        return handle

    def subscribe(self, topic_filter: str, qos: int) -> None:
        self.client.subscribe(topic_filter, qos)

    def close(self, *, graceful: bool) -> None:
        """Fail unacknowledged publishes and release the sockets."""
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, {}
        for handle in pending.values():
            handle.complete(PublishOutcome.FAILED, "connection lost before acknowledgement")
        if graceful and self.client.is_connected():
            self.client.disconnect()
            deadline = time.monotonic() + 1.0
            while self.client.socket() is not None and time.monotonic() < deadline:
                if self.client.loop(_LOOP_TICK) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
        # paho has no public close for a client that will not reconnect.
        self.client._reset_sockets()


def _ignore_socket_event(_client: mqtt.Client, _userdata: Any, _sock: Any) -> None:
    """The link thread polls the socket itself; nothing to register."""


def _settle(handle: PublishHandle, reason: ReasonCode) -> None:
    if reason.is_failure:
        handle.complete(PublishOutcome.FAILED, f"broker refused the publish ({reason})")
    else:
        handle.complete(PublishOutcome.ACKNOWLEDGED)


def probe_broker(settings: BrokerSettings) -> None:
    """Connect once and disconnect (blocking); raise :class:`LinkError` on failure.

    For a config flow: run it in an executor and map ``error.failure`` to a message.
    """
    session = _Session(settings, settings.client_id or _random_client_id())
    try:
        session.open(threading.Event(), [])
    finally:
        session.close(graceful=True)


def _random_client_id() -> str:
    return f"bess-dispatch-{uuid.uuid4().hex[:12]}"


StateListener = Callable[[LinkStatus], None]


class MqttLink:
    """A broker connection that reconnects by itself; thread-safe public methods."""

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        backoff: ExponentialBackoff | None = None,
        name: str = "bess-dispatch-mqtt",
    ) -> None:
        self._settings = settings
        self._client_id = settings.client_id or _random_client_id()
        self._backoff = backoff or ExponentialBackoff(initial=1.0, maximum=120.0)
        self._name = name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: _Session | None = None
        self._subscriptions: dict[str, tuple[int, MessageCallback]] = {}
        self._listeners = StateListeners[LinkStatus]()
        self._status = LinkStatus(connected=False)
        self._connected_event = threading.Event()

    # --- public API ----------------------------------------------------------------------
    @property
    def status(self) -> LinkStatus:
        return self._status

    @property
    def connected(self) -> bool:
        return self._status.connected

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected_event.wait(timeout)

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener(status)`` on every change (in the link thread); returns a remover."""
        return self._listeners.add(listener)

    def subscribe(self, topic_filter: str, callback: MessageCallback, qos: int = 1) -> None:
        """Deliver matching messages to ``callback(topic, payload)``; kept across reconnects."""
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos!r}")
        with self._lock:
            self._subscriptions[topic_filter] = (qos, callback)
            session = self._session
        if session is not None:
            session.subscribe(topic_filter, qos)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> PublishHandle:
        """Send now; the handle completes on PUBACK, or fails if not connected / on a drop."""
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos!r}")
        with self._lock:
            session = self._session
        if session is None:
            handle = PublishHandle(topic, qos)
            handle.complete(PublishOutcome.FAILED, "not connected")
            return handle
        return session.publish(topic, payload, qos)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("link already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Disconnect and join the thread (waits at most one connect attempt)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout if timeout is not None else self._settings.connect_timeout + 5)
            if thread.is_alive():
                _LOGGER.error("MQTT link thread did not stop in time")

    # --- link thread ---------------------------------------------------------------------
    def _retry_delay(self, down_since: float) -> float:
        return self._backoff.next_delay(down_for=time.monotonic() - down_since)

    def _run(self) -> None:
        down_since = time.monotonic()
        while not self._stop.is_set():
            session = _Session(self._settings, self._client_id, self._dispatch)
            with self._lock:
                subscriptions = [(t, qos) for t, (qos, _cb) in self._subscriptions.items()]
            try:
                session.open(self._stop, subscriptions)
            except LinkError as err:
                session.close(graceful=False)
                if self._stop.is_set():
                    break
                _LOGGER.debug("connection to %s failed: %s", self._settings.host, err)
                self._set_status(LinkStatus(connected=False, failure=err))
                self._stop.wait(self._retry_delay(down_since))
                continue
            except Exception as err:
                session.close(graceful=False)
                _LOGGER.exception("unexpected error connecting to %s", self._settings.host)
                self._set_status(LinkStatus(False, classify_connect_error(err)))
                self._stop.wait(self._retry_delay(down_since))
                continue
            self._backoff.reset()
            with self._lock:
                self._session = session
                # Subscriptions added while connecting were not in the restore list.
                late = [
                    (t, qos)
                    for t, (qos, _cb) in self._subscriptions.items()
                    if (t, qos) not in subscriptions
                ]
            for topic_filter, qos in late:
                session.subscribe(topic_filter, qos)
            self._set_status(LinkStatus(connected=True))
            while not self._stop.is_set() and session.loop_once():
                pass
            with self._lock:
                self._session = None
            session.close(graceful=self._stop.is_set())
            if self._stop.is_set():
                self._set_status(LinkStatus(connected=False))
                break
            failure = session.failure or LinkError(LinkFailure.CONNECTION_LOST, "connection lost")
            _LOGGER.info("lost connection to %s: %s", self._settings.host, failure)
            self._set_status(LinkStatus(connected=False, failure=failure))
            down_since = time.monotonic()
            self._stop.wait(self._retry_delay(down_since))

    def _dispatch(self, topic: str, payload: bytes) -> None:
        with self._lock:
            callbacks = [
                cb
                for flt, (_qos, cb) in self._subscriptions.items()
                if mqtt.topic_matches_sub(flt, topic)
            ]
        for callback in callbacks:
            try:
                callback(topic, payload)
            except Exception:
                _LOGGER.exception("message callback failed for %s", topic)

    def _set_status(self, status: LinkStatus) -> None:
        self._status = status
        if status.connected:
            self._connected_event.set()
        else:
            self._connected_event.clear()
        self._listeners.notify(status)
