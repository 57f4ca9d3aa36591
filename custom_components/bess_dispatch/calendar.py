"""The resolved schedule as calendar events, for dashboards and calendar triggers."""

from datetime import datetime, timedelta

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .bess_dispatch_core.protocol.command import ControlMode
from .bess_dispatch_core.protocol.schedule_book import ScheduleBlock
from .data import BessDispatchConfigEntry
from .entity import BessDispatchEntity
from .runtime import SiteRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BessDispatchConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([ScheduleCalendar(entry.runtime_data.runtime)])


def block_summary(block: ScheduleBlock) -> str:
    """A short, language-neutral line: the mode and its power, as automations match it."""
    if block.mode is ControlMode.SETPOINT and block.power_kw is not None:
        return f"SETPOINT {block.power_kw:+.2f} kW"
    if block.mode is ControlMode.LIMIT_CHARGE and block.max_charge_kw is not None:
        return f"LIMIT_CHARGE {block.max_charge_kw:.2f} kW"
    return block.mode.value


def block_event(block: ScheduleBlock) -> CalendarEvent:
    return CalendarEvent(
        start=dt_util.as_local(block.start),
        end=dt_util.as_local(block.end),
        summary=block_summary(block),
        description=f"priority {int(block.priority)}, command {block.command_id}",
        uid=f"{block.command_id}@{block.start.isoformat()}",
    )


class ScheduleCalendar(BessDispatchEntity, CalendarEntity):
    def __init__(self, runtime: SiteRuntime) -> None:
        super().__init__(runtime, "schedule")

    @property
    def event(self) -> CalendarEvent | None:
        """The block in force now."""
        now = dt_util.utcnow()
        blocks = self.runtime.dispatcher.book.blocks(now, now + timedelta(seconds=1))
        return block_event(blocks[0]) if blocks else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        book = self.runtime.dispatcher.book
        return [block_event(block) for block in book.blocks(start_date, end_date)]
