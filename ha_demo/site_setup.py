"""The integration's set-up through Home Assistant's config-flow REST API, answered as an
installer would: site, battery, the SunSpec device, the add-on's broker; then the options
(10-second telemetry, decisions to the inverter over Modbus)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .addon_services import DemoSite
from .ha_client import HomeAssistantApiError, HomeAssistantClient

DOMAIN = "bess_dispatch"
TELEMETRY_INTERVAL_S = 10
SOURCE_INTERVAL_S = 5


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int


def site_answers(site: DemoSite) -> dict[str, Any]:
    return {
        "site_id": site.site_id,
        "gateway_id": site.gateway_id,
        "use_case": "ac_link",
        # A home: the gateway reads the load from the balance at the SunSpec meter.
        "has_load": True,
    }


def battery_answers(site: DemoSite) -> dict[str, Any]:
    return {
        "usable_kwh": site.capacity_kwh,
        "max_charge_kw": site.max_charge_kw,
        "max_discharge_kw": site.max_discharge_kw,
        "soe_min_pct": site.min_soe_percent,
        "soe_max_pct": site.max_soe_percent,
    }


def device_answers(device: Endpoint) -> dict[str, Any]:
    return {
        "source_host": device.host,
        "source_port": device.port,
        "source_unit_id": 1,
        "source_interval_s": SOURCE_INTERVAL_S,
    }


def broker_answers(broker: Endpoint, username: str, password: str) -> dict[str, Any]:
    return {
        "host": broker.host,
        "port": broker.port,
        "username": username,
        "password": password,
        "tls": False,
    }


def options_answers() -> dict[str, Any]:
    return {
        "grid_charging_allowed": True,
        "telemetry_interval_s": TELEMETRY_INTERVAL_S,
        "telemetry_window": "PT5M",
        "actuator": "modbus",
    }


def _expect(result: dict[str, Any], step: str) -> None:
    if result.get("errors"):
        raise HomeAssistantApiError(f"config flow step {step}: {result['errors']}")
    if result.get("type") == "abort":
        raise HomeAssistantApiError(f"config flow aborted at {step}: {result.get('reason')}")


async def add_site(
    client: HomeAssistantClient,
    site: DemoSite,
    device: Endpoint,
    broker: Endpoint,
    password: str,
) -> str:
    """The whole config flow; the new entry's id."""
    result = await client.start_flow(DOMAIN)
    flow_id = result["flow_id"]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("user", site_answers(site)),
        ("battery", battery_answers(site)),
        ("source_choice", {"next_step_id": "modbus_source"}),
        ("modbus_source", device_answers(device)),
        ("broker_choice", {"next_step_id": "broker"}),
        ("broker", broker_answers(broker, site.gateway_username, password)),
    ]
    for step, answers in steps:
        if result.get("step_id") != step:
            raise HomeAssistantApiError(f"config flow: expected step {step}, got {result}")
        result = await client.flow_step(flow_id, answers)
        _expect(result, step)
    if result.get("type") != "create_entry":
        raise HomeAssistantApiError(f"config flow did not create the entry: {result}")
    entry_id: str = result["result"]["entry_id"]
    return entry_id


async def set_options(client: HomeAssistantClient, entry_id: str, device: Endpoint) -> None:
    """Telemetry every 10 s; decisions written to the simulated inverter's model 124."""
    result = await client.start_options_flow(entry_id)
    flow_id = result["flow_id"]
    result = await client.options_step(flow_id, options_answers())
    _expect(result, "init")
    result = await client.options_step(
        flow_id, {"modbus_host": device.host, "modbus_port": device.port, "modbus_unit_id": 1}
    )
    _expect(result, "modbus_actuator")
    if result.get("type") != "create_entry":
        raise HomeAssistantApiError(f"options flow did not finish: {result}")


async def entity_ids(client: HomeAssistantClient, entry_id: str, site: DemoSite) -> dict[str, str]:
    """The entry's entities by key (the unique id after ``site_gateway_``)."""
    prefix = f"{site.site_id}_{site.gateway_id}_"
    entries = await client.ws("config/entity_registry/list")
    return {
        entry["unique_id"].removeprefix(prefix): entry["entity_id"]
        for entry in entries
        if entry.get("config_entry_id") == entry_id
    }
