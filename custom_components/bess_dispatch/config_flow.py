"""Config, options, reconfigure and reauth flows."""

import re
from collections.abc import Mapping
from typing import Any

# Home Assistant 2026 validates with probatio, the voluptuous successor with the same API.
import probatio as vol
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .actuator_setup import modbus_errors, modbus_source_map
from .api.options import api_options_schema
from .bess_dispatch_core.pleevi import PleeviValueError
from .bess_dispatch_core.protocol.metrics import UseCase
from .bess_dispatch_core.protocol.topics import validate_topic_id
from .broker import async_probe_errors
from .const import (
    ACTUATOR_ECHONET,
    ACTUATOR_HOME_ASSISTANT,
    ACTUATOR_MODBUS,
    ACTUATOR_NONE,
    BROKER_CUSTOM,
    BROKER_HOME_ASSISTANT,
    CONF_ACTUATOR,
    CONF_ACTUATOR_NUMBER,
    CONF_ACTUATOR_SCRIPT,
    CONF_ACTUATOR_SELECT,
    CONF_BROKER_TYPE,
    CONF_CA_FILE,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_ECHONET_ACTUATOR_HOST,
    CONF_ECHONET_HOST,
    CONF_ECHONET_INTERFACE,
    CONF_ECHONET_METRICS,
    CONF_EXPORT_LIMIT_KW,
    CONF_GATEWAY_ID,
    CONF_GRID_CHARGING,
    CONF_HAS_LOAD,
    CONF_HOST,
    CONF_MAX_CHARGE_KW,
    CONF_MAX_DISCHARGE_KW,
    CONF_MODBUS_HOST,
    CONF_MODBUS_METRICS,
    CONF_MODBUS_PORT,
    CONF_MODBUS_UNIT_ID,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_RAMP_KW_PER_S,
    CONF_SITE_ID,
    CONF_SOE_MAX_PCT,
    CONF_SOE_MIN_PCT,
    CONF_SOURCE_HOST,
    CONF_SOURCE_INTERVAL_S,
    CONF_SOURCE_PORT,
    CONF_SOURCE_TYPE,
    CONF_SOURCE_UNIT_ID,
    CONF_SOURCES,
    CONF_TELEMETRY_INTERVAL_S,
    CONF_TELEMETRY_WINDOW,
    CONF_TLS,
    CONF_USABLE_KWH,
    CONF_USE_CASE,
    CONF_USERNAME,
    DEFAULT_ECHONET_INTERVAL_S,
    DEFAULT_PORT,
    DEFAULT_TELEMETRY_INTERVAL_S,
    DEFAULT_TELEMETRY_WINDOW,
    DOMAIN,
    SOURCE_ECHONET,
    SOURCE_ENTITIES,
    SOURCE_MODBUS,
    TELEMETRY_WINDOWS,
)
from .data import BessDispatchConfigEntry
from .echonet_setup import (
    async_discover,
    async_echonet_actuator_errors,
    async_echonet_source_map,
    echonet_interface,
    node_label,
)
from .pleevi_profile import (
    CONF_PLEEVI_TOPIC_TEMPLATE,
    CONF_TELEMETRY_PROFILE,
    DEFAULT_PLEEVI_TOPIC_TEMPLATE,
    PROFILE_PLEEVI,
    PROFILE_PROTOCOL,
    pleevi_settings,
)
from .source_mapping import source_errors, sources_schema

# Stricter than the protocol needs (any string without '/', '+', '#'): ids typed by a
# person should also survive ACL files, file names and URLs unchanged.
_FRIENDLY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def is_valid_topic_id(value: str) -> bool:
    """Whether a user-entered id can name a topic level, an ACL line and a file."""
    try:
        validate_topic_id(value)
    except ValueError:
        return False
    return _FRIENDLY_ID.fullmatch(value) is not None


def _number(unit: str, maximum: float, step: float = 0.1) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=0, max=maximum, step=step, unit_of_measurement=unit, mode=NumberSelectorMode.BOX
        )
    )


USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SITE_ID): TextSelector(),
        vol.Required(CONF_GATEWAY_ID): TextSelector(),
        vol.Required(CONF_USE_CASE, default=UseCase.AC_LINK.value): SelectSelector(
            SelectSelectorConfig(
                options=[use_case.value for use_case in UseCase],
                mode=SelectSelectorMode.LIST,
                translation_key=CONF_USE_CASE,
            )
        ),
        vol.Required(CONF_HAS_LOAD, default=True): BooleanSelector(),
    }
)

BATTERY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_USABLE_KWH): _number("kWh", 10_000),
        vol.Required(CONF_MAX_CHARGE_KW): _number("kW", 10_000),
        vol.Required(CONF_MAX_DISCHARGE_KW): _number("kW", 10_000),
        vol.Required(CONF_SOE_MIN_PCT, default=10): _number("%", 100, 1),
        vol.Required(CONF_SOE_MAX_PCT, default=100): _number("%", 100, 1),
    }
)

BROKER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_PORT): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_USERNAME): TextSelector(),
        vol.Optional(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Required(CONF_TLS, default=False): BooleanSelector(),
        vol.Optional(CONF_CA_FILE): TextSelector(),
        vol.Optional(CONF_CLIENT_CERT): TextSelector(),
        vol.Optional(CONF_CLIENT_KEY): TextSelector(),
    }
)

MODBUS_SOURCE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SOURCE_HOST): TextSelector(),
        vol.Required(CONF_SOURCE_PORT, default=502): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_SOURCE_UNIT_ID, default=1): NumberSelector(
            NumberSelectorConfig(min=0, max=255, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_SOURCE_INTERVAL_S, default=10): NumberSelector(
            NumberSelectorConfig(
                min=1, max=600, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
            )
        ),
    }
)

ECHONET_SOURCE_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_ECHONET_HOST): TextSelector(),
        vol.Optional(CONF_ECHONET_INTERFACE): TextSelector(),
        vol.Required(CONF_SOURCE_INTERVAL_S, default=DEFAULT_ECHONET_INTERVAL_S): NumberSelector(
            NumberSelectorConfig(
                min=5, max=600, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
            )
        ),
    }
)

REAUTH_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_USERNAME): TextSelector(),
        vol.Optional(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Optional(CONF_CLIENT_CERT): TextSelector(),
        vol.Optional(CONF_CLIENT_KEY): TextSelector(),
    }
)

OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_GRID_CHARGING, default=True): BooleanSelector(),
        vol.Optional(CONF_RAMP_KW_PER_S): _number("kW/s", 1_000, 0.01),
        vol.Optional(CONF_EXPORT_LIMIT_KW): _number("kW", 10_000),
        # The seeds ask for every metric at least every 10 minutes.
        vol.Required(
            CONF_TELEMETRY_INTERVAL_S, default=DEFAULT_TELEMETRY_INTERVAL_S
        ): NumberSelector(
            NumberSelectorConfig(
                min=10, max=600, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
            )
        ),
        vol.Required(CONF_TELEMETRY_WINDOW, default=DEFAULT_TELEMETRY_WINDOW): SelectSelector(
            SelectSelectorConfig(options=list(TELEMETRY_WINDOWS), mode=SelectSelectorMode.DROPDOWN)
        ),
        vol.Required(CONF_TELEMETRY_PROFILE, default=PROFILE_PROTOCOL): SelectSelector(
            SelectSelectorConfig(
                options=[PROFILE_PROTOCOL, PROFILE_PLEEVI],
                mode=SelectSelectorMode.LIST,
                translation_key=CONF_TELEMETRY_PROFILE,
            )
        ),
        vol.Required(
            CONF_PLEEVI_TOPIC_TEMPLATE, default=DEFAULT_PLEEVI_TOPIC_TEMPLATE
        ): TextSelector(),
        vol.Required(CONF_ACTUATOR, default=ACTUATOR_NONE): SelectSelector(
            SelectSelectorConfig(
                options=[ACTUATOR_NONE, ACTUATOR_HOME_ASSISTANT, ACTUATOR_MODBUS, ACTUATOR_ECHONET],
                mode=SelectSelectorMode.LIST,
                translation_key=CONF_ACTUATOR,
            )
        ),
    }
)
HA_ACTUATOR_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_ACTUATOR_SCRIPT): EntitySelector(EntitySelectorConfig(domain="script")),
        vol.Optional(CONF_ACTUATOR_NUMBER): EntitySelector(
            EntitySelectorConfig(domain=["number", "input_number"])
        ),
        vol.Optional(CONF_ACTUATOR_SELECT): EntitySelector(
            EntitySelectorConfig(domain=["select", "input_select"])
        ),
    }
)
MODBUS_ACTUATOR_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_MODBUS_HOST): TextSelector(),
        vol.Required(CONF_MODBUS_PORT, default=502): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_MODBUS_UNIT_ID, default=1): NumberSelector(
            NumberSelectorConfig(min=0, max=255, step=1, mode=NumberSelectorMode.BOX)
        ),
    }
)
ECHONET_ACTUATOR_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_ECHONET_ACTUATOR_HOST): TextSelector(),
        vol.Optional(CONF_ECHONET_INTERFACE): TextSelector(),
    }
)
ACTUATOR_KEYS = (
    CONF_ACTUATOR_SCRIPT,
    CONF_ACTUATOR_NUMBER,
    CONF_ACTUATOR_SELECT,
    CONF_MODBUS_HOST,
    CONF_MODBUS_PORT,
    CONF_MODBUS_UNIT_ID,
)

BROKER_KEYS = (
    CONF_HOST,
    CONF_PORT,
    CONF_USERNAME,
    CONF_PASSWORD,
    CONF_TLS,
    CONF_CA_FILE,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
)


