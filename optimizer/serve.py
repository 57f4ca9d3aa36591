"""``python -m optimizer serve --config FILE``: the service in real time until SIGTERM.

The one place that wires the live service (:mod:`optimizer.service`) to its web server
(:mod:`optimizer.web`): neither room imports the other's runtime.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from optimizer.service.service import OptimizerService
from optimizer.settings.service_config import ServiceConfigError, load_service_config
from optimizer.web.web_thread import WebThread

_LOG_LEVELS = {"trace": logging.DEBUG, "notice": logging.INFO, "fatal": logging.CRITICAL}


def run_serve(args: argparse.Namespace) -> int:
    try:
        config = load_service_config(args.config)
    except ServiceConfigError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    level_name = config.options.log_level.value
    level = _LOG_LEVELS.get(level_name, getattr(logging, level_name.upper(), logging.INFO))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = OptimizerService(config)
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    service.start()
    web = WebThread(service, config.web)
    try:
        web.start()
        service.run(stop)
    finally:
        web.stop()
        service.stop()
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="the optimizer service over MQTT")
    serve.add_argument(
        "--config", type=Path, default=Path("/run/bess_dispatch/service.json"), help="service file"
    )
    serve.set_defaults(handler=run_serve)
