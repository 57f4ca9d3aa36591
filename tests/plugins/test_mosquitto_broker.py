"""The Mosquitto fixtures against a real paho-mqtt 2.x client: plain, auth, mutual TLS, ACL,
and stop/restart on the same port."""

from __future__ import annotations

import queue
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from simulators.mosquitto_binary import find_mosquitto
from tests.plugins import mosquitto_broker as mosquitto_broker_module
from tests.plugins.mosquitto_broker import (
    GATEWAY_ID,
    Broker,
    BrokerStartError,
    MakeMosquittoBroker,
)

TIMEOUT_S = 2.0
NOT_AUTHORIZED = 135


class Probe:
    """A paho client whose callbacks feed events and queues the test waits on."""

    def __init__(self, client_id: str) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.connected = threading.Event()
        self.connect_reason: ReasonCode | None = None
        self.disconnected = threading.Event()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.pubacks: queue.Queue[ReasonCode] = queue.Queue()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connect_reason = reason_code
        self.connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.disconnected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.put(message)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        self.subacks.put(reason_codes)

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.pubacks.put(reason_code)

    def use_tls(self, ca_cert: Path, cert: Path | None = None, key: Path | None = None) -> None:
        self.client.tls_set(
            ca_certs=str(ca_cert),
            certfile=None if cert is None else str(cert),
            keyfile=None if key is None else str(key),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )

    def wait_connack(self) -> ReasonCode:
        assert self.connected.wait(TIMEOUT_S), "no CONNACK"
        assert self.connect_reason is not None
        return self.connect_reason

    def subscribe(self, topic: str, qos: int = 1) -> ReasonCode:
        self.client.subscribe(topic, qos=qos)
        (reason,) = self.subacks.get(timeout=TIMEOUT_S)
        return reason

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> ReasonCode:
        self.client.publish(topic, payload, qos=1, retain=retain)
        return self.pubacks.get(timeout=TIMEOUT_S)


@contextmanager
def connected_probe(broker: Broker, probe: Probe) -> Iterator[Probe]:
    """Connect (blocking, so TCP and TLS errors raise here), run the loop, always clean up."""
    probe.client.connect(broker.host, broker.port, keepalive=10)
    probe.client.loop_start()
    try:
        yield probe
    finally:
        probe.client.disconnect()
        probe.client.loop_stop()


def port_refuses(broker: Broker) -> bool:
    try:
        with socket.create_connection((broker.host, broker.port), timeout=TIMEOUT_S):
            return False
    except ConnectionRefusedError:
        return True


def attempt_refused_connection(broker: Broker, probe: Probe) -> ReasonCode | None:
    """Connect and run paho's loop until the broker drops us; the CONNACK reason, if any.

    None means the TLS layer ended it: at the handshake (TLS 1.2) or right after it (TLS
    1.3, where the server checks the client certificate once the client is done). No network
    thread here: after a drop, paho's reconnect back-off would hold loop_stop() for a second.
    """
    try:
        probe.client.connect(broker.host, broker.port, keepalive=10)
        deadline = time.monotonic() + TIMEOUT_S
        while not probe.disconnected.is_set():
            assert time.monotonic() < deadline, "broker kept the connection open"
            probe.client.loop(timeout=0.05)
    except ssl.SSLError, ConnectionError:
        pass
    finally:
        probe.client.disconnect()
    assert probe.connect_reason is None or probe.connect_reason.is_failure
    return probe.connect_reason


def test_plain_publish_subscribe_qos1_round_trip(mosquitto_broker: Broker) -> None:
    assert mosquitto_broker.host == "127.0.0.1"
    assert not mosquitto_broker.uses_tls
    with connected_probe(mosquitto_broker, Probe("plain-probe")) as probe:
        assert probe.wait_connack() == 0
        assert probe.subscribe("bess/test/#", qos=1) == 1  # granted QoS 1
        assert probe.publish("bess/test/ping", b"hello") == 0  # 0: it had a subscriber
        message = probe.messages.get(timeout=TIMEOUT_S)
    assert (message.topic, message.payload, message.qos) == ("bess/test/ping", b"hello", 1)
    assert "New client connected" in mosquitto_broker.log_text()


