"""Typed SunSpec model definitions, read from the official JSON files pysunspec2 ships.

pysunspec2 (SunSpec Alliance, Apache-2.0) carries the normative model definitions as
``sunspec2/models/json/model_<id>.json``. Only those data files are used (through
``importlib.resources``): its Python code talks Modbus synchronously on its own sockets,
while the gateway uses pymodbus' asyncio client.

Only the top-level group's points get register offsets. Repeating groups (e.g. model 160's
MPPT modules) are recorded as present but not laid out: none of the models the gateway
reads (1, 101-103, 124, 201-204, 802) has one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .errors import SunSpecDefinitionError
from .point_types import PointType

#: Package and folder inside it that hold the official JSON model definitions.
DEFINITIONS_PACKAGE = "sunspec2"
DEFINITIONS_FOLDER = ("models", "json")

#: Registers every model starts with: its id and its length (the rest of the model).
HEADER_LENGTH = 2


@dataclass(frozen=True, slots=True)
class PointDefinition:
    """One point of a model: where it sits and how to read it."""

    name: str
    type: PointType
    #: Registers from the model's first register (its ``ID``), so ``ID`` is 0 and ``L`` 1.
    offset: int
    size: int
    #: Name of the ``sunssf`` point that scales this one, a fixed exponent, or ``None``.
    scale_factor: str | int | None = None
    units: str | None = None
    writable: bool = False
    mandatory: bool = False
    static: bool = False
    label: str | None = None
    description: str | None = None
    #: Symbol name -> value for enums (value) and bitfields (bit number).
    symbols: dict[str, int] = field(default_factory=dict)
    #: Fixed value from the definition (the model id in ``ID``).
    value: int | str | None = None


@dataclass(frozen=True, slots=True)
class ModelDefinition:
    """A SunSpec model: its id, name and top-level points in register order."""

    model_id: int
    name: str
    label: str | None
    points: tuple[PointDefinition, ...]
    has_repeating_groups: bool = False
    points_by_name: dict[str, PointDefinition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "points_by_name", {p.name: p for p in self.points})

    @property
    def length(self) -> int:
        """The ``L`` a device reports for this model without repeating groups."""
        return sum(p.size for p in self.points) - HEADER_LENGTH

    def point(self, name: str) -> PointDefinition:
        try:
            return self.points_by_name[name]
        except KeyError:
            raise SunSpecDefinitionError(
                f"model {self.model_id} ({self.name}) has no point {name!r}"
            ) from None


def available_model_ids() -> frozenset[int]:
    """Ids of every model definition pysunspec2 ships."""
    folder = resources.files(DEFINITIONS_PACKAGE).joinpath(*DEFINITIONS_FOLDER)
    ids = set()
    for entry in folder.iterdir():
        stem = entry.name.removesuffix(".json")
        if entry.name.endswith(".json") and stem.startswith("model_"):
            number = stem.removeprefix("model_")
            if number.isdigit():
                ids.add(int(number))
    return frozenset(ids)


@cache
def load_model_definition(model_id: int) -> ModelDefinition:
    """The official definition of ``model_id``; raises :class:`SunSpecDefinitionError`
    when pysunspec2 has none or it is malformed."""
    resource = resources.files(DEFINITIONS_PACKAGE).joinpath(
        *DEFINITIONS_FOLDER, f"model_{model_id}.json"
    )
    if not resource.is_file():
        raise SunSpecDefinitionError(f"no SunSpec definition for model {model_id}")
    try:
        document = json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SunSpecDefinitionError(f"model {model_id}: unreadable definition: {err}") from err
    return parse_model_definition(document, source=f"model_{model_id}.json")


def parse_model_definition(document: Any, *, source: str = "definition") -> ModelDefinition:
    """Turn one JSON model definition (already parsed) into a :class:`ModelDefinition`."""
    if not isinstance(document, dict):
        raise SunSpecDefinitionError(f"{source}: expected an object")
    model_id = document.get("id")
    group = document.get("group")
    if not isinstance(model_id, int) or isinstance(model_id, bool):
        raise SunSpecDefinitionError(f"{source}: field 'id' must be an integer")
    if not isinstance(group, dict):
        raise SunSpecDefinitionError(f"{source}: field 'group' must be an object")
    raw_points = group.get("points")
    if not isinstance(raw_points, list):
        raise SunSpecDefinitionError(f"{source}: field 'group.points' must be a list")
    points: list[PointDefinition] = []
    offset = 0
    for index, raw in enumerate(raw_points):
        point = _parse_point(raw, offset, f"{source}: group.points[{index}]")
        points.append(point)
        offset += point.size
    if len(points) < HEADER_LENGTH or [p.name for p in points[:2]] != ["ID", "L"]:
        raise SunSpecDefinitionError(f"{source}: a model must start with points ID and L")
    return ModelDefinition(
        model_id=model_id,
        name=str(group.get("name", f"model_{model_id}")),
        label=_optional_str(group.get("label")),
        points=tuple(points),
        has_repeating_groups=bool(group.get("groups")),
    )


def _parse_point(raw: Any, offset: int, where: str) -> PointDefinition:
    if not isinstance(raw, dict):
        raise SunSpecDefinitionError(f"{where}: expected an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise SunSpecDefinitionError(f"{where}: field 'name' must be a non-empty string")
    try:
        point_type = PointType(str(raw.get("type")))
    except ValueError:
        raise SunSpecDefinitionError(
            f"{where} ({name}): unknown point type {raw.get('type')!r}"
        ) from None
    size = raw.get("size", point_type.register_count)
    if not isinstance(size, int) or size < 1:
        raise SunSpecDefinitionError(f"{where} ({name}): field 'size' must be a positive integer")
    if point_type.register_count is not None and size != point_type.register_count:
        raise SunSpecDefinitionError(
            f"{where} ({name}): size {size} does not match type {point_type.value}"
        )
    scale_factor = raw.get("sf")
    if scale_factor is not None and not isinstance(scale_factor, str | int):
        raise SunSpecDefinitionError(f"{where} ({name}): field 'sf' must be a name or integer")
    if isinstance(scale_factor, str) and scale_factor.lstrip("-").isdigit():
        scale_factor = int(scale_factor)
    symbols: dict[str, int] = {}
    for symbol in raw.get("symbols", []):
        if isinstance(symbol, dict) and isinstance(symbol.get("value"), int):
            symbols[str(symbol.get("name"))] = symbol["value"]
    value = raw.get("value")
    return PointDefinition(
        name=name,
        type=point_type,
        offset=offset,
        size=size,
        scale_factor=scale_factor,
        units=_optional_str(raw.get("units")),
        writable=raw.get("access") == "RW",
        mandatory=raw.get("mandatory") == "M",
        static=raw.get("static") == "S",
        label=_optional_str(raw.get("label")),
        description=_optional_str(raw.get("desc")),
        symbols=symbols,
        value=value if isinstance(value, int | str) else None,
    )


def _optional_str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None
