"""The official SunSpec JSON definitions load into typed model definitions."""

from __future__ import annotations

import pytest

from bess_dispatch_core.sunspec import PointType, SunSpecDefinitionError, load_model_definition
from bess_dispatch_core.sunspec.definitions import available_model_ids, parse_model_definition


def test_the_models_the_gateway_reads_are_shipped() -> None:
    assert {1, 101, 102, 103, 124, 201, 202, 203, 204, 802} <= available_model_ids()


@pytest.mark.parametrize(
    ("model_id", "length"),
    [(1, 66), (101, 50), (103, 50), (124, 24), (201, 105), (203, 105), (802, 62)],
)
def test_model_lengths_match_the_specification(model_id: int, length: int) -> None:
    assert load_model_definition(model_id).length == length


def test_storage_model_points_are_typed() -> None:
    storage = load_model_definition(124)

    assert storage.name == "storage_basic"
    assert [p.name for p in storage.points[:4]] == ["ID", "L", "WChaMax", "WChaGra"]
    w_cha_max = storage.point("WChaMax")
    assert (w_cha_max.offset, w_cha_max.type, w_cha_max.scale_factor) == (
        2,
        PointType.UINT16,
        "WChaMax_SF",
    )
    assert w_cha_max.units == "W"
    assert w_cha_max.writable
    assert w_cha_max.mandatory
    mode = storage.point("StorCtl_Mod")
    assert mode.type is PointType.BITFIELD16
    assert mode.symbols == {"CHARGE": 0, "DiSCHARGE": 1}
    assert storage.point("InWRte").type is PointType.INT16
    assert storage.point("InWRte").units == "% WChaMax"
    assert not storage.point("ChaState").writable
    assert storage.point("InOutWRte_SF").type is PointType.SUNSSF
    assert storage.point("ID").value == 124


def test_multi_register_points_take_their_size() -> None:
    inverter = load_model_definition(103)
    wh = inverter.point("WH")
    assert (wh.type, wh.size) == (PointType.ACC32, 2)
    assert inverter.point("WH_SF").offset == wh.offset + 2
    common = load_model_definition(1)
    assert (common.point("Mn").type, common.point("Mn").size) == (PointType.STRING, 16)


def test_every_shipped_definition_parses() -> None:
    for model_id in available_model_ids():
        definition = load_model_definition(model_id)
        assert definition.model_id == model_id
        assert definition.length >= 0


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(SunSpecDefinitionError, match="no SunSpec definition for model 4242"):
        load_model_definition(4242)
    with pytest.raises(
        SunSpecDefinitionError, match=r"model 124 \(storage_basic\) has no point 'Nope'"
    ):
        load_model_definition(124).point("Nope")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected an object"),
        ({"id": "x", "group": {}}, "field 'id'"),
        ({"id": 9, "group": {"points": {}}}, "field 'group.points'"),
        ({"id": 9, "group": {"points": [{"name": "ID", "type": "int128"}]}}, "unknown point type"),
        ({"id": 9, "group": {"points": [{"name": "ID", "type": "uint32", "size": 1}]}}, "size 1"),
        ({"id": 9, "group": {"points": [{"type": "uint16"}]}}, "field 'name'"),
        ({"id": 9, "group": {"points": [{"name": "X", "type": "uint16"}]}}, "start with points"),
        ({"id": 9, "group": []}, "field 'group' must be an object"),
        ({"id": 9, "group": {"points": ["ID"]}}, r"group.points\[0\]: expected an object"),
        (
            {"id": 9, "group": {"points": [{"name": "ID", "type": "string", "size": 0}]}},
            "field 'size' must be a positive integer",
        ),
        (
            {"id": 9, "group": {"points": [{"name": "ID", "type": "uint16", "sf": 1.5}]}},
            "field 'sf' must be a name or integer",
        ),
    ],
)
def test_malformed_definitions_name_the_field(document: object, message: str) -> None:
    with pytest.raises(SunSpecDefinitionError, match=message):
        parse_model_definition(document)
