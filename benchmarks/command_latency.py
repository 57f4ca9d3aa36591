"""Benchmark: validate + merge the largest p0 the broker passes, and resolve() on the book.

The largest command is a full year of half-hour entries (17,520, about 1.8 MB), shrunk only
if it did not fit under the broker's packet limit (``limits.MAX_PAYLOAD_BYTES``, 4 MiB less
header room). The integration reads it in the executor (``read_command``) and only merges it on the
event loop (``Dispatcher.take``): the two rows show the split.

Run: ``scripts/env python benchmarks/command_latency.py [--quick] [--repeats N]``

Prints a table of medians over N repeats, each with its ratio to ``json.loads`` of the same
payload measured in the same run (the floor any validator has to pay). Progress goes to
stderr, the table to stdout. The HA half of issue 4's benchmark (command on the broker ->
effective-mode entity updated) is ``benchmarks/test_command_latency.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

# The pure package lives under the integration; pure/ links it as ``bess_dispatch_core``.
_REPO = Path(__file__).resolve().parent.parent
if str(_REPO / "pure") not in sys.path:
    sys.path.insert(0, str(_REPO / "pure"))

from bess_dispatch_core.gateway.control_law import HardLimits, SiteState  # noqa: E402
from bess_dispatch_core.gateway.dispatcher import Dispatcher, read_command  # noqa: E402
from bess_dispatch_core.protocol import (  # noqa: E402
    Command,
    ControlMode,
    Priority,
    ScheduleBook,
    ScheduleEntry,
    parse_command,
)
from bess_dispatch_core.protocol.limits import MAX_PAYLOAD_BYTES  # noqa: E402

HALF_HOUR = timedelta(minutes=30)
YEAR_ENTRIES = 365 * 48  # 17,520 half-hour entries
RESOLVE_CALLS = 10_000


def progress(text: str) -> None:
    print(f"[command_latency] {text}", file=sys.stderr, flush=True)


def year_schedule(start: datetime, entries: int, seed: int) -> list[ScheduleEntry]:
    """A plausible p0 year: mostly setpoints, some idle / no-discharge / limit-charge slots."""
    rng = random.Random(seed)
    schedule = []
    for index in range(entries):
        begin = start + index * HALF_HOUR
        draw = rng.random()
        if draw < 0.7:
            entry = ScheduleEntry(begin, begin + HALF_HOUR, power_kw=round(rng.uniform(-5, 5), 2))
        elif draw < 0.8:
            entry = ScheduleEntry(begin, begin + HALF_HOUR, ControlMode.IDLE)
        elif draw < 0.9:
            entry = ScheduleEntry(begin, begin + HALF_HOUR, ControlMode.NO_DISCHARGE)
        else:
            entry = ScheduleEntry(
                begin,
                begin + HALF_HOUR,
                ControlMode.LIMIT_CHARGE,
                max_charge_kw=round(rng.uniform(0, 3), 2),
            )
        schedule.append(entry)
    return schedule


def layer(priority: Priority, start: datetime, entries: int, now: datetime, seed: int) -> Command:
    return Command.create(
        command_id=f"bench-p{int(priority)}-{seed}",
        priority=priority,
        schedule=year_schedule(start, entries, seed),
        now=now,
    )


def validate_and_merge(payload: bytes, now: datetime) -> None:
    """What the gateway does with a ``cmd/`` payload before it answers."""
    errors = ScheduleBook().offer(parse_command(payload, now=now).unwrap(), now=now)
    assert not errors, errors


def persist_state(dispatcher: Dispatcher) -> str:
    return json.dumps(dispatcher.to_dict())


def timed(action: Callable[[], object]) -> float:
    """Seconds for one call, garbage collector off so a collection does not land in one."""
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        action()
        return time.perf_counter() - began
    finally:
        gc.enable()


@dataclass(frozen=True)
class Row:
    name: str
    seconds: float  # median
    spread: tuple[float, float]  # min, max
    unit: str = "ms"


def median_row(name: str, samples: list[float], unit: str = "ms") -> Row:
    return Row(name, statistics.median(samples), (min(samples), max(samples)), unit)


def scaled(seconds: float, unit: str) -> float:
    return seconds * (1e3 if unit == "ms" else 1e6)


def print_table(title: str, rows: list[Row], reference: Row, notes: list[str]) -> None:
    print()
    print(title)
    header = f"{'step':<52} {'median':>10} {'min':>10} {'max':>10} {'x json.loads':>13}"
    print(header)
    print("-" * len(header))
    for row in rows:
        median = scaled(row.seconds, row.unit)
        low, high = (scaled(value, row.unit) for value in row.spread)
        # Per-call rows (us) are not comparable with parsing the whole payload.
        ratio = f"{row.seconds / reference.seconds:.2f}x" if row.unit == "ms" else "-"
        print(
            f"{row.name:<52} {median:>7.3f} {row.unit:<2} {low:>7.3f} {row.unit:<2}"
            f" {high:>7.3f} {row.unit:<2} {ratio:>13}"
        )
    for note in notes:
        print(note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, fewer resolve calls")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per step (default 9)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 9)
    resolve_calls = RESOLVE_CALLS // 10 if args.quick else RESOLVE_CALLS

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    entries = YEAR_ENTRIES
    while True:
        progress(f"building a {entries}-entry p0 schedule")
        year = layer(Priority.FALLBACK, now, entries, now, seed=0)
        payload = year.to_payload()
        if len(payload) <= MAX_PAYLOAD_BYTES:
            break
        entries = int(entries * MAX_PAYLOAD_BYTES / len(payload) * 0.999)
    progress(f"payload {len(payload) / 1e6:.2f} MB; {repeats} repeats per step")

    loads, validate, merge, both, persist, off_loop, on_loop = [], [], [], [], [], [], []
    for attempt in range(repeats):
        progress(f"repeat {attempt + 1}/{repeats}")
        loads.append(timed(lambda: json.loads(payload)))
        validate.append(timed(lambda: parse_command(payload, now=now)))
        command = parse_command(payload, now=now).unwrap()
        book = ScheduleBook()
        merge.append(timed(partial(book.offer, command, now=now)))
        assert len(book) == 1, "the year schedule was rejected"
        both.append(timed(partial(validate_and_merge, payload, now)))
        dispatcher = Dispatcher(HardLimits(1.0, 9.0, 5.0, 5.0), book=book)
        # What the integration stores after every accepted command.
        persist.append(timed(partial(persist_state, dispatcher)))
        off_loop.append(timed(lambda: read_command(payload, now=now)))
        prepared = read_command(payload, now=now)
        fresh = Dispatcher(HardLimits(1.0, 9.0, 5.0, 5.0))
        on_loop.append(timed(partial(fresh.take, prepared, now=now)))
        assert len(fresh.book) == 1, "the prepared schedule was rejected"

    progress(f"resolve(): {resolve_calls} random times, p0 alone, then p0 + p1 + p2")
    book = ScheduleBook()
    book.offer(parse_command(payload, now=now).unwrap(), now=now)
    rng = random.Random(1)
    times = [now + timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(resolve_calls)]
    near = [now + timedelta(seconds=rng.uniform(0, 3 * 3600)) for _ in range(resolve_calls)]

    def per_call(book: ScheduleBook, at: list[datetime]) -> list[float]:
        samples = []
        for _ in range(repeats):
            elapsed = timed(lambda: [book.resolve(t) for t in at])
            samples.append(elapsed / len(at))
        return samples

    resolve_p0 = per_call(book, times)
    book.offer(layer(Priority.DAY_AHEAD, now, 96, now, seed=1), now=now)
    book.offer(layer(Priority.INTRADAY, now, 6, now, seed=2), now=now)
    resolve_layers = per_call(book, near)
    dispatcher = Dispatcher(HardLimits(1.0, 9.0, 5.0, 5.0), book=book)
    site = SiteState(soe_kwh=5.0)
    evaluate = [
        timed(lambda: [dispatcher.evaluate(now, site) for _ in range(100)]) / 100
        for _ in range(repeats)
    ]

    reference = median_row("json.loads(payload)  [reference]", loads)
    rows = [
        reference,
        median_row("validate: parse_command(payload)", validate),
        median_row("merge: ScheduleBook.offer(command)", merge),
        median_row("validate + merge", both),
        median_row("persist: json.dumps(Dispatcher.to_dict())", persist),
        median_row("HA executor: read_command(payload)", off_loop),
        median_row("HA event loop: Dispatcher.take(prepared)", on_loop),
        median_row("resolve(t), p0 year only, t anywhere in the year", resolve_p0, "us"),
        median_row("resolve(t), p0 + p1 48 h + p2 3 h, t in next 3 h", resolve_layers, "us"),
        median_row("Dispatcher.evaluate(now), same three layers", evaluate, "us"),
    ]
    print_table(
        f"largest p0 under the packet limit: {entries} half-hour entries, "
        f"{len(payload):,} bytes JSON; "
        f"median of {repeats}",
        rows,
        reference,
        [
            f"resolve rows: per call, median over {repeats} runs of {resolve_calls} calls; "
            "evaluate: per call, 100 calls per run.",
            f"Python {sys.version.split()[0]}; ratios are to json.loads measured in this run.",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
