"""Telemetry from HA sensors to a real broker: every required metric, valid, exactly once."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.bess_dispatch.bess_dispatch_core.protocol.metrics import (
    UseCase,
    required_metrics,
)
from custom_components.bess_dispatch.const import DOMAIN
from custom_components.bess_dispatch.source_mapping import mappable_metrics
from tests.helpers.asyncapi import validated
from tests.plugins.mosquitto_broker import Broker

from .conftest import (
    BATTERY_DATA,
    GATEWAY,
    SITE,
    SOE_SENSOR,
    OptimizerClient,
    broker_data,
    setup_site,
)

STEP = timedelta(seconds=30)


def set_reading(hass: HomeAssistant, entity_id: str, value: float, unit: str, at: Any) -> None:
    device_class = {"kWh": "energy", "W": "power", "%": "battery"}[unit]
    state_class = "total_increasing" if unit == "kWh" else "measurement"
    hass.states.async_set(
        entity_id,
        f"{value:.3f}",
        {"unit_of_measurement": unit, "device_class": device_class, "state_class": state_class},
        timestamp=at.timestamp(),
    )


async def collect(client: OptimizerClient, hass: HomeAssistant, seconds: float) -> list[Any]:
    received: list[Any] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()
        received += client.received()
    return received


@pytest.mark.parametrize(
    ("use_case", "has_load"),
    [("ac_link", True), ("dc_link", True), ("standalone", False)],
)
async def test_every_required_metric_arrives_valid(
    hass: HomeAssistant, mosquitto_broker: Broker, use_case: str, has_load: bool
) -> None:
    client = OptimizerClient(mosquitto_broker)
    try:
        required, _optional = mappable_metrics(UseCase(use_case), has_load)
        sources = {
            metric.name: SOE_SENSOR if metric.name == "battery_soe" else f"sensor.{metric.name}"
            for metric in required
        }
        meters = [entity_id for entity_id in sources.values() if entity_id != SOE_SENSOR]
        # Eleven minutes of history, so at least one whole 5-minute window closes.
        now = dt_util.utcnow()
        start = now - timedelta(minutes=11)
        for entity_id in meters:
            set_reading(hass, entity_id, 100.0, "kWh", start)
        set_reading(hass, SOE_SENSOR, 40.0, "%", start)
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=f"{SITE}/{GATEWAY}",
            data={
                "site_id": SITE,
                "gateway_id": GATEWAY,
                "use_case": use_case,
                "has_load": has_load,
                "sources": sources,
                "source_type": "entities",
            }
            | BATTERY_DATA
            | broker_data(mosquitto_broker),
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

        at = start
        step = 0
        while at + STEP <= now:
            at += STEP
            step += 1
            for entity_id in meters:
                set_reading(hass, entity_id, 100.0 + 0.05 * step, "kWh", at)
            set_reading(hass, SOE_SENSOR, 40.0 + 0.2 * step, "%", at)
        async_fire_time_changed(hass, now + timedelta(minutes=2))
        received = await collect(client, hass, 2.0)

        seen: dict[str, set[str]] = {}
        message_ids: list[str] = []
        for topic, payload in received:
            if not topic.startswith("dt/"):
                continue
            address, document = validated(topic, payload)
            assert (address.site_id, address.gateway_id) == (SITE, GATEWAY)
            message_ids.append(document["message_id"])
            if address.metric is not None:
                seen.setdefault(address.metric, set()).add(address.kind.value)
        assert len(message_ids) == len(set(message_ids)), "a message arrived twice"
        for metric in required_metrics(UseCase(use_case), has_load=has_load):
            if metric.name == "curtailment":
                continue
            assert "lifetime" in seen.get(metric.name, set()), metric.name
            if metric.kind.value == "energy":
                assert "windowed" in seen[metric.name], metric.name
        assert "power" in seen["battery_soe"]
    finally:
        client.close()


def queued_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """message_ids waiting in the entry's outbox, newest first."""
    import json as json_module

    outbox = entry.runtime_data.telemetry.outbox
    assert outbox is not None
    return [json_module.loads(m.payload)["message_id"] for m in outbox.newest(100_000)]


