"""The MQTT link against real Mosquitto brokers: plain, password and mutual TLS, each failure
classified, reconnect with restored subscriptions, and no thread left behind."""

from __future__ import annotations

import queue
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bess_dispatch_core.link.backoff import ExponentialBackoff
from bess_dispatch_core.link.link_failure import LinkError, LinkFailure
from bess_dispatch_core.link.mqtt_link import (
    BrokerSettings,
    LinkStatus,
    MqttLink,
    MqttProtocol,
    probe_broker,
)
from bess_dispatch_core.link.tls_context import TlsConfigError, TlsSettings, build_tls_context
from tests.plugins.mosquitto_broker import Broker

TIMEOUT_S = 5.0


def _fast_backoff() -> ExponentialBackoff:
    return ExponentialBackoff(initial=0.05, maximum=0.2)


def _tls_settings(
    broker: Broker,
    *,
    ca_file: Path | None = None,
    client: tuple[Path, Path] | None = None,
    with_client_cert: bool = True,
) -> BrokerSettings:
    tls = broker.tls
    cert_key = client or (tls.client.cert, tls.client.key)
    context = build_tls_context(
        TlsSettings(
            ca_file=ca_file or tls.ca_cert,
            client_cert=cert_key[0] if with_client_cert else None,
            client_key=cert_key[1] if with_client_cert else None,
        )
    )
    return BrokerSettings(host=broker.host, port=broker.port, tls=context, connect_timeout=3.0)


def _probe_failure(settings: BrokerSettings) -> LinkFailure:
    with pytest.raises(LinkError) as caught:
        probe_broker(settings)
    return caught.value.failure


@pytest.fixture
def links() -> Iterator[list[MqttLink]]:
    """Links a test starts; all stopped at teardown, so no thread survives a failure."""
    started: list[MqttLink] = []
    yield started
    for link in started:
        link.stop()


def _start(links: list[MqttLink], settings: BrokerSettings) -> MqttLink:
    link = MqttLink(settings, backoff=_fast_backoff())
    links.append(link)
    link.start()
    return link


# --- plain ---------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [MqttProtocol.V311, MqttProtocol.V5])
def test_plain_publish_is_acknowledged_and_received(
    mosquitto_broker: Broker, links: list[MqttLink], protocol: MqttProtocol
) -> None:
    settings = BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    settings = BrokerSettings(host=settings.host, port=settings.port, protocol=protocol)
    link = _start(links, settings)
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    link.subscribe("dt/site/gw/#", lambda topic, payload: received.put((topic, payload)))
    assert link.wait_connected(TIMEOUT_S)

    handle = link.publish("dt/site/gw/battery_soe/power", b'{"v": 1}', qos=1)

    assert handle.wait(TIMEOUT_S), handle.reason
    assert received.get(timeout=TIMEOUT_S) == ("dt/site/gw/battery_soe/power", b'{"v": 1}')


def test_probe_accepts_a_good_broker(mosquitto_broker: Broker) -> None:
    probe_broker(BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port))


def test_unreachable_broker(mosquitto_broker: Broker) -> None:
    mosquitto_broker.stop()
    settings = BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    assert _probe_failure(settings) is LinkFailure.UNREACHABLE


def test_publish_while_disconnected_fails_at_once(
    mosquitto_broker: Broker, links: list[MqttLink]
) -> None:
    mosquitto_broker.stop()
    link = _start(links, BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port))
    handle = link.publish("t", b"x")
    assert handle.done()
    assert not handle.acknowledged
    assert handle.reason == "not connected"


