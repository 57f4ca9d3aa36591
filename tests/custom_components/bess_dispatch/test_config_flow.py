"""Config, options, reconfigure and reauth flows against a real Home Assistant and broker."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch.const import DOMAIN
from tests.plugins.mosquitto_broker import Broker, MakeMosquittoBroker

from .conftest import (
    BATTERY_DATA,
    SITE_DATA,
    add_source_sensors,
    broker_data,
    entry_data,
    set_soc,
)


async def choose(hass: HomeAssistant, menu: Any, option: str) -> Any:
    """Pick ``option`` in a menu step."""
    assert menu["type"] is FlowResultType.MENU
    assert option in menu["menu_options"]
    return await hass.config_entries.flow.async_configure(menu["flow_id"], {"next_step_id": option})


async def start_flow(hass: HomeAssistant) -> dict[str, Any]:
    mapping = add_source_sensors(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_DATA)
    assert result["step_id"] == "battery"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BATTERY_DATA)
    result = await choose(hass, result, "sources")
    assert result["step_id"] == "sources"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    assert result["step_id"] == "broker_choice"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "broker"}
    )
    assert result["step_id"] == "broker"
    return dict(result)


def form(broker: Broker, **changes: Any) -> dict[str, Any]:
    """The broker step as a person fills it in (blank fields left out)."""
    data = {
        key: value
        for key, value in broker_data(broker).items()
        if value is not None and key != "broker_type"
    }
    return data | changes


async def test_full_flow_connects_then_creates_and_loads_the_entry(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    set_soc(hass, 50)
    result = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form(mosquitto_broker)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "site-1 / gw-1"
    assert result["data"] == entry_data(mosquitto_broker)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.unique_id == "site-1/gw-1"
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize(
    ("field", "value"),
    [("site_id", "site/1"), ("site_id", "site+"), ("gateway_id", "gw#"), ("gateway_id", "  ")],
)
async def test_ids_that_break_topics_are_refused(
    hass: HomeAssistant, field: str, value: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**SITE_DATA, field: value}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "invalid_topic_id"}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"usable_kwh": 0}, {"usable_kwh": "must_be_positive"}),
        ({"max_charge_kw": 0}, {"max_charge_kw": "must_be_positive"}),
        ({"max_discharge_kw": 0}, {"max_discharge_kw": "must_be_positive"}),
        ({"soe_min_pct": 90, "soe_max_pct": 80}, {"soe_min_pct": "soe_window_invalid"}),
    ],
)
async def test_inconsistent_battery_is_refused(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_DATA)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], BATTERY_DATA | changes
    )
    assert result["step_id"] == "battery"
    assert result["errors"] == errors


async def test_unreachable_broker_is_named_and_nothing_is_created(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    mosquitto_broker.stop()
    result = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form(mosquitto_broker)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_a_password_without_a_username_is_refused_before_connecting(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    result = await start_flow(hass)
    connections = mosquitto_broker.log_text().count("New connection")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form(mosquitto_broker, password="no-user")
    )
    assert result["errors"] == {"base": "invalid_broker"}
    assert mosquitto_broker.log_text().count("New connection") == connections
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_refused_credentials_are_named(
    hass: HomeAssistant, mosquitto_broker_auth: Broker
) -> None:
    result = await start_flow(hass)
    wrong = form(
        mosquitto_broker_auth, username=mosquitto_broker_auth.user.username, password="wrong"
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], wrong)
    assert result["errors"] == {"base": "invalid_auth"}

    right = wrong | {"password": mosquitto_broker_auth.user.password}
    set_soc(hass, 50)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], right)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


def tls_form(broker: Broker, ca: Path, cert: Path, key: Path) -> dict[str, Any]:
    return form(broker, tls=True, ca_file=str(ca), client_cert=str(cert), client_key=str(key))


async def test_mutual_tls_connects_with_a_trusted_client_certificate(
    hass: HomeAssistant, mosquitto_broker_tls: Broker
) -> None:
    tls = mosquitto_broker_tls.tls
    set_soc(hass, 50)
    result = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        tls_form(mosquitto_broker_tls, tls.ca_cert, tls.client.cert, tls.client.key),
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["tls"] is True


async def test_tls_failures_are_each_named(
    hass: HomeAssistant, mosquitto_broker_tls: Broker, tmp_path: Path
) -> None:
    tls = mosquitto_broker_tls.tls
    result = await start_flow(hass)
    flow_id = result["flow_id"]

    untrusted = tls.certificates.client_from_other_ca("gw-1")
    result = await hass.config_entries.flow.async_configure(
        flow_id, tls_form(mosquitto_broker_tls, tls.ca_cert, untrusted.cert, untrusted.key)
    )
    assert result["errors"] == {"base": "certificate_rejected"}

    wrong_ca = tls.certificates.unrelated_ca_cert
    result = await hass.config_entries.flow.async_configure(
        flow_id, tls_form(mosquitto_broker_tls, wrong_ca, tls.client.cert, tls.client.key)
    )
    assert result["errors"] == {"base": "server_not_trusted"}

    missing = tmp_path / "missing.pem"
    result = await hass.config_entries.flow.async_configure(
        flow_id, tls_form(mosquitto_broker_tls, missing, tls.client.cert, tls.client.key)
    )
    assert result["errors"] == {"ca_file": "invalid_tls_file"}


async def test_same_site_and_gateway_is_refused_twice(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id="site-1/gw-1", data={}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_DATA)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_standalone_battery_has_no_load(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    set_soc(hass, 50)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**SITE_DATA, "use_case": "standalone", "has_load": True}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BATTERY_DATA)
    result = await choose(hass, result, "sources")
    mapping = add_source_sensors(hass, "standalone", has_load=False)
    assert set(mapping) == {"meter_export_ac", "meter_import_ac", "battery_soe"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "broker"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form(mosquitto_broker)
    )
    await hass.async_block_till_done()
    assert result["data"]["has_load"] is False


async def test_options_flow_sets_the_owner_limits(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    from .conftest import setup_site

    entry = await setup_site(hass, mosquitto_broker)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "grid_charging_allowed": False,
            "ramp_kw_per_s": 0.5,
            "export_limit_kw": 3.0,
            "telemetry_interval_s": 30,
            "telemetry_window": "PT15M",
        },
    )
    assert result["step_id"] == "sources"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(entry.data["sources"])
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    limits = entry.runtime_data.runtime.dispatcher.limits
    assert (limits.grid_charging_allowed, limits.ramp_kw_per_s, limits.export_limit_kw) == (
        False,
        0.5,
        3.0,
    )
    telemetry = entry.runtime_data.telemetry
    assert (telemetry.interval, telemetry.window) == (
        timedelta(seconds=30),
        timedelta(minutes=15),
    )


async def test_reconfigure_moves_to_another_broker(
    hass: HomeAssistant, make_mosquitto_broker: MakeMosquittoBroker
) -> None:
    from .conftest import setup_site

    first = make_mosquitto_broker()
    second = make_mosquitto_broker()
    entry = await setup_site(hass, first)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"

    first.stop()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], BATTERY_DATA | form(first)
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], BATTERY_DATA | form(second, usable_kwh=12.0)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert (entry.data["port"], entry.data["usable_kwh"]) == (second.port, 12.0)
    assert entry.state is ConfigEntryState.LOADED


async def test_refused_credentials_at_run_time_start_reauth_and_a_repair(
    hass: HomeAssistant, make_mosquitto_broker: MakeMosquittoBroker
) -> None:
    from homeassistant.helpers import issue_registry as ir

    from .conftest import setup_site

    broker = make_mosquitto_broker(users={"gw": "old"})
    entry = await setup_site(hass, broker)
    hass.config_entries.async_update_entry(
        entry, data=entry.data | {"username": "gw", "password": "stale"}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    issue_id = f"broker_refused_{entry.entry_id}"
    for _ in range(50):
        if ir.async_get(hass).async_get_issue(DOMAIN, issue_id):
            break
        await hass.async_block_till_done()
        import asyncio

        await asyncio.sleep(0.1)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"username": "gw", "password": "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"username": "gw", "password": "old"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.data["password"] == "old"


async def test_sources_refuse_missing_entities_and_wrong_units(hass: HomeAssistant) -> None:
    mapping = add_source_sensors(hass)
    hass.states.async_set("sensor.temperature", "21", {"unit_of_measurement": "°C"})
    hass.states.async_set("sensor.house_power", "800", {"unit_of_measurement": "W"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_DATA)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BATTERY_DATA)
    result = await choose(hass, result, "sources")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        mapping
        | {
            "meter_import_ac": "sensor.temperature",
            "meter_export_ac": "sensor.gone",
            "load_demand_ac": "sensor.house_power",  # a power sensor is integrated: fine
            "battery_energy_remaining": "sensor.house_power",  # must be stored energy
        },
    )
    assert result["step_id"] == "sources"
    assert result["errors"] == {
        "meter_import_ac": "incompatible_unit",
        "meter_export_ac": "entity_not_found",
        "battery_energy_remaining": "incompatible_unit",
    }


async def test_sources_step_requires_every_required_metric(hass: HomeAssistant) -> None:
    from homeassistant.data_entry_flow import InvalidData

    mapping = add_source_sensors(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], SITE_DATA)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BATTERY_DATA)
    result = await choose(hass, result, "sources")
    del mapping["battery_charge_ac"]
    with pytest.raises(InvalidData) as raised:
        await hass.config_entries.flow.async_configure(result["flow_id"], mapping)
    assert "battery_charge_ac" in str(raised.value.schema_errors)


async def test_untrusted_client_certificate_at_run_time_raises_a_repair(
    hass: HomeAssistant, mosquitto_broker_tls: Broker
) -> None:
    """The broker stops trusting the gateway's certificate: repair issue and reauth."""
    import asyncio

    from homeassistant.helpers import issue_registry as ir

    tls = mosquitto_broker_tls.tls
    untrusted = tls.certificates.client_from_other_ca("gw-1")
    set_soc(hass, 50)
    add_source_sensors(hass)
    data = entry_data(mosquitto_broker_tls) | {
        "tls": True,
        "ca_file": str(tls.ca_cert),
        "client_cert": str(untrusted.cert),
        "client_key": str(untrusted.key),
    }
    entry = MockConfigEntry(domain=DOMAIN, unique_id="site-1/gw-1", data=data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    issue_id = f"broker_refused_{entry.entry_id}"
    for _ in range(100):
        await hass.async_block_till_done()
        if ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None:
            break
        await asyncio.sleep(0.05)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "broker_refused"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_reconfigure_over_home_assistants_mqtt_changes_only_the_battery(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    """No broker fields to ask for, and no probe: HA's MQTT integration owns the broker."""
    set_soc(hass, 50)
    add_source_sensors(hass)
    data = entry_data(mosquitto_broker) | {"broker_type": "home_assistant"}
    entry = MockConfigEntry(domain=DOMAIN, unique_id="site-1/gw-1", data=data)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert "host" not in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], BATTERY_DATA | {"usable_kwh": 12.0}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert (entry.data["usable_kwh"], entry.data["broker_type"]) == (12.0, "home_assistant")


async def test_options_refuse_a_replaced_sensor_that_does_not_exist(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    from .conftest import setup_site

    entry = await setup_site(hass, mosquitto_broker)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_charging_allowed": False, "actuator": "none"}
    )
    assert result["step_id"] == "sources"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(entry.data["sources"]) | {"meter_import_ac": "sensor.gone"}
    )
    assert result["step_id"] == "sources"
    assert result["errors"] == {"meter_import_ac": "entity_not_found"}
    assert "sources" not in entry.options


async def test_options_of_a_modbus_site_skip_the_sensor_mapping(
    hass: HomeAssistant, mosquitto_broker: Broker, sunspec_device: Any
) -> None:
    from .test_modbus_source import set_up_modbus_site

    entry = await set_up_modbus_site(hass, mosquitto_broker, sunspec_device)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_charging_allowed": True, "actuator": "none"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["grid_charging_allowed"] is True
    assert "sources" not in entry.options
    assert await hass.config_entries.async_unload(entry.entry_id)
