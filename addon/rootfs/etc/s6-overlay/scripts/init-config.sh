#!/usr/bin/with-contenv bash
# shellcheck shell=bash
# ==============================================================================
# s6 oneshot init-config: turns /data/options.json into the broker's and the
# optimizer's files (python -m optimizer.addon generate). All the logic is in
# Python and tested there, including the Supervisor API calls (ingress port,
# hostname, MQTT service), so this script needs nothing but bash. When it fails
# the add-on stops (the base image sets S6_BEHAVIOUR_IF_STAGE2_FAILS=2) and the
# log names the option or the file at fault.
# BESS_SUPERVISOR_URL, BESS_BROKER_PORT and BESS_INGRESS_PROXY exist only for the
# CI replay of these scripts (scripts/addon_live.sh); the Supervisor never sets them.
# ==============================================================================
set -euo pipefail

echo "[bess_dispatch] Generating the broker and optimizer configuration"
if ! /opt/bess-dispatch/bin/python3 -m optimizer.addon generate \
    --options /data/options.json \
    --state /data \
    --out /run/bess_dispatch \
    --addon-config /config \
    --supervisor "${BESS_SUPERVISOR_URL:-http://supervisor}" \
    --listen-port "${BESS_BROKER_PORT:-1883}" \
    --ingress-proxy "${BESS_INGRESS_PROXY:-172.30.32.2}" \
    --timezone "${TZ:-UTC}" \
    --broker-user mosquitto; then
    echo "[bess_dispatch] Invalid configuration: fix the option named above and restart the add-on" >&2
    exit 1
fi