def test_reconnects_after_restart_and_restores_subscriptions(
    mosquitto_broker: Broker, links: list[MqttLink]
) -> None:
    statuses: queue.Queue[LinkStatus] = queue.Queue()
    link = MqttLink(
        BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port),
        backoff=_fast_backoff(),
    )
    links.append(link)
    link.add_state_listener(statuses.put)
    received: queue.Queue[bytes] = queue.Queue()
    link.subscribe("res/site/gw/telemetry", lambda _t, payload: received.put(payload))
    link.start()
    assert statuses.get(timeout=TIMEOUT_S).connected

    mosquitto_broker.stop()
    lost = statuses.get(timeout=TIMEOUT_S)
    assert not lost.connected
    assert lost.failure is not None
    assert lost.failure.failure is LinkFailure.CONNECTION_LOST
    mosquitto_broker.start()
    while not (status := statuses.get(timeout=TIMEOUT_S)).connected:
        assert status.failure is not None
        assert status.failure.failure is LinkFailure.UNREACHABLE

    # The subscription made before the outage works again without being renewed.
    assert link.publish("res/site/gw/telemetry", b"after").wait(TIMEOUT_S)
    assert received.get(timeout=TIMEOUT_S) == b"after"


class RecordingBackoff(ExponentialBackoff):
    """Worst-case jitter; records every delay the link asked for."""

    def __init__(self) -> None:
        super().__init__(initial=0.05, maximum=120.0, random_source=lambda: 1.0)
        self.delays: list[tuple[float | None, float]] = []

    def next_delay(self, down_for: float | None = None) -> float:
        delay = super().next_delay(down_for)
        self.delays.append((down_for, delay))
        return delay


def test_reconnects_soon_after_a_short_outage(
    mosquitto_broker: Broker, links: list[MqttLink]
) -> None:
    """The probe: 117 s to reconnect after a 20 s outage (the backoff had grown to 120 s).

    Scaled down to a 3.3 s outage: the doubling delays alone reach 3.2 s by then; capped,
    no wait is longer than a quarter of the time the link has been down.
    """
    backoff = RecordingBackoff()
    link = MqttLink(
        BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port), backoff=backoff
    )
    links.append(link)
    link.start()
    assert link.wait_connected(TIMEOUT_S)
    mosquitto_broker.stop()
    time.sleep(3.3)
    mosquitto_broker.start()
    back = time.monotonic()
    assert link.wait_connected(TIMEOUT_S)
    assert len(backoff.delays) >= 5
    for down_for, delay in backoff.delays:
        assert down_for is not None
        assert delay <= max(0.05, down_for / 4)
    # Loose wall-clock check (shared CI cores): well under the 3 s the old delays took.
    assert time.monotonic() - back < 2.5


def test_stop_leaves_no_thread(mosquitto_broker: Broker) -> None:
    before = set(threading.enumerate())
    link = MqttLink(BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port))
    link.start()
    assert link.wait_connected(TIMEOUT_S)
    link.stop()
    assert set(threading.enumerate()) <= before
    assert not link.connected


# --- username / password -------------------------------------------------------------------


def test_password_broker_accepts_the_right_credentials(mosquitto_broker_auth: Broker) -> None:
    user = mosquitto_broker_auth.user
    probe_broker(
        BrokerSettings(
            host=mosquitto_broker_auth.host,
            port=mosquitto_broker_auth.port,
            username=user.username,
            password=user.password,
        )
    )


@pytest.mark.parametrize("protocol", [MqttProtocol.V311, MqttProtocol.V5])
@pytest.mark.parametrize(("username", "password"), [("bess-gateway", "wrong"), (None, None)])
def test_wrong_or_missing_credentials_are_refused(
    mosquitto_broker_auth: Broker,
    username: str | None,
    password: str | None,
    protocol: MqttProtocol,
) -> None:
    settings = BrokerSettings(
        host=mosquitto_broker_auth.host,
        port=mosquitto_broker_auth.port,
        username=username,
        password=password,
        protocol=protocol,
    )
    assert _probe_failure(settings) is LinkFailure.CREDENTIALS_REFUSED


def test_running_link_reports_refused_credentials(
    mosquitto_broker_auth: Broker, links: list[MqttLink]
) -> None:
    statuses: queue.Queue[LinkStatus] = queue.Queue()
    link = MqttLink(
        BrokerSettings(
            host=mosquitto_broker_auth.host,
            port=mosquitto_broker_auth.port,
            username="bess-gateway",
            password="wrong",
        ),
        backoff=_fast_backoff(),
    )
    links.append(link)
    link.add_state_listener(statuses.put)
    link.start()
    status = statuses.get(timeout=TIMEOUT_S)
    assert not status.connected
    assert status.failure is not None
    assert status.failure.failure is LinkFailure.CREDENTIALS_REFUSED


