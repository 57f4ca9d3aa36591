"""Real Mosquitto brokers for tests (loaded with ``-p tests.plugins.mosquitto_broker``).

Each broker is a real ``mosquitto`` process on a free ``127.0.0.1`` port with its own temp
directory (config, log, persistence, password file, ACL, certificates). The binary is
``$BESS_MOSQUITTO`` when set, else ``mosquitto`` on ``PATH`` (``/usr/sbin/mosquitto`` in the
``scripts/env`` root); password files are made with the ``mosquitto_passwd`` next to it.
Every fixture below is function-scoped, enables sockets (pytest-socket's ``socket_enabled``)
and stops its brokers at teardown, also when the test fails; a failed test shows the
broker's log tail under "Captured stdout teardown".

Fixtures
--------
``mosquitto_broker`` -> :class:`Broker`
    Plain MQTT, anonymous clients allowed.
``mosquitto_broker_auth`` -> :class:`Broker`
    Plain MQTT, password file with one user (``broker.user.username`` /
    ``broker.user.password``, see :data:`AUTH_USERNAME`), anonymous clients refused.
``mosquitto_broker_tls`` -> :class:`Broker`
    Mutual TLS (TLS >= 1.2, ``require_certificate true``): ``broker.tls.ca_cert`` is the CA
    to verify the broker with, ``broker.tls.client`` a trusted client certificate + key whose
    CN is ``broker.tls.client_id`` (:data:`GATEWAY_ID`), and ``broker.tls.certificates``
    (:class:`~tests.plugins.certificates.Certificates`) mints more: ``client(cn)``,
    ``client_from_other_ca(cn)`` (refused), ``expired_client(cn)`` (refused) and
    ``unrelated_ca_cert`` (a client trusting it rejects the broker). Anonymous allowed.
``make_mosquitto_broker`` -> :class:`MakeMosquittoBroker`
    Factory for anything else, e.g. per-site ACLs keyed on the certificate CN::

        broker = make_mosquitto_broker(
            tls=True, use_identity_as_username=True,
            acl="user gw-1\\ntopic readwrite bess/v1/site-1/#\\n",
        )

    Arguments (all keyword): ``tls``, ``users`` (username -> password), ``allow_anonymous``
    (default: True unless ``users`` or ``use_identity_as_username`` are given), ``acl``
    (Mosquitto ``acl_file`` text), ``client_id`` (CN of ``broker.tls.client``),
    ``require_certificate``, ``use_identity_as_username``, ``max_packet_size`` (bytes, as
    the add-on's broker sets it), ``start`` (default True).

Broker API
----------
``host`` ("127.0.0.1"), ``port`` (fixed at the first start, kept by ``restart()``),
``start()`` (waits until the port accepts connections, raises :class:`BrokerStartError` with
the log tail otherwise), ``stop()`` (SIGTERM, SIGKILL fallback; the port then refuses
connections), ``restart()`` (same port, persistence kept: outage tests), ``is_running``,
``log_text()``, ``log_tail()``, ``wait_for_log(text)`` (log lines can trail what the client
sees), ``directory``, ``config_path``, ``log_path``, ``users``, ``user``, ``tls`` (raises on
a plain broker), ``uses_tls``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from simulators.mosquitto_binary import find_mosquitto
from tests.plugins.certificates import CertificateFiles, Certificates

__all__ = [
    "AUTH_PASSWORD",
    "AUTH_USERNAME",
    "GATEWAY_ID",
    "Broker",
    "BrokerStartError",
    "BrokerTls",
    "BrokerUser",
    "MakeMosquittoBroker",
]

HOST = "127.0.0.1"
GATEWAY_ID = "gw-test-1"
AUTH_USERNAME = "bess-gateway"
AUTH_PASSWORD = "correct horse battery staple"

_START_TIMEOUT_S = 5.0
_STOP_TIMEOUT_S = 5.0
_PORT_ATTEMPTS = 5
_PROBE_INTERVAL_S = 0.01
_LOG_TAIL_LINES = 40
_RUNNING_LINE = re.compile(r"mosquitto version \S+ running")
_ADDRESS_IN_USE = "Address already in use"


class BrokerStartError(RuntimeError):
    """Mosquitto did not come up; the message holds the command, the config and the log tail."""


@dataclass(frozen=True)
class BrokerUser:
    """One entry of the broker's password file."""

    username: str
    password: str


@dataclass(frozen=True)
class BrokerTls:
    """TLS material of a broker: what clients need, plus the PKI to mint more."""

    certificates: Certificates
    server: CertificateFiles
    client: CertificateFiles
    require_certificate: bool
    use_identity_as_username: bool

    @property
    def ca_cert(self) -> Path:
        """CA certificate the broker's certificate chains to (and clients' must)."""
        return self.certificates.ca_cert

    @property
    def client_id(self) -> str:
        """Common name of :attr:`client` (the gateway id)."""
        return self.client.common_name


