"""Property data decoding and frame checks: the edge where a peer's bytes become numbers."""

from __future__ import annotations

import pytest

from bess_dispatch_core.echonet.frames import frame_problem
from bess_dispatch_core.echonet.values import EchonetValueError, encode_unsigned, signed, unsigned


@pytest.mark.parametrize(
    ("data", "size", "value"),
    [(b"\x00\x00\x15\x7c", 4, 5500), (b"\x37", 1, 55), (b"\xff\xfd", 2, 65533)],
)
def test_unsigned(data: bytes, size: int, value: int) -> None:
    assert unsigned(data, size, "x") == value


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xff\xff\xff\xff", "no measurement"),  # overflow
        (b"\xff\xff\xff\xfe", "no measurement"),  # underflow / no data
        (b"\x00\x01", r"expected 4 byte\(s\), got 2"),
    ],
)
def test_unsigned_refuses_no_data_and_wrong_size(data: bytes, problem: str) -> None:
    with pytest.raises(EchonetValueError, match=rf"0xE0 x: {problem}"):
        unsigned(data, 4, "0xE0 x")


def test_signed() -> None:
    assert signed(b"\xff\xff\xfb\x50", 4, "x") == -1200
    for code in (b"\x7f\xff\xff\xff", b"\x7f\xff\xff\xfe", b"\x80\x00\x00\x00"):
        with pytest.raises(EchonetValueError, match="no measurement"):
            signed(code, 4, "x")


def test_encode_unsigned_bounds() -> None:
    assert encode_unsigned(2500, 4, "x") == b"\x00\x00\x09\xc4"
    with pytest.raises(EchonetValueError, match=r"0xEB: -1 is outside"):
        encode_unsigned(-1, 4, "0xEB")
    with pytest.raises(EchonetValueError, match="outside"):
        encode_unsigned(0xFFFFFFFE, 4, "x")


def test_frame_problems() -> None:
    good = b"\x10\x81\x00\x01\x02\x7d\x01\x05\xff\x01\x72\x01\xe4\x01\x37"
    assert frame_problem(good) is None
    assert frame_problem(good[:-1]) == "property 1 runs past the end of the frame"
    assert frame_problem(good + b"\x00") == "1 byte(s) after the last property"
    assert frame_problem(good[:11] + b"\x02" + good[12:]) == "property 2 of 2 is missing"
    assert frame_problem(b"\x10\x82" + good[2:]) == "header 0x1082 is not 0x1081"
    assert "shorter than" in (frame_problem(b"\x10") or "")
    assert "more than 1500" in (frame_problem(bytes(1501)) or "")
