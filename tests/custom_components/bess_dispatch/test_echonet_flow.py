"""The ECHONET Lite steps of the config and options flows, against the uEcho node over UDP
in a real Home Assistant."""

from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant

from custom_components.bess_dispatch.const import DOMAIN
from tests.plugins.echonet_device import STORAGE_BATTERY, SimulatedEchonetNode

from .conftest import BATTERY_DATA, SITE_DATA
from .test_config_flow import choose


async def to_echonet_step(hass: HomeAssistant, has_load: bool = False) -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], SITE_DATA | {"has_load": has_load}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], BATTERY_DATA)
    result = await choose(hass, result, "echonet_source")
    assert result["step_id"] == "echonet_source"
    return result


def node_form(node: SimulatedEchonetNode, *, by_address: bool = True) -> dict[str, Any]:
    form: dict[str, Any] = {"echonet_interface": node.client_host, "source_interval_s": 5}
    if by_address:
        form["echonet_host"] = node.host
    return form


async def test_node_found_by_discovery_is_picked_and_checked(
    hass: HomeAssistant, echonet_node: SimulatedEchonetNode
) -> None:
    result = await to_echonet_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], node_form(echonet_node, by_address=False)
    )
    assert result["step_id"] == "echonet_discovered"
    options = result["data_schema"].schema["echonet_host"].config["options"]
    ours = [o for o in options if o["value"] == echonet_node.host]
    assert ours == [
        {"value": echonet_node.host, "label": f"{echonet_node.host} (0x0279, 0x027D, 0x0288)"}
    ]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"echonet_host": echonet_node.host}
    )
    assert result.get("errors") is None
    assert result["step_id"] == "broker_choice"


async def test_node_by_address_needs_the_required_metrics_readable(
    hass: HomeAssistant, echonet_node: SimulatedEchonetNode
) -> None:
    echonet_node.refuse(STORAGE_BATTERY, 0xE4)
    echonet_node.refuse(STORAGE_BATTERY, 0xE2)
    result = await to_echonet_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], node_form(echonet_node)
    )
    assert result["errors"] == {"base": "echonet_missing_metrics"}
    assert result["description_placeholders"]["missing"] == "battery_soe"
    echonet_node.refused.clear()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], node_form(echonet_node)
    )
    assert result["step_id"] == "broker_choice"


async def test_a_site_with_a_load_is_refused_naming_the_load_metrics(
    hass: HomeAssistant, echonet_node: SimulatedEchonetNode
) -> None:
    result = await to_echonet_step(hass, has_load=True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], node_form(echonet_node)
    )
    assert result["errors"] == {"base": "echonet_missing_metrics"}
    assert "load_demand_ac" in result["description_placeholders"]["missing"]


async def test_silent_or_absent_node_is_named(
    hass: HomeAssistant, echonet_node: SimulatedEchonetNode
) -> None:
    echonet_node.silent = True
    result = await to_echonet_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], node_form(echonet_node)
    )
    assert result["errors"] == {"base": "echonet_cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], node_form(echonet_node, by_address=False)
    )
    # Other tests' nodes may answer a discovery; ours is silent, so it is not among them.
    if result["step_id"] == "echonet_discovered":
        options = result["data_schema"].schema["echonet_host"].config["options"]
        assert echonet_node.host not in {o["value"] for o in options}
    else:
        assert result["errors"] == {"base": "echonet_none_found"}


async def test_an_interface_it_cannot_listen_on_is_named(
    hass: HomeAssistant, echonet_node: SimulatedEchonetNode
) -> None:
    result = await to_echonet_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], node_form(echonet_node) | {"echonet_interface": "198.51.100.7"}
    )
    assert result["errors"] == {"base": "echonet_transport"}
