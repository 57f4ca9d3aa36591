#!/usr/bin/env bash
# The add-on's install steps, in one place: addon/Dockerfile runs this on Home Assistant's
# Debian trixie base image, and CI (scripts/addon_live.sh) replays it in a Debian trixie root,
# so what the image gets is what the tests start. Usage: install.sh WHEEL CONSTRAINTS
#   - Debian's Python 3.13 (+ venv) and Mosquitto, without recommends;
#   - a virtual environment at /opt/bess-dispatch (Debian's Python is externally managed)
#     holding the project's wheel and exactly the pinned packages, binary wheels only: the
#     image has no compiler, and pip refuses instead of building one from source.
set -euo pipefail

wheel=$1
constraints=$2
readonly VENV=/opt/bess-dispatch
readonly PACKAGES=(python3 python3-venv mosquitto)

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "[install] apt: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    apt-get clean
    rm -rf /var/lib/apt/lists/*
fi

if [[ ! -x "$VENV/bin/python3" ]]; then
    echo "[install] virtual environment $VENV ($(python3 -V))"
    python3 -m venv "$VENV"
fi
echo "[install] $(basename "$wheel") with $(grep -c '==' "$constraints") pinned packages"
"$VENV/bin/python3" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    --only-binary=:all: --constraint "$constraints" "$wheel"
# The same version number may hold new code (CI rebuilds it on every run): replace it.
"$VENV/bin/python3" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    --no-deps --force-reinstall "$wheel"

# Import check from outside any checkout: the service and the start-up step must load, and
# the plotting extra must not have come along.
cd /
"$VENV/bin/python3" -c 'import optimizer.addon.__main__, optimizer.serve, bess_dispatch_core.protocol'
if "$VENV/bin/python3" -c 'import matplotlib' 2>/dev/null; then
    echo "[install] matplotlib is installed: the add-on must not pull the plots extra" >&2
    exit 1
fi
echo "[install] done"
