"""The repository's automation blueprints, imported into a real Home Assistant (its blueprint
integration reads them from the config folder, as after a user's import), an automation
created from each and triggered: by the integration's own sensors, a repair issue, and a
real HTTP POST to the webhook."""

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import (
    Command,
    ControlMode,
    Priority,
    ScheduleEntry,
)
from custom_components.bess_dispatch.const import DOMAIN
from tests.custom_components.bess_dispatch.conftest import GATEWAY, SITE, set_soc, setup_site
from tests.plugins.mosquitto_broker import Broker

REPO = Path(__file__).resolve().parents[4]
BLUEPRINTS = REPO / "blueprints" / "automation" / "bess_dispatch"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/bess_dispatch."""


@pytest.fixture(autouse=True)
def config_dir_with_blueprints(hass: HomeAssistant, tmp_path: Path) -> None:
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "configuration.yaml").write_text("")
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "bess_dispatch")


def sensor(hass: HomeAssistant, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{SITE}_{GATEWAY}_{key}")
    assert entity_id is not None
    return entity_id


async def automation_from(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> None:
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": blueprint.removesuffix(".yaml"),
                    "use_blueprint": {"path": f"bess_dispatch/{blueprint}", "input": inputs},
                }
            ]
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(f"automation.{blueprint.removesuffix('.yaml')}")
    assert state is not None, "the automation was not created from the blueprint"
    assert state.state == "on"


def test_every_blueprint_is_tested_here() -> None:
    names = {path.name for path in BLUEPRINTS.glob("*.yaml")}
    source = Path(__file__).read_text()
    assert names
    assert all(f'"{name}"' in source for name in names)


async def test_low_soc_and_alerts_notify(hass: HomeAssistant, mosquitto_broker: Broker) -> None:
    await setup_site(hass, mosquitto_broker)
    sent = async_mock_service(hass, "notify", "test_notify")
    await automation_from(
        hass,
        "battery_low_or_alert_notify.yaml",
        {
            "soc_sensor": sensor(hass, "state_of_charge"),
            "threshold": 20,
            "notify_actions": [
                {"action": "notify.test_notify", "data": {"message": "{{ message }}"}}
            ],
        },
    )
    set_soc(hass, 25)
    await hass.async_block_till_done()
    assert sent == []
    set_soc(hass, 15)
    await hass.async_block_till_done()
    assert [call.data["message"] for call in sent] == ["Battery at 15.0 % (below 20 %)."]
    ir.async_create_issue(
        hass,
        DOMAIN,
        "measurement_missing_test",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="measurement_missing",
    )
    await hass.async_block_till_done()
    assert sent[-1].data["message"] == "BESS Dispatch raised an alert: measurement_missing_test."
    # Another integration's issue is not ours.
    ir.async_create_issue(
        hass, "other", "x", is_fixable=False, severity=ir.IssueSeverity.WARNING, translation_key="x"
    )
    await hass.async_block_till_done()
    assert len(sent) == 2


async def _self_consumption_schedule(entry: MockConfigEntry) -> None:
    now = dt_util.utcnow().replace(microsecond=0)
    command = Command.create(
        command_id="surplus",
        priority=Priority.INTRADAY,
        schedule=[ScheduleEntry(now, now + timedelta(hours=2), mode=ControlMode.SELF_CONSUMPTION)],
        now=now,
    )
    response = await entry.runtime_data.runtime.async_handle_command_payload(command.to_payload())
    assert response.status == "accepted"


async def test_switch_runs_while_the_schedule_charges_from_surplus(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    # Home Assistant's core integration (homeassistant.turn_on/off), always there in a real HA.
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"heater": {}}})
    hass.states.async_set("sensor.grid_export_power", "0.2", {"unit_of_measurement": "kW"})
    await automation_from(
        hass,
        "switch_while_charging_from_pv_surplus.yaml",
        {
            "effective_mode": sensor(hass, "effective_mode"),
            "control_source": sensor(hass, "control_source"),
            "setpoint": sensor(hass, "setpoint"),
            "surplus_sensor": "sensor.grid_export_power",
            "min_surplus_kw": 0.5,
            "target_switch": "input_boolean.heater",
        },
    )
    await _self_consumption_schedule(entry)  # fallback -> p2 self-consumption
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.heater").state == "off"  # too little surplus
    hass.states.async_set("sensor.grid_export_power", "1.2", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.heater").state == "on"
    await hass.services.async_call(
        DOMAIN,
        "set_control_mode",
        {"config_entry_id": entry.entry_id, "mode": "idle"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert hass.states.get("input_boolean.heater").state == "off"  # a manual mode now


async def test_demand_response_webhook_discharges_for_a_while(
    hass: HomeAssistant,
    mosquitto_broker: Broker,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    assert await async_setup_component(hass, "webhook", {})
    await automation_from(
        hass,
        "demand_response_webhook_discharge.yaml",
        {
            "webhook_id": "grid-co-secret",
            "site": entry.entry_id,
            "max_power_kw": 3,
            "max_minutes": 120,
        },
    )
    runtime = entry.runtime_data.runtime
    client = await hass_client_no_auth()
    for junk in ({"power_kw": "lots"}, {"duration_minutes": 30}, [1, 2]):
        response = await client.post("/api/webhook/grid-co-secret", json=junk)
        assert response.status == 200
        await hass.async_block_till_done()
        assert runtime.dispatcher.override is None, junk
    response = await client.post(
        "/api/webhook/grid-co-secret", json={"power_kw": 2, "duration_minutes": 60}
    )
    assert response.status == 200
    await hass.async_block_till_done()
    override = runtime.dispatcher.override
    assert override is not None
    assert (override.mode, override.power_kw) == (ControlMode.SETPOINT, -2.0)
    assert override.until is not None
    assert abs((override.until - dt_util.utcnow()) - timedelta(minutes=60)) < timedelta(seconds=5)
    assert runtime.state.decision.setpoint_kw == -2.0
    # Beyond the inputs' bounds: clamped to 3 kW and 120 min.
    await client.post("/api/webhook/grid-co-secret", json={"power_kw": 50, "duration_minutes": 999})
    await hass.async_block_till_done()
    override = runtime.dispatcher.override
    assert override is not None
    assert override.power_kw == -3.0
    assert override.until is not None
    assert override.until - dt_util.utcnow() <= timedelta(minutes=120)
