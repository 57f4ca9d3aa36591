"""ECHONET Lite over UDP through pychonet: one socket on port 3610, requests by node.

:class:`EchonetClient` wraps pychonet's ``UDPServer`` and ``ECHONETAPIClient`` (the same
pair Home Assistant's ECHONET Lite integration uses) and gives the gateway four calls:
``discover`` (multicast Get of the node profile's instance list to 224.0.23.0, then a
probe of every node that answers), ``probe`` (one node by address), ``get`` and ``set``.

What pychonet leaves open is settled here:
- a property the node does not answer reads as missing, never as its previous value
  (pychonet keeps the last value in its state table: the requested codes are dropped from
  it before each request);
- a Set is successful only for the properties the node confirmed (Set_Res); the others
  raise :class:`EchonetRefusedError` naming them (SNA response, or not in the set map);
- no answer within ``timeout_s`` raises :class:`EchonetTimeoutError`;
- malformed datagrams are dropped before pychonet's decoder sees them (:mod:`.frames`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pychonet.echonetapiclient import ECHONETAPIClient, EchonetMaxOpcError
from pychonet.lib.const import ENL_GETMAP, ENL_MANUFACTURER, ENL_PORT, ENL_SETMAP, GET, SETC
from pychonet.lib.udpserver import UDPServer

from .errors import EchonetRefusedError, EchonetTimeoutError, EchonetTransportError
from .frames import MAX_FRAME_BYTES, frame_problem
from .node import EchonetNode, ObjectMaps
from .objects import NODE_PROFILE, EchonetObject

_LOGGER = logging.getLogger(__name__)

MULTICAST_ADDRESS = "224.0.23.0"
DEFAULT_TIMEOUT_S = 5.0
#: Discovery probes at most this many nodes (a LAN may hold many ECHONET Lite devices).
MAX_DISCOVERED_NODES = 64
#: pychonet counts its timeout in 0.1 s ticks.
_TICK_S = 0.1
_NODE_PROFILE_CODE = NODE_PROFILE.to_bytes(2, "big")

type Datagram = Callable[[bytes, tuple[str, int]], Awaitable[None]]


class _GuardedServer(UDPServer):  # type: ignore[misc]
    """pychonet's UDP server, with every subscriber behind the frame check."""

    def __init__(self, owner: EchonetClient, local_ip: str | None) -> None:
        super().__init__(recv_max_size=MAX_FRAME_BYTES + 1, local_ip=local_ip)
        self._owner = owner

    def subscribe(self, fut: Datagram) -> None:
        owner = self._owner

        async def guarded(data: bytes, addr: tuple[str, int]) -> None:
            problem = frame_problem(data)
            if problem is not None:
                owner.malformed_frames += 1
                _LOGGER.debug("Dropped a malformed ECHONET Lite frame from %s: %s", addr, problem)
                return
            owner.frame_received(data, addr[0])
            try:
                await fut(data, addr)
            except Exception:
                # A frame pychonet cannot digest must not end in an unretrieved task error.
                owner.malformed_frames += 1
                _LOGGER.debug("pychonet could not handle a frame from %s", addr, exc_info=True)

        super().subscribe(guarded)

    def unregister(self) -> None:
        """Take the socket out of the event loop before it is closed.

        pychonet's close() leaves its reader registered: the next socket given the same
        file descriptor (the next client, e.g. after a config flow's discovery) would then
        never be read.
        """
        loop = getattr(self, "loop", None)
        if loop is not None and not loop.is_closed():
            fd = self._sock.fileno()
            if fd >= 0:
                loop.remove_reader(fd)
                loop.remove_writer(fd)


