"""Every error code of the protocol, produced through a real broker, with its field path.

RESOURCE_UNAVAILABLE needs an unreachable battery: test_actuators.py shows it with a
real Modbus server that goes away.
"""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import Priority
from tests.helpers.asyncapi import validated
from tests.plugins.mosquitto_broker import Broker

from .conftest import SITE, OptimizerClient, setup_site
from .test_control import command, wait_for

COMMAND_TOPIC = f"cmd/{SITE}/battery/power"
RESPONSE_TOPIC = f"res/{SITE}/command"


def valid() -> dict[str, Any]:
    return command(Priority.INTRADAY, [1.0, -1.0]).to_dict()


def without(key: str) -> Callable[[], bytes]:
    def build() -> bytes:
        document = valid()
        del document[key]
        return json.dumps(document).encode()

    return build


def changed(change: Callable[[dict[str, Any]], None]) -> Callable[[], bytes]:
    def build() -> bytes:
        document = valid()
        change(document)
        return json.dumps(document).encode()

    return build


def _reverse_first_entry(document: dict[str, Any]) -> None:
    entry = document["schedule"][0]
    entry["start"], entry["end"] = entry["end"], entry["start"]


def _in_the_past(document: dict[str, Any]) -> None:
    start = dt_util.utcnow() - timedelta(days=1)
    for i, entry in enumerate(document["schedule"]):
        entry["start"] = (start + timedelta(minutes=30 * i)).isoformat()
        entry["end"] = (start + timedelta(minutes=30 * (i + 1))).isoformat()


CASES = [
    ("MESSAGE_MALFORMED", lambda: b"{this is not json", ""),
    ("MISSING_FIELD", without("priority"), "priority"),
    ("TYPE_MISMATCH", changed(lambda d: d.update(priority="2")), "priority"),
    (
        "FIELD_OUT_OF_RANGE",
        changed(lambda d: d["schedule"][1].update(mode="TURBO")),
        "schedule[1].mode",
    ),
    ("TIME_WINDOW_INVALID", changed(_reverse_first_entry), "schedule[0].end"),
    ("EXPIRED", changed(_in_the_past), "schedule"),
]


@pytest.mark.parametrize(("code", "build", "path"), CASES, ids=[case[0] for case in CASES])
async def test_error_code_through_the_broker(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    optimizer: OptimizerClient,
    code: str,
    build: Callable[[], bytes],
    path: str,
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)
    before = entry.runtime_data.runtime.dispatcher.to_dict()

    optimizer.publish(COMMAND_TOPIC, build())
    response = await optimizer.next_on(RESPONSE_TOPIC)

    validated(RESPONSE_TOPIC, json.dumps(response).encode())
    assert response["status"] == "rejected"
    assert (response["errors"][0]["code"], response["errors"][0]["path"]) == (code, path)
    assert entry.runtime_data.runtime.dispatcher.to_dict() == before


async def test_duplicate_through_the_broker(
    hass: HomeAssistant, mosquitto_broker: Broker, optimizer: OptimizerClient
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)
    payload = json.dumps(valid()).encode()
    optimizer.publish(COMMAND_TOPIC, payload)
    assert (await optimizer.next_on(RESPONSE_TOPIC))["status"] == "accepted"
    optimizer.publish(COMMAND_TOPIC, payload)
    response = await optimizer.next_on(RESPONSE_TOPIC)
    assert response["status"] == "rejected"
    assert {(e["code"], e["path"]) for e in response["errors"]} == {
        ("DUPLICATE", "message_id"),
        ("DUPLICATE", "command_id"),
    }


async def test_internal_error_through_the_broker(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    optimizer: OptimizerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fault inside the gateway is still answered, and changes nothing."""
    entry = await setup_site(hass, mosquitto_broker)
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    # Fault injection: the broker, the parsing and the answer path stay real.
    monkeypatch.setattr(runtime.dispatcher.book, "offer", broken)
    optimizer.publish(COMMAND_TOPIC, json.dumps(valid()).encode())
    response = await optimizer.next_on(RESPONSE_TOPIC)
    assert response["status"] == "rejected"
    assert [(e["code"], e["path"]) for e in response["errors"]] == [("INTERNAL_ERROR", "")]
    assert runtime.state is not None
    assert runtime.state.decision.source.value == "fallback"
