"""The whole demo as one object: add-on services, the simulated site, Home Assistant; each
step callable on its own, so the browser test can do the config flow in the UI and the
restart test can stop and start ``hass`` under a running site."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from simulators.real_time_site import RealTimeSite
from simulators.sunspec_server import SunSpecServer, start_sunspec_server

from .addon_services import AddonServices, DemoSite, prepare_addon_services
from .dashboards import configure_dashboards
from .ha_client import HomeAssistantClient, Location, Owner
from .hass_config import write_hass_config
from .processes import HOST, ManagedProcess, free_port, port_open
from .site_setup import Endpoint, add_site, entity_ids, set_options

LOG = logging.getLogger(__name__)
HASS_START_TIMEOUT_S = 120.0


def _progress(message: str) -> None:
    LOG.info(message)
    print(f"[demo] {message}", flush=True)


@dataclass
class DemoStack:
    """Start with :meth:`start`; always :meth:`stop` (it ends every child process)."""

    directory: Path
    hass_port: int = 0
    site: DemoSite = field(default_factory=DemoSite)
    owner: Owner = field(default_factory=Owner)
    location: Location = field(default_factory=Location)
    addon: AddonServices | None = None
    hass: ManagedProcess | None = None
    simulator: RealTimeSite | None = None
    modbus_port: int = 0
    entry_id: str | None = None
    entities: dict[str, str] = field(default_factory=dict)
    _modbus_server: SunSpecServer | None = None
    _session: aiohttp.ClientSession | None = None
    _client: HomeAssistantClient | None = None

    # --- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.hass_port}"

    @property
    def config_dir(self) -> Path:
        return self.directory / "homeassistant"

    @property
    def client(self) -> HomeAssistantClient:
        assert self._client is not None, "start() first"
        return self._client

    @property
    def services(self) -> AddonServices:
        assert self.addon is not None, "start() first"
        return self.addon

    @property
    def device(self) -> Endpoint:
        return Endpoint(HOST, self.modbus_port)

    @property
    def broker(self) -> Endpoint:
        return Endpoint(HOST, self.services.broker_port)

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Broker, optimizer, simulated site and Home Assistant, onboarded."""
        started = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        # Mosquitto drops to its own account and must traverse this folder to its files.
        self.directory.chmod(0o755)
        self.hass_port = self.hass_port or free_port()
        self._session = aiohttp.ClientSession()
        self._client = HomeAssistantClient(self.url, self._session)
        _progress("add-on: generating the broker's and the optimizer's files")
        self.addon = prepare_addon_services(self.directory / "addon", self.site)
        self.addon.start()
        _progress(
            f"add-on: Mosquitto on {HOST}:{self.addon.broker_port}, plan page on "
            f"{self.addon.plan_url}"
        )
        self.simulator = RealTimeSite.create(self.location.time_zone)
        self.modbus_port = free_port()
        self._modbus_server = await start_sunspec_server(
            self.simulator.simulation, HOST, self.modbus_port, before_request=self.simulator.refresh
        )
        _progress(f"SunSpec simulator on {HOST}:{self.modbus_port}")
        write_hass_config(self.config_dir, self.hass_port)
        self.hass = ManagedProcess(
            "hass",
            [str(Path(sys.executable).parent / "hass"), "-c", str(self.config_dir), "--skip-pip"],
            self.directory / "logs" / "hass.log",
        )
        await self.start_hass()
        _progress("onboarding: owner account, Tokyo, JPY, Asia/Tokyo")
        await self.client.onboard(self.owner, self.location)
        # Keep 127.0.0.1 and this port: confirmed, the migrated HTTP settings never revert.
        await self.client.ws("http/config/promote")
        write_hass_config(self.config_dir, self.hass_port, http_yaml=False)
        _progress(f"Home Assistant ready in {time.monotonic() - started:.0f} s")

    async def start_hass(self) -> None:
        assert self.hass is not None
        _progress(f"starting Home Assistant on {self.url}")
        self.hass.start()
        deadline = time.monotonic() + HASS_START_TIMEOUT_S
        while not port_open(self.hass_port):
            if not self.hass.running:
                raise RuntimeError(f"hass exited:\n{self.hass.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"hass did not listen in time:\n{self.hass.log_tail()}")
            await asyncio.sleep(0.5)
        await self.client.wait_until_up(HASS_START_TIMEOUT_S)

    async def stop_hass(self, signum: int = signal.SIGTERM) -> int | None:
        """SIGTERM (Home Assistant's own shutdown) or SIGKILL (no chance to clean up)."""
        assert self.hass is not None
        if signum == signal.SIGKILL:
            return await asyncio.to_thread(self.hass.kill)
        return await asyncio.to_thread(self.hass.stop, 120.0)

    async def wait_for_entry_loaded(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            entries = await self.client.request("GET", "/api/config/config_entries/entry")
            states = {e["entry_id"]: e["state"] for e in entries}
            if states.get(self.entry_id) == "loaded":
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"entry {self.entry_id} is {states.get(self.entry_id)}")
            await asyncio.sleep(0.5)

    async def set_up_site(self) -> None:
        """Config flow, options, Energy dashboard and the demo dashboard, all through APIs."""
        _progress("config flow: BESS Dispatch with the SunSpec device and the add-on's broker")
        self.entry_id = await add_site(
            self.client, self.site, self.device, self.broker, self.services.gateway_password
        )
        await self.finish_site_setup()

    async def finish_site_setup(self) -> None:
        """After the entry exists (from the REST flow or the UI): options and dashboards."""
        assert self.entry_id is not None
        await set_options(self.client, self.entry_id, self.device)
        await self.wait_for_entry_loaded()
        self.entities = await entity_ids(self.client, self.entry_id, self.site)
        _progress("Energy dashboard and the BESS Dispatch dashboard")
        await configure_dashboards(self.client, self.entities, self.services.plan_url)

    async def stop(self) -> None:
        """Every process this stack started, whatever state it is in."""
        if self.hass is not None:
            await self.stop_hass()
        if self.addon is not None:
            await asyncio.to_thread(self.addon.stop)
        if self._modbus_server is not None:
            await self._modbus_server.stop()
            self._modbus_server = None
        if self._session is not None:
            await self._session.close()
            self._session = None
