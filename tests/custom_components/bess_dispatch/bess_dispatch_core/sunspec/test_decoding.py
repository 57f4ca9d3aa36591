"""Registers <-> values: types, scale factors, "not implemented" sentinels."""

from __future__ import annotations

import math

import pytest

from bess_dispatch_core.sunspec import (
    PointDefinition,
    PointType,
    SunSpecValueError,
    decode_model,
    decode_raw,
    encode_value,
    encode_write,
    load_model_definition,
)
from bess_dispatch_core.sunspec.decoding import apply_scale_factor


def point(point_type: PointType, size: int | None = None, **extra: object) -> PointDefinition:
    return PointDefinition(
        name="P",
        type=point_type,
        offset=0,
        size=size or point_type.register_count or 1,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("point_type", "registers", "value"),
    [
        (PointType.INT16, [0xFFFE], -2),
        (PointType.INT16, [0x8000], None),
        (PointType.UINT16, [0xFFFE], 0xFFFE),
        (PointType.UINT16, [0xFFFF], None),
        (PointType.SUNSSF, [0xFFFE], -2),
        (PointType.SUNSSF, [0x8000], None),
        (PointType.ENUM16, [0xFFFF], None),
        (PointType.BITFIELD16, [0x0003], 3),
        (PointType.ACC16, [0], None),
        (PointType.COUNT, [0], 0),
        (PointType.PAD, [0x1234], None),
        (PointType.INT32, [0xFFFF, 0xFFFF], -1),
        (PointType.INT32, [0x8000, 0x0000], None),
        (PointType.UINT32, [0x0001, 0x0000], 65536),
        (PointType.UINT32, [0xFFFF, 0xFFFF], None),
        (PointType.ACC32, [0x0012, 0xD687], 1_234_567),
        (PointType.ACC32, [0, 0], None),
        (PointType.BITFIELD32, [0xFFFF, 0xFFFF], None),
        (PointType.INT64, [0x8000, 0, 0, 0], None),
        (PointType.UINT64, [0, 0, 0, 5], 5),
        (PointType.ACC64, [0, 0, 0, 0], None),
        (PointType.FLOAT32, [0x3FC0, 0x0000], 1.5),
        (PointType.FLOAT32, [0x7FC0, 0x0000], None),
        (PointType.IPADDR, [0xC0A8, 0x0001], "192.168.0.1"),
        (PointType.IPADDR, [0, 0], None),
        (PointType.EUI48, [0, 0x0011, 0x2233, 0x4455], "00:11:22:33:44:55"),
    ],
)
def test_decode_raw(point_type: PointType, registers: list[int], value: object) -> None:
    assert decode_raw(point(point_type), registers) == value


def test_strings_stop_at_the_first_nul_and_all_zero_is_none() -> None:
    text = point(PointType.STRING, 4)
    assert decode_raw(text, [0x5375, 0x6E53, 0x2100, 0]) == "SunS!"
    assert decode_raw(text, [0, 0, 0, 0]) is None


def test_wrong_register_count_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 2 registers"):
        decode_raw(point(PointType.UINT32), [1])


def test_scale_factors_are_exact_powers_of_ten() -> None:
    assert apply_scale_factor(123, -1) == 12.3
    assert apply_scale_factor(2301, -1) == 230.1
    assert apply_scale_factor(500, 1) == 5000.0
    assert apply_scale_factor(7, 0) == 7.0
    assert apply_scale_factor(None, -1) is None
    assert apply_scale_factor(5, None) is None


def test_decode_model_applies_each_points_scale_factor() -> None:
    storage = load_model_definition(124)
    registers = [0xFFFF] * (storage.length + 2)
    values = {
        "ID": 124,
        "L": storage.length,
        "WChaMax": 500,
        "WChaMax_SF": 1,
        "ChaState": 655,
        "ChaState_SF": 0xFFFF,  # -1
        "InWRte": 0xEC78,  # -5000
        "InOutWRte_SF": 0xFFFE,  # -2
        "InBatV_SF": 0x8000,  # not implemented: InBatV is None whatever it holds
        "InBatV": 480,
    }
    for name, raw in values.items():
        registers[storage.point(name).offset] = raw

    model = decode_model(storage, 40002, registers)

    assert model["WChaMax"] == 5000.0
    assert model["ChaState"] == 65.5
    assert model["InWRte"] == -50.0
    assert model["InBatV"] is None
    assert model["WChaMax_SF"] == 1
    assert model.number("ChaState") == 65.5
    assert model.scale_factor("InWRte") == -2
    assert model.address == 40002
    assert model.length == storage.length


