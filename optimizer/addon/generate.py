"""Options -> every file the add-on's services start from (the ``init-config`` oneshot).

Broker mode ``own``: credentials (kept in the state folder), Mosquitto's conf, password file
and ACL, and the gateway sheet. Both modes: the optimizer's service configuration. The
output folder is rebuilt from scratch, so a mode switch leaves no stale broker files behind
(the ``mosquitto`` service only starts when ``mosquitto/mosquitto.conf`` exists).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from optimizer.addon.credentials import OPTIMIZER_USERNAME, broker_credentials, write_private_file
from optimizer.addon.gateway_sheet import SHEET_FILE, render_gateway_sheet
from optimizer.addon.mosquitto_config import Listeners, MosquittoLayout, write_mosquitto_files
from optimizer.addon.service_config import (
    INGRESS_PROXY_ADDRESS,
    SupervisorMqtt,
    build_service_config,
    write_service_config,
)
from optimizer.settings.broker import BrokerMode
from optimizer.settings.options import AddonOptions, load_options

SERVICE_CONFIG_FILE = "service.json"
MOSQUITTO_DIR = "mosquitto"
PERSISTENCE_DIR = "mosquitto"
OPTIMIZER_STATE_DIR = "optimizer"
DEFAULT_INGRESS_PORT = 8099


@dataclass(frozen=True, slots=True)
class AddonEnvironment:
    """What the add-on knows at start besides options.json (from bashio / the Supervisor)."""

    state_dir: Path  # /data: persistent
    out_dir: Path  # /run/bess_dispatch: regenerated at every start
    addon_config_dir: Path | None = None  # /config (addon_config map): the gateway sheet
    supervisor_mqtt: SupervisorMqtt | None = None
    ingress_port: int = DEFAULT_INGRESS_PORT
    timezone: str = "UTC"
    hostname: str = "localhost"
    broker_user: str | None = None  # "mosquitto" in the add-on (owns the broker's files)
    listeners: Listeners = field(default_factory=Listeners)
    ssl_dir: Path = Path("/ssl")
    ingress_proxy: str = INGRESS_PROXY_ADDRESS  # the only client the plan page answers


@dataclass(frozen=True, slots=True)
class GeneratedFiles:
    """Where things were written; ``broker_users`` are names only (never passwords)."""

    options: AddonOptions
    service_config: Path
    mosquitto_config: Path | None
    gateway_sheet: Path | None
    broker_users: tuple[str, ...]

    def summary(self) -> str:
        """One log line, free of secrets."""
        mode = self.options.broker.mode.value
        sites = ", ".join(f"{s.site_id}/{s.gateway_id}" for s in self.options.sites)
        text = f"broker mode {mode}; sites {sites}; service config {self.service_config}"
        if self.mosquitto_config is not None:
            text += f"; broker config {self.mosquitto_config}, users {', '.join(self.broker_users)}"
        if self.gateway_sheet is not None:
            text += f"; gateway credentials in {self.gateway_sheet}"
        return text


def generate(options_path: Path, environment: AddonEnvironment) -> GeneratedFiles:
    """Read and validate ``options_path``, then write the services' files.

    All or nothing: when a write fails, the output folder is removed, so the broker never
    starts from a configuration whose password file or ACL is missing (every file is
    itself written atomically, see ``write_private_file``).
    """
    options = load_options(options_path)
    env = environment
    if env.out_dir.exists():
        shutil.rmtree(env.out_dir)
    env.out_dir.mkdir(parents=True)
    try:
        return _write_files(options, env)
    except BaseException:
        shutil.rmtree(env.out_dir, ignore_errors=True)
        raise


def _write_files(options: AddonOptions, env: AddonEnvironment) -> GeneratedFiles:
    env.out_dir.chmod(0o755)  # the broker user must traverse it to reach its own folder
    optimizer_password: str | None = None
    mosquitto_config: Path | None = None
    sheet: Path | None = None
    users: tuple[str, ...] = ()
    if options.broker.mode is BrokerMode.OWN:
        credentials = broker_credentials(env.state_dir, options.sites)
        layout = MosquittoLayout(
            config_dir=env.out_dir / MOSQUITTO_DIR,
            persistence_dir=env.state_dir / PERSISTENCE_DIR,
            ssl_dir=env.ssl_dir,
        )
        write_mosquitto_files(
            layout,
            options.broker,
            options.sites,
            credentials,
            options.log_level,
            listeners=env.listeners,
            run_as=env.broker_user,
        )
        mosquitto_config = layout.config_file
        optimizer_password = credentials[OPTIMIZER_USERNAME]
        users = tuple(sorted(credentials))
        if env.addon_config_dir is not None:
            sheet = env.addon_config_dir / SHEET_FILE
            write_private_file(
                sheet,
                render_gateway_sheet(
                    options.sites,
                    credentials,
                    hostname=env.hostname,
                    port=env.listeners.plain_port,
                    tls_port=env.listeners.tls_port if options.broker.tls else None,
                ),
            )
    elif env.addon_config_dir is not None:
        # A sheet from an earlier "own" run would list passwords that no longer work.
        (env.addon_config_dir / SHEET_FILE).unlink(missing_ok=True)
    config = build_service_config(
        options,
        optimizer_password=optimizer_password,
        supervisor_mqtt=env.supervisor_mqtt,
        ingress_port=env.ingress_port,
        timezone=env.timezone,
        state_dir=env.state_dir / OPTIMIZER_STATE_DIR,
        own_broker_port=env.listeners.plain_port,
        ingress_proxy=env.ingress_proxy,
    )
    service_config = env.out_dir / SERVICE_CONFIG_FILE
    write_service_config(service_config, config)
    return GeneratedFiles(
        options=options,
        service_config=service_config,
        mosquitto_config=mosquitto_config,
        gateway_sheet=sheet,
        broker_users=users,
    )
