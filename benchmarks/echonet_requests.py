"""Issue 17: how long ECHONET Lite requests take through pychonet, against the uEcho node.

Every row runs against the same simulated node (tests/plugins/echonet_device.py) on a
loopback address pair of its own. The reference row is a bare UDP round trip of the same
Get frame (one socket, sendto + recvfrom): what the wire and uEcho cost. The rows after it
are the gateway's calls: a Get of one object, a whole poll (one Get per object the AC-link
metrics need, decoded), a SetC of the operation mode, and a probe (node profile + the
three objects' property maps). pychonet checks for an answer every 0.1 s, which is the
floor of each request here; a 30-s poll interval leaves ample room.

    scripts/env python benchmarks/echonet_requests.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parents[1] / "pure")]

from bess_dispatch_core.echonet.client import EchonetClient  # noqa: E402
from bess_dispatch_core.echonet.objects import EchonetClass, EchonetObject  # noqa: E402
from bess_dispatch_core.echonet.source import read_node  # noqa: E402
from tests.plugins.echonet_device import start_node  # noqa: E402

# Get (0x62) of 0xE4 from the battery 0x027D01, as a controller 0x05FF01 sends it.
GET_E4 = bytes.fromhex("1081000105ff01027d016201e400")
READINGS = [
    "grid_import_kwh",
    "grid_export_kwh",
    "battery_soc_percent",
    "battery_effective_capacity_wh",
    "solar_generated_kwh",
    "battery_ac_charged_kwh",
    "battery_ac_discharged_kwh",
]


def bare_round_trip(node_host: str, client_host: str, runs: int) -> list[float]:
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((client_host, 3610))
        sock.settimeout(2)
        for _ in range(runs):
            started = time.perf_counter()
            sock.sendto(GET_E4, (node_host, 3610))
            sock.recvfrom(1500)
            times.append(time.perf_counter() - started)
    return times


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def main(runs: int) -> None:
    node = start_node()
    rows: list[tuple[str, list[float]]] = []
    try:
        print(f"bare UDP round trip x{runs}", file=sys.stderr)
        rows.append(
            (
                "bare UDP Get round trip  [reference]",
                bare_round_trip(node.host, node.client_host, runs),
            )
        )
        client = EchonetClient(bind_host=node.client_host, local_ip=node.client_host, timeout_s=2)
        await client.start()
        try:
            battery = EchonetObject.of(EchonetClass.STORAGE_BATTERY)
            print(f"probe x{max(3, runs // 10)}", file=sys.stderr)
            rows.append(
                (
                    "probe (profile + 3 objects' maps)",
                    await timed(lambda: client.probe(node.host), max(3, runs // 10)),
                )
            )
            probed = await client.probe(node.host)
            print(f"get, poll, set x{runs}", file=sys.stderr)
            rows.append(
                (
                    "Get 0xE4 of the battery",
                    await timed(lambda: client.get(node.host, battery, (0xE4,)), runs),
                )
            )
            rows.append(
                (
                    "poll: AC-link readings, 3 objects",
                    await timed(lambda: read_node(client, probed, READINGS), runs),
                )
            )
            rows.append(
                (
                    "SetC 0xDA (operation mode)",
                    await timed(lambda: client.set(node.host, battery, {0xDA: b"\x44"}), runs),
                )
            )
        finally:
            client.close()
    finally:
        node.stop()
    reference = statistics.median(rows[0][1])
    print(f"\nECHONET Lite requests against the uEcho node on loopback ({runs} runs; probe fewer)")
    print(f"{'row':<40} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'x ref':>8}")
    print("-" * 80)
    for name, times in rows:
        ordered = sorted(times)
        p50 = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        figures = f"{p50 * 1e3:>8.2f} {p95 * 1e3:>8.2f} {ordered[-1] * 1e3:>8.2f}"
        print(f"{name:<40} {len(times):>4} {figures} {p50 / reference:>7.0f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(main(parser.parse_args().runs))
