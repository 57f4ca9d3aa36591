"""A simulated ECHONET Lite node on real UDP, built on uEcho (loaded with
``-p tests.plugins.echonet_device``).

The node is an independent implementation (uEcho for Python), not the code under test, so
a property the gateway misreads or writes wrong is caught. It holds a storage battery
(0x027D01), home solar power generation (0x027901) and a low-voltage smart electric energy
meter (0x028801), optionally a multi-input PCS (0x02A501), with the property data a test
sets (:meth:`SimulatedEchonetNode.set`), and records every write it accepts.

Two deviations of uEcho 1.0.3 from the standard are corrected here, each where it is
made: property maps of 16 or more codes (format 2) lose every code from 0xC0 up, and a
refused SetC is answered with SetI_SNA (0x50) instead of SetC_SNA (0x51).

Fixtures: ``echonet_node`` (battery, PV, meter), ``echonet_pcs_node`` (with a PCS) and
``echonet_client``, a started :class:`EchonetClient` on the node's partner address.

Fault injection: ``refuse(class, epc)`` makes the node answer reads and writes of that
property with an SNA (uEcho's own refusal path), ``silent = True`` makes it drop every
request, ``send_raw(data, to)`` sends any bytes from the node's own address and port.

Port 3610 and parallel tests
----------------------------
ECHONET Lite has one port, 3610, and pychonet always sends to it. Each test therefore gets
its own pair of loopback addresses (the whole 127.0.0.0/8 is local on Linux): the node
listens on ``127.36.P.N`` and the gateway's client on ``127.36.P.N+1``, where P comes from
the pytest-xdist worker number and the process id and N from a per-process counter, so two
workers never share an address. Unicast goes to the socket bound to the exact address.
uEcho also binds its multicast socket to ``0.0.0.0:3610`` (SO_REUSEADDR/SO_REUSEPORT) and
joins 224.0.23.0 on the node's loopback address, so a multicast discovery sent with
``IP_MULTICAST_IF`` set to the client's loopback address stays on ``lo`` and reaches every
simulated node running at that moment, in this worker or another: discovery tests look for
their own node among the answers, as on a real LAN.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from uecho import Device, LocalNode, Property

from bess_dispatch_core.echonet.client import EchonetClient

ECHONET_PORT = 3610
#: The client timeout tests use: short for silence tests, enough for two loaded CI cores.
CLIENT_TIMEOUT_S = 2.0
STORAGE_BATTERY = 0x027D
HOME_SOLAR = 0x0279
SMART_METER = 0x0288
MULTI_INPUT_PCS = 0x02A5

_counter = itertools.count()
_counter_lock = threading.Lock()


def loopback_pair() -> tuple[str, str]:
    """(node address, client address): unused by any other test of this run.

    The third octet tells the pytest-xdist worker (gw0, gw1 ...) apart, and the process
    id keeps two runs at once apart as far as it can; the fourth counts within the worker.
    """
    with _counter_lock:
        n = next(_counter) % 127
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    third = (os.getpid() % 50) * 5 + (int(worker) if worker.isdigit() else 0) % 5
    return f"127.36.{third}.{2 * n + 1}", f"127.36.{third}.{2 * n + 2}"


@dataclass
class Write:
    echonet_class: int
    epc: int
    data: bytes


class _Object(Device):  # type: ignore[misc]
    """A uEcho device object whose refusals and writes the node controls."""

    def __init__(self, node: SimulatedEchonetNode, echonet_class: int) -> None:
        super().__init__((echonet_class >> 8, echonet_class & 0xFF, 1))
        self._node = node
        self.echonet_class = echonet_class

    def message_received(self, req_msg: Any) -> Any:
        res_msg = super().message_received(req_msg)
        # uEcho 1.0.3 answers a refused SetC (0x61) with SetI_SNA (0x50); the standard
        # answer is SetC_SNA (0x51), which is what real devices send.
        if res_msg is not None and req_msg.ESV == 0x61 and res_msg.ESV == 0x50:
            res_msg.ESV = 0x51
        return res_msg

    def property_read_requested(self, prop: Any) -> bool:
        if (self.echonet_class, prop.code) in self._node.refused:
            return False
        return bool(super().property_read_requested(prop))

    def property_write_requested(self, prop: Any, data: bytes) -> bool:
        if (self.echonet_class, prop.code) in self._node.refused:
            return False
        if not super().property_write_requested(prop, data):
            return False
        with self._node.lock:
            self._node.writes.append(Write(self.echonet_class, prop.code, bytes(data)))
        return True


class _Node(LocalNode):  # type: ignore[misc]
    def __init__(self, owner: SimulatedEchonetNode) -> None:
        super().__init__()
        self._owner = owner

    def message_received(self, proto_msg: Any) -> None:
        if self._owner.silent:
            return
        super().message_received(proto_msg)


@dataclass
class SimulatedEchonetNode:
    """The running node, its objects' data and what it was told."""

    host: str
    client_host: str
    with_pcs: bool = False
    silent: bool = False
    refused: set[tuple[int, int]] = field(default_factory=set)
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    objects: dict[int, _Object] = field(default_factory=dict)
    _node: Any = None

    def start(self) -> None:
        node = _Node(self)
        classes = [STORAGE_BATTERY, HOME_SOLAR, SMART_METER]
        if self.with_pcs:
            classes.append(MULTI_INPUT_PCS)
        for echonet_class in classes:
            obj = _Object(self, echonet_class)
            self.objects[echonet_class] = obj
            node.add_object(obj)
        self._defaults()
        # uEcho's LocalNode.start() ignores its interface list and would listen on every
        # non-loopback interface: start its frame manager on the test's address instead.
        manager = node._LocalNode__manager
        if not manager.start([self.host]):
            raise RuntimeError(f"uEcho cannot listen on {self.host}:{ECHONET_PORT}")
        node.set_address((manager.ifaddr, manager.port))
        manager.add_observer(node)
        self._node = node

    def stop(self) -> None:
        node, self._node = self._node, None
        if node is None:
            return
        # uEcho's stop shuts each socket down, which wakes its thread's recvfrom, and joins.
        node.stop()

    # --- data -----------------------------------------------------------------------------
    def set(self, echonet_class: int, epc: int, data: bytes, *, writable: bool = False) -> None:
        """Serve ``data`` for ``epc`` (readable; ``writable`` adds it to the set map)."""
        obj = self.objects[echonet_class]
        prop = obj.get_property(epc)
        if prop is None:
            prop = Property(epc)
        prop.set_attribute(Property.GET, Property.REQUIRED)
        if writable:
            prop.set_attribute(Property.SET, Property.REQUIRED)
        prop.data = bytes(data)
        obj.add_property(prop)
        _fix_property_maps(obj)

    def set_int(
        self, echonet_class: int, epc: int, value: int, size: int, *, writable: bool = False
    ) -> None:
        self.set(
            echonet_class, epc, value.to_bytes(size, "big", signed=value < 0), writable=writable
        )

    def value(self, echonet_class: int, epc: int) -> bytes:
        return bytes(self.objects[echonet_class].get_property(epc).data)

    def remove(self, echonet_class: int, epc: int) -> None:
        """Take ``epc`` out of the object's get and set maps (the device lacks it)."""
        prop = self.objects[echonet_class].get_property(epc)
        prop.set_attribute(Property.GET, Property.PROHIBITED)
        prop.set_attribute(Property.SET, Property.PROHIBITED)
        self.objects[echonet_class].add_property(prop)
        _fix_property_maps(self.objects[echonet_class])

    def refuse(self, echonet_class: int, epc: int) -> None:
        self.refused.add((echonet_class, epc))

    def writes_to(self, echonet_class: int) -> list[Write]:
        with self.lock:
            return [w for w in self.writes if w.echonet_class == echonet_class]

    def send_raw(self, data: bytes, to: tuple[str, int] | None = None) -> None:
        """Send ``data`` from the node's own address and port 3610 (as the node would)."""
        node = self._node
        assert node is not None
        unicast = node._LocalNode__manager.servers[0]
        unicast.sock.sendto(data, to or (self.client_host, ECHONET_PORT))

    def _defaults(self) -> None:
        """A 10 kWh battery at 55 %, 1.5 kW PV, a meter importing 0.8 kW."""
        b, s, m = STORAGE_BATTERY, HOME_SOLAR, SMART_METER
        self.set(b, 0x80, b"\x30", writable=True)
        self.set(b, 0xDA, b"\x46", writable=True)  # automatic
        self.set_int(b, 0xE4, 55, 1)  # SoC 55 %
        self.set_int(b, 0xE2, 5500, 4)  # 5,500 Wh stored
        self.set_int(b, 0xA0, 9800, 4)  # AC effective capacity 9,800 Wh
        self.set_int(b, 0xD0, 10000, 4)  # rated 10,000 Wh
        self.set_int(b, 0xD3, -1200, 4)  # discharging 1.2 kW
        self.set_int(b, 0xA8, 1_234_567, 4)  # AC charged 1,234.567 kWh
        self.set_int(b, 0xA9, 1_100_000, 4)  # AC discharged 1,100.000 kWh
        self.set_int(b, 0xD8, 1_300_000, 4)  # charged 1,300.000 kWh
        self.set_int(b, 0xD6, 1_150_000, 4)  # discharged 1,150.000 kWh
        self.set_int(b, 0xEB, 3000, 4, writable=True)
        self.set_int(b, 0xEC, 3000, 4, writable=True)
        self.set(s, 0x80, b"\x30")
        self.set_int(s, 0xE0, 1500, 2)  # 1,500 W
        self.set_int(s, 0xE1, 8_765_432, 4)  # 8,765.432 kWh
        self.set(m, 0x80, b"\x30")
        self.set_int(m, 0xD3, 1, 4)  # coefficient 1
        self.set_int(m, 0xD7, 6, 1)  # 6 digits
        self.set(m, 0xE1, b"\x01")  # unit 0.1 kWh
        self.set_int(m, 0xE0, 123_456, 4)  # 12,345.6 kWh imported
        self.set_int(m, 0xE3, 54_321, 4)  # 5,432.1 kWh exported
        self.set_int(m, 0xE7, 800, 4)  # importing 800 W
        if self.with_pcs:
            p = MULTI_INPUT_PCS
            self.set(p, 0x80, b"\x30")
            self.set_int(p, 0xE0, 2_000_000, 4)  # 2,000.000 kWh out
            self.set_int(p, 0xE3, 300_000, 4)  # 300.000 kWh in
            self.set_int(p, 0xE7, 700, 4)


