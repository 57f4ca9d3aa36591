"""Broker settings from a config entry, built off the event loop, and the connection probe."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant

from .bess_dispatch_core.link.link_failure import LinkError, LinkFailure
from .bess_dispatch_core.link.mqtt_link import BrokerSettings, probe_broker
from .bess_dispatch_core.link.tls_context import TlsConfigError, TlsSettings, build_tls_context
from .const import (
    CONF_CA_FILE,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_GATEWAY_ID,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_SITE_ID,
    CONF_TLS,
    CONF_USERNAME,
)

# Config-flow error keys (strings.json "error") per failure class.
FAILURE_ERRORS: dict[LinkFailure, str] = {
    LinkFailure.UNREACHABLE: "cannot_connect",
    LinkFailure.TIMEOUT: "timeout_connect",
    LinkFailure.CREDENTIALS_REFUSED: "invalid_auth",
    LinkFailure.CERTIFICATE_REJECTED: "certificate_rejected",
    LinkFailure.SERVER_NOT_TRUSTED: "server_not_trusted",
    LinkFailure.TLS_ERROR: "tls_error",
    LinkFailure.REFUSED: "refused",
    LinkFailure.CONNECTION_LOST: "cannot_connect",
}
# Failures only the user can fix by new credentials or certificates: reauth.
AUTH_FAILURES = frozenset({LinkFailure.CREDENTIALS_REFUSED, LinkFailure.CERTIFICATE_REJECTED})


def _path(data: Mapping[str, Any], key: str) -> Path | None:
    value = data.get(key)
    return Path(value) if value else None


def build_broker_settings(data: Mapping[str, Any]) -> BrokerSettings:
    """Blocking (reads certificate files): call it in an executor."""
    tls = None
    if data.get(CONF_TLS):
        tls = build_tls_context(
            TlsSettings(
                ca_file=_path(data, CONF_CA_FILE),
                client_cert=_path(data, CONF_CLIENT_CERT),
                client_key=_path(data, CONF_CLIENT_KEY),
            )
        )
    return BrokerSettings(
        host=data[CONF_HOST],
        port=int(data[CONF_PORT]),
        username=data.get(CONF_USERNAME) or None,
        password=data.get(CONF_PASSWORD) or None,
        # One stable client id per gateway: broker ACLs and session state follow it.
        client_id=f"bess-dispatch-{data[CONF_SITE_ID]}-{data[CONF_GATEWAY_ID]}",
        tls=tls,
    )


def _probe(data: Mapping[str, Any]) -> None:
    probe_broker(build_broker_settings(data))


async def async_probe_errors(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """Connect once with ``data``; the config-flow errors (empty when it worked)."""
    try:
        await hass.async_add_executor_job(_probe, data)
    except TlsConfigError as err:
        return {err.field: "invalid_tls_file"}
    except LinkError as err:
        return {"base": FAILURE_ERRORS[err.failure]}
    except ValueError:
        return {"base": "invalid_broker"}
    return {}
