"""Entities that follow a runtime part register here and are told of every change."""

from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, callback

type Listener = Callable[[], None]


class UpdateListeners:
    """A base for the site runtime and the telemetry: entities listen, the part notifies."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    @callback
    def async_add_listener(self, listener: Listener) -> CALLBACK_TYPE:
        self._listeners.append(listener)

        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
