#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# ==============================================================================
# s6 oneshot init-config: turns /data/options.json into the broker's and the
# optimizer's files (python -m optimizer.addon generate). All the logic is in
# Python and tested there; this script only gathers what bashio knows.
# ==============================================================================
set -e

# Broker mode "ha": Home Assistant's Mosquitto add-on, as the Supervisor offers it.
# Passed in the environment so the password stays out of the process list.
if bashio::services.available "mqtt"; then
    BESS_MQTT_HOST="$(bashio::services mqtt "host")"
    BESS_MQTT_PORT="$(bashio::services mqtt "port")"
    BESS_MQTT_USERNAME="$(bashio::services mqtt "username")"
    BESS_MQTT_PASSWORD="$(bashio::services mqtt "password")"
    BESS_MQTT_SSL="$(bashio::services mqtt "ssl")"
    export BESS_MQTT_HOST BESS_MQTT_PORT BESS_MQTT_USERNAME BESS_MQTT_PASSWORD BESS_MQTT_SSL
fi

bashio::log.info "Generating the broker and optimizer configuration"
if ! python3 -m optimizer.addon generate \
    --options /data/options.json \
    --state /data \
    --out /run/bess_dispatch \
    --addon-config /config \
    --ingress-port "$(bashio::addon.ingress_port)" \
    --hostname "$(bashio::addon.hostname)" \
    --timezone "${TZ:-UTC}" \
    --broker-user mosquitto; then
    bashio::exit.nok "Invalid configuration: fix the option named above and restart the add-on"
fi