class EchonetClient:
    """One UDP endpoint speaking ECHONET Lite.

    ``bind_host`` is the address the socket listens on (``0.0.0.0``: every interface, as
    devices answer to port 3610 of the requester); ``local_ip`` the interface multicast
    goes out on (None: the one routing to 224.0.23.0). ``port`` is 3610 on a real LAN.
    """

    def __init__(
        self,
        *,
        bind_host: str = "0.0.0.0",
        local_ip: str | None = None,
        port: int = ENL_PORT,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if not (math.isfinite(timeout_s) and 0 < timeout_s <= 60):
            raise ValueError(f"timeout_s must be within (0, 60] seconds, got {timeout_s!r}")
        self.bind_host = bind_host
        self.local_ip = local_ip
        self.port = port
        self.timeout_s = timeout_s
        self.malformed_frames = 0
        self._server: _GuardedServer | None = None
        self._api: Any = None
        self._heard: set[str] | None = None
        # One request at a time per node (pychonet matches answers by node); a silent node
        # holds up only its own requests, not another site's.
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def started(self) -> bool:
        return self._api is not None

    async def start(self) -> None:
        """Open the socket; :class:`EchonetTransportError` names why it cannot."""
        if self._api is not None:
            return
        try:
            server = _GuardedServer(self, self.local_ip)
        except OSError as err:
            if self.local_ip is not None:
                raise EchonetTransportError(
                    f"cannot use {self.local_ip} for the ECHONET Lite multicast group "
                    f"{MULTICAST_ADDRESS} ({err}): is it an address of this host?"
                ) from err
            raise EchonetTransportError(
                f"no interface reaches the ECHONET Lite multicast group {MULTICAST_ADDRESS} "
                f"({err}); give the gateway's LAN address"
            ) from err
        try:
            server.run(self.bind_host, self.port, loop=asyncio.get_running_loop())
        except OSError as err:
            server.close()
            raise EchonetTransportError(
                f"cannot listen on UDP {self.bind_host}:{self.port} ({err})"
            ) from err
        api = ECHONETAPIClient(server)
        api.configure(
            message_timeout=max(1, math.ceil(self.timeout_s / _TICK_S)),
            logger=_LOGGER.debug,
        )
        self._server, self._api = server, api

    def close(self) -> None:
        server, self._server, self._api = self._server, None, None
        if server is not None:
            server.unregister()
            server.close()

    async def discover(self, *, max_nodes: int = MAX_DISCOVERED_NODES) -> list[EchonetNode]:
        """Every node that answers a multicast Get of the instance list within the timeout,
        probed (nodes that then do not answer are left out)."""
        api = self._started()
        self._heard = set()
        started = asyncio.get_running_loop().time()
        try:
            # pychonet returns at the first answer from a node it knows (else at its
            # timeout); the others answer within the same window, so wait it out.
            await api.discover()
            left = self.timeout_s - (asyncio.get_running_loop().time() - started)
            if left > 0:
                await asyncio.sleep(left)
            heard = sorted(self._heard)[:max_nodes]
        finally:
            self._heard = None
        nodes: list[EchonetNode] = []
        for host in heard:
            try:
                nodes.append(await self.probe(host))
            except (EchonetTimeoutError, EchonetRefusedError) as err:
                _LOGGER.debug("Discovered node %s did not answer the probe: %s", host, err)
        return nodes

    async def probe(self, host: str) -> EchonetNode:
        """The node at ``host``: its objects and their property maps."""
        api = self._started()
        async with self._lock(host):
            api.state.pop(host, None)  # a fresh look: no instance from an earlier probe
            await api.discover(host)
            state = api.state.get(host, {})
            if not state.get("available") or not state.get("instances"):
                raise EchonetTimeoutError(f"no ECHONET Lite node answers at {host}")
            objects: list[ObjectMaps] = []
            for group, classes in sorted(state["instances"].items()):
                for class_code, instances in sorted(classes.items()):
                    for instance in sorted(instances):
                        obj = EchonetObject(group, class_code, instance)
                        if (group << 8 | class_code) == NODE_PROFILE:
                            continue
                        await api.getAllPropertyMaps(host, group, class_code, instance)
                        props = instances[instance]
                        objects.append(
                            ObjectMaps(
                                obj,
                                frozenset(props.get(ENL_GETMAP) or ()),
                                frozenset(props.get(ENL_SETMAP) or ()),
                            )
                        )
            if not api.state[host].get("available"):
                raise EchonetTimeoutError(f"the ECHONET Lite node at {host} stopped answering")
            manufacturer = state.get("manufacturer")
            if manufacturer is None:
                manufacturer = state.get(ENL_MANUFACTURER)
        return EchonetNode(
            host, tuple(objects), None if manufacturer is None else str(manufacturer)
        )

    async def get(self, host: str, obj: EchonetObject, epcs: tuple[int, ...]) -> dict[int, bytes]:
        """The properties ``epcs`` of ``obj`` that the node answered (missing: not answered,
        refused, or not in its get map). :class:`EchonetTimeoutError` if it is silent."""
        api = self._started()
        async with self._lock(host):
            table = self._table(host, obj)
            for epc in epcs:
                table.pop(epc, None)
            # Fewer properties than asked: the missing ones stay missing.
            with contextlib.suppress(EchonetMaxOpcError):
                await api.echonetMessage(
                    host,
                    obj.group,
                    obj.class_code,
                    obj.instance,
                    GET,
                    [{"EPC": epc} for epc in epcs],
                )
            self._raise_if_silent(host, obj)
            return {epc: bytes(table[epc]) for epc in epcs if isinstance(table.get(epc), bytes)}

    async def set(self, host: str, obj: EchonetObject, values: Mapping[int, bytes]) -> None:
        """Write ``values`` (EPC -> data) with SetC; every property must be confirmed."""
        api = self._started()
        async with self._lock(host):
            table = self._table(host, obj)
            for epc in values:
                table.pop(epc, None)
            opc = [
                {"EPC": epc, "PDC": len(data), "EDT": int.from_bytes(data, "big")}
                for epc, data in values.items()
            ]
            with contextlib.suppress(EchonetMaxOpcError):
                await api.echonetMessage(host, obj.group, obj.class_code, obj.instance, SETC, opc)
            self._raise_if_silent(host, obj)
            refused = tuple(epc for epc, data in values.items() if table.get(epc) != data)
            if refused:
                codes = ", ".join(f"0x{epc:02X}" for epc in refused)
                raise EchonetRefusedError(f"{host} {obj} refused to set {codes}", refused)

    def _lock(self, host: str) -> asyncio.Lock:
        return self._locks.setdefault(host, asyncio.Lock())

    def _started(self) -> Any:
        if self._api is None:
            raise EchonetTransportError("the ECHONET Lite client is not started")
        return self._api

    def _table(self, host: str, obj: EchonetObject) -> dict[int, Any]:
        """pychonet's state table of ``obj`` (the node must have been probed)."""
        try:
            table: dict[int, Any] = self._api.state[host]["instances"][obj.group][obj.class_code][
                obj.instance
            ]
        except KeyError:
            raise EchonetTimeoutError(f"{host} {obj} is not known: probe the node first") from None
        return table

    def _raise_if_silent(self, host: str, obj: EchonetObject) -> None:
        if not self._api.state[host].get("available"):
            raise EchonetTimeoutError(f"no answer from {host} {obj} within {self.timeout_s:g} s")

    def frame_received(self, data: bytes, host: str) -> None:
        """During discovery, note every node whose node profile answers."""
        heard = self._heard
        if heard is None or len(heard) >= MAX_DISCOVERED_NODES:
            return
        if data[4:6] == _NODE_PROFILE_CODE:
            heard.add(host)
