"""The demo's generated configuration, without starting anything."""

from __future__ import annotations

from pathlib import Path

from ha_demo.addon_services import DemoSite, addon_options
from ha_demo.dashboards import dashboard_config, energy_prefs
from ha_demo.hass_config import write_hass_config
from optimizer.settings.options import parse_options

ENTITIES = {
    "meter_import_ac": "sensor.grid_import",
    "meter_export_ac": "sensor.grid_export",
    "solar_net_generation_ac": "sensor.solar",
    "battery_charge_ac": "sensor.charge",
    "battery_discharge_ac": "sensor.discharge",
    "control_mode": "select.control_mode",
    "effective_mode": "sensor.effective_mode",
    "schedule": "calendar.schedule",
}


def test_home_assistant_listens_on_loopback_only(tmp_path: Path) -> None:
    write_hass_config(tmp_path, 18123)
    text = (tmp_path / "configuration.yaml").read_text()
    assert "  server_host: 127.0.0.1\n  server_port: 18123\n" in text
    assert "default_config" not in text
    assert (tmp_path / "custom_components" / "bess_dispatch" / "manifest.json").exists()
    # Once HA keeps the promoted HTTP settings in its storage, the YAML block goes away.
    write_hass_config(tmp_path, 18123, http_yaml=False)
    assert "\nhttp:" not in (tmp_path / "configuration.yaml").read_text()


def test_the_addon_options_are_valid_addon_options() -> None:
    options = parse_options(addon_options(DemoSite()))
    assert [site.site_id for site in options.sites] == ["home"]
    assert options.broker.mode.value == "own"


def test_energy_dashboard_uses_the_gateway_counters() -> None:
    sources = {source["type"]: source for source in energy_prefs(ENTITIES)["energy_sources"]}
    assert sources["grid"]["stat_energy_from"] == "sensor.grid_import"
    assert sources["grid"]["stat_energy_to"] == "sensor.grid_export"
    assert sources["solar"]["stat_energy_from"] == "sensor.solar"
    assert sources["battery"]["stat_energy_to"] == "sensor.charge"
    assert sources["battery"]["stat_energy_from"] == "sensor.discharge"


def test_dashboard_links_the_plan_page_and_skips_missing_entities() -> None:
    config = dashboard_config(ENTITIES, "http://127.0.0.1:8099/?site=home")
    cards = config["views"][0]["cards"]
    control = next(card for card in cards if card.get("title") == "Control")
    assert control["entities"] == ["select.control_mode", "sensor.effective_mode"]
    assert any(card["type"] == "calendar" for card in cards)
    assert "http://127.0.0.1:8099/?site=home" in cards[-1]["content"]
