"""Broker credentials of the own Mosquitto: generated once, kept in ``/data``.

Gateways are configured once with their password, so a password must survive add-on
restarts and updates: generated passwords live in a 0600 JSON file in the add-on's ``/data``
volume (included in Home Assistant backups). A password the owner sets in the options
(``sites[].gateway_password``) wins over a generated one. Users of removed sites are dropped,
so their gateways can no longer log in. Passwords are never logged.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from optimizer.settings.site import SiteSettings

OPTIMIZER_USERNAME = "optimizer"
CREDENTIALS_FILE = "mqtt_credentials.json"
PASSWORD_BYTES = 32  # 256 bits, URL-safe base64: no quoting needed anywhere


class CredentialsError(RuntimeError):
    """The stored credentials file cannot be used."""


def generate_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def _read_stored(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CredentialsError(
            f"{path} is not valid JSON ({error.msg}); delete it to generate new passwords "
            "(every gateway then needs its new password)"
        ) from error
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(value, str) and value for key, value in data.items()
    ):
        raise CredentialsError(
            f"{path} must map usernames to passwords; delete it to generate new passwords"
        )
    return data


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only.

    A reader (Mosquitto, a restart after a power cut) sees the old file or the whole new one,
    never a part: the text goes to a temporary file in the same folder, is flushed to disk,
    and only then renamed over ``path``. On failure the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OSError(error.errno, f"cannot write {path}: {error.strerror}") from error
        raise


def broker_credentials(state_dir: Path, sites: Iterable[SiteSettings]) -> dict[str, str]:
    """Username -> password for the optimizer and every site's gateway.

    Keeps stored passwords of users that still exist, generates missing ones, and rewrites
    ``state_dir/mqtt_credentials.json`` only when it changes.
    """
    path = state_dir / CREDENTIALS_FILE
    stored = _read_stored(path)
    site_list = list(sites)
    wanted = [OPTIMIZER_USERNAME, *(site.gateway_username for site in site_list)]
    kept = {username: stored.get(username) or generate_password() for username in wanted}
    if kept != stored:
        write_private_file(path, json.dumps(kept, indent=2, sort_keys=True) + "\n")
    owner_set: Mapping[str, str] = {
        site.gateway_username: site.gateway_password
        for site in site_list
        if site.gateway_password is not None
    }
    return {**kept, **owner_set}
