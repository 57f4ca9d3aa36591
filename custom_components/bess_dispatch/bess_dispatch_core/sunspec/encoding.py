"""Values -> registers: the inverse of decoding, for writes (model 124) and simulators."""

from __future__ import annotations

import math
import struct

from .definitions import ModelDefinition, PointDefinition
from .errors import SunSpecValueError
from .point_types import PointType

#: What may be encoded: a number, text (strings) or ``None`` ("not implemented").
EncodableValue = int | float | str | None


def int_to_registers(value: int, count: int) -> list[int]:
    """Big-endian 16-bit registers of an unsigned integer that fits ``count`` registers."""
    return [(value >> (16 * (count - 1 - index))) & 0xFFFF for index in range(count)]


def encode_value(
    point: PointDefinition,
    value: EncodableValue,
    scale_factor: int | None = 0,
    *,
    model_id: int | None = None,
) -> list[int]:
    """Registers holding ``value`` for ``point``, with ``value = raw * 10**scale_factor``.

    ``None`` encodes the type's "not implemented" sentinel. Out-of-range values raise
    :class:`SunSpecValueError` naming the point (a sentinel never encodes a real value).
    """
    where = f"model {model_id} point {point.name}" if model_id is not None else point.name
    point_type = point.type
    if value is None or point_type is PointType.PAD:
        return _sentinel(point)
    if point_type is PointType.STRING:
        if not isinstance(value, str):
            raise SunSpecValueError(f"{where}: expected text, got {value!r}")
        data = value.encode("utf-8")
        if len(data) > 2 * point.size:
            raise SunSpecValueError(f"{where}: text longer than {2 * point.size} bytes")
        data = data.ljust(2 * point.size, b"\x00")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if isinstance(value, str | bool):
        raise SunSpecValueError(f"{where}: expected a number, got {value!r}")
    if point_type is PointType.FLOAT32 or point_type is PointType.FLOAT64:
        fmt = ">f" if point_type is PointType.FLOAT32 else ">d"
        packed = struct.pack(fmt, float(value))
        return int_to_registers(int.from_bytes(packed, "big"), point.size)
    if not point_type.is_integer:
        raise SunSpecValueError(f"{where}: encoding {point_type.value} is not supported")
    if scale_factor is None:
        raise SunSpecValueError(f"{where}: its scale factor is not implemented")
    if not math.isfinite(value):
        raise SunSpecValueError(f"{where}: {value!r} is not a finite number")
    # Scale by an exact power of ten (value / 10**sf), then round half to even.
    scaled = value * 10 ** (-scale_factor) if scale_factor < 0 else value / 10**scale_factor
    raw = round(scaled)
    low, high = point_type.integer_range()
    if not low <= raw <= high:
        shown = f"{value} (raw {raw})" if raw != value else f"{value}"
        raise SunSpecValueError(
            f"{where}: {shown} is outside {point_type.value} range [{low}, {high}]"
        )
    bits = 16 * point.size
    return int_to_registers(raw & ((1 << bits) - 1), point.size)


def encode_write(
    definition: ModelDefinition,
    name: str,
    value: EncodableValue,
    scale_factor: int | None,
) -> list[int]:
    """Registers for writing ``value`` to the writable point ``name`` of a model."""
    point = definition.points_by_name.get(name)
    if point is None:
        raise SunSpecValueError(f"model {definition.model_id} has no point {name!r}")
    if not point.writable:
        raise SunSpecValueError(f"model {definition.model_id} point {name} is read-only")
    return encode_value(point, value, scale_factor, model_id=definition.model_id)


def _sentinel(point: PointDefinition) -> list[int]:
    sentinel = point.type.not_implemented
    if sentinel is None:
        return [0] * point.size
    return int_to_registers(sentinel, point.size)