def _battery_errors(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data[CONF_USABLE_KWH] <= 0:
        errors[CONF_USABLE_KWH] = "must_be_positive"
    if data[CONF_MAX_CHARGE_KW] <= 0:
        errors[CONF_MAX_CHARGE_KW] = "must_be_positive"
    if data[CONF_MAX_DISCHARGE_KW] <= 0:
        errors[CONF_MAX_DISCHARGE_KW] = "must_be_positive"
    if data[CONF_SOE_MIN_PCT] >= data[CONF_SOE_MAX_PCT]:
        errors[CONF_SOE_MIN_PCT] = "soe_window_invalid"
    return errors


def _broker_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised broker fields: every key present, port an int, blanks None."""
    data: dict[str, Any] = {key: user_input.get(key) or None for key in BROKER_KEYS}
    data[CONF_BROKER_TYPE] = BROKER_CUSTOM
    data[CONF_HOST] = str(user_input[CONF_HOST]).strip()
    data[CONF_PORT] = int(user_input[CONF_PORT])
    data[CONF_TLS] = bool(user_input.get(CONF_TLS))
    return data


class BessDispatchConfigFlow(ConfigFlow, domain=DOMAIN):
    """One entry per site+gateway pair: ids, battery, broker (tested before saving)."""

    VERSION = 1

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._echonet: dict[str, Any] = {}
        self._discovered: dict[str, str] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: BessDispatchConfigEntry) -> BessDispatchOptionsFlow:
        return BessDispatchOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the identifiers the optimizer knows this site and gateway by."""
        errors: dict[str, str] = {}
        if user_input is not None:
            site_id = user_input[CONF_SITE_ID].strip()
            gateway_id = user_input[CONF_GATEWAY_ID].strip()
            # The ids become MQTT topic levels, so wildcards and separators would break routing.
            if not is_valid_topic_id(site_id):
                errors[CONF_SITE_ID] = "invalid_topic_id"
            if not is_valid_topic_id(gateway_id):
                errors[CONF_GATEWAY_ID] = "invalid_topic_id"
            if not errors:
                await self.async_set_unique_id(f"{site_id}/{gateway_id}")
                self._abort_if_unique_id_configured()
                use_case = UseCase(user_input[CONF_USE_CASE])
                self._data = {
                    CONF_SITE_ID: site_id,
                    CONF_GATEWAY_ID: gateway_id,
                    CONF_USE_CASE: use_case.value,
                    # A stand-alone battery has, by definition, no on-site load.
                    CONF_HAS_LOAD: bool(user_input[CONF_HAS_LOAD])
                    and use_case is not UseCase.STANDALONE,
                }
                return await self.async_step_battery()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_battery(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The battery's nameplate and the owner's SoE window."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _battery_errors(user_input)
            if not errors:
                self._data.update(user_input)
                return await self.async_step_source_choice()
        return self.async_show_form(
            step_id="battery",
            data_schema=self.add_suggested_values_to_schema(BATTERY_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_source_choice(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Readings from Home Assistant sensors, or straight from a SunSpec device."""
        return self.async_show_menu(
            step_id="source_choice", menu_options=["sources", "modbus_source", "echonet_source"]
        )

    async def async_step_echonet_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An ECHONET Lite node by address, or (address left blank) found by discovery."""
        errors: dict[str, str] = {}
        placeholders = {"missing": ""}
        if user_input is not None:
            self._echonet = {
                CONF_ECHONET_INTERFACE: echonet_interface(user_input),
                CONF_SOURCE_INTERVAL_S: int(user_input[CONF_SOURCE_INTERVAL_S]),
            }
            host = str(user_input.get(CONF_ECHONET_HOST) or "").strip()
            if not host:
                nodes, errors = await async_discover(
                    self.hass, self._echonet[CONF_ECHONET_INTERFACE]
                )
                if not errors:
                    self._discovered = {node.host: node_label(node) for node in nodes}
                    return await self.async_step_echonet_discovered()
            else:
                errors, placeholders["missing"] = await self._echonet_source_errors(host)
                if not errors:
                    return await self.async_step_broker_choice()
        return self.async_show_form(
            step_id="echonet_source",
            data_schema=self.add_suggested_values_to_schema(ECHONET_SOURCE_SCHEMA, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_echonet_discovered(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the nodes the multicast discovery found."""
        errors: dict[str, str] = {}
        placeholders = {"missing": ""}
        if user_input is not None:
            errors, placeholders["missing"] = await self._echonet_source_errors(
                str(user_input[CONF_ECHONET_HOST])
            )
            if not errors:
                return await self.async_step_broker_choice()
        options = [
            SelectOptionDict(value=host, label=label) for host, label in self._discovered.items()
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_ECHONET_HOST): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(
            step_id="echonet_discovered",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _echonet_source_errors(self, host: str) -> tuple[dict[str, str], str]:
        """Probe and read the node once; on success the source is stored in the entry data."""
        metric_map, errors, missing = await async_echonet_source_map(
            self.hass,
            host,
            self._echonet[CONF_ECHONET_INTERFACE],
            UseCase(self._data[CONF_USE_CASE]),
            self._data[CONF_HAS_LOAD],
        )
        if not errors:
            self._data |= self._echonet | {
                CONF_SOURCE_TYPE: SOURCE_ECHONET,
                CONF_ECHONET_HOST: host,
                CONF_ECHONET_METRICS: metric_map,
            }
        return errors, ", ".join(missing)

    async def async_step_modbus_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A SunSpec inverter/meter/battery over Modbus TCP, scanned before going on."""
        errors: dict[str, str] = {}
        placeholders = {"missing": ""}
        if user_input is not None:
            device = {
                CONF_SOURCE_HOST: str(user_input[CONF_SOURCE_HOST]).strip(),
                CONF_SOURCE_PORT: int(user_input[CONF_SOURCE_PORT]),
                CONF_SOURCE_UNIT_ID: int(user_input[CONF_SOURCE_UNIT_ID]),
                CONF_SOURCE_INTERVAL_S: int(user_input[CONF_SOURCE_INTERVAL_S]),
            }
            use_case = UseCase(self._data[CONF_USE_CASE])
            metric_map, errors, missing = await modbus_source_map(
                device, use_case, self._data[CONF_HAS_LOAD]
            )
            placeholders["missing"] = ", ".join(missing)
            if not errors:
                self._data |= device | {
                    CONF_SOURCE_TYPE: SOURCE_MODBUS,
                    CONF_MODBUS_METRICS: metric_map,
                }
                return await self.async_step_broker_choice()
        return self.async_show_form(
            step_id="modbus_source",
            data_schema=self.add_suggested_values_to_schema(MODBUS_SOURCE_SCHEMA, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_sources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which HA sensor measures each metric the use case needs (energy or power)."""
        schema = sources_schema(UseCase(self._data[CONF_USE_CASE]), self._data[CONF_HAS_LOAD])
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = source_errors(self.hass, user_input)
            if not errors:
                self._data[CONF_SOURCES] = dict(user_input)
                self._data[CONF_SOURCE_TYPE] = SOURCE_ENTITIES
                return await self.async_step_broker_choice()
        return self.async_show_form(
            step_id="sources",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def async_step_broker_choice(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """HA's own MQTT connection, or a broker of the gateway's own."""
        return self.async_show_menu(
            step_id="broker_choice", menu_options=["home_assistant_broker", "broker"]
        )

    async def async_step_home_assistant_broker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The broker Home Assistant's MQTT integration already uses (e.g. the add-on's)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not self.hass.config_entries.async_loaded_entries("mqtt"):
                errors["base"] = "mqtt_not_configured"
            else:
                return self.async_create_entry(
                    title=f"{self._data[CONF_SITE_ID]} / {self._data[CONF_GATEWAY_ID]}",
                    data=self._data | {CONF_BROKER_TYPE: BROKER_HOME_ASSISTANT},
                )
        return self.async_show_form(
            step_id="home_assistant_broker", data_schema=vol.Schema({}), errors=errors
        )

    async def async_step_broker(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The optimizer's broker; the entry is only created once a connection worked."""
        errors: dict[str, str] = {}
        if user_input is not None:
            broker = _broker_data(user_input)
            errors = await async_probe_errors(self.hass, self._data | broker)
            if not errors:
                return self.async_create_entry(
                    title=f"{self._data[CONF_SITE_ID]} / {self._data[CONF_GATEWAY_ID]}",
                    data=self._data | broker,
                )
        return self.async_show_form(
            step_id="broker",
            data_schema=self.add_suggested_values_to_schema(BROKER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the battery or the broker; the ids stay (they are the entry's identity)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        own_broker = entry.data.get(CONF_BROKER_TYPE) != BROKER_HOME_ASSISTANT
        if user_input is not None:
            errors = _battery_errors(user_input)
            broker = _broker_data(user_input) if own_broker else {}
            if not errors and own_broker:
                errors = await async_probe_errors(self.hass, entry.data | broker)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={**user_input, **broker}
                )
        schema = vol.Schema(
            {**BATTERY_SCHEMA.schema, **(BROKER_SCHEMA.schema if own_broker else {})}
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or entry.data),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The broker started refusing our credentials or certificate."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            updates = {key: user_input.get(key) or None for key in REAUTH_SCHEMA.schema}
            errors = await async_probe_errors(self.hass, entry.data | updates)
            if not errors:
                return self.async_update_reload_and_abort(entry, data_updates=updates)
        suggested = {
            key: entry.data.get(key) for key in (CONF_USERNAME, CONF_CLIENT_CERT, CONF_CLIENT_KEY)
        }
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(REAUTH_SCHEMA, user_input or suggested),
            errors=errors,
            description_placeholders={CONF_HOST: entry.data[CONF_HOST]},
        )


class BessDispatchOptionsFlow(OptionsFlowWithReload):
    """The owner's limits beyond the nameplate, and where decisions go."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                pleevi_settings(user_input)
            except PleeviValueError:
                errors[CONF_PLEEVI_TOPIC_TEMPLATE] = "invalid_topic_template"
            else:
                self._options = dict(user_input)
                if self.config_entry.data.get(CONF_SOURCE_TYPE) in (SOURCE_MODBUS, SOURCE_ECHONET):
                    return await self._async_step_actuator_or_finish()
                return await self.async_step_sources()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA.extend(await api_options_schema(self.hass)),
                user_input or self.config_entry.options,
            ),
            errors=errors,
        )

    async def async_step_sources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Map the measurements again (a sensor replaced, an optional metric added)."""
        data = self.config_entry.data
        schema = sources_schema(UseCase(data[CONF_USE_CASE]), data[CONF_HAS_LOAD])
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = source_errors(self.hass, user_input)
            if not errors:
                self._options[CONF_SOURCES] = dict(user_input)
                return await self._async_step_actuator_or_finish()
        current = self.config_entry.options.get(CONF_SOURCES) or data.get(CONF_SOURCES, {})
        return self.async_show_form(
            step_id="sources",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
        )

    async def _async_step_actuator_or_finish(self) -> ConfigFlowResult:
        if self._options[CONF_ACTUATOR] == ACTUATOR_HOME_ASSISTANT:
            return await self.async_step_home_assistant_actuator()
        if self._options[CONF_ACTUATOR] == ACTUATOR_MODBUS:
            return await self.async_step_modbus_actuator()
        if self._options[CONF_ACTUATOR] == ACTUATOR_ECHONET:
            return await self.async_step_echonet_actuator()
        return self.async_create_entry(data=self._options)

    async def async_step_home_assistant_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A script (gets every decision), a setpoint number and/or a mode select."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not any(user_input.get(key) for key in ACTUATOR_KEYS):
                errors["base"] = "no_actuator_target"
            else:
                return self.async_create_entry(data=self._options | user_input)
        return self.async_show_form(
            step_id="home_assistant_actuator",
            data_schema=self.add_suggested_values_to_schema(
                HA_ACTUATOR_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def async_step_modbus_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A SunSpec inverter with storage controls (model 124), scanned before saving."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device = {
                CONF_MODBUS_HOST: str(user_input[CONF_MODBUS_HOST]).strip(),
                CONF_MODBUS_PORT: int(user_input[CONF_MODBUS_PORT]),
                CONF_MODBUS_UNIT_ID: int(user_input[CONF_MODBUS_UNIT_ID]),
            }
            errors = await modbus_errors(device)
            if not errors:
                return self.async_create_entry(data=self._options | device)
        return self.async_show_form(
            step_id="modbus_actuator",
            data_schema=self.add_suggested_values_to_schema(
                MODBUS_ACTUATOR_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def async_step_echonet_actuator(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An ECHONET Lite storage battery (0x027D), probed before saving."""
        errors: dict[str, str] = {}
        if user_input is not None:
            host = str(user_input[CONF_ECHONET_ACTUATOR_HOST]).strip()
            interface = echonet_interface(user_input)
            target = {CONF_ECHONET_ACTUATOR_HOST: host, CONF_ECHONET_INTERFACE: interface}
            errors = await async_echonet_actuator_errors(self.hass, host, interface)
            if not errors:
                return self.async_create_entry(data=self._options | target)
        data = self.config_entry.data
        suggested = {
            CONF_ECHONET_ACTUATOR_HOST: self.config_entry.options.get(CONF_ECHONET_ACTUATOR_HOST)
            or data.get(CONF_ECHONET_HOST),
            CONF_ECHONET_INTERFACE: self.config_entry.options.get(CONF_ECHONET_INTERFACE)
            or data.get(CONF_ECHONET_INTERFACE),
        }
        return self.async_show_form(
            step_id="echonet_actuator",
            data_schema=self.add_suggested_values_to_schema(
                ECHONET_ACTUATOR_SCHEMA, user_input or suggested
            ),
            errors=errors,
        )
