"""What the MQTT link refuses, and what a real Mosquitto broker refuses it: bad settings
and QoS are errors naming the value; a publish or subscription the broker's ACL denies is
a failed handle, never a silent success. (Mosquitto 2 grants every subscription and
applies read ACLs at delivery, so a refused SUBACK cannot be provoked from it.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bess_dispatch_core.link.backoff import ExponentialBackoff
from bess_dispatch_core.link.mqtt_link import BrokerSettings, MqttLink, MqttProtocol
from tests.plugins.mosquitto_broker import MakeMosquittoBroker

TIMEOUT_S = 5.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"host": " "}, "host must be a non-empty string"),
        ({"port": 0}, "port must be an integer in 1..65535, got 0"),
        ({"password": "secret"}, "password needs a username"),
        ({"keepalive": 4}, "keepalive must be >= 5 seconds, got 4"),
        ({"connect_timeout": 0.0}, "connect_timeout must be > 0, got 0.0"),
    ],
)
def test_bad_broker_settings_are_refused_naming_the_value(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BrokerSettings(**({"host": "127.0.0.1"} | changes))


def test_a_qos_outside_0_to_2_is_refused() -> None:
    link = MqttLink(BrokerSettings(host="127.0.0.1"))
    with pytest.raises(ValueError, match="qos must be 0, 1 or 2, got 3"):
        link.subscribe("cmd/#", lambda topic, payload: None, qos=3)
    with pytest.raises(ValueError, match="qos must be 0, 1 or 2, got -1"):
        link.publish("dt/x", b"{}", qos=-1)


@pytest.fixture
def acl_link(make_mosquitto_broker: MakeMosquittoBroker) -> Iterator[MqttLink]:
    """A link (MQTT 5) for user gw, which may write dt/site/# and read cmd/site/# only."""
    broker = make_mosquitto_broker(
        users={"gw": "gw-password"},
        acl="user gw\ntopic write dt/site/#\ntopic read cmd/site/#\n",
    )
    link = MqttLink(
        BrokerSettings(
            host=broker.host,
            port=broker.port,
            username="gw",
            password="gw-password",
            protocol=MqttProtocol.V5,
        ),
        backoff=ExponentialBackoff(initial=0.05, maximum=0.2),
    )
    link.start()
    try:
        yield link
    finally:
        link.stop()


def test_a_publish_the_broker_denies_fails_with_its_reason(acl_link: MqttLink) -> None:
    assert acl_link.wait_connected(TIMEOUT_S)
    allowed = acl_link.publish("dt/site/gw/battery_soe/power", b"{}", qos=1)
    denied = acl_link.publish("dt/other-site/gw/battery_soe/power", b"{}", qos=1)
    assert allowed.wait(TIMEOUT_S), allowed.reason
    assert not denied.wait(TIMEOUT_S)
    assert denied.done()
    assert denied.reason.startswith("broker refused the publish"), denied.reason
