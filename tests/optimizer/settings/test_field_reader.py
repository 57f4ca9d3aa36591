"""The one field reader: typed values, every problem named by its path, none stops the rest."""

from __future__ import annotations

import math
from enum import StrEnum

from optimizer.settings.field_reader import FieldReader


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


def test_good_values_come_back_typed() -> None:
    reader = FieldReader()
    data = {"n": 3, "x": 2.5, "on": True, "name": "a", "colour": "blue", "child": {"k": 1}}

    assert reader.integer(data, "n", "n") == 3
    assert reader.number(data, "x", "x", minimum=0.0) == 2.5
    assert reader.flag(data, "on", "on", default=False) is True
    assert reader.required_flag(data, "on", "on") is True
    assert reader.text(data, "name", "name") == "a"
    assert reader.choice(data, "colour", "colour", Colour, None) is Colour.BLUE
    assert reader.mapping(data, "child", "child") == {"k": 1}
    assert reader.problems == []


def test_every_bad_field_is_named_and_reading_goes_on() -> None:
    reader = FieldReader()
    data = {"n": True, "x": "1", "big": 200, "on": "yes", "colour": "green", "child": [1]}

    assert reader.integer(data, "n", "cfg.n") is None
    assert math.isnan(reader.number(data, "x", "cfg.x"))
    reader.number(data, "big", "cfg.big", maximum=100.0)
    assert reader.flag(data, "on", "cfg.on", default=False) is False
    assert reader.required_flag(data, "missing", "cfg.missing") is None
    assert reader.choice(data, "colour", "cfg.colour", Colour, None) is None
    assert reader.mapping(data, "child", "cfg.child") == {}
    assert reader.text(data, "absent", "cfg.absent") is None

    assert reader.problems == [
        "cfg.n: must be an integer, got bool",
        "cfg.x: must be a number, got str",
        "cfg.big: 200 is above the maximum 100",
        "cfg.on: must be true or false, got str",
        "cfg.missing: is required",
        "cfg.colour: 'green' is not one of red, blue",
        "cfg.child: must be an object, got list",
        "cfg.absent: is required",
    ]


def test_non_finite_numbers_are_refused() -> None:
    reader = FieldReader()
    reader.number({"x": math.inf}, "x", "x")
    assert reader.problems == ["x: must be a finite number, got inf"]
