"""What a node holds: its objects and, per object, which properties it can get and set."""

from __future__ import annotations

from dataclasses import dataclass, field

from .objects import EchonetClass, EchonetObject


@dataclass(frozen=True, slots=True)
class ObjectMaps:
    """One object's property maps (0x9F get, 0x9E set)."""

    obj: EchonetObject
    get_map: frozenset[int]
    set_map: frozenset[int]


@dataclass(frozen=True, slots=True)
class EchonetNode:
    """A node found by discovery or probed by address."""

    host: str
    objects: tuple[ObjectMaps, ...] = field(default_factory=tuple)
    manufacturer: str | None = None

    def find(self, echonet_class: EchonetClass) -> ObjectMaps | None:
        """The first (lowest instance) object of ``echonet_class`` on the node."""
        matches = sorted(
            (maps for maps in self.objects if maps.obj.class_id == echonet_class),
            key=lambda maps: maps.obj,
        )
        return matches[0] if matches else None

    @property
    def classes(self) -> frozenset[EchonetClass]:
        known = {int(c) for c in EchonetClass}
        return frozenset(
            EchonetClass(maps.obj.class_id) for maps in self.objects if maps.obj.class_id in known
        )
