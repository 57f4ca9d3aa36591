"""ECHONET Lite for an entry: the shared UDP client, and the config flow's checks.

One Home Assistant instance has one UDP port 3610, so every entry (and a config flow
running beside them) shares one :class:`EchonetClient` per interface address, counted
by users and closed with the last one. pychonet, the protocol library, matches answers
per node, so sites on different nodes do not wait for each other.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant

from .bess_dispatch_core.echonet.actuator import EchonetBatteryActuator
from .bess_dispatch_core.echonet.client import EchonetClient
from .bess_dispatch_core.echonet.errors import (
    EchonetError,
    EchonetTimeoutError,
    EchonetTransportError,
)
from .bess_dispatch_core.echonet.node import EchonetNode
from .bess_dispatch_core.echonet.objects import BATTERY_OPERATION_MODE, EchonetClass
from .bess_dispatch_core.echonet.source import EchonetPoller, readable_metric_map
from .bess_dispatch_core.gateway.actuator import ActuatorUnavailable
from .bess_dispatch_core.gateway.control_law import ControlDecision
from .bess_dispatch_core.protocol.metrics import UseCase
from .const import (
    CONF_ECHONET_HOST,
    CONF_ECHONET_INTERFACE,
    CONF_ECHONET_METRICS,
    CONF_SOURCE_INTERVAL_S,
    CONF_SOURCE_TYPE,
    DEFAULT_ECHONET_INTERVAL_S,
    DOMAIN,
    SOURCE_ECHONET,
)
from .source_mapping import mappable_metrics

_CLIENTS = f"{DOMAIN}_echonet_clients"
#: Devices answer within a second or two; a HEMS gateway relaying a meter can take longer.
REQUEST_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class EchonetSourceSettings:
    """An ECHONET Lite node whose objects feed the metrics (instead of HA sensors)."""

    host: str
    interface: str | None  # this host's LAN address; None: automatic
    interval_s: float
    metrics: Mapping[str, str]  # protocol metric -> ECHONET Lite reading


@dataclass
class _Shared:
    client: EchonetClient
    users: int


def _listen_on(interface: str | None) -> tuple[str, str | None]:
    """(address to bind, interface for multicast): the interface if given, else all."""
    if interface:
        return interface, interface
    return "0.0.0.0", None


async def async_acquire_client(hass: HomeAssistant, interface: str | None) -> EchonetClient:
    """The started client for ``interface`` (None: automatic); release it when done."""
    clients: dict[str | None, _Shared] = hass.data.setdefault(_CLIENTS, {})
    shared = clients.get(interface)
    if shared is None:
        bind_host, local_ip = _listen_on(interface)
        client = EchonetClient(bind_host=bind_host, local_ip=local_ip, timeout_s=REQUEST_TIMEOUT_S)
        await client.start()
        shared = clients[interface] = _Shared(client, 0)
    shared.users += 1
    return shared.client


def release_client(hass: HomeAssistant, client: EchonetClient) -> None:
    clients: dict[str | None, _Shared] = hass.data.get(_CLIENTS, {})
    for interface, shared in list(clients.items()):
        if shared.client is client:
            shared.users -= 1
            if shared.users <= 0:
                del clients[interface]
                client.close()
            return


def node_label(node: EchonetNode) -> str:
    """How a discovered node is offered: address and the known objects it holds."""
    classes = ", ".join(f"0x{int(c):04X}" for c in sorted(node.classes))
    return f"{node.host} ({classes})" if classes else node.host


async def async_discover(
    hass: HomeAssistant, interface: str | None
) -> tuple[list[EchonetNode], dict[str, str]]:
    """Nodes answering a multicast discovery that hold a battery, PV or meter object."""
    try:
        client = await async_acquire_client(hass, interface)
    except EchonetTransportError:
        return [], {"base": "echonet_transport"}
    try:
        nodes = [node for node in await client.discover() if node.classes]
    except EchonetError:
        return [], {"base": "echonet_transport"}
    finally:
        release_client(hass, client)
    if not nodes:
        return [], {"base": "echonet_none_found"}
    return nodes, {}


async def async_echonet_source_map(
    hass: HomeAssistant,
    host: str,
    interface: str | None,
    use_case: UseCase,
    has_load: bool,
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(metric -> reading, errors, required metrics the node cannot provide): the node is
    probed and read once; only what it really answers counts."""
    try:
        client = await async_acquire_client(hass, interface)
    except EchonetTransportError:
        return {}, {"base": "echonet_transport"}, []
    try:
        node, metric_map, _problems = await readable_metric_map(client, host, use_case)
    except EchonetTimeoutError:
        return {}, {"base": "echonet_cannot_connect"}, []
    except EchonetError:
        return {}, {"base": "echonet_cannot_connect"}, []
    finally:
        release_client(hass, client)
    if not node.classes:
        return {}, {"base": "echonet_no_objects"}, []
    required, _optional = mappable_metrics(use_case, has_load)
    missing = sorted(m.name for m in required if m.name not in metric_map)
    if missing:
        return metric_map, {"base": "echonet_missing_metrics"}, missing
    return metric_map, {}, []