def test_a_model_shorter_than_its_definition_leaves_the_rest_none() -> None:
    common = load_model_definition(1)
    registers = [1, 64] + [0x4142] * 16 + [0] * 48  # a short model 1 without DA and Pad

    model = decode_model(common, 40002, registers)

    assert model["Mn"] == "AB" * 16
    assert model["DA"] is None
    assert model.raw("DA") is None


@pytest.mark.parametrize(
    ("point_type", "value", "scale_factor", "registers"),
    [
        (PointType.INT16, -50.0, -2, [0xEC78]),
        (PointType.UINT16, 5000.0, 1, [500]),
        (PointType.UINT16, 12.3, -1, [123]),
        (PointType.INT32, -1, 0, [0xFFFF, 0xFFFF]),
        (PointType.ACC32, 1_234_567, 0, [0x0012, 0xD687]),
        (PointType.SUNSSF, -2, 0, [0xFFFE]),
        (PointType.FLOAT32, 1.5, 0, [0x3FC0, 0x0000]),
        (PointType.INT16, None, 0, [0x8000]),
        (PointType.UINT32, None, 0, [0xFFFF, 0xFFFF]),
        (PointType.ACC32, None, 0, [0, 0]),
        (PointType.PAD, 3, 0, [0x8000]),
    ],
)
def test_encode_value(
    point_type: PointType, value: float | None, scale_factor: int, registers: list[int]
) -> None:
    definition = point(point_type)
    assert encode_value(definition, value, scale_factor) == registers
    decoded = decode_raw(definition, registers)
    if value is None or point_type is PointType.PAD:
        assert decoded is None
    else:
        assert decoded is not None
        assert not isinstance(decoded, str)
        assert apply_scale_factor(decoded, scale_factor) == pytest.approx(value)


def test_encode_strings_pad_with_nul() -> None:
    text = point(PointType.STRING, 2)
    assert encode_value(text, "ABC") == [0x4142, 0x4300]
    with pytest.raises(SunSpecValueError, match="longer than 4 bytes"):
        encode_value(text, "ABCDE")


@pytest.mark.parametrize(
    ("point_type", "value", "scale_factor", "message"),
    [
        (PointType.INT16, -32768, 0, r"outside int16 range \[-32767, 32767\]"),
        (PointType.UINT16, 65535, 0, "outside uint16 range"),
        (PointType.UINT16, -1, 0, "outside uint16 range"),
        (PointType.INT16, 400.0, -2, r"400.0 \(raw 40000\) is outside"),
        (PointType.SUNSSF, 11, 0, "outside sunssf range"),
        (PointType.UINT16, math.nan, 0, "not a finite number"),
        (PointType.UINT16, "12", 0, "expected a number"),
        (PointType.UINT16, 1, None, "scale factor is not implemented"),
        (PointType.STRING, 5, 0, "expected text"),
    ],
)
def test_encode_refuses_what_does_not_fit(
    point_type: PointType, value: object, scale_factor: int | None, message: str
) -> None:
    definition = point(point_type, 2 if point_type is PointType.STRING else None)
    with pytest.raises(SunSpecValueError, match=message):
        encode_value(definition, value, scale_factor)  # type: ignore[arg-type]


def test_encode_write_only_for_writable_points() -> None:
    storage = load_model_definition(124)
    assert encode_write(storage, "InWRte", 25.0, -2) == [2500]
    with pytest.raises(SunSpecValueError, match="model 124 point ChaState is read-only"):
        encode_write(storage, "ChaState", 50.0, -1)
    with pytest.raises(SunSpecValueError, match="model 124 has no point 'Bogus'"):
        encode_write(storage, "Bogus", 1, 0)
    with pytest.raises(SunSpecValueError, match=r"model 124 point InWRte: 400\.0"):
        encode_write(storage, "InWRte", 400.0, -2)