def test_auth_accepts_the_right_password(mosquitto_broker_auth: Broker) -> None:
    probe = Probe("auth-ok")
    user = mosquitto_broker_auth.user
    probe.client.username_pw_set(user.username, user.password)
    with connected_probe(mosquitto_broker_auth, probe):
        assert probe.wait_connack() == 0


def test_auth_refuses_a_wrong_password(mosquitto_broker_auth: Broker) -> None:
    probe = Probe("auth-bad")
    probe.client.username_pw_set(mosquitto_broker_auth.user.username, "wrong password")
    reason = attempt_refused_connection(mosquitto_broker_auth, probe)
    # Mosquitto 2.x answers 135 rather than 134 (bad user name or password).
    assert reason is not None
    assert reason.value == NOT_AUTHORIZED


def test_auth_refuses_anonymous(mosquitto_broker_auth: Broker) -> None:
    probe = Probe("auth-anonymous")
    reason = attempt_refused_connection(mosquitto_broker_auth, probe)
    assert reason is not None
    assert reason.value == NOT_AUTHORIZED


def test_tls_mutual_connect_with_the_trusted_client_certificate(
    mosquitto_broker_tls: Broker,
) -> None:
    tls = mosquitto_broker_tls.tls
    assert tls.client_id == GATEWAY_ID
    probe = Probe(tls.client_id)
    probe.use_tls(tls.ca_cert, tls.client.cert, tls.client.key)
    with connected_probe(mosquitto_broker_tls, probe):
        assert probe.wait_connack() == 0
        assert probe.subscribe("bess/tls/#") == 1
        assert probe.publish("bess/tls/x", b"secure") == 0
        assert probe.messages.get(timeout=TIMEOUT_S).payload == b"secure"


def test_tls_refuses_a_client_certificate_from_another_ca(mosquitto_broker_tls: Broker) -> None:
    tls = mosquitto_broker_tls.tls
    intruder = tls.certificates.client_from_other_ca(GATEWAY_ID)
    probe = Probe(GATEWAY_ID)
    probe.use_tls(tls.ca_cert, intruder.cert, intruder.key)
    assert attempt_refused_connection(mosquitto_broker_tls, probe) is None
    mosquitto_broker_tls.wait_for_log("certificate verify failed")


def test_tls_refuses_an_expired_client_certificate(mosquitto_broker_tls: Broker) -> None:
    tls = mosquitto_broker_tls.tls
    expired = tls.certificates.expired_client(GATEWAY_ID)
    probe = Probe(GATEWAY_ID)
    probe.use_tls(tls.ca_cert, expired.cert, expired.key)
    assert attempt_refused_connection(mosquitto_broker_tls, probe) is None
    mosquitto_broker_tls.wait_for_log("certificate verify failed")


def test_tls_refuses_a_client_without_certificate(mosquitto_broker_tls: Broker) -> None:
    probe = Probe(GATEWAY_ID)
    probe.use_tls(mosquitto_broker_tls.tls.ca_cert)
    assert attempt_refused_connection(mosquitto_broker_tls, probe) is None
    mosquitto_broker_tls.wait_for_log("peer did not return a certificate")


def test_tls_client_trusting_an_unrelated_ca_rejects_the_broker(
    mosquitto_broker_tls: Broker,
) -> None:
    tls = mosquitto_broker_tls.tls
    probe = Probe(GATEWAY_ID)
    probe.use_tls(tls.certificates.unrelated_ca_cert, tls.client.cert, tls.client.key)
    # paho 2.1 leaves the failed TLS socket to the garbage collector (a ResourceWarning).
    with pytest.raises(ssl.SSLCertVerificationError):
        probe.client.connect(mosquitto_broker_tls.host, mosquitto_broker_tls.port)
    assert not probe.connected.is_set()


