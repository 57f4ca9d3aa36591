"""The EPRX FCR calendar: 3-hour blocks (JST), the day-ahead offer window, and the blocks of
one plan's horizon as the model sees them.

Blocks of delivery day D start at 00, 03, ... 21 JST. Offers for day D are placed from 11:30
on day D-1 and re-placed on every re-plan until the window closes at 14:00 (the last re-plan
before 13:58 places the offer that counts); awards come back between 14:00 and 15:00. A plan
made before the window closes still expects awards for day D (the forecast price); after it
closes, day D's blocks are either awarded (a duty) or not (no capacity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .market import FcrBlock, FcrMarket, FcrProduct

JST = ZoneInfo("Asia/Tokyo")
BLOCK_HOURS = 3
BLOCKS_PER_DAY = 24 // BLOCK_HOURS
OFFER_OPENS = time(11, 30)
OFFER_CLOSES = time(14, 0)
AWARDS_BY = time(15, 0)


def _jst(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"time: must carry a time zone, got {moment.isoformat()}")
    return moment.astimezone(JST)


def block_start(moment: datetime) -> datetime:
    """Start of the 3-hour block holding ``moment`` (JST)."""
    local = _jst(moment)
    return local.replace(
        hour=local.hour - local.hour % BLOCK_HOURS, minute=0, second=0, microsecond=0
    )


def delivery_day(start: datetime) -> date:
    return _jst(start).date()


def offer_window(day: date) -> tuple[datetime, datetime]:
    """When offers for delivery ``day`` may be placed: [opens, closes) on the day before."""
    before = day - timedelta(days=1)
    return datetime.combine(before, OFFER_OPENS, JST), datetime.combine(before, OFFER_CLOSES, JST)


def still_offerable(start: datetime, now: datetime) -> bool:
    """Whether the block starting at ``start`` can still be offered at ``now``."""
    return _jst(now) < offer_window(delivery_day(start))[1]


def in_offer_window(start: datetime, now: datetime) -> bool:
    opens, closes = offer_window(delivery_day(start))
    return opens <= _jst(now) < closes


@dataclass(frozen=True, slots=True)
class HorizonBlock:
    start: datetime
    first_slot: int
    slots: int


def horizon_blocks(first: datetime, slots: int, slot_hours: float) -> list[HorizonBlock]:
    """The blocks a horizon of ``slots`` slots from ``first`` touches, clipped to it."""
    if slots <= 0:
        return []
    per_block = round(BLOCK_HOURS / slot_hours)
    if abs(per_block * slot_hours - BLOCK_HOURS) > 1e-9:
        raise ValueError(f"slot_hours: {slot_hours} does not divide a {BLOCK_HOURS}-hour block")
    result: list[HorizonBlock] = []
    start = block_start(first)
    offset = round((_jst(first) - start).total_seconds() / 3600 / slot_hours)
    slot = 0
    while slot < slots:
        count = min(per_block - offset, slots - slot)
        result.append(HorizonBlock(start, slot, count))
        slot += count
        offset = 0
        start += timedelta(hours=BLOCK_HOURS)
    return result


def market_for(
    product: FcrProduct,
    first: datetime,
    slots: int,
    slot_hours: float,
    *,
    now: datetime,
    prices: Mapping[datetime, float],
    awards: Mapping[datetime, float],
) -> FcrMarket:
    """The model's view of FCR for a plan made at ``now`` over ``slots`` slots from ``first``.

    A block is offerable while its window is open or yet to open, it lies wholly inside the
    horizon and a forecast price is known; an awarded block carries its award; any other
    block holds no capacity. ``prices``: JPY per kW per 30 minutes by block start.
    """
    blocks: list[FcrBlock] = []
    per_block = round(BLOCK_HOURS / slot_hours)
    for block in horizon_blocks(first, slots, slot_hours):
        award = awards.get(block.start)
        price = prices.get(block.start)
        offerable = (
            award is None
            and price is not None
            and block.slots == per_block
            and still_offerable(block.start, now)
        )
        blocks.append(
            FcrBlock(
                block.first_slot,
                block.slots,
                price=float(price) if offerable and price is not None else 0.0,
                offerable=offerable,
                awarded_kw=award,
            )
        )
    return FcrMarket(product, tuple(blocks))
