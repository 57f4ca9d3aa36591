"""One entity's state object from Home Assistant's REST API (``GET /api/states/<entity>``).

The price entity and the PV forecast entity are both read this way, through the
Supervisor's proxy in the add-on. The answer is bounded: an entity is a peer's data.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from optimizer.settings.service_config import HomeAssistantApi

# A Solcast entity with 7 days of detailed forecasts is ~100 kB; far more is not a state.
MAX_RESPONSE_BYTES = 4_000_000


class StateReadError(ValueError):
    """The entity could not be read, or its answer is not a state object; names the field."""


class EntityStateReader:
    """Reads one entity's state object; the token comes from the API's environment variable."""

    def __init__(
        self,
        api: HomeAssistantApi,
        entity_id: str,
        *,
        field: str,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = f"{api.api_url.rstrip('/')}/states/{entity_id}"
        self.entity_id = entity_id
        self._field = f"{field}: {entity_id}"
        self._token = token if token is not None else os.environ.get(api.token_env)
        self._timeout = timeout

    def read(self) -> dict[str, Any]:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except OSError as error:
            raise StateReadError(f"{self._field} cannot be read ({error})") from error
        if len(body) > MAX_RESPONSE_BYTES:
            raise StateReadError(f"{self._field} answered more than {MAX_RESPONSE_BYTES} bytes")
        try:
            document = json.loads(body)
        except ValueError as error:
            raise StateReadError(f"{self._field} answered invalid JSON") from error
        if not isinstance(document, dict):
            raise StateReadError(f"{self._field} answered no state object")
        return document