# --- mutual TLS ----------------------------------------------------------------------------


def test_mutual_tls_connects_and_publishes(
    mosquitto_broker_tls: Broker, links: list[MqttLink]
) -> None:
    link = _start(links, _tls_settings(mosquitto_broker_tls))
    assert link.wait_connected(TIMEOUT_S), link.status
    assert link.publish("dt/site/gw/alert", b"{}").wait(TIMEOUT_S)


def test_client_certificate_from_another_ca_is_rejected(mosquitto_broker_tls: Broker) -> None:
    other = mosquitto_broker_tls.tls.certificates.client_from_other_ca("intruder")
    settings = _tls_settings(mosquitto_broker_tls, client=(other.cert, other.key))
    assert _probe_failure(settings) is LinkFailure.CERTIFICATE_REJECTED


def test_expired_client_certificate_is_rejected(mosquitto_broker_tls: Broker) -> None:
    expired = mosquitto_broker_tls.tls.certificates.expired_client("old-gateway")
    settings = _tls_settings(mosquitto_broker_tls, client=(expired.cert, expired.key))
    assert _probe_failure(settings) is LinkFailure.CERTIFICATE_REJECTED


def test_missing_client_certificate_is_rejected(mosquitto_broker_tls: Broker) -> None:
    settings = _tls_settings(mosquitto_broker_tls, with_client_cert=False)
    assert _probe_failure(settings) is LinkFailure.CERTIFICATE_REJECTED


def test_wrong_ca_does_not_trust_the_broker(mosquitto_broker_tls: Broker) -> None:
    unrelated = mosquitto_broker_tls.tls.certificates.unrelated_ca_cert
    settings = _tls_settings(mosquitto_broker_tls, ca_file=unrelated)
    assert _probe_failure(settings) is LinkFailure.SERVER_NOT_TRUSTED


def test_tls_client_on_a_plain_port(mosquitto_broker: Broker, tmp_path: Path) -> None:
    context = ssl.create_default_context()
    settings = BrokerSettings(
        host=mosquitto_broker.host, port=mosquitto_broker.port, tls=context, connect_timeout=2.0
    )
    assert _probe_failure(settings) is LinkFailure.TLS_ERROR


def test_plain_client_on_a_tls_port(mosquitto_broker_tls: Broker) -> None:
    settings = BrokerSettings(
        host=mosquitto_broker_tls.host, port=mosquitto_broker_tls.port, connect_timeout=2.0
    )
    assert _probe_failure(settings) in {LinkFailure.CONNECTION_LOST, LinkFailure.TIMEOUT}


# --- settings ------------------------------------------------------------------------------


def test_tls_files_errors_name_the_field(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(TlsConfigError, match="ca_file") as caught:
        build_tls_context(TlsSettings(ca_file=missing))
    assert caught.value.field == "ca_file"
    with pytest.raises(TlsConfigError, match="ca_file"):
        build_tls_context(TlsSettings(ca_file=garbage))
    with pytest.raises(TlsConfigError, match="client_key"):
        build_tls_context(TlsSettings(client_cert=garbage))
    with pytest.raises(TlsConfigError, match="client_cert"):
        build_tls_context(TlsSettings(client_cert=missing, client_key=garbage))


def test_key_password_is_not_in_repr() -> None:
    assert "s3cret" not in repr(TlsSettings(key_password="s3cret"))
    assert "s3cret" not in repr(BrokerSettings(host="h", username="u", password="s3cret"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"host": ""}, "host"),
        ({"host": "h", "port": 0}, "port"),
        ({"host": "h", "password": "p"}, "password"),
        ({"host": "h", "keepalive": 1}, "keepalive"),
    ],
)
def test_bad_broker_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        BrokerSettings(**kwargs)  # type: ignore[arg-type]