async def async_echonet_actuator_errors(
    hass: HomeAssistant, host: str, interface: str | None
) -> dict[str, str]:
    """The node must hold a storage battery that accepts operation mode writes (0xDA)."""
    try:
        client = await async_acquire_client(hass, interface)
    except EchonetTransportError:
        return {"base": "echonet_transport"}
    try:
        node = await client.probe(host)
    except EchonetError:
        return {"base": "echonet_cannot_connect"}
    finally:
        release_client(hass, client)
    battery = node.find(EchonetClass.STORAGE_BATTERY)
    if battery is None or BATTERY_OPERATION_MODE not in battery.set_map:
        return {"base": "echonet_no_battery_control"}
    return {}


def echonet_interface(data: Mapping[str, Any]) -> str | None:
    """The interface address an entry or a form names (None: automatic)."""
    value = str(data.get(CONF_ECHONET_INTERFACE) or "").strip()
    return value or None


def echonet_source_settings(data: Mapping[str, Any]) -> EchonetSourceSettings | None:
    """The entry's ECHONET Lite source (None when its readings come from elsewhere)."""
    if data.get(CONF_SOURCE_TYPE) != SOURCE_ECHONET:
        return None
    return EchonetSourceSettings(
        host=data[CONF_ECHONET_HOST],
        interface=echonet_interface(data),
        interval_s=float(data.get(CONF_SOURCE_INTERVAL_S, DEFAULT_ECHONET_INTERVAL_S)),
        metrics=data[CONF_ECHONET_METRICS],
    )


class SharedClientActuator:
    """:class:`EchonetBatteryActuator` on the shared client, taken on first use and given
    back on close (the runtime closes its actuator when the entry unloads)."""

    def __init__(self, hass: HomeAssistant, host: str, interface: str | None) -> None:
        self._hass = hass
        self.host = host
        self._interface = interface
        self._client: EchonetClient | None = None
        self._actuator: EchonetBatteryActuator | None = None

    async def apply(self, decision: ControlDecision) -> None:
        await (await self._battery()).apply(decision)

    async def release(self) -> None:
        await (await self._battery()).release()

    def close(self) -> None:
        client, self._client, self._actuator = self._client, None, None
        if client is not None:
            release_client(self._hass, client)

    async def _battery(self) -> EchonetBatteryActuator:
        if self._actuator is None:
            try:
                self._client = await async_acquire_client(self._hass, self._interface)
            except EchonetTransportError as err:
                raise ActuatorUnavailable(f"cannot reach the battery: {err}") from err
            self._actuator = EchonetBatteryActuator(self._client, self.host)
        return self._actuator


def echonet_diagnostics(
    poller: EchonetPoller | None, client: EchonetClient | None
) -> dict[str, Any] | None:
    """What the ECHONET Lite source saw: the node, its objects, what it did not answer."""
    if poller is None:
        return None
    node = poller.node
    return {
        "host": poller.host,
        "available": poller.available,
        "objects": None
        if node is None
        else {
            str(maps.obj): {
                "get": sorted(f"0x{epc:02X}" for epc in maps.get_map),
                "set": sorted(f"0x{epc:02X}" for epc in maps.set_map),
            }
            for maps in node.objects
        },
        "unreadable": dict(poller.last_problems),
        "malformed_frames": None if client is None else client.malformed_frames,
    }
