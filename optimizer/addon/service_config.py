"""The optimizer service's configuration file, as the add-on writes it at start.

``python -m optimizer serve --config FILE`` reads it with :func:`load_service_config`.
JSON, written 0600 (it holds the broker password)::

    {"version": 1,
     "mqtt": {"host", "port", "username", "password", "tls", "client_id"},
     "web": {"host", "port", "trusted_clients"},
     "home_assistant": {"api_url", "token_env"},
     "timezone": "Asia/Tokyo", "state_dir": "/data/optimizer",
     "options": {... the validated add-on options, options.json shape, no gateway passwords}}

Broker per mode: ``own`` -> the add-on's Mosquitto on 127.0.0.1 as user ``optimizer``;
``ha`` -> what the Supervisor's MQTT service reports (Home Assistant's Mosquitto add-on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from optimizer.addon.credentials import OPTIMIZER_USERNAME, write_private_file
from optimizer.addon.mosquitto_config import PLAIN_PORT
from optimizer.addon.options import (
    AddonOptions,
    BrokerMode,
    OptionsError,
    options_to_dict,
    parse_options,
)

SERVICE_CONFIG_VERSION = 1
OWN_BROKER_HOST = "127.0.0.1"
CLIENT_ID = "bess-dispatch-optimizer"
# Home Assistant's ingress proxy: the only client the plan page answers in production.
INGRESS_PROXY_ADDRESS = "172.30.32.2"
HA_CORE_API_URL = "http://supervisor/core/api"
SUPERVISOR_TOKEN_ENV = "SUPERVISOR_TOKEN"


class ServiceConfigError(ValueError):
    """The service configuration cannot be built or read; the message names the field."""


@dataclass(frozen=True, slots=True)
class SupervisorMqtt:
    """The Supervisor's MQTT service (``bashio::services mqtt``), for broker mode ``ha``."""

    host: str
    port: int
    username: str | None
    password: str | None
    ssl: bool


@dataclass(frozen=True, slots=True)
class MqttConnection:
    """How the optimizer reaches its broker."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    client_id: str


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Plan page and REST API on the ingress port."""

    host: str
    port: int
    trusted_clients: tuple[str, ...]  # empty: answer everyone (development only)


