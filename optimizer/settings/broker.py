"""The add-on's broker options: which broker the optimizer and the gateways meet on.

(Named ``BrokerOptions``, not ``BrokerSettings``: that is the MQTT link's connection
settings in the core, which the service and the simulation use next to these.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .field_reader import FieldReader


class BrokerMode(StrEnum):
    """Which broker the optimizer and the gateways meet on."""

    OWN = "own"  # the add-on's own Mosquitto, with generated credentials and per-site ACLs
    HA = "ha"  # Home Assistant's Mosquitto add-on, through the Supervisor's MQTT service


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    """Broker mode and, for the own broker, the optional TLS listener."""

    mode: BrokerMode
    tls: bool
    certfile: str
    keyfile: str


def parse_broker(reader: FieldReader, options: Mapping[str, Any]) -> BrokerOptions | None:
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
    return BrokerOptions(mode=mode, tls=tls, certfile=certfile, keyfile=keyfile)
