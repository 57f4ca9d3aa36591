"""Entities follow one update path: one reading, at most one state write per entity."""

from collections import Counter
from collections.abc import Mapping
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from tests.plugins.mosquitto_broker import Broker

from .conftest import GATEWAY, SITE, set_soc, setup_site


async def test_a_reading_writes_each_entity_state_at_most_once(
    hass: HomeAssistant, mosquitto_broker: Broker
) -> None:
    """Each reading crosses the owner's SoE limits (10 %) one way or the other, so it both
    sends an alert (telemetry) and re-evaluates control (runtime): two parts notify, and
    each entity must follow one of them."""
    entry = await setup_site(hass, mosquitto_broker)
    ours = {
        item.entity_id
        for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    registry = er.async_get(hass)
    soc_entity = registry.async_get_entity_id(
        "sensor", "bess_dispatch", f"{SITE}_{GATEWAY}_state_of_charge"
    )
    assert soc_entity in ours
    writes: Counter[str] = Counter()

    # Both events: a write that changes nothing is still a write (state_reported).
    @callback
    def count(event: Event) -> None:
        writes[event.data["entity_id"]] += 1

    @callback
    def is_ours(data: Mapping[str, Any]) -> bool:
        return data["entity_id"] in ours

    for event_type in (EVENT_STATE_CHANGED, EVENT_STATE_REPORTED):
        entry.async_on_unload(hass.bus.async_listen(event_type, count, event_filter=is_ours))

    for percent in (3, 50, 4, 51):
        writes.clear()
        set_soc(hass, percent)
        await hass.async_block_till_done()
        assert writes[soc_entity] == 1, writes
        assert max(writes.values()) == 1, writes
        state = hass.states.get(soc_entity)
        assert state is not None
        assert float(state.state) == percent
