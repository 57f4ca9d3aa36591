"""The add-on's options (``/data/options.json``) parsed into typed, validated settings.

The Supervisor already checks types against the ``schema`` in ``addon/config.yaml``; this
module checks again (the generator also runs outside the Supervisor) and adds what the
schema language cannot say: unique ids, min < max, a time-of-use table that covers the day.
Every problem is reported with the option's path, e.g. ``sites[1].max_soe_percent``, and all
problems are reported at once so the owner fixes them in one go.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

# UseCase: how the battery is connected, the protocol's one definition.
from bess_dispatch_core.protocol.metrics import UseCase

# Ids become MQTT topic levels, Mosquitto usernames ("site.gateway") and ACL lines, so they
# are narrower than the protocol's rule (no "/", "+", "#"): no dots, spaces or "%" either.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ENTITY_ID_PATTERN = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
# "HH:MM-HH:MM price": a local-time period of every day and its import price per kWh.
TOU_PERIOD_PATTERN = re.compile(
    r"^\s*(?P<start>\d{2}:\d{2})\s*-\s*(?P<end>\d{2}:\d{2})\s+(?P<price>-?\d+(?:\.\d+)?)\s*$"
)
MINUTES_PER_DAY = 24 * 60


class BrokerMode(StrEnum):
    """Which broker the optimizer and the gateways meet on."""

    OWN = "own"  # the add-on's own Mosquitto, with generated credentials and per-site ACLs
    HA = "ha"  # Home Assistant's Mosquitto add-on, through the Supervisor's MQTT service


class TariffKind(StrEnum):
    """Where import prices come from."""

    SPOT_FILE = "spot_file"  # day-ahead prices from a file or URL
    TOU = "tou"  # a fixed time-of-use table in the options
    ENTITY = "entity"  # a Home Assistant entity, read through the HA API


class SpotFormat(StrEnum):
    """Layouts of a day-ahead price file."""

    JEPX = "jepx"  # JEPX spot CSV (48 half-hour slots per day)
    TIMESTAMP_PRICE = "timestamp_price"  # "timestamp,price" rows, ISO-8601 timestamps


class LogLevel(StrEnum):
    """The add-on's log levels (bashio's names)."""

    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    ERROR = "error"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class PvSystem:
    """Where the panels are and their peak power: enough for a clear-sky PV forecast."""

    kwp: float
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """One site: its gateway, its battery and the owner's hard limits."""

    site_id: str
    gateway_id: str
    use_case: UseCase
    battery_capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    min_soe_percent: float
    max_soe_percent: float
    round_trip_efficiency: float
    has_load: bool
    gateway_password: str | None  # None: the add-on generates one
    pv: PvSystem | None = None  # None: the PV forecast learns a daily profile instead

    @property
    def gateway_username(self) -> str:
        """The gateway's broker username; ids never contain ".", so it is unambiguous."""
        return f"{self.site_id}.{self.gateway_id}"


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


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Broker mode and, for the own broker, the optional TLS listener."""

    mode: BrokerMode
    tls: bool
    certfile: str
    keyfile: str


@dataclass(frozen=True, slots=True)
class AddonOptions:
    """Everything ``/data/options.json`` says, validated."""

    sites: tuple[SiteSettings, ...]
    tariff: TariffSettings
    broker: BrokerSettings
    log_level: LogLevel
    test_mode: bool


class OptionsError(ValueError):
    """Invalid add-on options; ``problems`` holds one "path: what is wrong" line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "invalid add-on options:\n" + "\n".join(f"  - {line}" for line in self.problems)
        )


