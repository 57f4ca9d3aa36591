"""The optimizer's service configuration per broker mode, and reading it back."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from optimizer.addon.service_config import (
    SupervisorMqtt,
    build_service_config,
    write_service_config,
)
from optimizer.settings.options import load_options
from optimizer.settings.service_config import (
    ServiceConfigError,
    load_service_config,
    service_config_to_dict,
)

RESOURCES = Path(__file__).parent / "resources"
HA_MQTT = SupervisorMqtt(
    host="core-mosquitto", port=1883, username="addons", password="from-supervisor", ssl=False
)


def test_own_broker_mode_connects_to_loopback_as_optimizer(tmp_path: Path) -> None:
    options = load_options(RESOURCES / "options_own_two_sites.json")

    config = build_service_config(
        options,
        optimizer_password="pw",
        supervisor_mqtt=HA_MQTT,  # present but unused in mode "own"
        ingress_port=8099,
        timezone="Asia/Tokyo",
        state_dir=tmp_path,
    )

    data = service_config_to_dict(config)
    assert data["version"] == 1
    assert data["mqtt"] == {
        "host": "127.0.0.1",
        "port": 1883,
        "username": "optimizer",
        "password": "pw",
        "tls": False,
        "client_id": "bess-dispatch-optimizer",
    }
    assert data["web"] == {"host": "0.0.0.0", "port": 8099, "trusted_clients": ["172.30.32.2"]}
    assert data["home_assistant"] == {
        "api_url": "http://supervisor/core/api",
        "token_env": "SUPERVISOR_TOKEN",
    }
    assert data["timezone"] == "Asia/Tokyo"
    assert [site["site_id"] for site in data["options"]["sites"]] == ["A", "B"]
    assert data["options"]["tariff"]["tou_periods"] == [
        "00:00-07:00 18.5",
        "07:00-23:00 35.2",
        "23:00-24:00 18.5",
    ]
    assert "owner-chosen-password-B" not in json.dumps(data)


def test_ha_mode_uses_the_supervisor_mqtt_service(tmp_path: Path) -> None:
    options = load_options(RESOURCES / "options_ha_entity.json")

    config = build_service_config(
        options,
        optimizer_password=None,
        supervisor_mqtt=HA_MQTT,
        ingress_port=8099,
        timezone="Europe/Helsinki",
        state_dir=tmp_path,
    )

    assert (config.mqtt.host, config.mqtt.port) == ("core-mosquitto", 1883)
    assert (config.mqtt.username, config.mqtt.password) == ("addons", "from-supervisor")


def test_ha_mode_without_the_mqtt_service_says_what_to_do(tmp_path: Path) -> None:
    options = load_options(RESOURCES / "options_ha_entity.json")

    with pytest.raises(ServiceConfigError, match="install and start the Mosquitto broker add-on"):
        build_service_config(
            options,
            optimizer_password=None,
            supervisor_mqtt=None,
            ingress_port=8099,
            timezone="UTC",
            state_dir=tmp_path,
        )


def test_bad_timezone_and_port_are_named(tmp_path: Path) -> None:
    options = load_options(RESOURCES / "options_spot_file.json")

    def build(ingress_port: int, timezone: str) -> object:
        return build_service_config(
            options,
            optimizer_password="pw",
            supervisor_mqtt=None,
            ingress_port=ingress_port,
            timezone=timezone,
            state_dir=tmp_path,
        )

    with pytest.raises(ServiceConfigError, match="timezone: 'Mars/Olympus' is not an IANA"):
        build(8099, "Mars/Olympus")
    with pytest.raises(ServiceConfigError, match=r"web\.port: 0 is not a TCP port"):
        build(0, "UTC")


def test_written_file_is_private_and_reads_back_equal(tmp_path: Path) -> None:
    options = load_options(RESOURCES / "options_own_two_sites.json")
    config = build_service_config(
        options,
        optimizer_password="pw",
        supervisor_mqtt=None,
        ingress_port=8099,
        timezone="UTC",
        state_dir=tmp_path / "state",
    )
    path = tmp_path / "service.json"

    write_service_config(path, config)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_service_config(path)
    # Gateway passwords are not in the file; everything else is.
    assert loaded.options.sites[1].gateway_password is None
    assert loaded.mqtt == config.mqtt
    assert loaded.web == config.web
    assert loaded.options.tariff == config.options.tariff
    assert loaded.state_dir == tmp_path / "state"


def test_reading_a_bad_file_names_the_field(tmp_path: Path) -> None:
    options = load_options(RESOURCES / "options_spot_file.json")
    config = build_service_config(
        options,
        optimizer_password="pw",
        supervisor_mqtt=None,
        ingress_port=8099,
        timezone="UTC",
        state_dir=tmp_path,
    )
    data = service_config_to_dict(config)
    path = tmp_path / "service.json"

    data["mqtt"]["port"] = "1883"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        ServiceConfigError, match=r"config\.mqtt\.port: must be an integer, got str"
    ):
        load_service_config(path)
    # The shared field reader names every bad field at once, not just the first.
    del data["mqtt"]["tls"]
    data["web"]["port"] = True
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ServiceConfigError) as raised:
        load_service_config(path)
    for field in ("config.mqtt.port", "config.mqtt.tls: is required", "config.web.port"):
        assert field in str(raised.value)
    data["mqtt"]["tls"] = False
    data["web"]["port"] = 8099
    data["mqtt"]["port"] = 1883
    data["options"]["sites"][0]["max_charge_kw"] = -1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        ServiceConfigError, match=r"(?s)config\.options: .*sites\[0\]\.max_charge_kw"
    ):
        load_service_config(path)
    data["version"] = 2
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ServiceConfigError, match=r"config\.version: 2 is not 1"):
        load_service_config(path)