def _find_mosquitto_passwd(mosquitto: Path) -> Path:
    # Prefer the tool shipped with the chosen broker so hash formats match.
    for path in (
        mosquitto.with_name("mosquitto_passwd"),
        mosquitto.parent.parent / "bin" / "mosquitto_passwd",
    ):
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("mosquitto_passwd")
    if found is None:
        raise FileNotFoundError(f"mosquitto_passwd not found next to {mosquitto} nor on PATH")
    return Path(found)


def _free_port(host: str) -> int:
    # Bind port 0 and release it: the kernel's choice is free now, mosquitto binds it next.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _write_private(path: Path, text: str) -> None:
    # Mosquitto 2.1 warns about (and later versions refuse) world-readable auth files.
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")


@dataclass(eq=False, kw_only=True)
class Broker:
    """A real mosquitto process on ``host:port`` configured from ``directory``.

    Build it through the fixtures; ``start()`` picks the port on first use.
    """

    directory: Path
    executable: Path = field(default_factory=find_mosquitto)
    users: Mapping[str, str] = field(default_factory=dict)
    allow_anonymous: bool = True
    acl: str | None = None
    tls_files: BrokerTls | None = None
    max_packet_size: int | None = None  # bytes; Mosquitto drops a client that sends more
    host: str = HOST
    port: int = 0
    start_timeout: float = _START_TIMEOUT_S
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "data").mkdir(exist_ok=True)
        self.users = dict(self.users)
        if self.users:
            self._write_password_file()
        if self.acl is not None:
            _write_private(self.acl_path, self.acl)

    # -- paths ---------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        """Everything mosquitto wrote, across restarts."""
        return self.directory / "mosquitto.log"

    @property
    def password_path(self) -> Path:
        return self.directory / "passwords"

    @property
    def acl_path(self) -> Path:
        return self.directory / "acl"

    # -- views -----------------------------------------------------------------------------------

    @property
    def uses_tls(self) -> bool:
        return self.tls_files is not None

    @property
    def tls(self) -> BrokerTls:
        """TLS material; a plain broker raises (make it with ``tls=True``)."""
        if self.tls_files is None:
            raise AttributeError(f"broker on port {self.port} is plain MQTT (no tls=True)")
        return self.tls_files

    @property
    def user(self) -> BrokerUser:
        """The single user of the password file (for brokers made with exactly one)."""
        if len(self.users) != 1:
            raise AttributeError(f"broker has {len(self.users)} users, expected exactly one")
        ((username, password),) = self.users.items()
        return BrokerUser(username, password)

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        """The whole broker log (all runs)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, text: str, timeout: float = 2.0) -> None:
        """Wait until the log contains ``text``; TimeoutError with the log tail otherwise.

        Mosquitto may log an event after the client already saw its effect (e.g. it sends a
        TLS alert, then logs why), so tests wait for log lines rather than read them once.
        """
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{text!r} not in the log of broker {self.host}:{self.port} after "
                    f"{timeout:.1f} s; log tail:\n{self.log_tail()}"
                )
            time.sleep(_PROBE_INTERVAL_S)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start mosquitto and wait until ``host:port`` accepts connections.

        The first start picks a free port (retrying if another process wins the race for it);
        later starts reuse it. Raises :class:`BrokerStartError` with the log tail on failure.
        """
        if self.is_running:
            raise RuntimeError(f"broker on port {self.port} is already running")
        if self.port:
            self._start_on(self.port)
            return
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = _free_port(self.host)
            try:
                self._start_on(port)
            except BrokerStartError as error:
                if _ADDRESS_IN_USE not in str(error) or attempt == _PORT_ATTEMPTS:
                    raise
                continue
            self.port = port
            return

    def stop(self) -> None:
        """Stop mosquitto (SIGTERM, then SIGKILL); afterwards the port refuses connections."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT_S)

    def restart(self) -> None:
        """Stop (if running) and start again on the same port; persistence survives."""
        self.stop()
        self.start()

    # -- internals ------------------------------------------------------------------------------

    def _write_password_file(self) -> None:
        passwd = _find_mosquitto_passwd(self.executable)
        _write_private(self.password_path, "")
        for username, password in self.users.items():
            subprocess.run(
                [str(passwd), "-b", str(self.password_path), username, password],
                check=True,
                capture_output=True,
                timeout=10,
            )

    def _config_text(self, port: int) -> str:
        lines = [
            # Mosquitto 2.x drops privileges to "mosquitto" when started as root; that user
            # could not read this 0700 temp dir, so stay root (tests run as root here).
            "user root",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            "persistence true",
            f"persistence_location {self.directory / 'data'}/",
            "log_dest stderr",
            "log_type all",
            "log_timestamp_format %H:%M:%S",
            "connection_messages true",
            f"listener {port} {self.host}",
        ]
        if self.max_packet_size is not None:
            lines.append(f"max_packet_size {self.max_packet_size}")
        if self.users:
            lines.append(f"password_file {self.password_path}")
        if self.acl is not None:
            lines.append(f"acl_file {self.acl_path}")
        if self.tls_files is not None:
            tls = self.tls_files
            lines += [
                f"cafile {tls.ca_cert}",
                f"certfile {tls.server.cert}",
                f"keyfile {tls.server.key}",
                "tls_version tlsv1.2",
                f"require_certificate {'true' if tls.require_certificate else 'false'}",
            ]
            if tls.use_identity_as_username:
                lines.append("use_identity_as_username true")
        return "\n".join(lines) + "\n"

    def _start_on(self, port: int) -> None:
        self.config_path.write_text(self._config_text(port), encoding="utf-8")
        command = [str(self.executable), "-c", str(self.config_path)]
        with self.log_path.open("ab") as log:
            log_offset = log.tell()
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._process.poll() is not None:
                reason = f"exited with code {self._process.returncode}"
                break
            # Listening alone could be another process that won the port race: also wait
            # for mosquitto's own "running" line, logged once all listeners are bound.
            if _RUNNING_LINE.search(self._log_since(log_offset)) and _port_accepts(self.host, port):
                return
            if time.monotonic() > deadline:
                reason = f"did not accept connections within {self.start_timeout:.1f} s"
                break
            time.sleep(_PROBE_INTERVAL_S)
        self.stop()
        raise BrokerStartError(
            f"mosquitto on {self.host}:{port} {reason}\n"
            f"command: {' '.join(command)}\n"
            f"--- {self.config_path} ---\n{self.config_path.read_text(encoding='utf-8')}"
            f"--- log tail ({self.log_path}) ---\n{self._log_since(log_offset)[-4000:]}"
        )

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")


class MakeMosquittoBroker(Protocol):
    """Signature of the ``make_mosquitto_broker`` factory fixture."""

    def __call__(
        self,
        *,
        tls: bool = False,
        users: Mapping[str, str] | None = None,
        allow_anonymous: bool | None = None,
        acl: str | None = None,
        client_id: str = GATEWAY_ID,
        require_certificate: bool = True,
        use_identity_as_username: bool = False,
        max_packet_size: int | None = None,
        start: bool = True,
    ) -> Broker: ...


@pytest.fixture
def make_mosquitto_broker(
    socket_enabled: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeMosquittoBroker]:
    """Factory of brokers (see the module docstring); all are stopped at teardown."""
    executable = find_mosquitto()
    brokers: list[Broker] = []

    def make(
        *,
        tls: bool = False,
        users: Mapping[str, str] | None = None,
        allow_anonymous: bool | None = None,
        acl: str | None = None,
        client_id: str = GATEWAY_ID,
        require_certificate: bool = True,
        use_identity_as_username: bool = False,
        max_packet_size: int | None = None,
        start: bool = True,
    ) -> Broker:
        if use_identity_as_username and not (tls and require_certificate):
            raise ValueError("use_identity_as_username needs tls=True and require_certificate")
        directory = tmp_path_factory.mktemp("mosquitto")
        tls_files: BrokerTls | None = None
        if tls:
            certificates = Certificates(directory / "certs")
            tls_files = BrokerTls(
                certificates=certificates,
                server=certificates.server(),
                client=certificates.client(client_id),
                require_certificate=require_certificate,
                use_identity_as_username=use_identity_as_username,
            )
        if allow_anonymous is None:
            allow_anonymous = not users and not use_identity_as_username
        broker = Broker(
            directory=directory,
            executable=executable,
            users=users or {},
            allow_anonymous=allow_anonymous,
            acl=acl,
            tls_files=tls_files,
            max_packet_size=max_packet_size,
        )
        brokers.append(broker)
        if start:
            broker.start()
        return broker

    yield make

    for broker in brokers:
        broker.stop()
        # Shown by pytest only when the test failed: the broker's side of the story.
        print(f"--- mosquitto {broker.host}:{broker.port} log tail ({broker.log_path}) ---")
        print(broker.log_tail())


@pytest.fixture
def mosquitto_broker(make_mosquitto_broker: MakeMosquittoBroker) -> Broker:
    """A running plain-MQTT broker that allows anonymous clients."""
    return make_mosquitto_broker()


@pytest.fixture
def mosquitto_broker_auth(make_mosquitto_broker: MakeMosquittoBroker) -> Broker:
    """A running plain-MQTT broker with one user (``broker.user``); anonymous refused."""
    return make_mosquitto_broker(users={AUTH_USERNAME: AUTH_PASSWORD})


@pytest.fixture
def mosquitto_broker_tls(make_mosquitto_broker: MakeMosquittoBroker) -> Broker:
    """A running mutual-TLS broker; ``broker.tls`` holds the CA, client cert and PKI."""
    return make_mosquitto_broker(tls=True)
