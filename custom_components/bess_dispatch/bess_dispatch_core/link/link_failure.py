"""Why a broker connection failed, as a closed set a config flow can show one message for."""

from __future__ import annotations

import socket
import ssl
from enum import StrEnum


class LinkFailure(StrEnum):
    """Failure classes of a connection attempt (values double as translation keys)."""

    UNREACHABLE = "unreachable"
    """No TCP connection: wrong host/port, broker down, network or DNS failure."""
    TIMEOUT = "timeout"
    """Connected, but the broker did not answer the MQTT CONNECT in time."""
    CREDENTIALS_REFUSED = "credentials_refused"
    """The broker refused the username/password (CONNACK 4/5, MQTT 5 0x86/0x87)."""
    CERTIFICATE_REJECTED = "certificate_rejected"
    """The broker refused our client certificate (missing, unknown CA, expired...)."""
    SERVER_NOT_TRUSTED = "server_not_trusted"
    """The broker's certificate did not verify against our CA (wrong CA or host name)."""
    TLS_ERROR = "tls_error"
    """Any other TLS failure, e.g. TLS spoken to a plain MQTT port."""
    REFUSED = "refused"
    """The broker refused the connection for another reason (CONNACK code in the detail)."""
    CONNECTION_LOST = "connection_lost"
    """The connection closed without a reason (before CONNACK, or after being connected)."""


class LinkError(Exception):
    """A classified connection failure: ``failure`` for code, the message for people."""

    def __init__(self, failure: LinkFailure, detail: str) -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail


# OpenSSL reasons of alerts a server sends when it does not accept the client certificate.
_CLIENT_CERTIFICATE_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "BAD_CERTIFICATE",
    "UNKNOWN_CA",
    "CERTIFICATE_UNKNOWN",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
    "UNSUPPORTED_CERTIFICATE",
    "ACCESS_DENIED",
    "DECRYPT_ERROR",
)

# MQTT 5 reason codes (MQTT 3.1.1 CONNACK 4 and 5 map onto the first two in paho).
_BAD_USERNAME_OR_PASSWORD = 0x86
_NOT_AUTHORIZED = 0x87
_BAD_AUTHENTICATION_METHOD = 0x8C


def is_client_certificate_alert(error: ssl.SSLError) -> bool:
    """True when ``error`` is an alert from the peer about our certificate."""
    reason = (error.reason or "").upper()
    return "ALERT" in reason and any(name in reason for name in _CLIENT_CERTIFICATE_ALERTS)


def classify_connect_error(error: BaseException) -> LinkError:
    """Classify an exception raised while opening the TCP/TLS connection."""
    if isinstance(error, LinkError):
        return error
    if isinstance(error, ssl.SSLCertVerificationError):
        return LinkError(
            LinkFailure.SERVER_NOT_TRUSTED,
            f"the broker's certificate is not trusted ({error.verify_message or error})",
        )
    if isinstance(error, ssl.CertificateError):
        return LinkError(LinkFailure.SERVER_NOT_TRUSTED, f"certificate name mismatch: {error}")
    if isinstance(error, ssl.SSLError):
        if is_client_certificate_alert(error):
            return LinkError(
                LinkFailure.CERTIFICATE_REJECTED,
                f"the broker rejected the client certificate ({error.reason})",
            )
        return LinkError(LinkFailure.TLS_ERROR, f"TLS handshake failed ({error.reason or error})")
    if isinstance(error, TimeoutError | socket.timeout):
        return LinkError(LinkFailure.UNREACHABLE, f"connection timed out ({error})")
    if isinstance(error, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return LinkError(LinkFailure.CONNECTION_LOST, f"connection closed by the broker ({error})")
    if isinstance(error, OSError):
        return LinkError(LinkFailure.UNREACHABLE, f"cannot reach the broker ({error})")
    return LinkError(LinkFailure.CONNECTION_LOST, f"{type(error).__name__}: {error}")


def classify_connack(reason_value: int, reason_text: str) -> LinkError:
    """Classify a refused CONNACK by its (MQTT 5 style) reason code."""
    if reason_value in (_BAD_USERNAME_OR_PASSWORD, _NOT_AUTHORIZED, _BAD_AUTHENTICATION_METHOD):
        return LinkError(
            LinkFailure.CREDENTIALS_REFUSED,
            f"the broker refused the credentials ({reason_text})",
        )
    return LinkError(LinkFailure.REFUSED, f"the broker refused the connection ({reason_text})")
