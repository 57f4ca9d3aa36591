"""The add-on's half of the demo: its generator writes Mosquitto's files and the optimizer's
service configuration from an options.json, exactly as at the add-on's start, then both run
as child processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.addon.credentials import CREDENTIALS_FILE, OPTIMIZER_USERNAME
from optimizer.addon.generate import AddonEnvironment, generate
from optimizer.addon.mosquitto_config import Listeners
from simulators.mosquitto_binary import find_mosquitto, mosquitto_run_as_user

from .processes import HOST, ManagedProcess, free_port

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class DemoSite:
    """The one site of the demo, as the add-on's options and the config flow know it."""

    site_id: str = "home"
    gateway_id: str = "gateway"
    capacity_kwh: float = 10.0
    max_charge_kw: float = 5.0
    max_discharge_kw: float = 5.0
    min_soe_percent: float = 10.0
    max_soe_percent: float = 95.0

    @property
    def gateway_username(self) -> str:
        return f"{self.site_id}.{self.gateway_id}"


def addon_options(site: DemoSite) -> dict[str, Any]:
    """options.json as the add-on's configuration tab would save it (own broker, no TLS)."""
    return {
        "sites": [
            {
                "site_id": site.site_id,
                "gateway_id": site.gateway_id,
                "use_case": "ac_link",
                "battery_capacity_kwh": site.capacity_kwh,
                "max_charge_kw": site.max_charge_kw,
                "max_discharge_kw": site.max_discharge_kw,
                "min_soe_percent": site.min_soe_percent,
                "max_soe_percent": site.max_soe_percent,
                "round_trip_efficiency": 0.9,
                "has_load": False,
                "pv_kwp": 4.5,
                "latitude": 35.68,
                "longitude": 139.77,
            }
        ],
        "tariff": {
            "kind": "tou",
            "spot_format": "timestamp_price",
            "tou_periods": ["00:00-07:00 18.5", "07:00-23:00 35.2", "23:00-24:00 18.5"],
            "export_price": 8.0,
            "currency": "JPY",
        },
        "broker": {"mode": "own", "tls": False},
        "log_level": "info",
        "test_mode": False,
    }


@dataclass
class AddonServices:
    """Mosquitto and ``python -m optimizer serve`` from the generated files."""

    directory: Path
    site: DemoSite
    broker_port: int
    web_port: int
    broker: ManagedProcess
    optimizer: ManagedProcess

    @property
    def gateway_password(self) -> str:
        return self._credentials()[self.site.gateway_username]

    @property
    def optimizer_password(self) -> str:
        return self._credentials()[OPTIMIZER_USERNAME]

    @property
    def plan_url(self) -> str:
        return f"http://{HOST}:{self.web_port}/?site={self.site.site_id}"

    def _credentials(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.directory / "data" / CREDENTIALS_FILE).read_text())
        return data

    def start(self) -> None:
        self.broker.start()
        self.broker.wait_for_port(self.broker_port, timeout_s=15)
        self.optimizer.start()
        self.optimizer.wait_for_port(self.web_port, timeout_s=60)

    def stop(self) -> None:
        self.optimizer.stop()
        self.broker.stop()


def prepare_addon_services(directory: Path, site: DemoSite) -> AddonServices:
    """Write options.json, run the add-on's generator, and describe the two processes."""
    directory.mkdir(parents=True, exist_ok=True)
    # The broker account must reach its files: no 0700 parent on the way.
    directory.chmod(0o755)
    data = directory / "data"
    data.mkdir(exist_ok=True)
    data.chmod(0o755)
    options_path = data / "options.json"
    options_path.write_text(json.dumps(addon_options(site), indent=2) + "\n")
    broker_port, web_port = free_port(), free_port()
    generated = generate(
        options_path,
        AddonEnvironment(
            state_dir=data,
            out_dir=directory / "run",
            broker_user=mosquitto_run_as_user(),
            listeners=Listeners(plain_port=broker_port, bind_address=HOST),
            ingress_port=web_port,
            timezone="Asia/Tokyo",
        ),
    )
    assert generated.mosquitto_config is not None
    # Outside the Supervisor there is no ingress proxy: the plan page answers this machine's
    # browser on loopback instead (the add-on itself keeps 172.30.32.2 only).
    config = json.loads(generated.service_config.read_text())
    config["web"] = {"host": HOST, "port": web_port, "trusted_clients": [HOST]}
    generated.service_config.write_text(json.dumps(config, indent=2) + "\n")
    logs = directory / "logs"
    return AddonServices(
        directory=directory,
        site=site,
        broker_port=broker_port,
        web_port=web_port,
        broker=ManagedProcess(
            "mosquitto",
            [str(find_mosquitto()), "-c", str(generated.mosquitto_config)],
            logs / "mosquitto.log",
        ),
        optimizer=ManagedProcess(
            "optimizer",
            [sys.executable, "-m", "optimizer", "serve", "--config", str(generated.service_config)],
            logs / "optimizer.log",
            env=os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "pure")])},
            cwd=REPO,
        ),
    )
