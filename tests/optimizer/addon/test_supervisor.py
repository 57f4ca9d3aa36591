"""The add-on's two Supervisor API calls, against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from optimizer.addon.supervisor import (
    MAX_RESPONSE_BYTES,
    SupervisorError,
    fetch_supervisor_info,
)

TOKEN = "supervisor-token"
INFO = {"result": "ok", "data": {"ingress_port": 8099, "hostname": "a0d7b954-bess-dispatch"}}
MQTT = {
    "result": "ok",
    "data": {"host": "core-mosquitto", "port": 1883, "ssl": False, "username": "addons",
             "password": "secret", "protocol": "3.1.1"},
}  # fmt: skip


class Answers:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes]] = {}

    def set(self, path: str, status: int, body: Any) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[path] = (status, data)


@pytest.fixture
def supervisor(socket_enabled: None) -> Iterator[tuple[str, Answers]]:
    answers = Answers()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, body = 401, b'{"result": "error"}'
            else:
                status, body = answers.routes.get(self.path, (404, b'{"result": "error"}'))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_own_broker_setup_has_no_mqtt_service(supervisor: tuple[str, Answers]) -> None:
    url, answers = supervisor
    answers.set("/addons/self/info", 200, INFO)
    answers.set("/services/mqtt", 400, {"result": "error", "message": "No service"})

    info = fetch_supervisor_info(url, TOKEN)

    assert (info.ingress_port, info.hostname, info.mqtt) == (8099, "a0d7b954-bess-dispatch", None)


def test_the_mosquitto_add_ons_service_is_read(supervisor: tuple[str, Answers]) -> None:
    url, answers = supervisor
    answers.set("/addons/self/info", 200, INFO)
    answers.set("/services/mqtt", 200, MQTT)

    mqtt = fetch_supervisor_info(url, TOKEN).mqtt

    assert mqtt is not None
    assert (mqtt.host, mqtt.port, mqtt.username, mqtt.password, mqtt.ssl) == (
        "core-mosquitto", 1883, "addons", "secret", False
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "named"),
    [
        (401, {"result": "error"}, "HTTP 401"),
        (200, {"result": "error"}, "not an ok answer"),
        (200, {"result": "ok", "data": {"hostname": "x"}}, "data.ingress_port"),
        (200, {"result": "ok", "data": {"hostname": "x", "ingress_port": True}}, "ingress_port"),
        (200, {"result": "ok", "data": {"hostname": "x", "ingress_port": 70000}}, "no port"),
        (200, {"result": "ok", "data": {"ingress_port": 8099}}, "data.hostname"),
        (200, b"<html>", "not JSON"),
        (200, b" " * (MAX_RESPONSE_BYTES + 1), "larger than"),
    ],
)
def test_a_bad_answer_names_what_is_wrong(
    supervisor: tuple[str, Answers], status: int, body: Any, named: str
) -> None:
    url, answers = supervisor
    answers.set("/addons/self/info", status, body)

    with pytest.raises(SupervisorError, match=named):
        fetch_supervisor_info(url, TOKEN)


def test_a_wrong_token_is_refused(supervisor: tuple[str, Answers]) -> None:
    url, answers = supervisor
    answers.set("/addons/self/info", 200, INFO)

    with pytest.raises(SupervisorError, match="HTTP 401"):
        fetch_supervisor_info(url, "not-the-token")


def test_an_unreachable_supervisor_is_named(socket_enabled: None) -> None:
    with pytest.raises(SupervisorError, match=r"127\.0\.0\.1:1/addons/self/info unreachable"):
        fetch_supervisor_info("http://127.0.0.1:1", TOKEN)
