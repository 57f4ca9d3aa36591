"""A corrupt outbox file in .storage: set aside, replaced, reported; the site keeps working."""

import json
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import Priority
from custom_components.bess_dispatch.const import DOMAIN
from custom_components.bess_dispatch.telemetry import outbox_path, remove_outbox
from tests.helpers.asyncapi import validated
from tests.plugins.mosquitto_broker import Broker

from .conftest import GATEWAY, SITE, OptimizerClient, setup_site
from .test_control import command, wait_for

ALERT_TOPIC = f"dt/{SITE}/{GATEWAY}/alert"
GARBAGE = b"garbage, not SQLite " * 200


async def test_a_corrupt_outbox_is_set_aside_and_the_site_keeps_working(
    hass: HomeAssistant, mosquitto_broker: Broker, optimizer: OptimizerClient
) -> None:
    """The probe: garbage in the file failed the whole entry ("file is not a database")."""
    entry = await setup_site(hass, mosquitto_broker)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    path = outbox_path(hass, entry.entry_id)
    await hass.async_add_executor_job(path.write_bytes, GARBAGE)
    optimizer.received()  # forget what the first run sent

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)

    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"outbox_set_aside_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    set_aside = Path(issue.translation_placeholders["file"])
    assert await hass.async_add_executor_job(set_aside.read_bytes) == GARBAGE
    while True:
        alert = await optimizer.next_on(ALERT_TOPIC)
        if alert["code"] == "MESSAGES_DROPPED":
            break
    validated(ALERT_TOPIC, json.dumps(alert).encode())
    assert "set aside" in alert["message"]

    # Commands are still handled.
    cmd = command(Priority.INTRADAY, [1.5])
    optimizer.publish(f"cmd/{SITE}/battery/power", cmd.to_payload())
    response = await optimizer.next_on(f"res/{SITE}/command")
    assert (response["status"], response["command_id"]) == ("accepted", cmd.command_id)

    # Removing the site removes the set-aside file too.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_add_executor_job(remove_outbox, hass, entry.entry_id)
    assert not await hass.async_add_executor_job(lambda: list(path.parent.glob(f"{path.name}*")))
