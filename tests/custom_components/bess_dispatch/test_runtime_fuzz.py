"""10,000 hostile commands through real Home Assistant and a packet-limited Mosquitto.

Every command must be answered, every answer must fit in one broker packet (the broker runs
with the add-on's ``max_packet_size``, so an oversize answer would cost the gateway its
connection), and no rejection may change the schedule book. The commands are drawn with a
fixed seed from the catalogue below; the test prints a markdown table of what was sent and
how it was answered (kept in hostile_commands.md next to this file).
"""

import asyncio
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.bess_dispatch.bess_dispatch_core.gateway.dispatcher import Dispatcher
from custom_components.bess_dispatch.bess_dispatch_core.link.mqtt_link import LinkStatus
from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import Priority
from custom_components.bess_dispatch.bess_dispatch_core.protocol.limits import MAX_PAYLOAD_BYTES
from custom_components.bess_dispatch.bess_dispatch_core.protocol.responses import (
    CommandResponse,
    ResponseStatus,
)
from custom_components.bess_dispatch.bess_dispatch_core.protocol.timeformat import (
    format_datetime,
)
from custom_components.bess_dispatch.bess_dispatch_core.protocol.validation import (
    parse_command_response,
)
from tests.plugins.mosquitto_broker import Broker

from .conftest import OptimizerClient, setup_site
from .test_control import COMMAND_TOPIC, RESPONSE_TOPIC, command, wait_for

COMMANDS = 10_000
SEED = 13
# Commands published but not yet answered: below Mosquitto's per-client queue (1,000).
WINDOW = 100

type Document = dict[str, Any]
type Build = Callable[[random.Random, Document], Document | bytes]


def _set(key: str, *values: Any) -> Build:
    def build(rng: random.Random, document: Document) -> Document:
        document[key] = rng.choice(values)
        return document

    return build


def _entry_set(key: str, *values: Any) -> Build:
    def build(rng: random.Random, document: Document) -> Document:
        document["schedule"][0][key] = rng.choice(values)
        return document

    return build


def _random_bytes(rng: random.Random, _document: Document) -> bytes:
    return rng.randbytes(rng.randint(0, 300))


def _truncated(rng: random.Random, document: Document) -> bytes:
    text = json.dumps(document).encode()
    return text[: rng.randint(0, len(text) - 1)]


def _missing(rng: random.Random, document: Document) -> Document:
    keys = ["schema_version", "message_id", "sent_at", "command_id", "issued_at", "priority"]
    del document[rng.choice([*keys, "schedule"])]
    return document


def _wrong_type(rng: random.Random, document: Document) -> Document:
    key, value = rng.choice(
        [
            ("priority", "2"),
            ("priority", 1.5),
            ("schedule", {}),
            ("issued_at", 12),
            ("sent_at", []),
            ("message_id", 5),
            ("command_id", True),
            ("schema_version", 2),
        ]
    )
    document[key] = value
    return document


def _huge_id(rng: random.Random, document: Document) -> Document:
    document[rng.choice(["message_id", "command_id"])] = "x" * rng.randint(201, 20_000)
    return document


def _end_not_after_start(rng: random.Random, document: Document) -> Document:
    entry = document["schedule"][0]
    if rng.random() < 0.5:
        entry["start"], entry["end"] = entry["end"], entry["start"]
    else:
        entry["end"] = entry["start"]
    return document


def _overlap(_rng: random.Random, document: Document) -> Document:
    document["schedule"].append(dict(document["schedule"][0]))
    return document


def _raw_power(rng: random.Random, document: Document) -> bytes:
    text = json.dumps(document).replace('"power_kw": 1.0', '"power_kw": @')
    literal = rng.choice(["1e999", "-1e999", "NaN", "Infinity", "1e300", "200000", "9" * 400])
    return text.replace("@", literal).encode()