def test_stop_refuses_connections_and_restart_keeps_port_and_retained(
    mosquitto_broker: Broker,
) -> None:
    port = mosquitto_broker.port
    with connected_probe(mosquitto_broker, Probe("outage-probe")) as probe:
        assert probe.wait_connack() == 0
        assert not probe.publish("bess/state", b"kept", retain=True).is_failure

        mosquitto_broker.stop()
        assert probe.disconnected.wait(TIMEOUT_S)
        assert not mosquitto_broker.is_running
        assert port_refuses(mosquitto_broker)

        probe.connected.clear()
        mosquitto_broker.start()
        assert mosquitto_broker.port == port
        # paho's network thread reconnects by itself after its 1 s minimum back-off.
        assert probe.connected.wait(TIMEOUT_S + 1.0), "client did not reconnect"
        assert probe.connect_reason == 0
        assert probe.subscribe("bess/state") == 1
        retained = probe.messages.get(timeout=TIMEOUT_S)
        assert (retained.payload, retained.retain) == (b"kept", True)


def test_restart_of_a_running_broker_keeps_the_port(mosquitto_broker: Broker) -> None:
    port = mosquitto_broker.port
    mosquitto_broker.restart()
    assert mosquitto_broker.is_running
    assert mosquitto_broker.port == port
    with connected_probe(mosquitto_broker, Probe("after-restart")) as probe:
        assert probe.wait_connack() == 0


def test_acl_denies_topics_outside_the_allowed_tree(
    make_mosquitto_broker: MakeMosquittoBroker,
) -> None:
    broker = make_mosquitto_broker(
        acl="topic readwrite bess/site-a/#\ntopic write bess/site-b/#\n",
    )
    with connected_probe(broker, Probe("acl-probe")) as probe:
        assert probe.wait_connack() == 0
        # Mosquitto's acl_file grants every SUBSCRIBE and filters on delivery instead.
        assert probe.subscribe("bess/#") == 1
        assert probe.publish("bess/site-c/cmd", b"no access").value == NOT_AUTHORIZED
        assert not probe.publish("bess/site-b/cmd", b"write only").is_failure
        assert not probe.publish("bess/site-a/cmd", b"readwrite").is_failure
        # In-order delivery: had site-b reached us, it would be first in the queue.
        assert probe.messages.get(timeout=TIMEOUT_S).topic == "bess/site-a/cmd"
        assert probe.messages.empty()


def test_acl_keyed_on_the_client_certificate_common_name(
    make_mosquitto_broker: MakeMosquittoBroker,
) -> None:
    broker = make_mosquitto_broker(
        tls=True,
        use_identity_as_username=True,
        acl=f"user {GATEWAY_ID}\ntopic readwrite bess/{GATEWAY_ID}/#\n",
    )
    tls = broker.tls
    probe = Probe(tls.client_id)
    probe.use_tls(tls.ca_cert, tls.client.cert, tls.client.key)
    with connected_probe(broker, probe):
        assert probe.wait_connack() == 0
        assert not probe.publish(f"bess/{GATEWAY_ID}/state", b"ok").is_failure
        assert probe.publish("bess/gw-other/state", b"spoof").value == NOT_AUTHORIZED


@pytest.mark.usefixtures("socket_enabled")
def test_a_broker_that_cannot_start_raises_with_its_log(tmp_path: Path) -> None:
    broker = Broker(directory=tmp_path, executable=Path("/bin/false"))
    with pytest.raises(BrokerStartError, match="exited with code 1"):
        broker.start()
    assert not broker.is_running


def test_bess_mosquitto_must_name_an_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BESS_MOSQUITTO", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="BESS_MOSQUITTO"):
        find_mosquitto()


@pytest.mark.usefixtures("socket_enabled")
def test_start_retries_another_port_when_it_loses_the_bind_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]

        pinned = Broker(directory=tmp_path / "pinned", port=taken)
        with pytest.raises(BrokerStartError, match="Address already in use"):
            pinned.start()

        # The race: the first "free" port is grabbed before mosquitto binds it.
        offers = iter([taken])
        real_free_port = mosquitto_broker_module._free_port
        monkeypatch.setattr(
            mosquitto_broker_module,
            "_free_port",
            lambda host: next(offers, None) or real_free_port(host),
        )
        broker = Broker(directory=tmp_path / "racing")
        try:
            broker.start()
            assert broker.is_running
            assert broker.port not in (0, taken)
        finally:
            broker.stop()
