"""The gateway over Home Assistant's own MQTT integration, connected to a real broker."""

from homeassistant import config_entries
from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import Priority
from custom_components.bess_dispatch.const import DOMAIN
from tests.helpers.asyncapi import validated
from tests.plugins.mosquitto_broker import Broker

from .conftest import (
    BATTERY_DATA,
    GATEWAY,
    SITE,
    SITE_DATA,
    OptimizerClient,
    add_source_sensors,
    set_soc,
)
from .test_control import command, state, wait_for


async def start_flow_to_broker_choice(hass: HomeAssistant) -> str:
    set_soc(hass, 50)
    mapping = add_source_sensors(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_DATA)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BATTERY_DATA)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "sources"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["home_assistant_broker", "broker"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "home_assistant_broker"}
    )
    return str(result["flow_id"])


async def test_without_the_mqtt_integration_the_choice_is_refused(
    hass: HomeAssistant,
) -> None:
    flow_id = await start_flow_to_broker_choice(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["errors"] == {"base": "mqtt_not_configured"}


async def test_commands_and_telemetry_through_home_assistants_mqtt(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    mqtt_entry = MockConfigEntry(
        domain="mqtt", data={"broker": mosquitto_broker.host, "port": mosquitto_broker.port}
    )
    mqtt_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    assert await mqtt.async_wait_for_mqtt_client(hass)
    await wait_for(hass, lambda: mqtt.is_connected(hass))

    client = OptimizerClient(mosquitto_broker)
    try:
        flow_id = await start_flow_to_broker_choice(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, {})
        await hass.async_block_till_done()
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"]["broker_type"] == "home_assistant"
        entry = hass.config_entries.async_entries(DOMAIN)[0]
        runtime = entry.runtime_data.runtime
        await wait_for(hass, lambda: runtime.link_status.connected)
        assert state(hass, "binary_sensor", "broker_connected") == "on"
        # HA's MQTT client batches new subscriptions; the command must not race them.
        await wait_for(hass, lambda: f"\tcmd/{SITE}/battery/power" in mosquitto_broker.log_text())

        cmd = command(Priority.INTRADAY, [-1.5])
        client.publish(f"cmd/{SITE}/battery/power", cmd.to_payload())
        response = await client.next_on(f"res/{SITE}/command")
        assert (response["status"], response["command_id"]) == ("accepted", cmd.command_id)
        await wait_for(hass, lambda: state(hass, "sensor", "setpoint") == "-1.5")

        entry.runtime_data.telemetry.publish_now()
        lifetime = await client.next_on(f"dt/{SITE}/{GATEWAY}/meter_import_ac/lifetime")
        validated(f"dt/{SITE}/{GATEWAY}/meter_import_ac/lifetime", _encode(lifetime))
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        client.close()


def _encode(document: dict[str, object]) -> bytes:
    import json

    return json.dumps(document).encode()


async def ha_mqtt_site(
    hass: HomeAssistant, broker: Broker, *, birth: bool = True
) -> config_entries.ConfigEntry:
    """HA's MQTT integration on ``broker``, and a site set up to use it; its entry.

    ``birth=False``: HA's MQTT publishes its birth message a few seconds after connecting;
    a test that stops the broker before then would see that task fail (HA's behaviour).
    """
    mqtt_entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": broker.host, "port": broker.port},
        options={} if birth else {"birth_message": {}},
    )
    mqtt_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    await wait_for(hass, lambda: mqtt.is_connected(hass))
    flow_id = await start_flow_to_broker_choice(hass)
    await hass.config_entries.flow.async_configure(flow_id, {})
    await hass.async_block_till_done()
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await wait_for(hass, lambda: entry.runtime_data.runtime.link_status.connected)
    return entry


async def test_lost_broker_shows_and_publishes_fail_fast_for_the_outbox(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    """HA's MQTT loses its broker: the gateway says so and keeps messages in the outbox."""
    from custom_components.bess_dispatch.bess_dispatch_core.link.publish_handle import (
        PublishOutcome,
    )

    entry = await ha_mqtt_site(hass, mosquitto_broker, birth=False)
    runtime = entry.runtime_data.runtime

    mosquitto_broker.stop()
    await wait_for(hass, lambda: not runtime.link_status.connected, within=10.0)
    assert state(hass, "binary_sensor", "broker_connected") == "off"
    assert runtime.link.status.failure is not None
    handle = runtime.link.publish(f"dt/{SITE}/{GATEWAY}/alert", b"{}", qos=1)
    assert (handle.outcome, handle.reason) == (PublishOutcome.FAILED, "not connected")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_subscription_made_after_start_is_delivered(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    """Subscribing from another thread once HA's MQTT link runs: it still reaches HA."""
    entry = await ha_mqtt_site(hass, mosquitto_broker)
    link = entry.runtime_data.runtime.link

    received: list[tuple[str, bytes]] = []
    await hass.async_add_executor_job(
        link.subscribe, "test/late", lambda topic, payload: received.append((topic, payload))
    )
    await wait_for(hass, lambda: "\ttest/late" in mosquitto_broker.log_text())
    client = OptimizerClient(mosquitto_broker)
    try:
        client.publish("test/late", b"\x00binary")
        await wait_for(hass, lambda: bool(received))
    finally:
        client.close()
    assert received == [("test/late", b"\x00binary")]
    assert await hass.config_entries.async_unload(entry.entry_id)
