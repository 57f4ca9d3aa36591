"""The add-on's options (``/data/options.json``) parsed into typed, validated settings.

The Supervisor already checks types against the ``schema`` in ``addon/config.yaml``; this
module checks again (the generator also runs outside the Supervisor) and adds what the
schema language cannot say: unique ids, min < max, a time-of-use table that covers the day.
Every problem is reported with the option's path, e.g. ``sites[1].max_soe_percent``, and all
problems are reported at once so the owner fixes them in one go.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from .broker import BrokerOptions, parse_broker
from .field_reader import FieldReader, json_kind
from .site import SiteSettings, parse_sites
from .tariff import TariffSettings, clock_text, decimal_text, parse_tariff


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
class AddonOptions:
    """Everything ``/data/options.json`` says, validated."""

    sites: tuple[SiteSettings, ...]
    tariff: TariffSettings
    broker: BrokerOptions
    log_level: LogLevel
    test_mode: bool


class OptionsError(ValueError):
    """Invalid add-on options; ``problems`` holds one "path: what is wrong" line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "invalid add-on options:\n" + "\n".join(f"  - {line}" for line in self.problems)
        )


def parse_options(options: object) -> AddonOptions:
    """Validate the options object; raise :class:`OptionsError` listing every problem."""
    if not isinstance(options, Mapping):
        raise OptionsError([f"options: must be a JSON object, got {json_kind(options)}"])
    reader = FieldReader()
    sites = parse_sites(reader, options)
    tariff = parse_tariff(reader, options)
    broker = parse_broker(reader, options)
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
            f"{clock_text(p.start_minute)}-{clock_text(p.end_minute)} {decimal_text(p.price)}"
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
        if site.pleevi_battery is not None:
            # The Pleevi description is the battery: its fields are not stated twice.
            for key in ("battery_capacity_kwh", "max_charge_kw", "max_discharge_kw"):
                del site_dict[key]
            del site_dict["round_trip_efficiency"]
            site_dict["pleevi_site"] = {"device_list": [site.pleevi_battery.to_dict()]}
        if site.pleevi_topic is not None:
            site_dict["pleevi_topic"] = site.pleevi_topic.template
        if site.pv is not None:
            site_dict.update(
                pv_kwp=site.pv.kwp, latitude=site.pv.latitude, longitude=site.pv.longitude
            )
        if site.pv_forecast_entity is not None:
            site_dict["pv_forecast_entity"] = site.pv_forecast_entity
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
