"""``python -m optimizer serve --config FILE``: the service in real time until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from optimizer.addon.service_config import ServiceConfigError, load_service_config

from .service import OptimizerService
from .web_thread import WebThread

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