async def outage_hour(hass: HomeAssistant, broker: Broker) -> tuple[MockConfigEntry, Any]:
    """A site whose broker is down while an hour of readings comes in."""
    from .conftest import setup_site

    now = dt_util.utcnow()
    start = now - timedelta(minutes=61)
    entry = await setup_site(hass, broker, readings_at=start)
    runtime = entry.runtime_data.runtime
    for _ in range(100):
        if runtime.link_status.connected:
            break
        await asyncio.sleep(0.02)
    broker.stop()
    for _ in range(100):
        if not runtime.link_status.connected:
            break
        await asyncio.sleep(0.02)
        await hass.async_block_till_done()
    meters = [e for e in entry.data["sources"].values() if e != SOE_SENSOR]
    at = start
    step = 0
    while at + STEP <= now:
        at += STEP
        step += 1
        for entity_id in meters:
            set_reading(hass, entity_id, 1000.0 + 0.05 * step, "kWh", at)
        set_reading(hass, SOE_SENSOR, 30.0 + 0.1 * step, "%", at)
    # The next send is due a minute on; it carries the windows that closed meanwhile.
    async_fire_time_changed(hass, now + timedelta(minutes=2))
    await hass.async_block_till_done()
    await hass.async_add_executor_job(lambda: None)  # let the outbox writes land
    return entry, now


def telemetry_ids(received: list[tuple[str, bytes]]) -> list[str]:
    """message_ids of the telemetry among ``received``, in arrival order."""
    return [
        validated(topic, payload)[1]["message_id"]
        for topic, payload in received
        if topic.startswith("dt/")
    ]


async def broker_back(
    hass: HomeAssistant,
    broker: Broker,
    queued: list[str],
    retrying: MockConfigEntry | None = None,
) -> list[tuple[str, bytes]]:
    """Restart the broker; every queued reading must arrive, each exactly once.

    ``retrying``: an entry waiting for the broker to set up, brought up by HA's retry.
    """
    broker.start()
    client = OptimizerClient(broker)
    received: list[tuple[str, bytes]] = []
    try:
        if retrying is not None:
            from .test_setup_checks import retry_until_loaded

            await retry_until_loaded(hass, retrying)
        # The backlog drains at 20 messages/s: wait for it (a loaded CI machine is slower
        # than a fixed window), then one more second so a duplicate would show.
        for _ in range(60):
            received += await collect(client, hass, 1.0)
            if set(queued) <= set(telemetry_ids(received)):
                break
        received += await collect(client, hass, 1.0)
        ids = telemetry_ids(received)
    finally:
        client.close()
    assert len(ids) == len(set(ids)), "a reading arrived twice"
    assert set(queued) <= set(ids), "a queued reading never arrived"
    return received


