"""The one typed site configuration, read from an entry's data and options."""

from datetime import timedelta

from custom_components.bess_dispatch.bess_dispatch_core.protocol.metrics import UseCase
from custom_components.bess_dispatch.site_config import ModbusDevice, SiteConfig

from .conftest import BATTERY_DATA, SITE, SITE_DATA, SOURCES

MODBUS_SOURCE = {
    "source_type": "modbus",
    "source_host": "10.0.0.5",
    "source_port": 502,
    "source_unit_id": 1,
    "source_interval_s": 5,
    "modbus_metrics": {"battery_soe": "battery_soc_percent"},
}
DATA = SITE_DATA | BATTERY_DATA | {"sources": SOURCES, "source_type": "entities"}


def test_settings_come_from_data_with_options_over_them() -> None:
    config = SiteConfig.from_entry(DATA, {})
    assert (config.site_id, config.use_case) == (SITE, UseCase(DATA["use_case"]))
    assert config.sources == SOURCES
    assert config.modbus_source is None
    assert config.actuator.kind is None
    assert config.own_broker
    assert config.limits.soe_min_kwh == config.usable_kwh * DATA["soe_min_pct"] / 100

    chosen = {"battery_soe": "sensor.other_soc"}
    options = {"sources": chosen, "telemetry_interval_s": 10, "ramp_kw_per_s": 0.5}
    config = SiteConfig.from_entry(DATA, options)
    assert config.sources == chosen
    assert config.telemetry_interval == timedelta(seconds=10)
    assert config.limits.ramp_kw_per_s == 0.5


def test_both_modbus_devices_are_checked_once_each() -> None:
    actuator = {
        "actuator": "modbus",
        "modbus_host": "10.0.0.6",
        "modbus_port": 1502,
        "modbus_unit_id": 3,
    }
    config = SiteConfig.from_entry(DATA | MODBUS_SOURCE, actuator)
    assert config.modbus_devices == {
        ModbusDevice("10.0.0.5", 502, 1),
        ModbusDevice("10.0.0.6", 1502, 3),
    }
    same = actuator | {"modbus_host": "10.0.0.5", "modbus_port": 502, "modbus_unit_id": 1}
    config = SiteConfig.from_entry(DATA | MODBUS_SOURCE, same)
    assert config.modbus_devices == {ModbusDevice("10.0.0.5", 502, 1)}
    assert SiteConfig.from_entry(DATA, {"actuator": "none"}).modbus_devices == set()
