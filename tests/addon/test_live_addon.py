"""The add-on as installed from its image's steps, talking to the real integration in HA.

scripts/test builds the project's wheel, installs it with addon/install.sh in a Debian trixie
root (the base image's release) where the checkout is not visible, and starts the add-on's
own s6 scripts there (init-config, mosquitto, optimizer) against a sample options.json and a
Supervisor stand-in (scripts/addon_live.sh). BESS_LIVE_ADDON says where its broker and plan
page listen. Here a real Home Assistant loads the integration as a gateway of that add-on's
site, logs in to its broker with the site's credentials and must receive the optimizer's
p0, p1 and p2 schedules; the plan page must answer on the ingress port to the ingress proxy
(played by 127.0.0.2) and refuse everyone else.

Under CI (CI=true) a missing add-on fails the test: it must never pass by being skipped.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import time
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import Priority
from custom_components.bess_dispatch.const import DOMAIN
from tests.custom_components.bess_dispatch.conftest import (
    BATTERY_DATA,
    SOURCES,
    add_source_sensors,
)

SCHEDULES_WITHIN_S = 150.0  # the service ticks every 20 s and solves a 48 h plan first


def live_addon() -> dict[str, Any]:
    text = os.environ.get("BESS_LIVE_ADDON", "")
    if not text:
        message = "BESS_LIVE_ADDON is not set: run through scripts/test, which starts the add-on"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/bess_dispatch."""


def get(port: int, path: str, source: str) -> tuple[int, str, bytes]:
    """GET from ``source``: the plan page answers only the ingress proxy's address."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


async def test_gateway_receives_the_addons_schedules_and_the_plan_page_answers(
    hass: HomeAssistant, socket_enabled: None, tmp_path: Any
) -> None:
    addon = live_addon()
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "configuration.yaml").write_text("")
    add_source_sensors(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{addon['site_id']} / {addon['gateway_id']}",
        unique_id=f"{addon['site_id']}/{addon['gateway_id']}",
        data={
            "site_id": addon["site_id"],
            "gateway_id": addon["gateway_id"],
            "use_case": "ac_link",
            "has_load": True,
            **BATTERY_DATA,
            "sources": SOURCES,
            "source_type": "entities",
            "host": "127.0.0.1",
            "port": addon["broker_port"],
            "username": addon["username"],
            "password": addon["password"],
            "tls": False,
            "ca_file": None,
            "client_cert": None,
            "client_key": None,
            "broker_type": "custom",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = entry.runtime_data.runtime
    book = runtime.dispatcher.book

    # Wall-clock waiting: the add-on runs in real time, outside the test's event loop clock.
    deadline = time.monotonic() + SCHEDULES_WITHIN_S
    next_publish = time.monotonic()
    received: set[Priority] = set()
    while received != {Priority.FALLBACK, Priority.DAY_AHEAD, Priority.INTRADAY}:
        assert time.monotonic() < deadline, (
            f"within {SCHEDULES_WITHIN_S} s the gateway got only {sorted(received)} from the "
            f"add-on; its log is {addon.get('log')}"
        )
        if time.monotonic() >= next_publish:
            # Telemetry tells the optimizer the site is alive and where its SoE is.
            await hass.services.async_call(
                DOMAIN, "publish_now", {"config_entry_id": entry.entry_id}, blocking=True
            )
            next_publish = time.monotonic() + 15
        await asyncio.sleep(0.5)
        received = {
            command.priority
            for command in book.commands
            if command.command_id.startswith(f"{addon['site_id']}-")
        }

    for command in book.commands:
        assert command.schedule, command.command_id
    port, proxy = addon["ingress_port"], addon["ingress_proxy"]
    status, content_type, body = await hass.async_add_executor_job(get, port, "/", proxy)
    assert status == 200
    assert content_type.startswith("text/html")
    assert b"<html" in body.lower()
    status, _, body = await hass.async_add_executor_job(get, port, "/api/v1/sites", proxy)
    assert status == 200
    assert addon["site_id"] in body.decode()
    # Anyone but the ingress proxy is refused.
    status, _, _ = await hass.async_add_executor_job(get, port, "/", "127.0.0.1")
    assert status == 403

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def test_under_ci_a_missing_addon_fails_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BESS_LIVE_ADDON", raising=False)
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="BESS_LIVE_ADDON is not set"):
        live_addon()
