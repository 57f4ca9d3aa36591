"""A minimal stand-in for Home Assistant's ingress proxy, for tests on 127.0.0.1.

Like the Supervisor it serves the add-on under /api/hassio_ingress/<token>/, strips that
prefix, passes it on as X-Ingress-Path, and connects to the add-on from its own address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from optimizer.web import RunningWebServer, start_web_server

INGRESS_TOKEN = "Zm9vYmFyLXRva2Vu"
INGRESS_PATH = f"/api/hassio_ingress/{INGRESS_TOKEN}"


@dataclass
class IngressProxy:
    upstream: str  # "http://127.0.0.1:port"
    forwarded: list[str] = field(default_factory=list)  # upstream paths, in order
    server: RunningWebServer | None = None
    session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}{INGRESS_PATH}/"

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_get(INGRESS_PATH + "/{tail:.*}", self._forward)
        self.server = await start_web_server(app, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self.session is not None:
            await self.session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self.session is not None
        path = "/" + request.match_info["tail"]
        target = path + (f"?{request.query_string}" if request.query_string else "")
        self.forwarded.append(target)
        async with self.session.get(
            self.upstream + target, headers={"X-Ingress-Path": INGRESS_PATH}
        ) as upstream:
            body = await upstream.read()
            return web.Response(
                body=body,
                status=upstream.status,
                content_type=upstream.content_type,
                charset=upstream.charset,
            )
