"""The optimizer service's configuration file: its shape, and reading it back.

``python -m optimizer serve --config FILE`` reads it with :func:`load_service_config`.
JSON, written 0600 (it holds the broker password)::

    {"version": 1,
     "mqtt": {"host", "port", "username", "password", "tls", "client_id"},
     "web": {"host", "port", "trusted_clients"},
     "home_assistant": {"api_url", "token_env"},
     "timezone": "Asia/Tokyo", "state_dir": "/data/optimizer",
     "options": {... the validated add-on options, options.json shape, no gateway passwords}}

The add-on builds and writes it (:mod:`optimizer.addon.service_config`); the service reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .field_reader import FieldReader
from .options import AddonOptions, OptionsError, options_to_dict, parse_options

SERVICE_CONFIG_VERSION = 1


class ServiceConfigError(ValueError):
    """The service configuration cannot be built or read; the message names the field."""


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


def check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ServiceConfigError(f"timezone: {timezone!r} is not an IANA time zone") from error
    return timezone


def service_config_to_dict(config: ServiceConfig) -> dict[str, Any]:
    """The file's JSON shape (:func:`service_config_from_dict` reads it back unchanged)."""
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


def service_config_from_dict(data: object) -> ServiceConfig:
    """Parse what :func:`service_config_to_dict` wrote; errors name every bad field."""
    if not isinstance(data, dict):
        raise ServiceConfigError("config: must be an object")
    version = data.get("version")
    if version != SERVICE_CONFIG_VERSION:
        raise ServiceConfigError(
            f"config.version: {version!r} is not {SERVICE_CONFIG_VERSION}; restart the add-on "
            "to regenerate the file"
        )
    reader = FieldReader()
    mqtt = reader.mapping(data, "mqtt", "config.mqtt")
    web = reader.mapping(data, "web", "config.web")
    home_assistant = reader.mapping(data, "home_assistant", "config.home_assistant")
    host = reader.text(mqtt, "host", "config.mqtt.host")
    port = reader.integer(mqtt, "port", "config.mqtt.port")
    username = reader.optional_text(mqtt, "username", "config.mqtt.username")
    password = reader.optional_text(mqtt, "password", "config.mqtt.password")
    tls = reader.required_flag(mqtt, "tls", "config.mqtt.tls")
    client_id = reader.text(mqtt, "client_id", "config.mqtt.client_id")
    web_host = reader.text(web, "host", "config.web.host")
    web_port = reader.integer(web, "port", "config.web.port")
    trusted = web.get("trusted_clients")
    if not isinstance(trusted, list) or not all(isinstance(item, str) for item in trusted):
        reader.fail("config.web.trusted_clients", "must be a list of addresses")
        trusted = []
    api_url = reader.text(home_assistant, "api_url", "config.home_assistant.api_url")
    token_env = reader.text(home_assistant, "token_env", "config.home_assistant.token_env")
    timezone = reader.text(data, "timezone", "config.timezone")
    state_dir = reader.text(data, "state_dir", "config.state_dir")
    if reader.problems:
        raise ServiceConfigError("; ".join(reader.problems))
    assert host is not None
    assert port is not None
    assert tls is not None
    assert client_id is not None
    assert web_host is not None
    assert web_port is not None
    assert api_url is not None
    assert token_env is not None
    assert timezone is not None
    assert state_dir is not None
    try:
        options = parse_options(data.get("options"))
    except OptionsError as error:
        raise ServiceConfigError(f"config.options: {error}") from error
    return ServiceConfig(
        options=options,
        mqtt=MqttConnection(
            host=host,
            port=port,
            username=username,
            password=password,
            tls=tls,
            client_id=client_id,
        ),
        web=WebSettings(host=web_host, port=web_port, trusted_clients=tuple(trusted)),
        home_assistant=HomeAssistantApi(api_url=api_url, token_env=token_env),
        timezone=check_timezone(timezone),
        state_dir=Path(state_dir),
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
