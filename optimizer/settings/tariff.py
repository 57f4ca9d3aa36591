"""Import prices (and the export price) the optimizer plans with, read from the options.

Three sources (``tariff.kind``): a day-ahead price file or URL, a time-of-use table that must
tile the day exactly, or a Home Assistant entity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .field_reader import FieldReader

ENTITY_ID_PATTERN = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
# "HH:MM-HH:MM price": a local-time period of every day and its import price per kWh.
TOU_PERIOD_PATTERN = re.compile(
    r"^\s*(?P<start>\d{2}:\d{2})\s*-\s*(?P<end>\d{2}:\d{2})\s+(?P<price>-?\d+(?:\.\d+)?)\s*$"
)
MINUTES_PER_DAY = 24 * 60


class TariffKind(StrEnum):
    """Where import prices come from."""

    SPOT_FILE = "spot_file"  # day-ahead prices from a file or URL
    TOU = "tou"  # a fixed time-of-use table in the options
    ENTITY = "entity"  # a Home Assistant entity, read through the HA API


class SpotFormat(StrEnum):
    """Layouts of a day-ahead price file."""

    JEPX = "jepx"  # JEPX spot CSV (48 half-hour slots per day)
    TIMESTAMP_PRICE = "timestamp_price"  # "timestamp,price" rows, ISO-8601 timestamps


@dataclass(frozen=True, slots=True)
class TouPeriod:
    """A daily period [start, end) in minutes after local midnight and its price per kWh."""

    start_minute: int
    end_minute: int
    price: float


@dataclass(frozen=True, slots=True)
class TariffSettings:
    """Import prices (and the export price) the optimizer plans with."""

    kind: TariffKind
    spot_source: str | None
    spot_format: SpotFormat
    tou_periods: tuple[TouPeriod, ...]
    entity_id: str | None
    export_price: float
    currency: str


def _minute_of_day(text: str) -> int | None:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes != 0):
        return None
    return hours * 60 + minutes


def _parse_tou_periods(reader: FieldReader, raw: object, path: str) -> tuple[TouPeriod, ...]:
    if not isinstance(raw, list) or not raw:
        reader.fail(path, 'is required for kind "tou": e.g. ["00:00-07:00 18.5", ...]')
        return ()
    periods: list[TouPeriod] = []
    for index, entry in enumerate(raw):
        entry_path = f"{path}[{index}]"
        match = TOU_PERIOD_PATTERN.fullmatch(entry) if isinstance(entry, str) else None
        if match is None:
            reader.fail(
                entry_path, f'{entry!r} is not "HH:MM-HH:MM price", e.g. "07:00-23:00 31.2"'
            )
            continue
        start = _minute_of_day(match["start"])
        end = _minute_of_day(match["end"])
        if start is None or end is None or start >= end:
            reader.fail(entry_path, f"{entry!r}: start must be before end, within 00:00-24:00")
            continue
        periods.append(TouPeriod(start, end, float(match["price"])))
    if len(periods) != len(raw):
        return ()
    periods.sort(key=lambda period: period.start_minute)
    # The optimizer needs a price for every slot: the periods must tile the day exactly.
    cursor = 0
    for period in periods:
        if period.start_minute < cursor:
            reader.fail(path, f"periods overlap at {clock_text(period.start_minute)}")
            return ()
        if period.start_minute > cursor:
            reader.fail(
                path, f"no price from {clock_text(cursor)} to {clock_text(period.start_minute)}"
            )
            return ()
        cursor = period.end_minute
    if cursor != MINUTES_PER_DAY:
        reader.fail(path, f"no price from {clock_text(cursor)} to 24:00")
        return ()
    return tuple(periods)


def clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def decimal_text(value: float) -> str:
    # Plain decimal notation (no exponent) that reads back as the same float.
    text = repr(value)
    if "e" in text:
        text = f"{value:.15f}".rstrip("0").rstrip(".")
    return text.removesuffix(".0")


def parse_tariff(reader: FieldReader, options: Mapping[str, Any]) -> TariffSettings | None:
    raw = reader.mapping(options, "tariff", "tariff")
    if not raw:
        return None
    before = len(reader.problems)
    kind = reader.choice(raw, "kind", "tariff.kind", TariffKind, None)
    spot_format = reader.choice(
        raw, "spot_format", "tariff.spot_format", SpotFormat, SpotFormat.TIMESTAMP_PRICE
    )
    spot_source = reader.optional_text(raw, "spot_source", "tariff.spot_source")
    entity_id = reader.optional_text(raw, "entity_id", "tariff.entity_id")
    tou_periods: tuple[TouPeriod, ...] = ()
    if kind is TariffKind.SPOT_FILE:
        if spot_source is None:
            reader.fail(
                "tariff.spot_source",
                'is required for kind "spot_file": a path such as /share/prices.csv or an '
                "http(s) URL",
            )
        elif not (spot_source.startswith(("/", "http://", "https://"))):
            reader.fail(
                "tariff.spot_source",
                f"{spot_source!r} must be an absolute path (e.g. /share/prices.csv) or an "
                "http(s) URL",
            )
    elif kind is TariffKind.TOU:
        tou_periods = _parse_tou_periods(reader, raw.get("tou_periods"), "tariff.tou_periods")
    elif kind is TariffKind.ENTITY:
        if entity_id is None:
            reader.fail("tariff.entity_id", 'is required for kind "entity", e.g. sensor.price')
        elif not ENTITY_ID_PATTERN.fullmatch(entity_id):
            reader.fail("tariff.entity_id", f"{entity_id!r} is not an entity id like sensor.price")
    export_price = reader.number(raw, "export_price", "tariff.export_price", default=0.0)
    currency = reader.text(raw, "currency", "tariff.currency", default="")
    if len(reader.problems) > before or kind is None or spot_format is None:
        return None
    return TariffSettings(
        kind=kind,
        spot_source=spot_source if kind is TariffKind.SPOT_FILE else None,
        spot_format=spot_format,
        tou_periods=tou_periods,
        entity_id=entity_id if kind is TariffKind.ENTITY else None,
        export_price=export_price,
        currency=currency or "",
    )
