"""The plan page and REST API next to the threaded service: their own event loop thread."""

from __future__ import annotations

import asyncio
import logging
import threading

from optimizer.service.status import StatusSource
from optimizer.settings.service_config import WebSettings
from optimizer.web.app import create_app
from optimizer.web.server import start_web_server

_LOGGER = logging.getLogger(__name__)


class WebThread:
    """Serves ``source`` on ``settings`` until :meth:`stop`; start() returns once listening."""

    def __init__(self, source: StatusSource, settings: WebSettings) -> None:
        self._source = source
        self._settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="optimizer-web", daemon=True)
        self.port: int | None = None

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the plan page did not start in time")
        if self._error is not None:
            raise RuntimeError(f"the plan page could not start: {self._error}") from self._error

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        trusted = self._settings.trusted_clients
        # An empty allow-list means development: answer everyone.
        app = create_app(self._source, ingress_only=bool(trusted), allowed_clients=trusted)
        try:
            server = await start_web_server(app, self._settings.host, self._settings.port)
        except OSError as error:
            self._error = error
            self._ready.set()
            return
        self.port = server.port
        _LOGGER.info("Plan page on %s:%s", self._settings.host, server.port)
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            await server.stop()
