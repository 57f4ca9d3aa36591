"""Property data (EDT) -> numbers, refusing what a device must not send.

ECHONET Lite integers are big-endian. The top codes of each type are not measurements:
unsigned ``0xFF..FF`` overflow, ``0xFF..FE`` underflow / no data; signed ``0x7F..FF``
overflow, ``0x80..00`` underflow, ``0x7F..FE`` no data. Such a value, or data of the wrong
size, is reported as :class:`EchonetValueError` naming the property, never as a number:
the gateway sends nothing rather than invent a reading.
"""

from __future__ import annotations

from .errors import EchonetError


class EchonetValueError(EchonetError, ValueError):
    """Property data that is not a usable measurement."""


def unsigned(data: bytes, size: int, what: str) -> int:
    """An unsigned integer of ``size`` bytes; no-data codes and a wrong size raise."""
    _size(data, size, what)
    value = int.from_bytes(data, "big")
    top = (1 << (8 * size)) - 1
    if value >= top - 1:
        raise EchonetValueError(f"{what}: no measurement (0x{data.hex().upper()})")
    return value


def signed(data: bytes, size: int, what: str) -> int:
    """A signed integer of ``size`` bytes; no-data codes and a wrong size raise."""
    _size(data, size, what)
    value = int.from_bytes(data, "big", signed=True)
    top = (1 << (8 * size - 1)) - 1
    if value in (top, top - 1, -top - 1):
        raise EchonetValueError(f"{what}: no measurement (0x{data.hex().upper()})")
    return value


def encode_unsigned(value: int, size: int, what: str) -> bytes:
    """``value`` as an unsigned integer of ``size`` bytes, refusing what does not fit."""
    top = (1 << (8 * size)) - 3  # the two top codes are not values
    if not 0 <= value <= top:
        raise EchonetValueError(f"{what}: {value} is outside 0..{top}")
    return value.to_bytes(size, "big")


def _size(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise EchonetValueError(f"{what}: expected {size} byte(s), got {len(data)}")
