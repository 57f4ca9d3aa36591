"""The plan page runs on its own thread and event loop and answers over real HTTP."""

import json
import urllib.request

from optimizer.settings.service_config import WebSettings
from optimizer.web.web_thread import WebThread
from tests.helpers.status_samples import InMemoryStatusSource, sample_plan, sample_status


def test_web_thread_serves_the_api_and_stops(socket_enabled: None) -> None:
    source = InMemoryStatusSource({"home": sample_status("home")}, {"home": sample_plan()})
    web = WebThread(source, WebSettings(host="127.0.0.1", port=0, trusted_clients=()))
    web.start()
    try:
        assert web.port is not None
        with urllib.request.urlopen(
            f"http://127.0.0.1:{web.port}/api/v1/sites", timeout=5
        ) as reply:
            body = json.loads(reply.read())
        assert "home" in json.dumps(body)
    finally:
        web.stop()
