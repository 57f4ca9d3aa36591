"""The probe's hostile commands through real Home Assistant and a packet-limited Mosquitto.

The broker runs with the add-on's ``max_packet_size`` (``MAX_PACKET_BYTES``): an answer
above it makes Mosquitto drop the gateway's connection, and no answer arrives.
"""

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.bess_dispatch.bess_dispatch_core.gateway import dispatcher
from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import Priority
from custom_components.bess_dispatch.bess_dispatch_core.protocol.limits import (
    MAX_PACKET_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_REPORTED_ERRORS,
)
from custom_components.bess_dispatch.bess_dispatch_core.protocol.timeformat import (
    format_datetime,
)
from custom_components.bess_dispatch.bess_dispatch_core.protocol.validation import (
    parse_command_response,
)
from tests.helpers.asyncapi import validated
from tests.plugins.mosquitto_broker import Broker

from .conftest import OptimizerClient, setup_site
from .test_control import COMMAND_TOPIC, RESPONSE_TOPIC, command, state, wait_for


def p2(power_kw: float, issued_at: str | None = None) -> dict[str, Any]:
    document = command(Priority.INTRADAY, [power_kw], start_offset_min=-5).to_dict()
    if issued_at is not None:
        document["issued_at"] = issued_at
    return document


async def answer_to(client: OptimizerClient, document: dict[str, Any] | bytes) -> dict[str, Any]:
    payload = document if isinstance(document, bytes) else json.dumps(document).encode()
    client.publish(COMMAND_TOPIC, payload)
    return await client.next_on(RESPONSE_TOPIC)


async def test_a_far_future_issued_at_does_not_freeze_the_setpoint(
    hass: HomeAssistant, limited_broker: Broker, limited_optimizer: OptimizerClient
) -> None:
    """Probe 1: a p2 issued 2999-01-01, then three normal p2s; the setpoint stayed 1.0 kW."""
    entry = await setup_site(hass, limited_broker)
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)
    future = await answer_to(limited_optimizer, p2(1.0, "2999-01-01T00:00:00Z"))
    assert future["status"] == "rejected"
    assert [(e["code"], e["path"]) for e in future["errors"]] == [
        ("FIELD_OUT_OF_RANGE", "issued_at")
    ]
    for power in (-2.0, -3.0, 0.5):
        assert (await answer_to(limited_optimizer, p2(power)))["status"] == "accepted"
    await wait_for(hass, lambda: state(hass, "sensor", "setpoint") == "0.5")


async def test_thirteen_thousand_empty_entries_are_answered_through_the_broker(
    hass: HomeAssistant, limited_broker: Broker, limited_optimizer: OptimizerClient
) -> None:
    """Probe 2: a 2.03 MB answer made Mosquitto drop the gateway; no answer arrived."""
    entry = await setup_site(hass, limited_broker)
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)
    document = p2(1.0)
    document["schedule"] = [{}] * 13_000
    response = await answer_to(limited_optimizer, document)
    validated(RESPONSE_TOPIC, json.dumps(response).encode())
    assert response["status"] == "rejected"
    assert len(response["errors"]) == MAX_REPORTED_ERRORS + 1
    assert response["errors"][-1]["message"] == "25950 more errors not listed (26000 in all)"
    assert response["command_id"] == document["command_id"]
    # Still connected, and still answering.
    assert (await answer_to(limited_optimizer, p2(0.5)))["status"] == "accepted"
    assert runtime.link_status.connected


async def test_a_huge_mode_is_not_echoed(
    hass: HomeAssistant, limited_broker: Broker, limited_optimizer: OptimizerClient
) -> None:
    """Probe 3: "M"*12000 came back in a message the optimizer's parser refused."""
    entry = await setup_site(hass, limited_broker)
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)
    document = p2(1.0)
    document["schedule"][0]["mode"] = "M" * 12_000
    limited_optimizer.publish(COMMAND_TOPIC, json.dumps(document).encode())
    response = await limited_optimizer.next_on(RESPONSE_TOPIC)
    error = response["errors"][0]
    assert (error["code"], error["path"]) == ("FIELD_OUT_OF_RANGE", "schedule[0].mode")
    assert len(error["message"]) < 200
    assert parse_command_response(json.dumps(response)).ok


async def test_a_command_over_the_size_limit_is_refused_with_an_answer(
    hass: HomeAssistant, limited_broker: Broker, limited_optimizer: OptimizerClient
) -> None:
    """Between the payload limit and the broker's packet limit: the gateway says why."""
    entry = await setup_site(hass, limited_broker)
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)
    document = p2(1.0)
    document["padding"] = "x" * (MAX_PAYLOAD_BYTES - len(json.dumps(document)) + 10)
    payload = json.dumps(document).encode()
    assert MAX_PAYLOAD_BYTES < len(payload) < MAX_PACKET_BYTES - 100
    response = await answer_to(limited_optimizer, payload)
    assert [(e["code"], e["path"]) for e in response["errors"]] == [("MESSAGE_MALFORMED", "")]


async def test_the_largest_command_is_validated_off_the_event_loop(
    hass: HomeAssistant,
    limited_broker: Broker,
    limited_optimizer: OptimizerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A year-long p0 (17,520 entries, about 1.8 MB) is read in the executor."""
    entry = await setup_site(hass, limited_broker)
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)
    threads: list[threading.Thread] = []
    real = dispatcher.read_command

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr("custom_components.bess_dispatch.runtime.read_command", spy)
    start = dt_util.utcnow().replace(second=0, microsecond=0)
    document = p2(1.0)
    document["priority"] = 0

    def schedule_entry(index: int) -> dict[str, Any]:
        slot = start + timedelta(minutes=30 * index)
        end = slot + timedelta(minutes=30)
        return {"start": format_datetime(slot), "end": format_datetime(end), "power_kw": -1.25}

    # A year of half hours: the largest schedule an optimizer sends as one p0.
    document["schedule"] = [schedule_entry(index) for index in range(365 * 48)]
    assert 1_500_000 < len(json.dumps(document)) <= MAX_PAYLOAD_BYTES
    response = await answer_to(limited_optimizer, document)
    assert response["status"] == "accepted"
    assert threads
    assert all(thread is not threading.main_thread() for thread in threads)
    await wait_for(hass, lambda: state(hass, "sensor", "control_source") == "p0")


async def test_unloading_the_entry_cancels_a_command_being_handled(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command's task belongs to the entry: unload cancels it, so it neither answers on a
    stopped link nor touches the book of an entry that is gone."""
    entry = await setup_site(hass, mosquitto_broker)
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)
    entered, release, returned = threading.Event(), threading.Event(), threading.Event()
    real = dispatcher.read_command

    def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        try:
            return real(*args, **kwargs)
        finally:
            returned.set()

    monkeypatch.setattr("custom_components.bess_dispatch.runtime.read_command", held)
    optimizer = OptimizerClient(mosquitto_broker)
    try:
        optimizer.publish(COMMAND_TOPIC, json.dumps(p2(1.0)))
        await wait_for(hass, entered.is_set)
        assert await hass.config_entries.async_unload(entry.entry_id)
        release.set()
        await wait_for(hass, returned.is_set)
        await hass.async_block_till_done()
        assert runtime.last_response is None
        assert not [topic for topic, _ in optimizer.received() if topic == RESPONSE_TOPIC]
    finally:
        release.set()
        optimizer.close()