@dataclass(frozen=True, slots=True)
class HomeAssistantApi:
    """Home Assistant's REST API through the Supervisor (tariff kind ``entity``)."""

    api_url: str
    token_env: str  # the token is read from this environment variable, never stored


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Everything ``python -m optimizer serve`` needs."""

    options: AddonOptions
    mqtt: MqttConnection
    web: WebSettings
    home_assistant: HomeAssistantApi
    timezone: str
    state_dir: Path


def _check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ServiceConfigError(f"timezone: {timezone!r} is not an IANA time zone") from error
    return timezone


def build_service_config(
    options: AddonOptions,
    *,
    optimizer_password: str | None,
    supervisor_mqtt: SupervisorMqtt | None,
    ingress_port: int,
    timezone: str,
    state_dir: Path,
    own_broker_port: int = PLAIN_PORT,
    ingress_proxy: str = INGRESS_PROXY_ADDRESS,
) -> ServiceConfig:
    """The optimizer's configuration for ``options`` (see the module docstring).

    ``ingress_proxy`` is the one client the plan page answers: the Supervisor's ingress proxy
    (CI's replay of the add-on moves it to a loopback address).
    """
    if options.broker.mode is BrokerMode.OWN:
        if not optimizer_password:
            raise ServiceConfigError("mqtt.password: the own broker needs the optimizer password")
        mqtt = MqttConnection(
            host=OWN_BROKER_HOST,
            port=own_broker_port,
            username=OPTIMIZER_USERNAME,
            password=optimizer_password,
            tls=False,  # loopback inside the container
            client_id=CLIENT_ID,
        )
    else:
        if supervisor_mqtt is None:
            raise ServiceConfigError(
                "broker.mode: 'ha' needs Home Assistant's MQTT service, but the Supervisor "
                "offers none: install and start the Mosquitto broker add-on, or set "
                "broker.mode to 'own'"
            )
        mqtt = MqttConnection(
            host=supervisor_mqtt.host,
            port=supervisor_mqtt.port,
            username=supervisor_mqtt.username,
            password=supervisor_mqtt.password,
            tls=supervisor_mqtt.ssl,
            client_id=CLIENT_ID,
        )
    if not 1 <= ingress_port <= 65535:
        raise ServiceConfigError(f"web.port: {ingress_port} is not a TCP port")
    return ServiceConfig(
        options=options,
        mqtt=mqtt,
        web=WebSettings(host="0.0.0.0", port=ingress_port, trusted_clients=(ingress_proxy,)),
        home_assistant=HomeAssistantApi(api_url=HA_CORE_API_URL, token_env=SUPERVISOR_TOKEN_ENV),
        timezone=_check_timezone(timezone),
        state_dir=state_dir,
    )


def service_config_to_dict(config: ServiceConfig) -> dict[str, Any]:
    return {
        "version": SERVICE_CONFIG_VERSION,
        "mqtt": {
            "host": config.mqtt.host,
            "port": config.mqtt.port,
            "username": config.mqtt.username,
            "password": config.mqtt.password,
            "tls": config.mqtt.tls,
            "client_id": config.mqtt.client_id,
        },
        "web": {
            "host": config.web.host,
            "port": config.web.port,
            "trusted_clients": list(config.web.trusted_clients),
        },
        "home_assistant": {
            "api_url": config.home_assistant.api_url,
            "token_env": config.home_assistant.token_env,
        },
        "timezone": config.timezone,
        "state_dir": str(config.state_dir),
        "options": options_to_dict(config.options),
    }


def write_service_config(path: Path, config: ServiceConfig) -> None:
    """Write the file 0600: it holds the broker password."""
    write_private_file(path, json.dumps(service_config_to_dict(config), indent=2) + "\n")


class _Fields:
    """Typed access to one JSON object, raising errors that name the field."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise ServiceConfigError(f"{path}: must be an object")
        self.data: dict[str, Any] = data
        self.path = path

    def _get[T](self, key: str, kind: type[T], *, optional: bool = False) -> T | None:
        value = self.data.get(key)
        if value is None and optional:
            return None
        # bool is a subclass of int: keep true/false out of integer fields.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ServiceConfigError(f"{self.path}.{key}: must be {kind.__name__}")
        return value

    def text(self, key: str) -> str:
        value = self._get(key, str)
        assert value is not None
        return value

    def optional_text(self, key: str) -> str | None:
        return self._get(key, str, optional=True)

    def integer(self, key: str) -> int:
        value = self._get(key, int)
        assert value is not None
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key, bool)
        assert value is not None
        return value

    def child(self, key: str) -> _Fields:
        return _Fields(self.data.get(key), f"{self.path}.{key}")


def service_config_from_dict(data: object) -> ServiceConfig:
    """Parse what :func:`service_config_to_dict` wrote; errors name the field."""
    root = _Fields(data, "config")
    version = root.data.get("version")
    if version != SERVICE_CONFIG_VERSION:
        raise ServiceConfigError(
            f"config.version: {version!r} is not {SERVICE_CONFIG_VERSION}; restart the add-on "
            "to regenerate the file"
        )
    mqtt, web, home_assistant = root.child("mqtt"), root.child("web"), root.child("home_assistant")
    trusted = web.data.get("trusted_clients")
    if not isinstance(trusted, list) or not all(isinstance(item, str) for item in trusted):
        raise ServiceConfigError("config.web.trusted_clients: must be a list of addresses")
    try:
        options = parse_options(root.data.get("options"))
    except OptionsError as error:
        raise ServiceConfigError(f"config.options: {error}") from error
    return ServiceConfig(
        options=options,
        mqtt=MqttConnection(
            host=mqtt.text("host"),
            port=mqtt.integer("port"),
            username=mqtt.optional_text("username"),
            password=mqtt.optional_text("password"),
            tls=mqtt.flag("tls"),
            client_id=mqtt.text("client_id"),
        ),
        web=WebSettings(
            host=web.text("host"), port=web.integer("port"), trusted_clients=tuple(trusted)
        ),
        home_assistant=HomeAssistantApi(
            api_url=home_assistant.text("api_url"), token_env=home_assistant.text("token_env")
        ),
        timezone=_check_timezone(root.text("timezone")),
        state_dir=Path(root.text("state_dir")),
    )


def load_service_config(path: Path) -> ServiceConfig:
    """Read the file the add-on wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ServiceConfigError(f"{path}: cannot be read ({error.strerror})") from error
    except json.JSONDecodeError as error:
        raise ServiceConfigError(f"{path}: not valid JSON ({error.msg})") from error
    return service_config_from_dict(data)
