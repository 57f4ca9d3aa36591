"""Constants of the BESS Dispatch integration."""

from typing import Final

DOMAIN: Final = "bess_dispatch"

# Site (config entry data; the pair is the entry's unique id).
CONF_SITE_ID: Final = "site_id"
CONF_GATEWAY_ID: Final = "gateway_id"
CONF_USE_CASE: Final = "use_case"
CONF_HAS_LOAD: Final = "has_load"

# Battery nameplate and the owner's SoE window (config entry data).
CONF_USABLE_KWH: Final = "usable_kwh"
CONF_MAX_CHARGE_KW: Final = "max_charge_kw"
CONF_MAX_DISCHARGE_KW: Final = "max_discharge_kw"
CONF_SOE_MIN_PCT: Final = "soe_min_pct"
CONF_SOE_MAX_PCT: Final = "soe_max_pct"

# Metric name -> entity id of the sensor measuring it (config entry data), or a SunSpec
# device over Modbus TCP whose readings feed the metrics.
CONF_SOURCES: Final = "sources"
CONF_SOURCE_TYPE: Final = "source_type"
SOURCE_ENTITIES: Final = "entities"
SOURCE_MODBUS: Final = "modbus"
CONF_SOURCE_HOST: Final = "source_host"
CONF_SOURCE_PORT: Final = "source_port"
CONF_SOURCE_UNIT_ID: Final = "source_unit_id"
CONF_SOURCE_INTERVAL_S: Final = "source_interval_s"
CONF_MODBUS_METRICS: Final = "modbus_metrics"
# Or an ECHONET Lite node (UDP 3610) whose storage battery, PV and meter objects feed them.
SOURCE_ECHONET: Final = "echonet"
CONF_ECHONET_HOST: Final = "echonet_host"
CONF_ECHONET_INTERFACE: Final = "echonet_interface"
CONF_ECHONET_METRICS: Final = "echonet_metrics"
DEFAULT_ECHONET_INTERVAL_S: Final = 30

# Broker (config entry data): HA's own MQTT integration, or a broker of our own.
CONF_BROKER_TYPE: Final = "broker_type"
BROKER_HOME_ASSISTANT: Final = "home_assistant"
BROKER_CUSTOM: Final = "custom"
CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_TLS: Final = "tls"
CONF_CA_FILE: Final = "ca_file"
CONF_CLIENT_CERT: Final = "client_cert"
CONF_CLIENT_KEY: Final = "client_key"

# Owner's limits beyond the nameplate (options).
CONF_RAMP_KW_PER_S: Final = "ramp_kw_per_s"
CONF_GRID_CHARGING: Final = "grid_charging_allowed"
CONF_EXPORT_LIMIT_KW: Final = "export_limit_kw"

# Telemetry timing (options).
CONF_TELEMETRY_INTERVAL_S: Final = "telemetry_interval_s"
CONF_TELEMETRY_WINDOW: Final = "telemetry_window"
DEFAULT_TELEMETRY_INTERVAL_S: Final = 60
DEFAULT_TELEMETRY_WINDOW: Final = "PT5M"
TELEMETRY_WINDOWS: Final = ("PT5M", "PT15M", "PT30M", "PT1H")

# Where decisions go (options).
CONF_ACTUATOR: Final = "actuator"
ACTUATOR_NONE: Final = "none"
ACTUATOR_HOME_ASSISTANT: Final = "home_assistant"
ACTUATOR_MODBUS: Final = "modbus"
ACTUATOR_ECHONET: Final = "echonet"
CONF_ACTUATOR_SCRIPT: Final = "actuator_script"
CONF_ACTUATOR_NUMBER: Final = "actuator_setpoint_number"
CONF_ACTUATOR_SELECT: Final = "actuator_mode_select"
CONF_MODBUS_HOST: Final = "modbus_host"
CONF_MODBUS_PORT: Final = "modbus_port"
CONF_MODBUS_UNIT_ID: Final = "modbus_unit_id"
CONF_ECHONET_ACTUATOR_HOST: Final = "echonet_actuator_host"

DEFAULT_PORT: Final = 1883
DEFAULT_TLS_PORT: Final = 8883
