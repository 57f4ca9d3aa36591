"""Typed errors for ECHONET Lite: each names the node, the object and what failed."""

from __future__ import annotations


class EchonetError(Exception):
    """Base class of every error raised by the ECHONET Lite package."""


class EchonetTransportError(EchonetError):
    """The gateway cannot listen on or send from its UDP socket (port 3610 taken, no route)."""


class EchonetTimeoutError(EchonetError):
    """The node did not answer in time (switched off, unplugged, wrong address)."""


class EchonetRefusedError(EchonetError):
    """The node answered but refused properties (an SNA response, or not in its maps)."""

    def __init__(self, message: str, epcs: tuple[int, ...]) -> None:
        super().__init__(message)
        self.epcs = epcs


class EchonetNotFoundError(EchonetError):
    """The node answers but holds none of the objects the gateway needs."""
