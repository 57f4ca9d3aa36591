"""The s6 finish scripts pass the service's exit code on and stop the add-on as s6 expects.

Each runs with bash in a private mount namespace of its own whose /run is a fresh tmpfs,
holding what s6-overlay provides there: the container's exit-code file and a halt command
(here a stand-in that records the call).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

S6 = Path(__file__).resolve().parents[2] / "addon" / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"

HARNESS = r"""
set -e
# Private mounts, so the tmpfs stays in this namespace. Inside the test root's chroot "/" is
# no mount point and cannot be changed, but that root's namespace is private already.
mount --make-rprivate / 2>/dev/null || ! mountpoint -q /
mount -t tmpfs tmpfs /run
mkdir -p /run/s6-linux-init-container-results /run/s6/basedir/bin
printf '%s' "$PREVIOUS" > /run/s6-linux-init-container-results/exitcode
printf '#!/bin/sh\ntouch /run/halted\n' > /run/s6/basedir/bin/halt
chmod +x /run/s6/basedir/bin/halt
bash "$SCRIPT" "$CODE" "$SIGNAL" >/dev/null
printf '%s|%s' "$(cat /run/s6-linux-init-container-results/exitcode)" \
    "$([ -e /run/halted ] && echo halted || echo running)"
"""


def finish(service: str, code: int, signal: int, previous: str = "") -> str:
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "unchanged", "bash", "-c", HARNESS],
        env={
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "SCRIPT": str(S6 / service / "finish"),
            "CODE": str(code),
            "SIGNAL": str(signal),
            "PREVIOUS": previous,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("service", ["mosquitto", "optimizer"])
def test_a_failure_becomes_the_addons_exit_code_and_stops_it(service: str) -> None:
    assert finish(service, 3, 0) == "3|halted"


@pytest.mark.parametrize("service", ["mosquitto", "optimizer"])
def test_the_first_failure_keeps_its_code(service: str) -> None:
    assert finish(service, 1, 0, previous="3") == "3|halted"


@pytest.mark.parametrize("service", ["mosquitto", "optimizer"])
def test_a_stop_by_sigterm_reports_143_and_halts(service: str) -> None:
    assert finish(service, 256, 15) == "143|halted"


@pytest.mark.parametrize("service", ["mosquitto", "optimizer"])
def test_another_signal_is_recorded_and_s6_restarts_the_service(service: str) -> None:
    assert finish(service, 256, 9) == "137|running"


@pytest.mark.parametrize("service", ["mosquitto", "optimizer"])
def test_a_clean_exit_changes_nothing(service: str) -> None:
    assert finish(service, 0, 0) == "|running"
