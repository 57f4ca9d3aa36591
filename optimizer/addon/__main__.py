"""``python -m optimizer.addon generate``: the add-on's start-up step (s6 ``init-config``).

With ``--supervisor URL`` the ingress port, hostname and the Supervisor's MQTT service (broker
mode ``ha``) come from the Supervisor's API, authorised by ``SUPERVISOR_TOKEN``
(optimizer/addon/supervisor.py). The MQTT service can also arrive in environment variables,
never arguments, so its password never shows in the process list: ``BESS_MQTT_HOST``,
``BESS_MQTT_PORT``, ``BESS_MQTT_USERNAME``, ``BESS_MQTT_PASSWORD``, ``BESS_MQTT_SSL``.
Exit status 0 on success, 1 with a message naming the option on invalid input.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from optimizer.addon.credentials import CredentialsError
from optimizer.addon.generate import DEFAULT_INGRESS_PORT, AddonEnvironment, generate
from optimizer.addon.mosquitto_config import PLAIN_PORT, TLS_PORT, Listeners
from optimizer.addon.service_config import INGRESS_PROXY_ADDRESS, SupervisorMqtt
from optimizer.addon.supervisor import SupervisorError, fetch_supervisor_info
from optimizer.settings.options import OptionsError
from optimizer.settings.service_config import ServiceConfigError

ENV_PREFIX = "BESS_MQTT_"


def supervisor_mqtt_from_env(environ: Mapping[str, str]) -> SupervisorMqtt | None:
    """The Supervisor's MQTT service as the init script exported it; None when absent."""
    host = environ.get(f"{ENV_PREFIX}HOST", "")
    if not host:
        return None
    port_text = environ.get(f"{ENV_PREFIX}PORT", "")
    try:
        port = int(port_text)
    except ValueError as error:
        raise ServiceConfigError(f"{ENV_PREFIX}PORT: {port_text!r} is not a port") from error
    return SupervisorMqtt(
        host=host,
        port=port,
        username=environ.get(f"{ENV_PREFIX}USERNAME") or None,
        password=environ.get(f"{ENV_PREFIX}PASSWORD") or None,
        ssl=environ.get(f"{ENV_PREFIX}SSL", "false").lower() == "true",
    )


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m optimizer.addon")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write the broker's and the optimizer's files")
    gen.add_argument("--options", type=Path, default=Path("/data/options.json"))
    gen.add_argument("--state", type=Path, default=Path("/data"), help="persistent folder")
    gen.add_argument("--out", type=Path, default=Path("/run/bess_dispatch"))
    gen.add_argument("--addon-config", type=Path, default=None, help="gateway sheet folder")
    gen.add_argument("--ingress-port", type=int, default=DEFAULT_INGRESS_PORT)
    gen.add_argument("--timezone", default=os.environ.get("TZ") or "UTC")
    gen.add_argument("--hostname", default="localhost", help="the add-on's hostname")
    gen.add_argument("--broker-user", default=None, help="account Mosquitto drops to")
    gen.add_argument("--listen-port", type=int, default=PLAIN_PORT)
    gen.add_argument("--tls-port", type=int, default=TLS_PORT)
    gen.add_argument("--bind-address", default=None)
    gen.add_argument("--ssl-dir", type=Path, default=Path("/ssl"))
    gen.add_argument(
        "--ingress-proxy",
        default=INGRESS_PROXY_ADDRESS,
        type=_address,
        help="the only client the plan page answers",
    )
    gen.add_argument(
        "--supervisor", default=None, help="Supervisor API URL: ingress port, hostname, MQTT"
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        mqtt = supervisor_mqtt_from_env(env)
        ingress_port, hostname = args.ingress_port, args.hostname
        if args.supervisor:
            info = fetch_supervisor_info(args.supervisor, env.get("SUPERVISOR_TOKEN", ""))
            ingress_port, hostname = info.ingress_port, info.hostname
            mqtt = mqtt or info.mqtt
        environment = AddonEnvironment(
            state_dir=args.state,
            out_dir=args.out,
            addon_config_dir=args.addon_config,
            supervisor_mqtt=mqtt,
            ingress_port=ingress_port,
            timezone=args.timezone,
            hostname=hostname,
            broker_user=args.broker_user,
            listeners=Listeners(
                plain_port=args.listen_port, tls_port=args.tls_port, bind_address=args.bind_address
            ),
            ssl_dir=args.ssl_dir,
            ingress_proxy=args.ingress_proxy,
        )
        generated = generate(args.options, environment)
    except (
        OptionsError,
        ServiceConfigError,
        CredentialsError,
        SupervisorError,
        ValueError,
        OSError,
    ) as error:
        print(f"bess_dispatch add-on: {error}", file=sys.stderr)
        return 1
    print(f"bess_dispatch add-on: {generated.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
