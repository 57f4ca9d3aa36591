"""Listeners of a link's connection state, shared by both broker links.

Callable from any thread: the gateway's own link notifies from its network thread, Home
Assistant's from the event loop. One failing listener is logged and does not keep the
change from the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)


class StateListeners[S]:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[S], None]] = []

    def add(self, listener: Callable[[S], None]) -> Callable[[], None]:
        """Register ``listener``; returns its remover (harmless to call twice)."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def notify(self, status: S) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(status)
            except Exception:
                _LOGGER.exception("link state listener failed")