def _fix_property_maps(obj: _Object) -> None:
    """Rewrite the get/set maps (0x9F/0x9E) in description format 2 correctly.

    uEcho 1.0.3 masks the bit of each code with 0x0F when a map holds 16 or more codes,
    which drops every code from 0xC0 up (0xD3, 0xE2, 0xE4 ...). The ECHONET Lite format:
    byte 1 + (code & 0x0F), bit (code >> 4) - 8.
    """
    for map_epc, enabled in ((0x9F, "is_read_enabled"), (0x9E, "is_write_enabled")):
        codes = sorted(p.code for p in obj.properties if getattr(p, enabled)())
        if len(codes) < 16:
            continue  # format 1 (a list), which uEcho writes correctly
        bits = bytearray(16)
        for code in codes:
            bits[code & 0x0F] |= 1 << ((code >> 4) - 8)
        obj.get_property(map_epc).data = bytes([len(codes)]) + bytes(bits)


def start_node(*, with_pcs: bool = False) -> SimulatedEchonetNode:
    host, client_host = loopback_pair()
    node = SimulatedEchonetNode(host, client_host, with_pcs=with_pcs)
    node.start()
    return node


@pytest.fixture
def echonet_node(socket_enabled: None) -> Iterator[SimulatedEchonetNode]:
    """A simulated battery + PV + meter node on its own loopback address (see above)."""
    node = start_node()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def echonet_pcs_node(socket_enabled: None) -> Iterator[SimulatedEchonetNode]:
    """As ``echonet_node``, with a multi-input PCS (0x02A5) besides."""
    node = start_node(with_pcs=True)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
async def echonet_client(echonet_node: SimulatedEchonetNode) -> AsyncIterator[EchonetClient]:
    """A started client (pychonet) on the node's partner address."""
    client = EchonetClient(
        bind_host=echonet_node.client_host,
        local_ip=echonet_node.client_host,
        timeout_s=CLIENT_TIMEOUT_S,
    )
    await client.start()
    try:
        yield client
    finally:
        client.close()


async def until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    """Wait until ``condition()`` holds (the node runs in threads: poll it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not true within {within_s} s")
        await asyncio.sleep(0.05)
