"""One site as the optimizer knows it: its gateway, its battery and the owner's hard limits.

Read from the add-on's options (``sites[...]``); the service plans with it and the
simulation runs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The one UseCase (the integration's config flow uses the same values); re-exported here so
# a reader of the settings finds every type a site has in one module.
from bess_dispatch_core.pleevi import (
    BatteryDeviceEntry,
    PleeviTopicTemplate,
    PleeviValueError,
    SocPolicy,
)
from bess_dispatch_core.protocol.metrics import UseCase

from ..pleevi.site_description import parse_site_description
from .field_reader import FieldReader, json_kind
from .tariff import ENTITY_ID_PATTERN

__all__ = [
    "GRID_CONNECTION_KW",
    "ID_PATTERN",
    "PvSystem",
    "SiteSettings",
    "UseCase",
    "parse_sites",
]

# Ids become MQTT topic levels, Mosquitto usernames ("site.gateway") and ACL lines, so they
# are narrower than the protocol's rule (no "/", "+", "#"): no dots, spaces or "%" either.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# A home's grid connection is not the binding limit of its battery: without a rated figure,
# plans and the telemetry guard take this size for the connection (and for PV).
GRID_CONNECTION_KW = 100.0


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
    # A site described the Pleevi way (``pleevi_site``): its BESS device, whose capacity and
    # powers are the fields above; None: the add-on's own battery fields describe it.
    pleevi_battery: BatteryDeviceEntry | None = None
    # Pleevi measurements from the gateway on this topic template: the service's telemetry
    # input besides the protocol's dt/ topics. None: the protocol only.
    pleevi_topic: PleeviTopicTemplate | None = None
    # An HA solar forecast sensor (Solcast, Open-Meteo Solar Forecast) whose forecast the
    # plan uses where it covers; None: the service's own PV forecast only.
    pv_forecast_entity: str | None = None

    @property
    def charge_efficiency(self) -> float | None:
        """One way; None: the square root of the round trip."""
        return None if self.pleevi_battery is None else self.pleevi_battery.charging_efficiency

    @property
    def discharge_efficiency(self) -> float | None:
        return None if self.pleevi_battery is None else self.pleevi_battery.discharging_efficiency

    @property
    def policies(self) -> tuple[SocPolicy, ...]:
        """Scheduled SoC policies: soft SoE targets of every plan."""
        return () if self.pleevi_battery is None else self.pleevi_battery.policies

    @property
    def gateway_username(self) -> str:
        """The gateway's broker username; ids never contain ".", so it is unambiguous."""
        return f"{self.site_id}.{self.gateway_id}"


def _parse_site(reader: FieldReader, raw: object, path: str) -> SiteSettings | None:
    if not isinstance(raw, Mapping):
        reader.fail(path, f"must be an object, got {json_kind(raw)}")
        return None
    before = len(reader.problems)
    id_hint = "1-64 letters, digits, '_' or '-', starting with a letter or digit"
    site_id = reader.text(raw, "site_id", f"{path}.site_id", pattern=ID_PATTERN, hint=id_hint)
    gateway_id = reader.text(
        raw, "gateway_id", f"{path}.gateway_id", pattern=ID_PATTERN, hint=id_hint
    )
    use_case = reader.choice(raw, "use_case", f"{path}.use_case", UseCase, None)
    pleevi = _pleevi_site(reader, raw, path)
    if pleevi is not None:
        # The battery comes from the Pleevi description: the add-on's own fields would be
        # a second, possibly different, statement of it.
        for key in _PLEEVI_BATTERY_KEYS:
            if key in raw:
                reader.fail(
                    f"{path}.{key}", "must be left out when pleevi_site describes the battery"
                )
        raw = {**raw, **pleevi}
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
    pv_entity = reader.optional_text(raw, "pv_forecast_entity", f"{path}.pv_forecast_entity")
    if pv_entity is not None and not ENTITY_ID_PATTERN.fullmatch(pv_entity):
        reader.fail(
            f"{path}.pv_forecast_entity",
            f"{pv_entity[:80]!r} is not an entity id like sensor.solcast_pv_forecast_today",
        )
    pleevi_topic = _pleevi_topic(reader, raw, path)
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
        pleevi_battery=None if pleevi is None else pleevi["entry"],
        pleevi_topic=pleevi_topic,
        pv_forecast_entity=pv_entity if use_case is not UseCase.STANDALONE else None,
    )


_PLEEVI_BATTERY_KEYS = (
    "battery_capacity_kwh",
    "max_charge_kw",
    "max_discharge_kw",
    "round_trip_efficiency",
)
# A site description is a few devices; a larger text is not one (bounds what is parsed).
MAX_PLEEVI_SITE_CHARS = 1_000_000


def _pleevi_topic(
    reader: FieldReader, raw: Mapping[str, Any], path: str
) -> PleeviTopicTemplate | None:
    value = reader.optional_text(raw, "pleevi_topic", f"{path}.pleevi_topic")
    if value is None:
        return None
    try:
        template = PleeviTopicTemplate(value)
        template.subscription("x")  # the service subscribes to it
    except PleeviValueError as error:
        reader.fail(f"{path}.pleevi_topic", str(error).split(": ", 1)[1])
        return None
    return template


def _pleevi_site(reader: FieldReader, raw: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """``pleevi_site``: a Pleevi site configuration (an object, or its JSON text from the
    add-on's options) -> the battery fields it gives, or None (absent or refused)."""
    value = raw.get("pleevi_site")
    if value is None or value == "":
        return None
    field = f"{path}.pleevi_site"
    if isinstance(value, str):
        if len(value) > MAX_PLEEVI_SITE_CHARS:
            reader.fail(field, f"must be at most {MAX_PLEEVI_SITE_CHARS} characters")
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            reader.fail(field, f"is not JSON ({error})")
            return None
    try:
        described = parse_site_description(value)
    except PleeviValueError as error:
        reader.fail(f"{field}.{error.field}", str(error).split(": ", 1)[1])
        return None
    entry = described.entry
    return {
        "battery_capacity_kwh": described.capacity_kwh,
        "max_charge_kw": described.charge_max_kw,
        "max_discharge_kw": described.discharge_max_kw,
        "round_trip_efficiency": entry.charging_efficiency * entry.discharging_efficiency,
        "entry": entry,
    }


PV_KEYS = ("pv_kwp", "latitude", "longitude")


def _parse_pv(reader: FieldReader, raw: Mapping[str, Any], path: str) -> PvSystem | None:
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


def parse_sites(reader: FieldReader, options: Mapping[str, Any]) -> tuple[SiteSettings, ...]:
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