class _Reader:
    """Reads typed values out of nested JSON, collecting problems instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            self.fail(path, "is required")
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object, got {_kind(value)}")
            return {}
        return value

    def text(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
        default: str | None = None,
    ) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            if default is None:
                self.fail(path, "is required")
            return default
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {_kind(value)}")
            return default
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(path, f"{value!r} is not valid{': ' + hint if hint else ''}")
            return default
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {_kind(value)}")
            return None
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
        default: float | None = None,
    ) -> float:
        value = data.get(key)
        if value is None:
            if default is not None:
                return default
            self.fail(path, "is required")
            return math.nan
        # bool is an int in Python; true/false is never a valid number here.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"must be a number, got {_kind(value)}")
            return math.nan
        number = float(value)
        if not math.isfinite(number):
            self.fail(path, f"must be a finite number, got {value!r}")
            return math.nan
        if minimum is not None:
            if exclusive_minimum and number <= minimum:
                self.fail(path, f"{value} must be greater than {minimum:g}")
            elif not exclusive_minimum and number < minimum:
                self.fail(path, f"{value} is below the minimum {minimum:g}")
        if maximum is not None and number > maximum:
            self.fail(path, f"{value} is above the maximum {maximum:g}")
        return number

    def flag(self, data: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {_kind(value)}")
            return default
        return value

    def choice[E: StrEnum](
        self, data: Mapping[str, Any], key: str, path: str, enum: type[E], default: E | None
    ) -> E | None:
        value = data.get(key)
        if value is None or value == "":
            if default is None:
                self.fail(path, f"is required (one of {_choices(enum)})")
            return default
        try:
            return enum(value)
        except ValueError:
            self.fail(path, f"{value!r} is not one of {_choices(enum)}")
            return default


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


def _parse_site(reader: _Reader, raw: object, path: str) -> SiteSettings | None:
    if not isinstance(raw, Mapping):
        reader.fail(path, f"must be an object, got {_kind(raw)}")
        return None
    before = len(reader.problems)
    id_hint = "1-64 letters, digits, '_' or '-', starting with a letter or digit"
    site_id = reader.text(raw, "site_id", f"{path}.site_id", pattern=ID_PATTERN, hint=id_hint)
    gateway_id = reader.text(
        raw, "gateway_id", f"{path}.gateway_id", pattern=ID_PATTERN, hint=id_hint
    )
    use_case = reader.choice(raw, "use_case", f"{path}.use_case", UseCase, None)
    capacity = reader.number(
        raw,
        "battery_capacity_kwh",
        f"{path}.battery_capacity_kwh",
        minimum=0.0,
        exclusive_minimum=True,
    )
    max_charge = reader.number(
        raw, "max_charge_kw", f"{path}.max_charge_kw", minimum=0.0, exclusive_minimum=True
    )
    max_discharge = reader.number(
        raw, "max_discharge_kw", f"{path}.max_discharge_kw", minimum=0.0, exclusive_minimum=True
    )
    min_soe = reader.number(
        raw, "min_soe_percent", f"{path}.min_soe_percent", minimum=0.0, maximum=100.0
    )
    max_soe = reader.number(
        raw, "max_soe_percent", f"{path}.max_soe_percent", minimum=0.0, maximum=100.0
    )
    if min_soe >= max_soe:  # NaN (already reported) compares False
        reader.fail(
            f"{path}.min_soe_percent",
            f"{min_soe:g} must be below max_soe_percent ({max_soe:g})",
        )
    efficiency = reader.number(
        raw,
        "round_trip_efficiency",
        f"{path}.round_trip_efficiency",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    )
    has_load = reader.flag(raw, "has_load", f"{path}.has_load", default=True)
    pv = _parse_pv(reader, raw, path)
    password = reader.optional_text(raw, "gateway_password", f"{path}.gateway_password")
    if password is not None and len(password) < 12:
        reader.fail(f"{path}.gateway_password", "must be at least 12 characters (or left empty)")
    if password is not None and any(c in password for c in "\n\r\x00"):
        reader.fail(f"{path}.gateway_password", "must not contain line breaks")
    if len(reader.problems) > before:
        return None
    assert site_id is not None
    assert gateway_id is not None
    assert use_case is not None
    return SiteSettings(
        site_id=site_id,
        gateway_id=gateway_id,
        use_case=use_case,
        battery_capacity_kwh=capacity,
        max_charge_kw=max_charge,
        max_discharge_kw=max_discharge,
        min_soe_percent=min_soe,
        max_soe_percent=max_soe,
        round_trip_efficiency=efficiency,
        # A stand-alone battery has, by definition, no on-site load (as in the config flow).
        has_load=has_load and use_case is not UseCase.STANDALONE,
        gateway_password=password,
        pv=pv if use_case is not UseCase.STANDALONE else None,
    )


PV_KEYS = ("pv_kwp", "latitude", "longitude")


def _parse_pv(reader: _Reader, raw: Mapping[str, Any], path: str) -> PvSystem | None:
    """The three PV keys come together: a clear-sky forecast needs all of them."""
    given = [key for key in PV_KEYS if raw.get(key) is not None]
    if not given:
        return None
    for key in PV_KEYS:
        if key not in given:
            reader.fail(f"{path}.{key}", f"is required with {', '.join(given)}")
    if len(given) < len(PV_KEYS):
        return None
    kwp = reader.number(
        raw, "pv_kwp", f"{path}.pv_kwp", minimum=0.0, maximum=1000.0, exclusive_minimum=True
    )
    latitude = reader.number(raw, "latitude", f"{path}.latitude", minimum=-90.0, maximum=90.0)
    longitude = reader.number(raw, "longitude", f"{path}.longitude", minimum=-180.0, maximum=180.0)
    return PvSystem(kwp, latitude, longitude)


def _parse_sites(reader: _Reader, options: Mapping[str, Any]) -> tuple[SiteSettings, ...]:
    raw_sites = options.get("sites")
    if not isinstance(raw_sites, list) or not raw_sites:
        reader.fail("sites", "at least one site is required")
        return ()
    sites: list[SiteSettings] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_sites):
        site = _parse_site(reader, raw, f"sites[{index}]")
        if site is None:
            continue
        if site.site_id in seen:
            reader.fail(
                f"sites[{index}].site_id",
                f"{site.site_id!r} is already used by sites[{seen[site.site_id]}]",
            )
            continue
        seen[site.site_id] = index
        sites.append(site)
    return tuple(sites)


def _minute_of_day(text: str) -> int | None:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes != 0):
        return None
    return hours * 60 + minutes


def _parse_tou_periods(reader: _Reader, raw: object, path: str) -> tuple[TouPeriod, ...]:
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
            reader.fail(path, f"periods overlap at {_clock(period.start_minute)}")
            return ()
        if period.start_minute > cursor:
            reader.fail(path, f"no price from {_clock(cursor)} to {_clock(period.start_minute)}")
            return ()
        cursor = period.end_minute
    if cursor != MINUTES_PER_DAY:
        reader.fail(path, f"no price from {_clock(cursor)} to 24:00")
        return ()
    return tuple(periods)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _decimal(value: float) -> str:
    # Plain decimal notation (no exponent) that reads back as the same float.
    text = repr(value)
    if "e" in text:
        text = f"{value:.15f}".rstrip("0").rstrip(".")
    return text.removesuffix(".0")


def _parse_tariff(reader: _Reader, options: Mapping[str, Any]) -> TariffSettings | None:
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


def _parse_broker(reader: _Reader, options: Mapping[str, Any]) -> BrokerSettings | None:
    raw = reader.mapping(options, "broker", "broker")
    if not raw:
        return None
    before = len(reader.problems)
    mode = reader.choice(raw, "mode", "broker.mode", BrokerMode, None)
    tls = reader.flag(raw, "tls", "broker.tls", default=False)
    file_hint = "a file name inside /ssl, e.g. fullchain.pem"
    file_pattern = re.compile(r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]*$")
    certfile = reader.text(
        raw,
        "certfile",
        "broker.certfile",
        pattern=file_pattern,
        hint=file_hint,
        default="fullchain.pem",
    )
    keyfile = reader.text(
        raw,
        "keyfile",
        "broker.keyfile",
        pattern=file_pattern,
        hint=file_hint,
        default="privkey.pem",
    )
    for name, value in (("certfile", certfile), ("keyfile", keyfile)):
        if value is not None and ".." in value.split("/"):
            reader.fail(f"broker.{name}", f"{value!r} must stay inside /ssl")
    if len(reader.problems) > before or mode is None:
        return None
    assert certfile is not None
    assert keyfile is not None
    return BrokerSettings(mode=mode, tls=tls, certfile=certfile, keyfile=keyfile)


def parse_options(options: object) -> AddonOptions:
    """Validate the options object; raise :class:`OptionsError` listing every problem."""
    if not isinstance(options, Mapping):
        raise OptionsError([f"options: must be a JSON object, got {_kind(options)}"])
    reader = _Reader()
    sites = _parse_sites(reader, options)
    tariff = _parse_tariff(reader, options)
    broker = _parse_broker(reader, options)
    log_level = reader.choice(options, "log_level", "log_level", LogLevel, LogLevel.INFO)
    test_mode = reader.flag(options, "test_mode", "test_mode", default=False)
    if reader.problems:
        raise OptionsError(reader.problems)
    assert tariff is not None
    assert broker is not None
    assert log_level is not None
    return AddonOptions(
        sites=sites, tariff=tariff, broker=broker, log_level=log_level, test_mode=test_mode
    )


def load_options(path: Path) -> AddonOptions:
    """Read and validate an ``options.json`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise OptionsError([f"{path}: cannot be read ({error.strerror})"]) from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise OptionsError(
            [f"{path}: not valid JSON ({error.msg} at line {error.lineno})"]
        ) from error
    return parse_options(data)


def options_to_dict(options: AddonOptions, *, with_passwords: bool = False) -> dict[str, Any]:
    """The options.json shape of ``options`` (``parse_options`` reads it back unchanged).

    Gateway passwords are left out unless asked for: the optimizer never needs them.
    """
    tariff = options.tariff
    tariff_dict: dict[str, Any] = {
        "kind": tariff.kind.value,
        "spot_format": tariff.spot_format.value,
        "export_price": tariff.export_price,
        "currency": tariff.currency,
    }
    if tariff.spot_source is not None:
        tariff_dict["spot_source"] = tariff.spot_source
    if tariff.entity_id is not None:
        tariff_dict["entity_id"] = tariff.entity_id
    if tariff.tou_periods:
        tariff_dict["tou_periods"] = [
            f"{_clock(p.start_minute)}-{_clock(p.end_minute)} {_decimal(p.price)}"
            for p in tariff.tou_periods
        ]
    sites: list[dict[str, Any]] = []
    for site in options.sites:
        site_dict: dict[str, Any] = {
            "site_id": site.site_id,
            "gateway_id": site.gateway_id,
            "use_case": site.use_case.value,
            "battery_capacity_kwh": site.battery_capacity_kwh,
            "max_charge_kw": site.max_charge_kw,
            "max_discharge_kw": site.max_discharge_kw,
            "min_soe_percent": site.min_soe_percent,
            "max_soe_percent": site.max_soe_percent,
            "round_trip_efficiency": site.round_trip_efficiency,
            "has_load": site.has_load,
        }
        if site.pv is not None:
            site_dict.update(
                pv_kwp=site.pv.kwp, latitude=site.pv.latitude, longitude=site.pv.longitude
            )
        if with_passwords and site.gateway_password is not None:
            site_dict["gateway_password"] = site.gateway_password
        sites.append(site_dict)
    return {
        "sites": sites,
        "tariff": tariff_dict,
        "broker": {
            "mode": options.broker.mode.value,
            "tls": options.broker.tls,
            "certfile": options.broker.certfile,
            "keyfile": options.broker.keyfile,
        },
        "log_level": options.log_level.value,
        "test_mode": options.test_mode,
    }