async def test_outage_hour_arrives_once_newest_first(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry, _now = await outage_hour(hass, mosquitto_broker)
    await asyncio.sleep(0.3)
    queued = await hass.async_add_executor_job(queued_ids, hass, entry)
    assert len(queued) >= 7 * 10  # an hour of 5-minute windows for each of 7 metrics

    received = await broker_back(hass, mosquitto_broker, queued)
    # Newest first: for one windowed topic, window ends only go back in time.
    windows = [
        validated(topic, payload)[1]["window_end"]
        for topic, payload in received
        if topic == f"dt/{SITE}/{GATEWAY}/meter_import_ac/energy/PT5M"
    ]
    assert len(windows) >= 10
    assert windows == sorted(windows, reverse=True)


async def test_outage_backlog_survives_a_reload(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry, _now = await outage_hour(hass, mosquitto_broker)
    await asyncio.sleep(0.3)
    queued = await hass.async_add_executor_job(queued_ids, hass, entry)
    # Reloaded while the broker is still away: set-up waits for it, the outbox stays on disk.
    assert not await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY

    await broker_back(hass, mosquitto_broker, queued, retrying=entry)


async def test_fallback_and_missing_sensor_raise_alerts_and_a_repair(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    from homeassistant.helpers import issue_registry as ir

    from .conftest import setup_site

    client = OptimizerClient(mosquitto_broker)
    try:
        now = dt_util.utcnow()
        entry = await setup_site(hass, mosquitto_broker, readings_at=now - timedelta(minutes=10))
        # Nothing scheduled yet: the self-consumption fallback is announced.
        alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert")
        assert (alert["code"], alert["active"]) == ("NO_SCHEDULE", True)

        # Unavailable for 6 minutes, past the 5-minute grace: reported as missing.
        hass.states.async_set(
            "sensor.meter_import_ac",
            "unavailable",
            timestamp=(now - timedelta(minutes=6)).timestamp(),
        )
        await hass.async_block_till_done()
        async_fire_time_changed(hass, now + timedelta(seconds=31))
        await hass.async_block_till_done()
        alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert")
        validated(f"dt/{SITE}/{GATEWAY}/alert", __import__("json").dumps(alert).encode())
        assert (alert["code"], alert["severity"], alert["active"]) == (
            "SOURCE_UNAVAILABLE:meter_import_ac",
            "warning",
            True,
        )
        issue_id = f"source_unavailable_{entry.entry_id}_meter_import_ac"
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
        state = hass.states.get("sensor.grid_meter_site_1_grid_import_meter")
        assert state is None or state.state == "unavailable"

        hass.states.async_set("sensor.meter_import_ac", "1001", {"unit_of_measurement": "kWh"})
        await hass.async_block_till_done()
        async_fire_time_changed(hass, now + timedelta(seconds=62))
        await hass.async_block_till_done()
        alert = await client.next_on(f"dt/{SITE}/{GATEWAY}/alert")
        assert (alert["code"], alert["active"]) == ("SOURCE_UNAVAILABLE:meter_import_ac", False)
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    finally:
        client.close()


async def test_optimizer_feedback_is_counted_once_and_shown(
    hass: HomeAssistant, mosquitto_broker: Broker, optimizer: OptimizerClient
) -> None:
    """A test broker's TelemetryFeedback: the error shows, a redelivery and junk do not."""
    from custom_components.bess_dispatch.bess_dispatch_core.protocol import (
        ErrorCode,
        ProtocolError,
        TelemetryFeedback,
    )

    from .conftest import setup_site
    from .test_control import state, wait_for

    entry = await setup_site(hass, mosquitto_broker)
    runtime = entry.runtime_data.runtime
    telemetry = entry.runtime_data.telemetry
    await wait_for(hass, lambda: runtime.link_status.connected)
    topic = f"res/{SITE}/{GATEWAY}/telemetry"
    error = TelemetryFeedback.error(
        in_reply_to="tele-2",
        errors=[ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, "measurement_value.value", "< 0")],
        now=dt_util.utcnow(),
    )
    optimizer.publish(
        topic, TelemetryFeedback.ok(in_reply_to="tele-1", now=dt_util.utcnow()).to_payload()
    )
    optimizer.publish(topic, error.to_payload())
    optimizer.publish(topic, error.to_payload())  # a QoS 1 redelivery
    optimizer.publish(topic, b"not json")
    # One publisher, QoS 1: the junk arrives last, so everything before it has been counted.
    await wait_for(hass, lambda: telemetry.feedback.unparseable == 1)
    feedback = telemetry.feedback
    assert (feedback.ok, feedback.errors, feedback.duplicates) == (1, 1, 1)
    assert state(hass, "sensor", "last_feedback_error") == "FIELD_OUT_OF_RANGE"


async def test_a_clock_jump_sends_each_metric_once_not_every_missed_minute(
    hass: HomeAssistant, mosquitto_broker: Broker, freezer: FrozenDateTimeFactory
) -> None:
    """A Raspberry Pi without a clock battery boots hours behind until NTP steps the clock.

    The timer used to tick once per missed minute at once (360 rounds of every metric for
    6 h, stamped with past times, in one burst); now it sends one round at the current time.
    """
    start = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    freezer.move_to(start)
    entry = await setup_site(hass, mosquitto_broker)
    telemetry = entry.runtime_data.telemetry
    assert telemetry.outbox is not None
    first_minute = start + timedelta(minutes=1)
    freezer.move_to(first_minute)
    async_fire_time_changed(hass, first_minute)
    await hass.async_block_till_done()
    # Frozen time keeps the link from connecting, so whatever is sent stays queued: count it.
    before = len(telemetry.outbox)
    one_round = len(telemetry.pipeline.publish_all(first_minute))

    jumped = start + timedelta(hours=6)
    freezer.move_to(jumped)
    async_fire_time_changed(hass, jumped)
    await hass.async_block_till_done()
    queued = len(telemetry.outbox) - before
    assert 0 < queued <= one_round, f"{queued} messages after a 6 h jump, one round is {one_round}"
