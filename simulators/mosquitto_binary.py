"""Where the Mosquitto binary is and whom it runs as: shared by the tests' brokers
(``tests/plugins/mosquitto_broker.py``) and the demo's add-on broker (``ha_demo``)."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path


def find_mosquitto() -> Path:
    """The broker binary: ``$BESS_MOSQUITTO``, else ``mosquitto`` on PATH or in /usr/sbin."""
    configured = os.environ.get("BESS_MOSQUITTO")
    if configured:
        path = Path(configured)
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"BESS_MOSQUITTO={configured!r} is not an executable file")
        return path
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise FileNotFoundError(
            "mosquitto not found: run the tests through scripts/env or set BESS_MOSQUITTO"
        )
    return Path(found)


def mosquitto_run_as_user() -> str | None:
    """The user a broker started as root drops to ("mosquitto", as in the add-on), so the
    generated files must belong to it; None when not root or no such user exists."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("mosquitto")
    except KeyError:
        return None
    return "mosquitto"
