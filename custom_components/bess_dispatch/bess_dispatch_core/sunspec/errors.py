"""Typed errors for SunSpec over Modbus TCP: each names what failed and where."""

from __future__ import annotations


class SunSpecError(Exception):
    """Base class of every error raised by the SunSpec package."""


class SunSpecDefinitionError(SunSpecError):
    """A model definition is missing or cannot be understood."""


class SunSpecValueError(SunSpecError, ValueError):
    """A value cannot be encoded for a point (unknown point, read-only, out of range)."""


class SunSpecConnectionError(SunSpecError):
    """The Modbus TCP connection failed or was lost."""


class SunSpecUnreachableError(SunSpecConnectionError):
    """Nothing accepts TCP connections at host:port (closed port, no route, refused)."""


class SunSpecTimeoutError(SunSpecConnectionError):
    """The device accepted the connection but did not answer in time."""


class SunSpecModbusExceptionError(SunSpecError):
    """The device answered a request with a Modbus exception response."""

    def __init__(self, message: str, exception_code: int) -> None:
        super().__init__(message)
        self.exception_code = exception_code


class SunSpecUnitIdError(SunSpecModbusExceptionError):
    """No device answers on the unit id (gateway path unavailable / target failed)."""


class SunSpecNotFoundError(SunSpecError):
    """The device answers Modbus, but no "SunS" marker sits at any SunSpec base address."""


class SunSpecModelChainError(SunSpecError):
    """The chain of (model id, length) headers is broken (runs off the register space)."""


class SunSpecControlError(SunSpecError):
    """Storage controls cannot be applied (model 124 missing, no WChaMax, ...)."""
