"""The generated broker files in a real Mosquitto: logins and the per-site ACL.

Mosquitto runs with exactly the conf, password file and ACL the add-on generates (only the
listener moves to a free 127.0.0.1 port). When the tests run as root, as in scripts/env, the
broker drops to the "mosquitto" account like in the add-on, so file ownership is checked too.
"""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from bess_dispatch_core.protocol.topics import (
    command_response_topic,
    command_topic,
    lifetime_topic,
    telemetry_feedback_topic,
)
from optimizer.addon.generate import AddonEnvironment, generate
from optimizer.addon.mosquitto_config import Listeners
from simulators.mosquitto_binary import find_mosquitto, mosquitto_run_as_user

RESOURCES = Path(__file__).parent / "resources"
HOST = "127.0.0.1"
TIMEOUT_S = 5.0
NOT_AUTHORIZED = 0x87


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningBroker:
    port: int
    credentials: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def generated_broker(socket_enabled: None) -> Iterator[RunningBroker]:
    # Not pytest's tmp_path: its 0700 parents would lock out the "mosquitto" account.
    root = Path(tempfile.mkdtemp(prefix="bess-addon-broker-"))
    root.chmod(0o755)
    process: subprocess.Popen[bytes] | None = None
    log = root / "mosquitto.log"
    try:
        options = json.loads((RESOURCES / "options_own_two_sites.json").read_text())
        options["broker"]["tls"] = False  # no certificate in /ssl here
        data = root / "data"
        data.mkdir()
        (data / "options.json").write_text(json.dumps(options))
        port = _free_port()
        generated = generate(
            data / "options.json",
            AddonEnvironment(
                state_dir=data,
                out_dir=root / "run",
                broker_user=mosquitto_run_as_user(),
                listeners=Listeners(plain_port=port, bind_address=HOST),
            ),
        )
        assert generated.mosquitto_config is not None
        credentials = json.loads((data / "mqtt_credentials.json").read_text())
        credentials["B.gw-2"] = "owner-chosen-password-B"
        with log.open("wb") as stream:
            process = subprocess.Popen(
                [str(find_mosquitto()), "-c", str(generated.mosquitto_config)],
                stdin=subprocess.DEVNULL,
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"mosquitto exited {process.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"mosquitto did not listen on {port}:\n{log.read_text()}")
                time.sleep(0.02)
        yield RunningBroker(port=port, credentials=credentials, process=process, log=log)
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=TIMEOUT_S)
        if log.exists():
            print(f"--- mosquitto log ---\n{log.read_text(errors='replace')[-4000:]}")
        shutil.rmtree(root, ignore_errors=True)