def _mode_without_value(rng: random.Random, document: Document) -> Document:
    entry = document["schedule"][0]
    del entry["power_kw"]
    entry.update(
        rng.choice(
            [
                {"mode": "SETPOINT"},
                {"mode": "LIMIT_CHARGE"},
                {"mode": "LIMIT_CHARGE", "max_charge_kw": -1},
            ]
        )
    )
    return document


def _shift_entries(document: Document, by: timedelta) -> Document:
    for entry in document["schedule"]:
        for key in ("start", "end"):
            entry[key] = format_datetime(dt_util.parse_datetime(entry[key]) + by)  # type: ignore[operator]
    return document


def _in_the_past(_rng: random.Random, document: Document) -> Document:
    return _shift_entries(document, timedelta(days=-2))


def _entries_not_objects(rng: random.Random, document: Document) -> Document:
    document["schedule"] = [rng.choice([1, "x", None, [], True])] * rng.randint(1, 50)
    return document


def _empty_entries(count: int) -> Build:
    def build(_rng: random.Random, document: Document) -> Document:
        document["schedule"] = [{}] * count
        return document

    return build


def _over_the_size_limit(_rng: random.Random, document: Document) -> Document:
    document["padding"] = "x" * (MAX_PAYLOAD_BYTES - len(json.dumps(document)) + 100)
    return document


def _deep_nesting(rng: random.Random, _document: Document) -> bytes:
    depth = rng.randint(1_000, 100_000)
    return b"[" * depth + b"]" * depth


def _valid_economics(now: datetime) -> Document:
    return {
        "currency": "JPY",
        "as_of": format_datetime(now),
        "horizon_start": format_datetime(now),
        "horizon_end": format_datetime(now + timedelta(hours=48)),
        "plan_cost": 812.4,
        "no_battery_cost": 1203.0,
    }


def _broken_economics(rng: random.Random, document: Document) -> Document:
    now = dt_util.utcnow()
    economics = _valid_economics(now)
    key, value = rng.choice(
        [
            ("currency", "jpy"),
            ("currency", "¥"),
            ("currency", 392),
            ("plan_cost", float("nan")),
            ("plan_cost", float("inf")),
            ("plan_cost", 1e13),
            ("plan_cost", "812"),
            ("no_battery_cost", None),  # and no other baseline
            ("as_of", "yesterday"),
            ("as_of", format_datetime(now + timedelta(days=1))),
            ("horizon_end", economics["horizon_start"]),
            ("horizon_end", format_datetime(now + timedelta(days=400))),
        ]
    )
    economics[key] = value
    document["economics"] = rng.choice([economics, economics, [], "JPY"])
    return document


@dataclass
class Hostile:
    """One kind of hostile input; ``limit``: at most this many (the heavy ones)."""

    name: str
    build: Build
    limit: int | None = None
    sent: int = 0
    answered: int = 0
    rejected: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    largest_answer: int = 0
    changed_schedule: int = 0


