"""Runs the web application on a host and port next to the optimizer service's own tasks."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class RunningWebServer:
    runner: web.AppRunner
    host: str
    port: int  # the bound port, also when 0 (any free port) was asked for

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_web_server(app: web.Application, host: str, port: int) -> RunningWebServer:
    """Starts serving ``app`` in the running event loop; call ``stop()`` to shut it down."""
    # No access log: the ingress proxy polls, and the add-on log is for what matters.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    return RunningWebServer(runner=runner, host=host, port=bound_port)
