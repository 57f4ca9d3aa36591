"""JSON encoding shared by every message's ``to_payload``."""

from __future__ import annotations

import json
from typing import Any


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; NaN/Infinity are refused because the protocol forbids them."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
