"""The layered schedule book: which entry of which live command applies at a given time.

Rules (asyncapi.yaml): among live commands with an entry ``start <= t < end`` the highest
priority wins; between equal priorities the most recently issued command (``issued_at``,
then arrival order) wins for the period it covers, and older ones still apply where it has
no entry. Commands are accepted or rejected as a whole; a rejected one changes nothing.

The book also keeps the economics of the most recently issued command that carried any:
they describe the optimizer's plan, which outlives the command once a newer one hides it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .command import Command, ControlMode, Priority, ScheduleEntry
from .economics import ScheduleEconomics
from .errors import ErrorCode, ProtocolError
from .limits import MAX_CLOCK_SKEW
from .timeformat import format_datetime, is_aware, parse_datetime

DEFAULT_ID_MEMORY = 10_000  # ids of accepted commands remembered for DUPLICATE (~200 days)
_FORMAT = 1

type Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class ResolvedEntry:
    """The entry in force at a time and the command it comes from."""

    entry: ScheduleEntry
    priority: Priority
    command_id: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class ReceivedEconomics:
    """A plan's economics and the accepted command that carried them."""

    economics: ScheduleEconomics
    command_id: str
    priority: Priority
    issued_at: datetime

    @classmethod
    def of(cls, command: Command) -> ReceivedEconomics | None:
        if command.economics is None:
            return None
        return cls(command.economics, command.command_id, command.priority, command.issued_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "priority": int(self.priority),
            "issued_at": format_datetime(self.issued_at),
            "economics": self.economics.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: object) -> ReceivedEconomics:
        """Read ``to_dict``'s form back; anything else raises ValueError."""
        from .validation import economics_from_dict

        if not isinstance(data, dict):
            raise ValueError("schedule book state: economics must be an object")
        command_id, issued_at = data.get("command_id"), data.get("issued_at")
        priority = data.get("priority")
        if not isinstance(command_id, str) or not isinstance(issued_at, str):
            raise ValueError("schedule book state: economics needs command_id and issued_at")
        if isinstance(priority, bool) or priority not in tuple(Priority):
            raise ValueError("schedule book state: economics.priority must be 0, 1 or 2")
        result = economics_from_dict(data.get("economics"))
        if result.value is None:
            problems = "; ".join(str(error) for error in result.errors)
            raise ValueError(f"schedule book state: economics: {problems}")
        return cls(result.value, command_id, Priority(priority), parse_datetime(issued_at))


@dataclass(frozen=True, slots=True)
class ScheduleBlock:
    """A stretch of the resolved timeline with one behaviour from one command."""

    start: datetime
    end: datetime
    mode: ControlMode
    power_kw: float | None
    max_charge_kw: float | None
    priority: Priority
    command_id: str


class _LiveCommand:
    """An accepted command with its entries indexed for bisection."""

    __slots__ = (
        "_wire",
        "arrival",
        "boundaries",
        "command",
        "entries",
        "span_starts",
        "spans",
        "starts",
    )

    def __init__(self, command: Command, arrival: int) -> None:
        self.command = command
        self.arrival = arrival
        self.entries = sorted(command.schedule, key=lambda entry: entry.start)
        self.starts = [entry.start for entry in self.entries]
        self.boundaries = sorted({*self.starts, *(entry.end for entry in self.entries)})
        self.spans = _merge((entry.start, entry.end) for entry in self.entries)
        self.span_starts = [start for start, _ in self.spans]
        self._wire: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        """The command's wire form, built once: a 1-year layer takes ~100 ms to format, and
        the book is saved after every accepted command."""
        if self._wire is None:
            self._wire = self.command.to_dict()
        return self._wire

    @property
    def recency(self) -> tuple[datetime, int]:
        return (self.command.issued_at, self.arrival)

    def covering(self, t: datetime) -> ScheduleEntry | None:
        index = bisect_right(self.starts, t) - 1
        if index >= 0 and t < self.entries[index].end:
            return self.entries[index]
        return None

    def span_end(self, t: datetime) -> datetime | None:
        """End of the contiguous covered span containing ``t``."""
        index = bisect_right(self.span_starts, t) - 1
        if index >= 0 and t < self.spans[index][1]:
            return self.spans[index][1]
        return None

    def next_boundary(self, t: datetime) -> datetime | None:
        index = bisect_right(self.boundaries, t)
        return self.boundaries[index] if index < len(self.boundaries) else None


class PreparedCommand:
    """A command indexed, and its wire form built, before it is offered.

    Building this is the costly part of taking a command (sorting, spans, formatting for the
    saved book: about 0.1 s for a year of half-hours) and touches no book, so a caller can do
    it on a worker thread and keep only the quick ``ScheduleBook.offer`` on its own.
    """

    __slots__ = ("_live",)

    def __init__(self, command: Command) -> None:
        self._live = _LiveCommand(command, arrival=-1)
        self._live.wire()

    @property
    def command(self) -> Command:
        return self._live.command