class Session:
    """One paho 2.x client (MQTT 5, so refusals carry reason codes) with a running loop."""

    def __init__(self, port: int, client_id: str, username: str | None, password: str | None):
        self.port = port
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.connacks: queue.Queue[ReasonCode] = queue.Queue()
        self.subacks: dict[int, queue.Queue[list[ReasonCode]]] = {}
        self.pubacks: dict[int, queue.Queue[ReasonCode]] = {}
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self.connacks.put(reason)

    def _on_subscribe(
        self, _c: Any, _u: Any, mid: int, reasons: list[ReasonCode], _p: Properties | None
    ) -> None:
        self.subacks.setdefault(mid, queue.Queue()).put(reasons)

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        self.pubacks.setdefault(mid, queue.Queue()).put(reason)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.put((message.topic, message.payload))

    def connect(self) -> ReasonCode:
        self.client.connect(HOST, self.port, keepalive=30)
        self.client.loop_start()
        return self.connacks.get(timeout=TIMEOUT_S)

    def subscribe(self, topic: str) -> int:
        """The granted QoS, or the refusal's reason code (>= 0x80)."""
        result, mid = self.client.subscribe(topic, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS
        (reason,) = self.subacks.setdefault(mid, queue.Queue()).get(timeout=TIMEOUT_S)
        return int(reason.value)

    def publish(self, topic: str, payload: str) -> int:
        """PUBACK's reason code: 0 delivered, 0x87 not authorized."""
        info = self.client.publish(topic, payload, qos=1)
        reason = self.pubacks.setdefault(info.mid, queue.Queue()).get(timeout=TIMEOUT_S)
        return int(reason.value)

    def next_message(self) -> tuple[str, bytes]:
        return self.messages.get(timeout=TIMEOUT_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def sessions(generated_broker: RunningBroker) -> Iterator[dict[str, Session]]:
    made: dict[str, Session] = {}
    try:
        for name, username in (
            ("optimizer", "optimizer"),
            ("gateway_a", "A.gw"),
            ("gateway_b", "B.gw-2"),
        ):
            session = Session(
                generated_broker.port,
                f"test-{name}",
                username,
                generated_broker.credentials[username],
            )
            made[name] = session
            assert session.connect() == 0, f"{username} could not log in"
        yield made
    finally:
        for session in made.values():
            session.close()


def test_gateway_a_talks_to_the_optimizer_on_its_own_site(sessions: dict[str, Session]) -> None:
    optimizer, gateway_a = sessions["optimizer"], sessions["gateway_a"]
    assert optimizer.subscribe("dt/A/#") == 1
    assert optimizer.subscribe(command_response_topic("A")) == 1
    assert gateway_a.subscribe("cmd/A/#") == 1
    assert gateway_a.subscribe(telemetry_feedback_topic("A", "gw")) == 1

    assert gateway_a.publish(lifetime_topic("A", "gw", "pv_generation"), "telemetry") == 0
    assert optimizer.next_message() == ("dt/A/gw/pv_generation/lifetime", b"telemetry")
    assert optimizer.publish(command_topic("A"), "schedule") == 0
    assert gateway_a.next_message() == ("cmd/A/battery/power", b"schedule")
    assert gateway_a.publish(command_response_topic("A"), "accepted") == 0
    assert optimizer.next_message() == ("res/A/command", b"accepted")
    assert optimizer.publish(telemetry_feedback_topic("A", "gw"), "ok") == 0
    assert gateway_a.next_message() == ("res/A/gw/telemetry", b"ok")


def test_gateway_a_cannot_read_or_write_site_b(sessions: dict[str, Session]) -> None:
    optimizer, gateway_a, gateway_b = (
        sessions["optimizer"],
        sessions["gateway_a"],
        sessions["gateway_b"],
    )
    # Mosquitto grants any subscription and checks read access per delivered message, so
    # even catch-all filters must bring A nothing of site B.
    for topic_filter in ("cmd/#", "res/#", "dt/#"):
        assert gateway_a.subscribe(topic_filter) == 1
    assert gateway_b.subscribe("cmd/B/#") == 1
    assert gateway_b.subscribe(telemetry_feedback_topic("B", "gw-2")) == 1
    assert optimizer.subscribe("dt/B/#") == 1

    assert optimizer.publish(command_topic("B"), "for B") == 0
    assert gateway_b.next_message() == ("cmd/B/battery/power", b"for B")
    assert optimizer.publish(telemetry_feedback_topic("B", "gw-2"), "ok B") == 0
    assert gateway_b.next_message() == ("res/B/gw-2/telemetry", b"ok B")
    assert gateway_b.publish(lifetime_topic("B", "gw-2", "pv_generation"), "real") == 0
    assert optimizer.next_message() == ("dt/B/gw-2/pv_generation/lifetime", b"real")
    # One publisher's messages arrive in order: A's first message is its own command, so
    # nothing of site B was delivered to it before.
    assert optimizer.publish(command_topic("A"), "for A") == 0
    assert gateway_a.next_message() == ("cmd/A/battery/power", b"for A")
    assert gateway_a.messages.empty()

    # A may not pose as site B's gateway, as another gateway of its own site, or as the
    # optimizer.
    assert gateway_a.publish(lifetime_topic("B", "gw-2", "pv_generation"), "spoof") == (
        NOT_AUTHORIZED
    )
    assert gateway_a.publish(command_response_topic("B"), "spoof") == NOT_AUTHORIZED
    assert gateway_a.publish(lifetime_topic("A", "other-gw", "pv_generation"), "x") == (
        NOT_AUTHORIZED
    )
    assert gateway_a.publish(command_topic("A"), "self-made schedule") == NOT_AUTHORIZED
    assert gateway_b.publish(lifetime_topic("B", "gw-2", "pv_generation"), "after") == 0
    assert optimizer.next_message() == ("dt/B/gw-2/pv_generation/lifetime", b"after")
    assert optimizer.messages.empty()


def test_optimizer_only_mirrors_configured_sites(sessions: dict[str, Session]) -> None:
    optimizer = sessions["optimizer"]

    assert optimizer.publish(command_topic("C"), "unknown site") == NOT_AUTHORIZED
    assert optimizer.publish(telemetry_feedback_topic("C", "gw"), "x") == NOT_AUTHORIZED
    assert optimizer.publish(lifetime_topic("A", "gw", "pv_generation"), "x") == NOT_AUTHORIZED
    assert optimizer.publish(command_response_topic("A"), "x") == NOT_AUTHORIZED


@pytest.mark.parametrize(
    ("username", "password"),
    [(None, None), ("A.gw", "wrong password"), ("nobody", "whatever"), ("optimizer", "")],
)
def test_anonymous_and_wrong_logins_are_refused(
    generated_broker: RunningBroker, username: str | None, password: str | None
) -> None:
    session = Session(generated_broker.port, "test-refused", username, password)
    try:
        reason = session.connect()
    finally:
        session.close()

    assert reason.is_failure
    assert reason.getName() in {"Not authorized", "Bad user name or password"}
