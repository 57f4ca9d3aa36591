"""One Pleevi measurement: an asset's lifetime energy, power and (battery) state of charge.

Pleevi's fields: ``assetId`` (the device name of the site configuration), ``timestamp``
(ISO 8601 UTC with milliseconds), ``energyValue`` (Wh, lifetime), ``powerValue`` (W; for
the battery positive while charging, negative while discharging) and, for the battery only,
``currentStateOfCharge`` (% of operational capacity). ``measurement.schema.json`` encodes
the same rules for any peer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import PleeviValueError, echo, number, percent, text

# A measurement is a handful of numbers: anything larger is not one (bounds a peer's input).
MAX_MEASUREMENT_BYTES = 4_096
MAX_ASSET_ID_CHARS = 200
_DIGITS = 3  # 1 mWh / 1 mW


def format_timestamp(at: datetime) -> str:
    """``2026-11-21T04:00:00.000Z``: UTC, milliseconds, as Pleevi expects."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise PleeviValueError("timestamp", "must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_timestamp(field: str, value: object) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z") or len(value) > 40:
        raise PleeviValueError(
            field, f"must be an ISO 8601 UTC time ending in Z, got {echo(value)}"
        )
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise PleeviValueError(field, f"must be an ISO 8601 UTC time, got {echo(value)}") from None


@dataclass(frozen=True, slots=True)
class PleeviMeasurement:
    asset_id: str
    timestamp: datetime
    energy_wh: float  # lifetime, >= 0
    power_w: float  # battery: + charging, - discharging
    state_of_charge: float | None = None  # %, battery only

    def __post_init__(self) -> None:
        text("assetId", self.asset_id, max_length=MAX_ASSET_ID_CHARS)
        format_timestamp(self.timestamp)
        if number("energyValue", self.energy_wh) < 0:
            raise PleeviValueError("energyValue", f"must be >= 0, got {echo(self.energy_wh)}")
        number("powerValue", self.power_w)
        if self.state_of_charge is not None:
            percent("currentStateOfCharge", self.state_of_charge)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "assetId": self.asset_id,
            "timestamp": format_timestamp(self.timestamp),
            "energyValue": round(self.energy_wh, _DIGITS),
            "powerValue": round(self.power_w, _DIGITS),
        }
        if self.state_of_charge is not None:
            data["currentStateOfCharge"] = round(self.state_of_charge, _DIGITS)
        return data

    def to_payload(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_payload(cls, payload: bytes) -> PleeviMeasurement:
        """Parse and validate a received measurement; PleeviValueError names the field."""
        if len(payload) > MAX_MEASUREMENT_BYTES:
            raise PleeviValueError("payload", f"larger than {MAX_MEASUREMENT_BYTES} bytes")
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PleeviValueError("payload", f"not JSON ({error})") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> PleeviMeasurement:
        if not isinstance(data, Mapping):
            raise PleeviValueError("payload", f"must be an object, got {echo(data)}")
        allowed = {"assetId", "timestamp", "energyValue", "powerValue", "currentStateOfCharge"}
        for key in data:
            if key not in allowed:
                raise PleeviValueError(str(key)[:60], "unknown field")
        for key in ("assetId", "timestamp", "energyValue", "powerValue"):
            if key not in data:
                raise PleeviValueError(key, "is required")
        return cls(
            asset_id=data["assetId"],
            timestamp=parse_timestamp("timestamp", data["timestamp"]),
            energy_wh=data["energyValue"],
            power_w=data["powerValue"],
            state_of_charge=data.get("currentStateOfCharge"),
        )
