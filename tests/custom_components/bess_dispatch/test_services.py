"""The actions' refusals and answers that the control tests do not reach: an entry that is
not loaded, an override that would already be over, and publish_now's count."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from custom_components.bess_dispatch.const import DOMAIN
from tests.plugins.mosquitto_broker import Broker

from .conftest import OptimizerClient, setup_site


async def test_an_unloaded_entry_is_refused_by_name(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "clear_override", {"config_entry_id": entry.entry_id}, blocking=True
        )
    assert raised.value.translation_key == "entry_not_loaded"


async def test_an_override_of_no_duration_is_refused(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    entry = await setup_site(hass, mosquitto_broker)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_control_mode",
            {"config_entry_id": entry.entry_id, "mode": "idle", "duration": "00:00:00"},
            blocking=True,
        )
    assert raised.value.translation_key == "until_in_past"


async def test_publish_now_answers_how_many_messages_went_out(
    hass: HomeAssistant, mosquitto_broker: Broker, optimizer: OptimizerClient
) -> None:
    from .conftest import GATEWAY, SITE

    entry = await setup_site(hass, mosquitto_broker)
    answer = await hass.services.async_call(
        DOMAIN,
        "publish_now",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    assert isinstance(answer["messages"], int)
    assert answer["messages"] > 0
    assert await optimizer.next_on(f"dt/{SITE}/{GATEWAY}/meter_import_ac/lifetime")
