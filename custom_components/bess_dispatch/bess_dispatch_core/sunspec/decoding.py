"""Registers -> values: raw point decoding, scale factors, "not implemented" -> ``None``."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .definitions import ModelDefinition, PointDefinition
from .point_types import PointType

#: A decoded value: number (scaled points are floats), text, or ``None`` (not implemented,
#: or not present in a model shorter than its definition).
PointValue = int | float | str | None


def registers_to_int(registers: Sequence[int]) -> int:
    """Big-endian unsigned integer from 16-bit registers."""
    value = 0
    for register in registers:
        value = (value << 16) | (register & 0xFFFF)
    return value


def decode_raw(point: PointDefinition, registers: Sequence[int]) -> PointValue:
    """The unscaled value of ``point`` from exactly its registers; sentinels -> ``None``."""
    if len(registers) != point.size:
        raise ValueError(f"{point.name}: expected {point.size} registers, got {len(registers)}")
    point_type = point.type
    if point_type is PointType.PAD:
        return None
    if point_type is PointType.STRING:
        data = b"".join(register.to_bytes(2, "big") for register in registers)
        if not any(data):
            return None
        return data.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
    unsigned = registers_to_int(registers)
    if unsigned == point_type.not_implemented:
        return None
    if point_type is PointType.FLOAT32 or point_type is PointType.FLOAT64:
        fmt = ">f" if point_type is PointType.FLOAT32 else ">d"
        number = struct.unpack(fmt, unsigned.to_bytes(2 * len(registers), "big"))[0]
        return None if math.isnan(number) else float(number)
    if point_type is PointType.EUI48:
        return ":".join(f"{byte:02X}" for byte in (unsigned & 0xFFFF_FFFF_FFFF).to_bytes(6, "big"))
    if point_type is PointType.IPV6ADDR:
        return ":".join(f"{register:04x}" for register in registers)
    if point_type is PointType.IPADDR:
        return ".".join(str(byte) for byte in unsigned.to_bytes(4, "big"))
    if point_type.is_signed:
        bits = 16 * len(registers)
        if unsigned >= 1 << (bits - 1):
            unsigned -= 1 << bits
    return unsigned


def apply_scale_factor(raw: PointValue, exponent: int | None) -> PointValue:
    """``raw * 10**exponent``; ``None`` when either part is not implemented."""
    if raw is None or exponent is None or isinstance(raw, str):
        return None
    # Dividing by an exact power of ten rounds correctly (0.1 * 123 would not).
    return raw / 10 ** (-exponent) if exponent < 0 else float(raw * 10**exponent)


@dataclass(frozen=True, slots=True)
class DecodedModel:
    """One model instance read from a device: where it is and what its points hold."""

    definition: ModelDefinition
    #: Register address of the model's ``ID`` register.
    address: int
    #: The ``L`` the device reported (registers after the two header registers).
    length: int
    #: Raw registers from ``ID`` through the model's last register.
    registers: tuple[int, ...]
    #: Point name -> value with scale factors applied (``None``: not implemented/absent).
    values: Mapping[str, PointValue] = field(default_factory=dict)

    @property
    def model_id(self) -> int:
        return self.definition.model_id

    def __getitem__(self, name: str) -> PointValue:
        self.definition.point(name)  # a clear error for a name the model does not have
        return self.values.get(name)

    def number(self, name: str) -> float | None:
        """The value of a numeric point as a float (``None`` when not implemented)."""
        value = self[name]
        if value is None:
            return None
        if isinstance(value, str):
            raise TypeError(f"model {self.model_id} point {name} is text, not a number")
        return float(value)

    def raw(self, name: str) -> PointValue:
        """The unscaled value of a point (``None``: not implemented or absent)."""
        point = self.definition.point(name)
        end = point.offset + point.size
        if end > len(self.registers):
            return None
        return decode_raw(point, self.registers[point.offset : end])

    def scale_factor(self, name: str) -> int | None:
        """The exponent that scales point ``name`` (0 when unscaled, ``None`` when its
        scale factor point is not implemented)."""
        return resolve_scale_factor(self.definition.point(name), self.raw)


def resolve_scale_factor(point: PointDefinition, raw_of: Callable[[str], PointValue]) -> int | None:
    """The exponent for ``point``: 0 when unscaled, ``None`` when not implemented."""
    reference = point.scale_factor
    if reference is None:
        return 0
    if isinstance(reference, int):
        return reference
    exponent = raw_of(reference)
    return exponent if isinstance(exponent, int) else None


def decode_model(
    definition: ModelDefinition, address: int, registers: Sequence[int]
) -> DecodedModel:
    """Decode every top-level point of one model from its registers (``ID`` first).

    Points beyond the registers the device provides (older, shorter model versions)
    decode as ``None``.
    """
    regs = tuple(registers)
    raw_values: dict[str, PointValue] = {}
    for point in definition.points:
        end = point.offset + point.size
        if end <= len(regs):
            raw_values[point.name] = decode_raw(point, regs[point.offset : end])
        else:
            raw_values[point.name] = None
    values: dict[str, PointValue] = {}
    for point in definition.points:
        raw = raw_values[point.name]
        if point.scale_factor is None or point.type is PointType.SUNSSF:
            values[point.name] = raw
        else:
            exponent = resolve_scale_factor(point, raw_values.get)
            values[point.name] = apply_scale_factor(raw, exponent)
    length = regs[1] if len(regs) > 1 else 0
    return DecodedModel(
        definition=definition, address=address, length=length, registers=regs, values=values
    )
