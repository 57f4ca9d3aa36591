"""The layered schedule book against a brute-force reference, plus persistence and speed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bess_dispatch_core.protocol import (
    Command,
    ControlMode,
    Envelope,
    ErrorCode,
    Priority,
    ScheduleBook,
    ScheduleEntry,
)

BASE = datetime(2026, 11, 21, tzinfo=UTC)
SLOT = timedelta(minutes=15)
ISSUED_BEFORE_SLOTS = 20


def at(slot: float) -> datetime:
    return BASE + slot * SLOT


def make_command(
    command_id: str,
    priority: int,
    spans: list[tuple[int, int]],
    *,
    issued_slot: int = 0,
    power: float | None = None,
) -> Command:
    entries = [
        ScheduleEntry(at(start), at(end), power_kw=float(index) if power is None else power)
        for index, (start, end) in enumerate(spans)
    ]
    # Issued well before every ``now`` the tests offer at: a future issued_at is refused.
    issued_at = at(issued_slot - ISSUED_BEFORE_SLOTS)
    envelope = Envelope("2.3.0", f"msg-{command_id}", issued_at)
    return Command(envelope, command_id, issued_at, Priority(priority), tuple(entries))


@dataclass
class Reference:
    """Brute force: scan every entry of every accepted command."""

    commands: list[Command]

    def resolve(self, t: datetime) -> tuple[str, ScheduleEntry] | None:
        best: tuple[Any, ...] | None = None
        for arrival, command in enumerate(self.commands):
            for entry in command.schedule:
                if entry.start <= t < entry.end:
                    key = (command.priority, command.issued_at, arrival)
                    if best is None or key > best[0]:
                        best = (key, command.command_id, entry)
        return None if best is None else (best[1], best[2])

    def boundaries(self) -> list[datetime]:
        return sorted(
            {e.start for c in self.commands for e in c.schedule}
            | {e.end for c in self.commands for e in c.schedule}
        )

    def covered(self, t: datetime) -> bool:
        return any(e.start <= t < e.end for c in self.commands for e in c.schedule)


@st.composite
def layered_commands(draw: st.DrawFn) -> list[Command]:
    commands = []
    for index in range(draw(st.integers(1, 8))):
        cuts = sorted(draw(st.sets(st.integers(0, 40), min_size=2, max_size=12)))
        pairs = list(pairwise(cuts))
        keep = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
        spans = [pair for pair, chosen in zip(pairs, keep, strict=True) if chosen] or pairs[:1]
        commands.append(
            make_command(
                f"c{index}",
                draw(st.integers(0, 2)),
                spans,
                issued_slot=draw(st.integers(0, 3)),  # ties are likely: arrival order decides
                power=float(index),
            )
        )
    return commands


def probe_times() -> list[datetime]:
    return [at(slot / 2) for slot in range(-2, 86)]


def check_against_reference(
    book: ScheduleBook, reference: Reference, times: list[datetime]
) -> None:
    boundaries = reference.boundaries()
    for t in times:
        resolved = book.resolve(t)
        expected = reference.resolve(t)
        assert (None if resolved is None else (resolved.command_id, resolved.entry)) == expected
        after = [b for b in boundaries if b > t]
        assert book.next_change(t) == (after[0] if after else None)
        if reference.covered(t):
            end = book.horizon_end(t)
            assert end is not None
            assert not reference.covered(end)
            assert all(reference.covered(b) for b in boundaries if t <= b < end)
        else:
            assert book.horizon_end(t) is None


@settings(max_examples=300, deadline=None)
@given(layered_commands())
def test_resolution_matches_brute_force(commands: list[Command]) -> None:
    book = ScheduleBook()
    for command in commands:
        assert book.offer(command, now=at(-10)) == ()
    reference = Reference(commands)
    check_against_reference(book, reference, probe_times())
    # Calendar blocks agree with point resolution and never overlap.
    blocks = book.blocks(at(-2), at(45))
    for block in blocks:
        for t in (block.start, block.end - timedelta(microseconds=1)):
            expected = reference.resolve(t)
            assert expected is not None
            assert (block.command_id, block.mode, block.power_kw) == (
                expected[0],
                expected[1].mode,
                expected[1].power_kw,
            )
    assert all(a.end <= b.start for a, b in pairwise(blocks))
    # Restored books resolve the same.
    restored = ScheduleBook.from_dict(book.to_dict())
    assert restored.to_dict() == book.to_dict()
    check_against_reference(restored, reference, probe_times()[::5])


@settings(max_examples=300, deadline=None)
@given(layered_commands(), st.integers(0, 42))
def test_prune_keeps_resolution_from_now_on(commands: list[Command], now_slot: int) -> None:
    book = ScheduleBook()
    for command in commands:
        book.offer(command, now=at(-10))
    before = len(book)
    dropped = book.prune(at(now_slot))
    assert len(book) == before - len(dropped)
    reference = Reference(commands)
    for t in probe_times():
        if t >= at(now_slot):
            resolved = book.resolve(t)
            assert (
                None if resolved is None else (resolved.command_id, resolved.entry)
            ) == reference.resolve(t)
    for command in book.commands:
        assert command.end > at(now_slot)


def test_priorities_and_recency() -> None:
    book = ScheduleBook()
    fallback = make_command("p0", 0, [(0, 40)], power=-1.0)
    day_ahead_old = make_command("p1-old", 1, [(4, 12)], issued_slot=0, power=1.0)
    day_ahead_new = make_command("p1-new", 1, [(8, 10)], issued_slot=1, power=2.0)
    intraday = make_command("p2", 2, [(9, 10)], power=3.0)
    for command in (intraday, day_ahead_new, fallback, day_ahead_old):
        assert book.offer(command, now=BASE) == ()
    assert [(s, book.resolve(at(s)).command_id) for s in (0, 4, 8, 9, 10, 11, 12)] == [  # type: ignore[union-attr]
        (0, "p0"),
        (4, "p1-old"),
        (8, "p1-new"),
        (9, "p2"),
        (10, "p1-old"),  # the newer p1 has no entry here: the older one still applies
        (11, "p1-old"),
        (12, "p0"),
    ]
    assert book.resolve(at(40)) is None
    assert book.horizon_end(at(0)) == at(40)
    assert [c.command_id for c in book.commands] == ["p2", "p1-new", "p1-old", "p0"]
    resolved = book.resolve(at(9))
    assert resolved is not None
    assert (resolved.priority, resolved.issued_at) == (Priority.INTRADAY, intraday.issued_at)
    blocks = book.blocks(at(-4), at(50))
    assert [(b.command_id, b.start, b.end) for b in blocks] == [
        ("p0", at(0), at(4)),
        ("p1-old", at(4), at(8)),
        ("p1-new", at(8), at(9)),
        ("p2", at(9), at(10)),
        ("p1-old", at(10), at(12)),
        ("p0", at(12), at(40)),
    ]


def test_same_issued_at_later_arrival_wins() -> None:
    book = ScheduleBook()
    book.offer(make_command("first", 1, [(0, 4)], power=1.0), now=BASE)
    book.offer(make_command("second", 1, [(0, 4)], power=2.0), now=BASE)
    assert book.resolve(at(1)).command_id == "second"  # type: ignore[union-attr]


def test_merged_blocks_span_entries() -> None:
    book = ScheduleBook()
    book.offer(make_command("c", 0, [(0, 1), (1, 2), (2, 3)], power=5.0), now=BASE)
    blocks = book.blocks(at(0), at(3))
    assert [(b.start, b.end, b.power_kw) for b in blocks] == [(at(0), at(3), 5.0)]
    assert book.blocks(at(1), at(1)) == []


def test_rejections_change_nothing() -> None:
    book = ScheduleBook()
    command = make_command("c", 1, [(0, 4)])
    assert book.offer(command, now=BASE) == ()
    state = book.to_dict()
    same_message = make_command("other", 1, [(0, 4)])
    same_message = Command(
        command.envelope,
        "other",
        same_message.issued_at,
        same_message.priority,
        same_message.schedule,
    )
    rejections = [
        (command, [("DUPLICATE", "message_id"), ("DUPLICATE", "command_id")]),
        (same_message, [("DUPLICATE", "message_id")]),
        (
            Command(Envelope("2.3.0", "fresh", BASE), "c", BASE, Priority(1), command.schedule),
            [("DUPLICATE", "command_id")],
        ),
        (make_command("old", 2, [(-8, -4)]), [("EXPIRED", "schedule")]),
    ]
    for candidate, expected in rejections:
        errors = book.offer(candidate, now=BASE)
        assert [(e.code.value, e.path) for e in errors] == expected
        assert book.to_dict() == state


@settings(max_examples=200, deadline=None)
@given(layered_commands(), st.data())
def test_random_rejections_change_nothing(commands: list[Command], data: st.DataObject) -> None:
    book = ScheduleBook()
    for command in commands:
        book.offer(command, now=at(-10))
    state = book.to_dict()
    victim = data.draw(st.sampled_from(commands))
    now = data.draw(st.sampled_from([at(-10), at(100)]))
    assert book.offer(victim, now=now)  # a duplicate (and maybe expired)
    fresh = make_command("fresh", 0, [(0, 1)])
    assert ErrorCode.EXPIRED in {e.code for e in book.offer(fresh, now=at(1))}
    assert book.to_dict() == state


def test_id_memory_is_bounded_and_restored() -> None:
    book = ScheduleBook(id_memory=3)
    for index in range(5):
        assert book.offer(make_command(f"c{index}", 0, [(index, index + 1)]), now=BASE) == ()
    state = book.to_dict()
    assert state["seen_command_ids"] == ["c2", "c3", "c4"]
    restored = ScheduleBook.from_dict(state)
    assert restored.to_dict() == state
    # Forgotten ids are accepted again; remembered ones stay duplicates.
    assert restored.offer(make_command("c4", 0, [(9, 10)]), now=BASE)
    assert restored.offer(make_command("c0", 0, [(9, 10)]), now=BASE) == ()


def test_prune_drops_ended_and_shadowed() -> None:
    book = ScheduleBook()
    week_one = make_command("w1", 0, [(0, 100)], issued_slot=0)
    week_two = make_command("w2", 0, [(20, 120)], issued_slot=20)
    ended = make_command("ended", 2, [(0, 2)])
    partial = make_command("p1", 1, [(0, 4), (30, 31)])
    for command in (week_one, week_two, ended, partial):
        assert book.offer(command, now=BASE) == ()
    assert book.prune(at(10)) == ("ended",)
    assert book.prune(at(20)) == ("w1",)
    assert [c.command_id for c in book.commands] == ["p1", "w2"]
    assert set(book.prune(at(200))) == {"p1", "w2"}
    assert len(book) == 0
    assert book.next_change(BASE) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda d: [], "must be an object", id="not-object"),
        pytest.param(lambda d: d | {"format": 2}, "format", id="format"),
        pytest.param(lambda d: d | {"id_memory": 0}, "id_memory", id="id-memory"),
        pytest.param(lambda d: d | {"arrivals": "1"}, "arrivals", id="arrivals"),
        pytest.param(lambda d: d | {"seen_message_ids": [1]}, "seen_message_ids", id="seen-ids"),
        pytest.param(lambda d: d | {"commands": {}}, "commands must be a list", id="commands"),
        pytest.param(
            lambda d: d | {"commands": [1]}, r"commands\[0\] must be an object", id="command-item"
        ),
        pytest.param(
            lambda d: d | {"commands": [d["commands"][0] | {"arrival": 99}]},
            "arrival is inconsistent",
            id="arrival",
        ),
        pytest.param(
            lambda d: d | {"commands": [d["commands"][0]] * 2},
            "arrival is inconsistent",
            id="arrival-twice",
        ),
        pytest.param(
            lambda d: d | {"commands": [d["commands"][0] | {"arrival": True}]},
            "arrival must be an integer",
            id="arrival-bool",
        ),
        pytest.param(
            lambda d: d | {"commands": [d["commands"][0] | {"command": {"priority": 1}}]},
            r"commands\[0\].command: MISSING_FIELD",
            id="command-garbage",
        ),
    ],
)
def test_restoring_garbage_raises(change: Any, message: str) -> None:
    book = ScheduleBook()
    book.offer(make_command("c", 0, [(0, 4)]), now=BASE)
    with pytest.raises(ValueError, match=message):
        ScheduleBook.from_dict(change(book.to_dict()))


def test_naive_times_are_refused() -> None:
    book = ScheduleBook()
    with pytest.raises(ValueError, match="timezone-aware"):
        book.resolve(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        book.offer(make_command("c", 0, [(0, 1)]), now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="id_memory"):
        ScheduleBook(id_memory=0)


def test_one_year_fallback_is_offered_fast() -> None:
    entries = [
        ScheduleEntry(
            BASE + i * timedelta(minutes=30),
            BASE + (i + 1) * timedelta(minutes=30),
            power_kw=(i % 7) - 3.0,
        )
        for i in range(17_520)
    ]
    command = Command.create(
        command_id="p0-year", priority=Priority.FALLBACK, schedule=entries, now=BASE
    )
    book = ScheduleBook()
    started = time.perf_counter()
    assert book.offer(command, now=BASE) == ()
    elapsed = time.perf_counter() - started
    print(f"offer of a 17,520-entry p0 command: {elapsed * 1000:.1f} ms")
    assert elapsed < 0.5
    started = time.perf_counter()
    for minute in range(0, 525_600, 97):
        book.resolve(BASE + timedelta(minutes=minute))
    assert time.perf_counter() - started < 0.5
    assert book.horizon_end(BASE) == BASE + timedelta(days=365)
    assert book.resolve(BASE + timedelta(minutes=45)).entry.mode is ControlMode.SETPOINT  # type: ignore[union-attr]