CATALOGUE = [
    Hostile("random bytes", _random_bytes),
    Hostile(
        "JSON that is not an object", lambda rng, _d: rng.choice([b"[]", b'"x"', b"1", b"null"])
    ),
    Hostile("truncated JSON", _truncated),
    Hostile("a required field missing", _missing),
    Hostile("a field of the wrong type", _wrong_type),
    Hostile("priority out of range", _set("priority", -1, 3, 7, 10**30)),
    Hostile("unknown or 12,000-character mode", _entry_set("mode", "TURBO", "", "M" * 12_000)),
    Hostile("ids over 200 characters (up to 20,000)", _huge_id),
    Hostile(
        "bad timestamps (not RFC 3339, naive, 5,000 digits)",
        _entry_set(
            "start",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-21T05:00:00",
            "9" * 5_000,
            "0000-01-01T00:00:00Z",
        ),
    ),
    Hostile("end not after start", _end_not_after_start),
    Hostile("overlapping entries", _overlap),
    Hostile("power 1e999, NaN, Infinity, 1e300, 200,000 kW, 400 digits", _raw_power),
    Hostile("mode without its kW (or a negative charge limit)", _mode_without_value),
    Hostile("true as a power", _entry_set("power_kw", True, False)),
    Hostile("every entry in the past", _in_the_past),
    Hostile(
        "issued_at in the future (1 day, year 2999)",
        _set("issued_at", "2999-01-01T00:00:00Z", "@tomorrow"),
    ),
    Hostile("message_id and command_id seen before", lambda _r, d: d),
    Hostile("empty schedule", _set("schedule", [])),
    Hostile("unsupported or garbled schema_version", _set("schema_version", "3.0.0", "x", "2")),
    Hostile("unpaired surrogate in an id", _set("command_id", "\ud800", "a\udfffb")),
    Hostile("entries that are not objects", _entries_not_objects),
    Hostile(
        "broken economics (currency, NaN, 1e13, no baseline, as_of ahead, horizon)",
        _broken_economics,
    ),
    Hostile("JSON nested 1,000-100,000 deep", _deep_nesting, limit=200),
    Hostile("13,000 empty entries (26,000 errors)", _empty_entries(13_000), limit=20),
    Hostile("21,001 empty entries (over the entry limit)", _empty_entries(21_001), limit=10),
    Hostile("payload over the 1,044,480-byte limit", _over_the_size_limit, limit=10),
]


def _base(index: int) -> Document:
    document = command(Priority.INTRADAY, [1.0], start_offset_min=30).to_dict()
    document["message_id"] = f"fuzz-message-{index}"
    document["command_id"] = f"fuzz-command-{index}"
    return document


def _draw(rng: random.Random, index: int, seen: Document) -> tuple[Hostile, bytes]:
    while True:
        hostile = rng.choice(CATALOGUE)
        if hostile.limit is None or hostile.sent < hostile.limit:
            break
    if hostile.name.startswith("message_id and command_id seen"):
        built: Document | bytes = dict(
            _base(index),
            message_id=seen["message_id"],
            command_id=seen["command_id"],
        )
    else:
        built = hostile.build(rng, _base(index))
    if isinstance(built, dict) and built.get("issued_at") == "@tomorrow":
        built["issued_at"] = format_datetime(dt_util.utcnow() + timedelta(days=1))
    hostile.sent += 1
    payload = built if isinstance(built, bytes) else json.dumps(built).encode()
    return hostile, payload


