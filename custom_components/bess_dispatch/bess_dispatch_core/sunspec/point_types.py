"""SunSpec point types: register size, signedness and "not implemented" sentinel values.

The sentinels are those of the SunSpec Information Model specification: a device marks a
point it does not implement with them, and the decoder turns them into ``None``.
"""

from __future__ import annotations

from enum import StrEnum


class PointType(StrEnum):
    """The ``type`` of a point in the official SunSpec JSON model definitions."""

    INT16 = "int16"
    UINT16 = "uint16"
    COUNT = "count"
    ACC16 = "acc16"
    ENUM16 = "enum16"
    BITFIELD16 = "bitfield16"
    PAD = "pad"
    INT32 = "int32"
    UINT32 = "uint32"
    ACC32 = "acc32"
    ENUM32 = "enum32"
    BITFIELD32 = "bitfield32"
    IPADDR = "ipaddr"
    INT64 = "int64"
    UINT64 = "uint64"
    ACC64 = "acc64"
    IPV6ADDR = "ipv6addr"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"
    SUNSSF = "sunssf"
    EUI48 = "eui48"

    @property
    def register_count(self) -> int | None:
        """Registers one value takes; ``None`` for strings (their size is per point)."""
        return _REGISTER_COUNT[self]

    @property
    def is_signed(self) -> bool:
        return self in _SIGNED

    @property
    def is_integer(self) -> bool:
        return self in _INTEGER

    @property
    def not_implemented(self) -> int | None:
        """The raw integer meaning "not implemented" (``None``: no integer sentinel)."""
        return _NOT_IMPLEMENTED.get(self)

    def integer_range(self) -> tuple[int, int]:
        """The smallest and largest raw integer a device may report, sentinel excluded."""
        count = self.register_count
        if not self.is_integer or count is None:
            raise TypeError(f"{self.value} is not an integer type")
        bits = 16 * count
        if self is PointType.SUNSSF:
            return (-10, 10)
        if self.is_signed:
            # The most negative value is the sentinel.
            return (-(2 ** (bits - 1)) + 1, 2 ** (bits - 1) - 1)
        if self in _ZERO_IS_SENTINEL:
            return (1, 2**bits - 1)
        return (0, 2**bits - 2)


_REGISTER_COUNT: dict[PointType, int | None] = {
    PointType.INT16: 1,
    PointType.UINT16: 1,
    PointType.COUNT: 1,
    PointType.ACC16: 1,
    PointType.ENUM16: 1,
    PointType.BITFIELD16: 1,
    PointType.PAD: 1,
    PointType.SUNSSF: 1,
    PointType.INT32: 2,
    PointType.UINT32: 2,
    PointType.ACC32: 2,
    PointType.ENUM32: 2,
    PointType.BITFIELD32: 2,
    PointType.IPADDR: 2,
    PointType.FLOAT32: 2,
    PointType.INT64: 4,
    PointType.UINT64: 4,
    PointType.ACC64: 4,
    PointType.FLOAT64: 4,
    PointType.EUI48: 4,
    PointType.IPV6ADDR: 8,
    PointType.STRING: None,
}

_SIGNED = frozenset({PointType.INT16, PointType.INT32, PointType.INT64, PointType.SUNSSF})

_INTEGER = frozenset(
    {
        PointType.INT16,
        PointType.UINT16,
        PointType.COUNT,
        PointType.ACC16,
        PointType.ENUM16,
        PointType.BITFIELD16,
        PointType.SUNSSF,
        PointType.INT32,
        PointType.UINT32,
        PointType.ACC32,
        PointType.ENUM32,
        PointType.BITFIELD32,
        PointType.INT64,
        PointType.UINT64,
        PointType.ACC64,
    }
)

# Accumulators count from 1: a device that does not accumulate reports 0.
_ZERO_IS_SENTINEL = frozenset({PointType.ACC16, PointType.ACC32, PointType.ACC64})

# Raw (unsigned, big-endian) register contents that mean "not implemented". ``count`` has
# none: 0 repetitions is a valid count.
_NOT_IMPLEMENTED: dict[PointType, int] = {
    PointType.INT16: 0x8000,
    PointType.UINT16: 0xFFFF,
    PointType.ACC16: 0x0000,
    PointType.ENUM16: 0xFFFF,
    PointType.BITFIELD16: 0xFFFF,
    PointType.PAD: 0x8000,
    PointType.SUNSSF: 0x8000,
    PointType.INT32: 0x8000_0000,
    PointType.UINT32: 0xFFFF_FFFF,
    PointType.ACC32: 0x0000_0000,
    PointType.ENUM32: 0xFFFF_FFFF,
    PointType.BITFIELD32: 0xFFFF_FFFF,
    PointType.IPADDR: 0x0000_0000,
    PointType.INT64: 0x8000_0000_0000_0000,
    PointType.UINT64: 0xFFFF_FFFF_FFFF_FFFF,
    PointType.ACC64: 0x0000_0000_0000_0000,
    PointType.FLOAT32: 0x7FC0_0000,
    PointType.FLOAT64: 0x7FF8_0000_0000_0000,
    PointType.EUI48: 0xFFFF_FFFF_FFFF,
    PointType.IPV6ADDR: 0,
}
