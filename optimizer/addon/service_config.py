"""The add-on builds the optimizer service's configuration and writes it at start.

The file's shape and its reader live in :mod:`optimizer.settings.service_config`. Broker per
mode: ``own`` -> the add-on's Mosquitto on 127.0.0.1 as user ``optimizer``; ``ha`` -> what
the Supervisor's MQTT service reports (Home Assistant's Mosquitto add-on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from optimizer.addon.credentials import OPTIMIZER_USERNAME, write_private_file
from optimizer.addon.mosquitto_config import PLAIN_PORT
from optimizer.settings.broker import BrokerMode
from optimizer.settings.options import AddonOptions
from optimizer.settings.service_config import (
    HomeAssistantApi,
    MqttConnection,
    ServiceConfig,
    ServiceConfigError,
    WebSettings,
    check_timezone,
    service_config_to_dict,
)

OWN_BROKER_HOST = "127.0.0.1"
CLIENT_ID = "bess-dispatch-optimizer"
# Home Assistant's ingress proxy: the only client the plan page answers in production.
INGRESS_PROXY_ADDRESS = "172.30.32.2"
HA_CORE_API_URL = "http://supervisor/core/api"
SUPERVISOR_TOKEN_ENV = "SUPERVISOR_TOKEN"


@dataclass(frozen=True, slots=True)
class SupervisorMqtt:
    """The Supervisor's MQTT service (``bashio::services mqtt``), for broker mode ``ha``."""

    host: str
    port: int
    username: str | None
    password: str | None
    ssl: bool


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
        timezone=check_timezone(timezone),
        state_dir=state_dir,
    )


def write_service_config(path: Path, config: ServiceConfig) -> None:
    """Write the file 0600: it holds the broker password."""
    write_private_file(path, json.dumps(service_config_to_dict(config), indent=2) + "\n")
