"""EchonetClient (pychonet) against the uEcho node over real UDP: discovery, probe, get,
set, SNA, silence and malformed frames."""

from __future__ import annotations

import pytest

from bess_dispatch_core.echonet.client import EchonetClient
from bess_dispatch_core.echonet.errors import (
    EchonetRefusedError,
    EchonetTimeoutError,
    EchonetTransportError,
)
from bess_dispatch_core.echonet.objects import EchonetClass, EchonetObject
from tests.plugins.echonet_device import (
    CLIENT_TIMEOUT_S,
    STORAGE_BATTERY,
    SimulatedEchonetNode,
    until,
)

BATTERY = EchonetObject.of(EchonetClass.STORAGE_BATTERY)


async def test_multicast_discovery_finds_the_node_and_its_objects(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    nodes = await echonet_client.discover()
    # Other tests' nodes may answer too (see tests/plugins/echonet_device.py): find ours.
    ours = [node for node in nodes if node.host == echonet_node.host]
    assert len(ours) == 1
    node = ours[0]
    assert node.classes == {
        EchonetClass.STORAGE_BATTERY,
        EchonetClass.HOME_SOLAR,
        EchonetClass.SMART_METER,
    }
    battery = node.find(EchonetClass.STORAGE_BATTERY)
    assert battery is not None
    assert str(battery.obj) == "0x027D01"
    assert {0xE4, 0xE2, 0xD3, 0xA8, 0xA9, 0xDA} <= battery.get_map
    assert {0xDA, 0xEB, 0xEC} <= battery.set_map


async def test_probe_by_address_and_an_address_with_no_node(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    node = await echonet_client.probe(echonet_node.host)
    assert node.host == echonet_node.host
    assert node.find(EchonetClass.MULTI_INPUT_PCS) is None
    nobody = echonet_node.host.rsplit(".", 1)[0] + ".255"
    with pytest.raises(EchonetTimeoutError, match=r"no ECHONET Lite node answers at"):
        await echonet_client.probe(nobody)


async def test_get_returns_the_node_data_and_leaves_out_what_it_refuses(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    await echonet_client.probe(echonet_node.host)
    got = await echonet_client.get(echonet_node.host, BATTERY, (0xE4, 0xE2))
    assert got == {0xE4: bytes([55]), 0xE2: (5500).to_bytes(4, "big")}
    echonet_node.refuse(STORAGE_BATTERY, 0xE2)
    # The refused property reads as missing, not as the value pychonet saw last time.
    got = await echonet_client.get(echonet_node.host, BATTERY, (0xE4, 0xE2))
    assert got == {0xE4: bytes([55])}


async def test_set_is_seen_by_the_node_and_a_refusal_names_the_property(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    await echonet_client.probe(echonet_node.host)
    await echonet_client.set(echonet_node.host, BATTERY, {0xEB: (2000).to_bytes(4, "big")})
    assert echonet_node.value(STORAGE_BATTERY, 0xEB) == (2000).to_bytes(4, "big")
    echonet_node.refuse(STORAGE_BATTERY, 0xEC)
    with pytest.raises(EchonetRefusedError, match=r"refused to set 0xEC") as refused:
        await echonet_client.set(
            echonet_node.host, BATTERY, {0xDA: b"\x43", 0xEC: (1000).to_bytes(4, "big")}
        )
    assert refused.value.epcs == (0xEC,)
    # The node took the mode (SetC_SNA lists it as accepted), not the refused power.
    assert echonet_node.value(STORAGE_BATTERY, 0xDA) == b"\x43"
    assert echonet_node.value(STORAGE_BATTERY, 0xEC) == (3000).to_bytes(4, "big")
    # A property outside the set map is refused without asking the node.
    with pytest.raises(EchonetRefusedError, match=r"0xE4"):
        await echonet_client.set(echonet_node.host, BATTERY, {0xE4: b"\x10"})


async def test_silent_node_times_out_then_answers_again(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    await echonet_client.probe(echonet_node.host)
    echonet_node.silent = True
    with pytest.raises(EchonetTimeoutError, match=r"no answer from .* within 2 s"):
        await echonet_client.get(echonet_node.host, BATTERY, (0xE4,))
    with pytest.raises(EchonetTimeoutError):
        await echonet_client.set(echonet_node.host, BATTERY, {0xDA: b"\x44"})
    echonet_node.silent = False
    assert await echonet_client.get(echonet_node.host, BATTERY, (0xE4,)) == {0xE4: bytes([55])}


MALFORMED = [
    b"",
    b"\x10\x81\x00",  # shorter than the header
    b"\x10\x82" + bytes(10),  # format 2
    # A Get_Res whose property claims 5 bytes but carries 1.
    b"\x10\x81\x00\x01\x02\x7d\x01\x05\xff\x01\x72\x01\xe4\x05\x01",
    # Two properties announced, one present.
    b"\x10\x81\x00\x01\x02\x7d\x01\x05\xff\x01\x72\x02\xe4\x01\x37",
    # Bytes after the last property.
    b"\x10\x81\x00\x01\x02\x7d\x01\x05\xff\x01\x72\x01\xe4\x01\x37\x00",
    bytes(1600),  # larger than any frame
]


async def test_malformed_frames_are_dropped_and_counted_and_reading_goes_on(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    await echonet_client.probe(echonet_node.host)
    for frame in MALFORMED:
        echonet_node.send_raw(frame)
    await until(lambda: echonet_client.malformed_frames >= len(MALFORMED))
    assert echonet_client.malformed_frames == len(MALFORMED)
    got = await echonet_client.get(echonet_node.host, BATTERY, (0xE4, 0xE2))
    assert got == {0xE4: bytes([55]), 0xE2: (5500).to_bytes(4, "big")}


async def test_an_address_it_cannot_listen_on_is_a_transport_error_naming_it(
    echonet_node: SimulatedEchonetNode,
) -> None:
    # 198.51.100.7 (TEST-NET-2) is on no interface here: bind fails, nothing is sent.
    client = EchonetClient(bind_host="198.51.100.7", local_ip=echonet_node.client_host)
    with pytest.raises(EchonetTransportError, match=r"cannot use 198\.51\.100\.7 for the"):
        await EchonetClient(bind_host="198.51.100.7", local_ip="198.51.100.7").start()
    with pytest.raises(EchonetTransportError, match=r"cannot listen on UDP 198\.51\.100\.7:3610"):
        await client.start()
    assert not client.started


def test_bad_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match=r"timeout_s"):
        EchonetClient(timeout_s=0)


async def test_a_client_after_a_closed_one_on_the_same_address_still_hears_the_node(
    echonet_node: SimulatedEchonetNode,
) -> None:
    # pychonet's close() leaves its socket's reader in the loop; the next socket may get
    # the same descriptor and was then never read (a config flow's discovery, then probe).
    for _ in range(2):
        client = EchonetClient(
            bind_host=echonet_node.client_host,
            local_ip=echonet_node.client_host,
            timeout_s=CLIENT_TIMEOUT_S,
        )
        await client.start()
        try:
            node = await client.probe(echonet_node.host)
        finally:
            client.close()
        assert node.find(EchonetClass.STORAGE_BATTERY) is not None