def _merge(intervals: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _contains(spans: list[Span], start: datetime, end: datetime) -> bool:
    """Whether merged ``spans`` cover ``[start, end)`` completely."""
    index = bisect_right(spans, (start, end)) - 1
    if index >= 0 and spans[index][0] <= start and end <= spans[index][1]:
        return True
    # A span starting exactly at ``start`` with a later end sorts after (start, end).
    index += 1
    return index < len(spans) and spans[index][0] <= start and end <= spans[index][1]


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or not is_aware(value):
        raise ValueError(f"{what} must be a timezone-aware datetime")


class _IdMemory:
    """The most recent ``capacity`` ids, oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, value: str) -> bool:
        return value in self._ids

    def add(self, value: str) -> None:
        self._ids[value] = None
        self._ids.move_to_end(value)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def to_list(self) -> list[str]:
        return list(self._ids)


class ScheduleBook:
    """Live commands of the three priority layers.

    Call ``prune(now)`` regularly: it forgets ended commands and those a newer command of
    the same priority fully covers from ``now`` on (afterwards ``resolve`` is only
    meaningful for times ``>= now``).
    """

    def __init__(self, *, id_memory: int = DEFAULT_ID_MEMORY) -> None:
        if isinstance(id_memory, bool) or not isinstance(id_memory, int) or id_memory < 1:
            raise ValueError("id_memory must be a positive integer")
        # Per layer, newest first.
        self._layers: dict[Priority, list[_LiveCommand]] = {priority: [] for priority in Priority}
        self._message_ids = _IdMemory(id_memory)
        self._command_ids = _IdMemory(id_memory)
        self._arrivals = 0
        self._economics: ReceivedEconomics | None = None

    def __len__(self) -> int:
        return sum(len(layer) for layer in self._layers.values())

    @property
    def commands(self) -> tuple[Command, ...]:
        """Live commands, highest priority first, newest first within a priority."""
        return tuple(live.command for live in self._live())

    @property
    def latest_economics(self) -> ReceivedEconomics | None:
        """The economics of the most recently issued accepted command that carried any."""
        return self._economics

    def _live(self) -> Iterator[_LiveCommand]:
        for priority in sorted(Priority, reverse=True):
            yield from self._layers[priority]

    def offer(
        self, offered: Command | PreparedCommand, *, now: datetime
    ) -> tuple[ProtocolError, ...]:
        """Accept the command (empty answer) or reject it as a whole with the reasons."""
        _require_aware(now, "now")
        command = offered.command if isinstance(offered, PreparedCommand) else offered
        errors = []
        if command.message_id in self._message_ids:
            errors.append(
                ProtocolError(ErrorCode.DUPLICATE, "message_id", "this message was seen before")
            )
        if command.command_id in self._command_ids:
            errors.append(
                ProtocolError(ErrorCode.DUPLICATE, "command_id", "this command was seen before")
            )
        if all(entry.end <= now for entry in command.schedule):
            errors.append(
                ProtocolError(ErrorCode.EXPIRED, "schedule", "every entry ends in the past")
            )
        if command.issued_at > now + MAX_CLOCK_SKEW:
            # It would outrank every later command of its priority until that date.
            errors.append(
                ProtocolError(
                    ErrorCode.FIELD_OUT_OF_RANGE,
                    "issued_at",
                    f"is more than {_minutes(MAX_CLOCK_SKEW)} minutes ahead of the gateway's clock",
                )
            )
        if command.economics is not None and command.economics.as_of > now + MAX_CLOCK_SKEW:
            # Economics "as of" a future time would pass for fresh until long after they are.
            errors.append(
                ProtocolError(
                    ErrorCode.FIELD_OUT_OF_RANGE,
                    "economics.as_of",
                    f"is more than {_minutes(MAX_CLOCK_SKEW)} minutes ahead of the gateway's clock",
                )
            )
        if errors:
            return tuple(errors)
        if isinstance(offered, PreparedCommand):
            live = offered._live
            live.arrival = self._arrivals
        else:
            live = _LiveCommand(command, self._arrivals)
        self._add(live)
        self._arrivals += 1
        self._message_ids.add(command.message_id)
        self._command_ids.add(command.command_id)
        received = ReceivedEconomics.of(command)
        if received is not None and (
            self._economics is None or received.issued_at >= self._economics.issued_at
        ):
            self._economics = received
        return ()

    def _add(self, live: _LiveCommand) -> None:
        layer = self._layers[live.command.priority]
        layer.append(live)
        layer.sort(key=lambda item: item.recency, reverse=True)

    def resolve(self, t: datetime) -> ResolvedEntry | None:
        """The entry in force at ``t``; None when no live command covers it."""
        _require_aware(t, "t")
        for live in self._live():
            entry = live.covering(t)
            if entry is not None:
                command = live.command
                return ResolvedEntry(entry, command.priority, command.command_id, command.issued_at)
        return None

    def prune(self, now: datetime) -> tuple[str, ...]:
        """Drop commands that ended, or that newer same-priority ones hide from ``now`` on.

        Returns the command ids dropped.
        """
        _require_aware(now, "now")
        dropped: list[str] = []
        for priority, layer in self._layers.items():
            kept: list[_LiveCommand] = []
            newer_cover: list[Span] = []
            for live in layer:
                remaining = [(max(start, now), end) for start, end in live.spans if end > now]
                if all(_contains(newer_cover, start, end) for start, end in remaining):
                    dropped.append(live.command.command_id)
                    continue
                kept.append(live)
                newer_cover = _merge([*newer_cover, *remaining])
            self._layers[priority] = kept
        return tuple(dropped)

    def next_change(self, t: datetime) -> datetime | None:
        """The first entry boundary after ``t``: the resolution can only change there."""
        _require_aware(t, "t")
        candidates = [live.next_boundary(t) for live in self._live()]
        return min((c for c in candidates if c is not None), default=None)

    def horizon_end(self, t: datetime) -> datetime | None:
        """End of the contiguous covered time from ``t``; None when ``t`` is not covered."""
        _require_aware(t, "t")
        cursor = t
        while True:
            ends = [live.span_end(cursor) for live in self._live()]
            furthest = max((end for end in ends if end is not None), default=None)
            if furthest is None:
                return None if cursor == t else cursor
            cursor = furthest

    def blocks(self, start: datetime, end: datetime) -> list[ScheduleBlock]:
        """The resolved timeline within ``[start, end)``, adjacent equal blocks merged."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        blocks: list[ScheduleBlock] = []
        cursor = start
        while cursor < end:
            change = self.next_change(cursor)
            stop = end if change is None else min(change, end)
            resolved = self.resolve(cursor)
            if resolved is not None:
                entry = resolved.entry
                block = ScheduleBlock(
                    cursor,
                    stop,
                    entry.mode,
                    entry.power_kw,
                    entry.max_charge_kw,
                    resolved.priority,
                    resolved.command_id,
                )
                previous = blocks[-1] if blocks else None
                if previous is not None and previous.end == cursor and _same(previous, block):
                    blocks[-1] = ScheduleBlock(
                        previous.start,
                        stop,
                        block.mode,
                        block.power_kw,
                        block.max_charge_kw,
                        block.priority,
                        block.command_id,
                    )
                else:
                    blocks.append(block)
            cursor = stop
        return blocks

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state, restored by ``from_dict`` after a restart."""
        live = sorted(self._live(), key=lambda item: item.arrival)
        return {
            "format": _FORMAT,
            "id_memory": self._message_ids.capacity,
            "arrivals": self._arrivals,
            "commands": [{"arrival": item.arrival, "command": item.wire()} for item in live],
            "seen_message_ids": self._message_ids.to_list(),
            "seen_command_ids": self._command_ids.to_list(),
            "economics": None if self._economics is None else self._economics.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: object) -> ScheduleBook:
        """Restore a book; anything that is not a book's ``to_dict`` raises ValueError."""
        from .validation import command_from_dict

        if not isinstance(data, dict):
            raise ValueError("schedule book state must be an object")
        if data.get("format") != _FORMAT:
            raise ValueError(
                f"schedule book state has format {data.get('format')!r}, not {_FORMAT}"
            )
        book = cls(id_memory=_integer(data, "id_memory"))
        book._arrivals = _integer(data, "arrivals", minimum=0)
        for key, memory in (
            ("seen_message_ids", book._message_ids),
            ("seen_command_ids", book._command_ids),
        ):
            ids = data.get(key)
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ValueError(f"schedule book state: {key} must be a list of strings")
            for value in ids:
                memory.add(value)
        commands = data.get("commands")
        if not isinstance(commands, list):
            raise ValueError("schedule book state: commands must be a list")
        arrivals: set[int] = set()
        for index, item in enumerate(commands):
            if not isinstance(item, dict):
                raise ValueError(f"schedule book state: commands[{index}] must be an object")
            arrival = _integer(item, "arrival", minimum=0, where=f"commands[{index}].")
            if arrival >= book._arrivals or arrival in arrivals:
                raise ValueError(f"schedule book state: commands[{index}].arrival is inconsistent")
            arrivals.add(arrival)
            result = command_from_dict(item.get("command"))
            if result.value is None:
                problems = "; ".join(str(error) for error in result.errors)
                raise ValueError(f"schedule book state: commands[{index}].command: {problems}")
            book._add(_LiveCommand(result.value, arrival))
        # Absent in books saved before economics existed.
        if data.get("economics") is not None:
            book._economics = ReceivedEconomics.from_dict(data["economics"])
        return book


def _integer(data: dict[str, Any], key: str, *, minimum: int = 1, where: str = "") -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"schedule book state: {where}{key} must be an integer >= {minimum}")
    return value


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _same(a: ScheduleBlock, b: ScheduleBlock) -> bool:
    return (a.mode, a.power_kw, a.max_charge_kw, a.priority, a.command_id) == (
        b.mode,
        b.power_kw,
        b.max_charge_kw,
        b.priority,
        b.command_id,
    )
