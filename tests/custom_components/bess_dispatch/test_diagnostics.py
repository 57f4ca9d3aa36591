"""Diagnostics carry the state a support case needs and no secret."""

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.plugins.mosquitto_broker import MakeMosquittoBroker

from .conftest import setup_site


async def test_diagnostics_redact_credentials_and_certificate_paths(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    make_mosquitto_broker: MakeMosquittoBroker,
) -> None:
    broker = make_mosquitto_broker(users={"gateway-user": "s3cret-pass"})
    entry = await setup_site(hass, broker)
    secrets = {
        "username": "gateway-user",
        "password": "s3cret-pass",
        "ca_file": "/ssl/private-ca.pem",
        "client_cert": "/ssl/gw-cert.pem",
        "client_key": "/ssl/gw-key.pem",
    }
    hass.config_entries.async_update_entry(entry, data=entry.data | secrets)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    text = json.dumps(diagnostics)
    for value in secrets.values():
        assert value not in text
    assert diagnostics["entry"]["data"]["site_id"] == "site-1"
    assert diagnostics["control"]["mode"] == "SELF_CONSUMPTION"
    assert diagnostics["limits"]["max_charge_kw"] == 5.0
    assert diagnostics["site"]["use_case"] == "ac_link"
    assert diagnostics["site"]["telemetry_interval_s"] > 0
    assert "meter_import_ac" in diagnostics["telemetry"]["metrics"]
    assert "NO_SCHEDULE" in diagnostics["telemetry"]["active_alerts"]
