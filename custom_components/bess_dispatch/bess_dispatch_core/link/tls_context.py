"""TLS settings for the broker connection, turned into an ``ssl.SSLContext``.

Building the context reads the CA, certificate and key files (blocking I/O), so it is a
separate function the integration runs in an executor, off Home Assistant's event loop.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


class TlsConfigError(ValueError):
    """A TLS file or option is unusable; ``field`` names the setting at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Where the TLS material is; a client certificate and key together enable mutual TLS.

    ``ca_file`` None trusts the system CAs. ``check_hostname`` False still verifies the chain
    but accepts a certificate issued for another name (some local brokers).
    """

    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    key_password: str | None = None
    check_hostname: bool = True

    def __repr__(self) -> str:
        # The key password must never reach logs or diagnostics.
        return (
            f"TlsSettings(ca_file={self.ca_file!r}, client_cert={self.client_cert!r}, "
            f"client_key={self.client_key!r}, key_password={'***' if self.key_password else None}, "
            f"check_hostname={self.check_hostname!r})"
        )


def _check_file(path: Path, field: str) -> None:
    if not path.is_file():
        raise TlsConfigError(field, f"file {path} does not exist or is not a file")


def build_tls_context(settings: TlsSettings) -> ssl.SSLContext:
    """A client context: TLS 1.2+, server verified, optional client certificate (blocking I/O)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = settings.check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if settings.ca_file is not None:
        _check_file(settings.ca_file, "ca_file")
        try:
            context.load_verify_locations(cafile=str(settings.ca_file))
        except ssl.SSLError as err:
            raise TlsConfigError("ca_file", f"not a PEM CA certificate: {err}") from err
    if (settings.client_cert is None) != (settings.client_key is None):
        missing = "client_key" if settings.client_key is None else "client_cert"
        raise TlsConfigError(missing, "a client certificate needs both certificate and key")
    if settings.client_cert is not None and settings.client_key is not None:
        _check_file(settings.client_cert, "client_cert")
        _check_file(settings.client_key, "client_key")
        try:
            context.load_cert_chain(
                certfile=str(settings.client_cert),
                keyfile=str(settings.client_key),
                password=settings.key_password,
            )
        except ssl.SSLError as err:
            field = "client_key" if "KEY" in (err.reason or "").upper() else "client_cert"
            raise TlsConfigError(field, f"cannot load certificate/key: {err}") from err
    return context