def _table(catalogue: list[Hostile]) -> str:
    lines = [
        "| hostile input | sent | answered | rejected | error codes in the answers "
        "| largest answer (bytes) | schedule changed |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for hostile in catalogue:
        codes = ", ".join(f"{code} {count}" for code, count in sorted(hostile.codes.items()))
        lines.append(
            f"| {hostile.name} | {hostile.sent} | {hostile.answered} | {hostile.rejected} "
            f"| {codes} | {hostile.largest_answer:,} | {hostile.changed_schedule} |"
        )
    total = sum(h.sent for h in catalogue)
    answered = sum(h.answered for h in catalogue)
    rejected = sum(h.rejected for h in catalogue)
    largest = max(h.largest_answer for h in catalogue)
    changed = sum(h.changed_schedule for h in catalogue)
    lines.append(f"| **all** | {total} | {answered} | {rejected} | | {largest:,} | {changed} |")
    return "\n".join(lines)


def _fingerprint(dispatcher: Dispatcher) -> tuple[Any, ...]:
    """What a rejection must not change: the live commands and the ids remembered."""
    book = dispatcher.book.to_dict()
    return (
        tuple(id(c) for c in dispatcher.book.commands),
        len(book["seen_message_ids"]),
        len(book["seen_command_ids"]),
        dispatcher.override,
        dispatcher.book.latest_economics,
    )


@pytest.mark.slow
async def test_ten_thousand_hostile_commands(
    hass: HomeAssistant,
    limited_broker: Broker,
    limited_optimizer: OptimizerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = await setup_site(hass, limited_broker)
    runtime = entry.runtime_data.runtime
    await wait_for(hass, lambda: runtime.link_status.connected)
    statuses: list[LinkStatus] = []
    runtime.link.add_state_listener(statuses.append)

    seen = _base(-1)
    # With economics kept, a rejection that replaced them would show in the fingerprint.
    seen["economics"] = _valid_economics(dt_util.utcnow())
    limited_optimizer.publish(COMMAND_TOPIC, json.dumps(seen).encode())
    assert (await limited_optimizer.next_on(RESPONSE_TOPIC))["status"] == "accepted"
    kept = runtime.dispatcher.book.latest_economics
    assert kept is not None

    # Every rejection is checked against the book as it was just before it.
    dispatcher = runtime.dispatcher
    real_take = dispatcher.take
    taken: list[bool] = []  # per command, in order: a rejection that changed the book

    def take(read: Any, *, now: Any) -> CommandResponse:
        before = _fingerprint(dispatcher)
        response = real_take(read, now=now)
        rejected = response.status is ResponseStatus.REJECTED
        taken.append(rejected and _fingerprint(dispatcher) != before)
        return response

    monkeypatch.setattr(dispatcher, "take", take)

    rng = random.Random(SEED)
    sent: list[tuple[Hostile, bytes]] = []
    answers: list[bytes] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + 240

    def collect() -> None:
        for topic, payload in limited_optimizer.received():
            if topic == RESPONSE_TOPIC:
                answers.append(payload)

    while len(answers) < COMMANDS:
        assert loop.time() < deadline, f"only {len(answers)} of {COMMANDS} answered in time"
        while len(sent) < COMMANDS and len(sent) - len(answers) < WINDOW:
            hostile, payload = _draw(rng, len(sent), seen)
            limited_optimizer.client.publish(COMMAND_TOPIC, payload, qos=1)
            sent.append((hostile, payload))
        await asyncio.sleep(0.005)
        before = len(answers)
        collect()
        if len(answers) // 1000 > before // 1000:
            print(f"{len(answers)} answered in {loop.time() - started:.1f} s")
    await asyncio.sleep(0.3)
    collect()

    assert len(answers) == COMMANDS  # no command unanswered, none answered twice
    for (hostile, payload), answer in zip(sent, answers, strict=True):
        response = parse_command_response(answer)
        assert response.value is not None, response.errors
        hostile.answered += 1
        hostile.largest_answer = max(hostile.largest_answer, len(answer))
        assert len(answer) <= MAX_PAYLOAD_BYTES
        if response.value.status is ResponseStatus.REJECTED:
            hostile.rejected += 1
        hostile.codes.update(error.code.value for error in response.value.errors)
        # Answers come in order: one that names a message names this one.
        if response.value.in_reply_to is not None:
            assert response.value.in_reply_to.encode() in payload
    assert len(taken) == COMMANDS
    for (hostile, _payload), changed in zip(sent, taken, strict=True):
        hostile.changed_schedule += changed
    print(
        f"\n{COMMANDS} hostile commands, seed {SEED}, answered in "
        f"{loop.time() - started:.1f} s\n\n{_table(CATALOGUE)}\n"
    )

    assert not any(taken), "a rejection changed the schedule book"
    assert runtime.dispatcher.book.latest_economics == kept
    assert all(h.rejected == h.sent for h in CATALOGUE)
    assert not any(not status.connected for status in statuses), "the gateway lost the broker"
    # Still taking good commands afterwards.
    good = _base(COMMANDS)
    limited_optimizer.publish(COMMAND_TOPIC, json.dumps(good).encode())
    assert (await limited_optimizer.next_on(RESPONSE_TOPIC))["status"] == "accepted"
