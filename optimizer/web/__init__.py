"""Plan page and REST API served on the add-on's ingress port."""

from .app import create_app
from .server import RunningWebServer, start_web_server

__all__ = ["RunningWebServer", "create_app", "start_web_server"]
