"""Reading an entity's state object: answers no real HA gives, but a proxy in between can."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from optimizer.service.ha_state import MAX_RESPONSE_BYTES, EntityStateReader, StateReadError
from optimizer.service.prices import EntityPrices, PriceError
from optimizer.settings.service_config import HomeAssistantApi

ENTITY = "sensor.some_entity"
OVERSIZED = b'{"state": "1", "attributes": {"x": "' + b"y" * MAX_RESPONSE_BYTES + b'"}}'


@contextmanager
def _serve(body: bytes) -> Iterator[HomeAssistantApi]:
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, name="ha-state-answer")
    thread.start()
    try:
        yield HomeAssistantApi(f"http://127.0.0.1:{server.server_address[1]}/api", "NO_TOKEN")
    finally:
        server.shutdown()
        thread.join(5)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>proxy error</html>", "answered invalid JSON"),
        (b"[1, 2]", "answered no state object"),
        (OVERSIZED, f"answered more than {MAX_RESPONSE_BYTES} bytes"),
    ],
)
def test_an_answer_that_is_no_state_object_is_named(
    socket_enabled: None, body: bytes, reason: str
) -> None:
    refused = pytest.raises(StateReadError, match=f"^pv_forecast_entity: {ENTITY} {reason}")
    with _serve(body) as api, refused:
        EntityStateReader(api, ENTITY, field="pv_forecast_entity", token="t").read()


def test_the_price_entity_is_bounded_too(socket_enabled: None) -> None:
    # Before the shared reader, the price entity's answer was read whole, however large.
    refused = pytest.raises(PriceError, match=f"^tariff.entity_id: {ENTITY} answered more than")
    with _serve(OVERSIZED) as api, refused:
        EntityPrices(api, ENTITY, token="t").fetch()
