"""Home Assistant ingress: base path from X-Ingress-Path, relative links, client allow-list."""

from __future__ import annotations

import re
from typing import Any

import pytest

from optimizer.web import create_app
from optimizer.web.client_allow_list import HA_INGRESS_PROXY, is_allowed, parse_allowed_clients
from tests.helpers.openapi import validate_response
from tests.helpers.status_samples import InMemoryStatusSource

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROUTES = [
    "/",
    "/healthz",
    "/api/v1/sites",
    "/api/v1/sites/home/plan",
    "/api/v1/sites/home/status",
    "/api/v1/openapi.yaml",
]


async def page_of(client: Any, headers: dict[str, str] | None = None) -> str:
    async with client.get("/", headers=headers or {}) as response:
        body: bytes = await response.read()
        validate_response("GET", "/", response.status, dict(response.headers), body)
        assert response.status == 200
        return body.decode()


async def test_ingress_path_is_the_base_of_the_page(
    aiohttp_client: Any, one_site: InMemoryStatusSource
) -> None:
    client = await aiohttp_client(create_app(one_site, ingress_only=False, allowed_clients=[]))
    page = await page_of(client, {"X-Ingress-Path": "/api/hassio_ingress/abcDEF_12-3"})
    assert '<base href="/api/hassio_ingress/abcDEF_12-3/">' in page


async def test_without_ingress_the_base_is_the_root(
    aiohttp_client: Any, one_site: InMemoryStatusSource
) -> None:
    client = await aiohttp_client(create_app(one_site, ingress_only=False, allowed_clients=[]))
    assert '<base href="/">' in await page_of(client)


@pytest.mark.parametrize(
    "header",
    ['/x"><script>alert(1)</script>', "//evil.example/x", "/a/../b", "relative/path", "/a b"],
)
async def test_a_malformed_ingress_path_is_ignored(
    aiohttp_client: Any, one_site: InMemoryStatusSource, header: str
) -> None:
    client = await aiohttp_client(create_app(one_site, ingress_only=False, allowed_clients=[]))
    page = await page_of(client, {"X-Ingress-Path": header})
    assert '<base href="/">' in page
    assert "evil" not in page
    assert "alert(1)" not in page


async def test_every_link_and_fetch_in_the_page_is_relative(
    aiohttp_client: Any, two_sites: InMemoryStatusSource
) -> None:
    client = await aiohttp_client(create_app(two_sites, ingress_only=False, allowed_clients=[]))
    page = await page_of(client, {"X-Ingress-Path": "/api/hassio_ingress/tok"})
    links = re.findall(r'\b(?:href|src|action)="([^"]*)"', page)
    links.remove("/api/hassio_ingress/tok/")  # the <base> itself
    assert links  # the API links and the site selector's form
    for link in links:
        assert not link.startswith("/"), link
        assert "://" not in link, link
    assert re.search(r"""fetch\(\s*["'`/]""", page) is None  # fetch(base + ...), base relative
    assert '"/api' not in page.replace('<base href="/api/hassio_ingress/tok/">', "")
    assert "<script src" not in page  # self-contained: no external script or style
    assert "<link" not in page


async def test_a_site_id_cannot_break_out_of_the_page_data(
    aiohttp_client: Any, one_site: InMemoryStatusSource
) -> None:
    nasty = "</script><script>alert(1)</script>"
    one_site.statuses[nasty] = one_site.statuses["home"]
    one_site.plans[nasty] = []
    client = await aiohttp_client(create_app(one_site, ingress_only=False, allowed_clients=[]))
    page = await page_of(client)
    assert "<script>alert(1)" not in page


@pytest.mark.parametrize("path", [*ROUTES, "/no/such/path"])
async def test_production_mode_refuses_other_clients_with_403(
    aiohttp_client: Any, one_site: InMemoryStatusSource, path: str
) -> None:
    # The test client connects from 127.0.0.1, not from the ingress proxy.
    app = create_app(one_site, ingress_only=True, allowed_clients=[HA_INGRESS_PROXY])
    client = await aiohttp_client(app)
    async with client.get(path) as response:
        body = await response.read()
        validate_response("GET", path, response.status, dict(response.headers), body)
        assert response.status == 403
        error = (await response.json())["error"]
    assert error["code"] == "forbidden_client"
    assert "127.0.0.1" in error["message"]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("allowed", [["127.0.0.1"], [HA_INGRESS_PROXY, "127.0.0.0/8"]])
async def test_production_mode_serves_the_allowed_clients(
    aiohttp_client: Any, one_site: InMemoryStatusSource, path: str, allowed: list[str]
) -> None:
    app = create_app(one_site, ingress_only=True, allowed_clients=allowed)
    client = await aiohttp_client(app)
    async with client.get(path) as response:
        body = await response.read()
        validate_response("GET", path, response.status, dict(response.headers), body)
        assert response.status == 200


async def test_development_mode_serves_everyone(
    aiohttp_client: Any, one_site: InMemoryStatusSource
) -> None:
    app = create_app(one_site, ingress_only=False, allowed_clients=[HA_INGRESS_PROXY])
    client = await aiohttp_client(app)
    for path in ROUTES:
        async with client.get(path) as response:
            assert response.status == 200, path


def test_production_mode_needs_an_allowed_client(one_site: InMemoryStatusSource) -> None:
    with pytest.raises(ValueError, match="allowed_clients: empty"):
        create_app(one_site, ingress_only=True, allowed_clients=[])


def test_a_bad_allowed_client_is_named() -> None:
    with pytest.raises(ValueError, match=r"allowed_clients: 'proxy\.local' is not an IP"):
        parse_allowed_clients(["172.30.32.2", "proxy.local"])
    with pytest.raises(TypeError, match="not one string"):
        parse_allowed_clients("172.30.32.2")


@pytest.mark.parametrize(
    ("remote", "allowed"),
    [
        ("172.30.32.2", True),
        ("::ffff:172.30.32.2", True),  # IPv4 peer on a dual-stack socket
        ("172.30.32.1", False),  # the Supervisor itself, not the ingress proxy
        ("::1", False),
        (None, False),  # e.g. a unix socket
        ("not-an-address", False),
    ],
)
def test_only_the_ingress_proxy_address_is_allowed(remote: str | None, allowed: bool) -> None:
    assert is_allowed(remote, parse_allowed_clients([HA_INGRESS_PROXY])) is allowed
