"""What the demo shows: the Energy dashboard fed by the gateway's lifetime counters, and a
dashboard with the battery, PV, grid, load, the control entities, the schedule and the plan
page."""

from __future__ import annotations

from typing import Any

from .ha_client import HomeAssistantClient

DASHBOARD_URL_PATH = "bess-dispatch"

#: Metric keys of the AC-link home, as the gateway names its entities.
GRID_IMPORT = "meter_import_ac"
GRID_EXPORT = "meter_export_ac"
SOLAR = "solar_net_generation_ac"
BATTERY_CHARGE = "battery_charge_ac"
BATTERY_DISCHARGE = "battery_discharge_ac"
LOAD = "load_demand_ac"


def energy_prefs(entities: dict[str, str]) -> dict[str, Any]:
    """energy/save_prefs: grid import/export, solar and battery from the gateway's counters;
    the measured load as the one device (HA also derives the home's consumption itself)."""
    return {
        "energy_sources": [
            {
                "type": "grid",
                "stat_energy_from": entities[GRID_IMPORT],
                "stat_energy_to": entities[GRID_EXPORT],
                "stat_cost": None,
                "entity_energy_price": None,
                "number_energy_price": None,
                "stat_compensation": None,
                "entity_energy_price_export": None,
                "number_energy_price_export": None,
                "cost_adjustment_day": 0.0,
            },
            {
                "type": "solar",
                "stat_energy_from": entities[SOLAR],
                "config_entry_solar_forecast": None,
            },
            {
                "type": "battery",
                "stat_energy_from": entities[BATTERY_DISCHARGE],
                "stat_energy_to": entities[BATTERY_CHARGE],
            },
        ],
        "device_consumption": [{"stat_consumption": entities[LOAD], "name": "Home load"}]
        if LOAD in entities
        else [],
    }


def _present(entities: dict[str, str], *keys: str) -> list[str]:
    return [entities[key] for key in keys if key in entities]


def dashboard_config(entities: dict[str, str], plan_url: str) -> dict[str, Any]:
    """One view: battery, power flows, control, schedule, and a link to the plan page."""
    cards: list[dict[str, Any]] = [
        {
            "type": "entities",
            "title": "Battery",
            "entities": _present(
                entities, "state_of_charge", "battery_soe", "battery_charge_ac_power"
            ),
        },
        {
            "type": "entities",
            "title": "PV and grid",
            "entities": _present(
                entities,
                "solar_net_generation_ac_power",
                "meter_import_ac_power",
                "meter_export_ac_power",
                SOLAR,
                GRID_IMPORT,
                GRID_EXPORT,
            ),
        },
        {
            "type": "entities",
            "title": "Load",
            "entities": _present(entities, "load_demand_ac_power", "grid_to_load_ac_power", LOAD),
        },
        {
            "type": "entities",
            "title": "Control",
            "entities": _present(
                entities,
                "control_mode",
                "manual_setpoint",
                "effective_mode",
                "setpoint",
                "control_source",
                "next_change",
            ),
        },
    ]
    if "schedule" in entities:
        cards.append({"type": "calendar", "title": "Schedule", "entities": [entities["schedule"]]})
    cards.append(
        {
            "type": "markdown",
            "title": "Optimizer",
            "content": f"[Open the battery plan]({plan_url})",
        }
    )
    return {
        "title": "BESS Dispatch",
        "views": [{"title": "Battery", "path": "battery", "cards": cards}],
    }


async def configure_dashboards(
    client: HomeAssistantClient, entities: dict[str, str], plan_url: str
) -> None:
    """Energy preferences, then a storage-mode dashboard in the sidebar."""
    await client.ws("energy/save_prefs", **energy_prefs(entities))
    existing = await client.ws("lovelace/dashboards/list")
    if not any(item.get("url_path") == DASHBOARD_URL_PATH for item in existing):
        await client.ws(
            "lovelace/dashboards/create",
            url_path=DASHBOARD_URL_PATH,
            title="BESS Dispatch",
            icon="mdi:home-battery",
            mode="storage",
            require_admin=False,
            show_in_sidebar=True,
        )
    await client.ws(
        "lovelace/config/save",
        url_path=DASHBOARD_URL_PATH,
        config=dashboard_config(entities, plan_url),
    )
