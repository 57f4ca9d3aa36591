"""What the add-on asks the Supervisor at start: its ingress port, hostname and MQTT service.

The s6 ``init-config`` script used bashio for these two calls; they live here instead so the
start-up logic is Python that the tests run (CI replays the scripts against a small local
stand-in of these endpoints, since the Supervisor itself cannot run there). The Supervisor
answers ``{"result": "ok", "data": {...}}``; ``/services/mqtt`` answers an error when no
MQTT service is offered (no Mosquitto add-on), which is not an error for broker mode "own".
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from optimizer.addon.service_config import SupervisorMqtt

DEFAULT_URL = "http://supervisor"
TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 1 << 20  # the two answers are a few kB; never read an unbounded body


class SupervisorError(RuntimeError):
    """The Supervisor could not be asked, or answered something unusable."""


@dataclass(frozen=True, slots=True)
class SupervisorInfo:
    ingress_port: int
    hostname: str
    mqtt: SupervisorMqtt | None


def _get(base_url: str, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        base_url.rstrip("/") + path, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            status, body = response.status, response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError) as error:
        raise SupervisorError(f"Supervisor API {base_url}{path} unreachable: {error}") from error
    if len(body) > MAX_RESPONSE_BYTES:
        raise SupervisorError(f"Supervisor API {path}: answer larger than {MAX_RESPONSE_BYTES} B")
    try:
        return status, json.loads(body)
    except json.JSONDecodeError as error:
        raise SupervisorError(f"Supervisor API {path}: answer is not JSON ({error.msg})") from error


def _data(path: str, answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict) or answer.get("result") != "ok":
        raise SupervisorError(f"Supervisor API {path}: not an ok answer")
    data = answer.get("data")
    if not isinstance(data, dict):
        raise SupervisorError(f"Supervisor API {path}: data is not an object")
    return data


def _field(path: str, data: dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SupervisorError(f"Supervisor API {path}: data.{key} is not a {kind.__name__}")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def fetch_supervisor_info(base_url: str, token: str) -> SupervisorInfo:
    """The add-on's own info and, when the Supervisor offers one, its MQTT service."""
    path = "/addons/self/info"
    status, answer = _get(base_url, path, token)
    if status != 200:
        raise SupervisorError(f"Supervisor API {path}: HTTP {status}")
    info = _data(path, answer)
    ingress_port = _field(path, info, "ingress_port", int)
    if not 1 <= ingress_port <= 65535:
        raise SupervisorError(f"Supervisor API {path}: data.ingress_port {ingress_port} is no port")
    hostname = _field(path, info, "hostname", str)
    path = "/services/mqtt"
    status, answer = _get(base_url, path, token)
    mqtt = None
    if status == 200:
        service = _data(path, answer)
        port = _field(path, service, "port", int)
        mqtt = SupervisorMqtt(
            host=_field(path, service, "host", str),
            port=port,
            username=_optional_text(service, "username"),
            password=_optional_text(service, "password"),
            ssl=service.get("ssl") is True,
        )
    return SupervisorInfo(ingress_port=ingress_port, hostname=hostname, mqtt=mqtt)
