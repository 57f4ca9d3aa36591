"""A simulated day in a real Home Assistant: three layers, an override with until, expiry.

p0 for a year at the start, p1 (48 h) every 6 h, p2 (3 h) every 30 min until 16:00, and the
owner's IDLE override from 20:00 until 21:00. At every half-hour boundary the effective
mode, setpoint and source entities must show what the layers and the override say.
"""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.bess_dispatch.bess_dispatch_core.protocol.command import (
    Command,
    Priority,
    ScheduleEntry,
)
from custom_components.bess_dispatch.const import DOMAIN
from tests.plugins.mosquitto_broker import Broker

from .conftest import setup_site
from .test_control import state

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
LAST_P2 = T0 + timedelta(hours=16) - HALF_HOUR
OVERRIDE_FROM = T0 + timedelta(hours=20)
OVERRIDE_UNTIL = OVERRIDE_FROM + timedelta(hours=1)


def layer(priority: Priority, start: datetime, slots: int, kw: float, tag: str) -> Command:
    entries = [
        ScheduleEntry(start + i * HALF_HOUR, start + (i + 1) * HALF_HOUR, power_kw=kw)
        for i in range(slots)
    ]
    return Command.create(command_id=tag, priority=priority, schedule=entries, now=start)


def expected(t: datetime) -> tuple[str, float | None, str]:
    if OVERRIDE_FROM <= t < OVERRIDE_UNTIL:
        return ("idle", 0.0, "manual")
    if t < LAST_P2 + 6 * HALF_HOUR:
        issued = min(t, LAST_P2)
        return ("setpoint", 4.0 if issued.hour % 2 else -4.0, "p2")
    # p2 has run out: the newest p1 (issued 12:00, value 3) covers the rest of the day.
    return ("setpoint", 3.0, "p1")


async def test_simulated_day(
    hass: HomeAssistant, mosquitto_broker: Broker, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(T0)
    entry = await setup_site(hass, mosquitto_broker)
    runtime = entry.runtime_data.runtime
    year = [ScheduleEntry(T0, T0 + timedelta(days=365), power_kw=-0.5)]
    p0 = Command.create(command_id="p0", priority=Priority.FALLBACK, schedule=year, now=T0)
    assert (await runtime.async_handle_command_payload(p0.to_payload())).status == "accepted"

    t = T0
    while t < T0 + timedelta(days=1):
        freezer.move_to(t)
        async_fire_time_changed(hass, t)
        await hass.async_block_till_done()
        if t.minute == 0 and t.hour % 6 == 0 and t.hour <= 12:
            p1 = layer(Priority.DAY_AHEAD, t, 96, float(t.hour // 6 + 1), f"p1-{t.hour}")
            assert (
                await runtime.async_handle_command_payload(p1.to_payload())
            ).status == "accepted"
        if t <= LAST_P2:
            p2 = layer(Priority.INTRADAY, t, 6, 4.0 if t.hour % 2 else -4.0, f"p2-{t:%H%M}")
            assert (
                await runtime.async_handle_command_payload(p2.to_payload())
            ).status == "accepted"
        if t == OVERRIDE_FROM:
            await hass.services.async_call(
                DOMAIN,
                "set_control_mode",
                {"config_entry_id": entry.entry_id, "mode": "idle", "until": OVERRIDE_UNTIL},
                blocking=True,
            )
        await hass.async_block_till_done()
        mode, setpoint, source = expected(t)
        assert state(hass, "sensor", "effective_mode") == mode, t
        assert float(state(hass, "sensor", "setpoint")) == setpoint, t
        assert state(hass, "sensor", "control_source") == source, t
        t += HALF_HOUR
    # The override ended by itself at 21:00 and p2 layers expired.
    assert state(hass, "select", "control_mode") == "auto"
