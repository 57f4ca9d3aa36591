"""``python -m ha_demo`` (``scripts/demo --ha``): the stack until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
from pathlib import Path

from .dashboards import DASHBOARD_URL_PATH
from .stack import DemoStack


async def run(directory: Path, port: int) -> None:
    stack = DemoStack(directory=directory, hass_port=port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stack.start()
        await stack.set_up_site()
        print(
            f"\nHome Assistant: {stack.url}/{DASHBOARD_URL_PATH}\n"
            f"login: {stack.owner.username} / {stack.owner.password}\n"
            f"plan page: {stack.services.plan_url}\n"
            f"files and logs: {directory}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        await stopping.wait()
    finally:
        print("[demo] stopping Home Assistant, the optimizer, the broker and the simulator")
        await stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo --ha")
    parser.add_argument("--dir", type=Path, default=None, help="state folder (default: temp)")
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's HTTP port")
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="bess-ha-demo-"))
    asyncio.run(run(directory.resolve(), args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
