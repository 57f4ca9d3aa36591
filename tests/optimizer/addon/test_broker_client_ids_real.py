"""Client ids on the add-on's generated broker are the logins' own (real Mosquitto).

Mosquitto ends the older of two connections that share a client id. With ids of the
clients' choosing, any gateway with valid credentials could end the optimizer's session (or
another site's) by connecting as ``bess-dispatch-optimizer``, again and again. The generated
config makes the username the client id, so an intruder's chosen id is ignored; sessions and
their queued QoS 1 messages then belong to the login.
"""

from __future__ import annotations

import queue
import time
from typing import Any

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink
from bess_dispatch_core.protocol.limits import MAX_PACKET_BYTES
from bess_dispatch_core.protocol.topics import command_topic, lifetime_topic
from optimizer.addon.service_config import CLIENT_ID
from tests.optimizer.addon.test_broker_acl_real import HOST, TIMEOUT_S, RunningBroker, Session

QUIET_S = 1.5  # how long an ended session would take to show: Mosquitto ends it at once


class WatchedSession(Session):
    """A session that records every disconnection and never reconnects by itself."""

    def __init__(self, port: int, client_id: str, username: str, password: str) -> None:
        super().__init__(port, client_id, username, password)
        self.disconnects: queue.Queue[str] = queue.Queue()
        self.client.on_disconnect = self._on_disconnect
        self.session_present: bool | None = None

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.disconnects.put(str(reason))

    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        self.session_present = bool(flags.session_present)
        super()._on_connect(_c, _u, flags, reason, _p)

    def connect_persistent(self) -> Any:
        """Connect keeping the session for an hour (clean start off)."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600
        self.client.connect(HOST, self.port, keepalive=30, clean_start=False, properties=properties)
        self.client.loop_start()
        return self.connacks.get(timeout=TIMEOUT_S)


def _login(broker: RunningBroker, client_id: str, username: str) -> WatchedSession:
    session = WatchedSession(broker.port, client_id, username, broker.credentials[username])
    assert session.connect() == 0, f"{username} could not log in"
    return session


@pytest.mark.parametrize(
    ("victim_username", "victim_client_id"),
    [("optimizer", CLIENT_ID), ("B.gw-2", "site-b-gateway"), ("B.gw-2", "B.gw-2")],
)
def test_a_gateway_cannot_end_another_logins_session_by_taking_its_client_id(
    generated_broker: RunningBroker, victim_username: str, victim_client_id: str
) -> None:
    victim = _login(generated_broker, victim_client_id, victim_username)
    intruder = _login(generated_broker, victim_client_id, "A.gw")
    try:
        assert intruder.client.is_connected()
        time.sleep(QUIET_S)
        assert victim.disconnects.empty(), f"{victim_username} was disconnected"
        # The victim's session still works: its publish is acknowledged on this connection.
        own_topic = (
            command_topic("B")
            if victim_username == "optimizer"
            else lifetime_topic("B", "gw-2", "pv_generation")
        )
        # 0 or 16 ("no matching subscribers"): accepted either way.
        assert victim.publish(own_topic, "still here") in {0, 16}
        assert victim.client.is_connected()
        assert victim.disconnects.empty()
    finally:
        intruder.close()
        victim.close()


def test_the_optimizer_and_gateway_links_work_with_their_own_client_ids(
    generated_broker: RunningBroker,
) -> None:
    """The service's MqttLink (fixed id) and a gateway's (random id) talk as before."""
    credentials = generated_broker.credentials
    optimizer = MqttLink(
        BrokerSettings(
            HOST,
            generated_broker.port,
            username="optimizer",
            password=credentials["optimizer"],
            client_id=CLIENT_ID,
        ),
        name="test-optimizer-link",
    )
    gateway = MqttLink(
        BrokerSettings(HOST, generated_broker.port, username="A.gw", password=credentials["A.gw"]),
        name="test-gateway-link",
    )
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    optimizer.subscribe("dt/A/#", lambda topic, payload: received.put((topic, payload)))
    commands: queue.Queue[tuple[str, bytes]] = queue.Queue()
    gateway.subscribe("cmd/A/#", lambda topic, payload: commands.put((topic, payload)))
    optimizer.start()
    gateway.start()
    try:
        assert optimizer.wait_connected(TIMEOUT_S)
        assert gateway.wait_connected(TIMEOUT_S)
        time.sleep(0.2)  # both subscriptions acknowledged
        assert gateway.publish(lifetime_topic("A", "gw", "pv"), b"42").wait(TIMEOUT_S)
        assert received.get(timeout=TIMEOUT_S) == ("dt/A/gw/pv/lifetime", b"42")
        assert optimizer.publish(command_topic("A"), b"plan").wait(TIMEOUT_S)
        assert commands.get(timeout=TIMEOUT_S) == (command_topic("A"), b"plan")
        assert optimizer.connected
        assert gateway.connected
    finally:
        gateway.stop()
        optimizer.stop()


def test_a_persistent_session_and_its_queued_qos1_messages_follow_the_login(
    generated_broker: RunningBroker,
) -> None:
    """The gateway's own id is ignored: its session is found again under its username, even
    when it reconnects with another id."""
    gateway = WatchedSession(
        generated_broker.port, "gw-first-id", "A.gw", generated_broker.credentials["A.gw"]
    )
    assert gateway.connect_persistent() == 0
    assert gateway.subscribe("cmd/A/#") == 1
    gateway.close()
    optimizer = _login(generated_broker, CLIENT_ID, "optimizer")
    try:
        assert optimizer.publish(command_topic("A"), "queued while away") == 0
    finally:
        optimizer.close()

    back = WatchedSession(
        generated_broker.port, "gw-second-id", "A.gw", generated_broker.credentials["A.gw"]
    )
    try:
        assert back.connect_persistent() == 0
        assert back.session_present is True
        assert back.next_message() == (command_topic("A"), b"queued while away")
    finally:
        back.close()


def test_a_packet_above_the_protocol_limit_ends_only_its_senders_connection(
    generated_broker: RunningBroker,
) -> None:
    optimizer = _login(generated_broker, CLIENT_ID, "optimizer")
    gateway = _login(generated_broker, "gw", "A.gw")
    try:
        assert optimizer.subscribe("dt/A/#") == 1
        gateway.client.publish(
            lifetime_topic("A", "gw", "pv"), b"x" * (MAX_PACKET_BYTES + 1), qos=1
        )
        assert gateway.disconnects.get(timeout=TIMEOUT_S)
        assert optimizer.messages.empty()
        assert optimizer.client.is_connected()
    finally:
        gateway.close()
        optimizer.close()
