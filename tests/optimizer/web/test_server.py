"""start_web_server: the service's way to run the app on a host and port."""

from __future__ import annotations

import aiohttp
import pytest

from optimizer.web import create_app, start_web_server
from tests.helpers.status_samples import InMemoryStatusSource

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_serves_on_the_bound_port_until_stopped(one_site: InMemoryStatusSource) -> None:
    app = create_app(one_site, ingress_only=False, allowed_clients=[])
    server = await start_web_server(app, "127.0.0.1", 0)
    try:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}/"
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.url + "api/v1/sites") as response,
        ):
            assert response.status == 200
            assert (await response.json())["sites"][0]["site_id"] == "home"
    finally:
        await server.stop()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(server.url + "healthz")


async def test_a_busy_port_raises_and_leaves_nothing_running(
    one_site: InMemoryStatusSource,
) -> None:
    first = await start_web_server(
        create_app(one_site, ingress_only=False, allowed_clients=[]), "127.0.0.1", 0
    )
    try:
        with pytest.raises(OSError, match=str(first.port)):
            await start_web_server(
                create_app(one_site, ingress_only=False, allowed_clients=[]),
                "127.0.0.1",
                first.port,
            )
    finally:
        await first.stop()
