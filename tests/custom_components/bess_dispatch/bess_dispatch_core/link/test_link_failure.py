"""Connection errors -> the failure class the user is told (the real exception types the
socket, ssl and paho layers raise; the broker tests reach most of them live)."""

from __future__ import annotations

import ssl

import pytest

from bess_dispatch_core.link.link_failure import (
    LinkError,
    LinkFailure,
    classify_connack,
    classify_connect_error,
)


def _ssl_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower()}")
    error.reason = reason
    return error


@pytest.mark.parametrize(
    ("error", "failure", "words"),
    [
        # Raised by a library's own name check: no verify_message, which OpenSSL would set.
        (ssl.CertificateError("hostname 'x' doesn't match 'y'"), "server_not_trusted", "'y'"),
        (_ssl_error("TLSV13_ALERT_CERTIFICATE_REQUIRED"), "certificate_rejected", "client"),
        (_ssl_error("SSLV3_ALERT_BAD_CERTIFICATE"), "certificate_rejected", "client"),
        (_ssl_error("WRONG_VERSION_NUMBER"), "tls_error", "WRONG_VERSION_NUMBER"),
        (TimeoutError("timed out"), "unreachable", "timed out"),
        (ConnectionResetError(104, "reset"), "connection_lost", "closed"),
        (BrokenPipeError(32, "pipe"), "connection_lost", "closed"),
        (ConnectionRefusedError(111, "refused"), "unreachable", "cannot reach"),
        (RuntimeError("paho gave up"), "connection_lost", "RuntimeError: paho gave up"),
    ],
)
def test_each_connect_error_gets_its_class_and_says_why(
    error: BaseException, failure: str, words: str
) -> None:
    classified = classify_connect_error(error)
    assert classified.failure is LinkFailure(failure)
    assert words in str(classified)


def test_an_already_classified_error_is_kept() -> None:
    error = LinkError(LinkFailure.TIMEOUT, "no CONNACK")
    assert classify_connect_error(error) is error


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        (0x86, LinkFailure.CREDENTIALS_REFUSED),
        (0x87, LinkFailure.CREDENTIALS_REFUSED),
        (0x8C, LinkFailure.CREDENTIALS_REFUSED),
        (0x88, LinkFailure.REFUSED),  # server unavailable
    ],
)
def test_a_refused_connack_names_credentials_only_when_they_were_the_reason(
    code: int, failure: LinkFailure
) -> None:
    error = classify_connack(code, "reason text")
    assert error.failure is failure
    assert "reason text" in str(error)
