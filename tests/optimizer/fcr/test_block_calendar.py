"""3-hour JST blocks, the day-ahead offer window, and a horizon's blocks for the model."""

from datetime import UTC, datetime, timedelta

import pytest

from optimizer.fcr.block_calendar import (
    JST,
    block_start,
    horizon_blocks,
    in_offer_window,
    market_for,
    offer_window,
    still_offerable,
)
from optimizer.fcr.market import FcrProduct


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=JST)


def test_blocks_are_three_hours_in_japan_time() -> None:
    assert block_start(jst(3, 14, 29)) == jst(3, 12)
    # 23:30 UTC on the 2nd is 08:30 JST on the 3rd.
    assert block_start(datetime(2024, 6, 2, 23, 30, tzinfo=UTC)) == jst(3, 6)
    with pytest.raises(ValueError, match="time zone"):
        block_start(datetime(2024, 6, 3, 12))


def test_offer_window_is_the_day_before_from_1130_to_1400() -> None:
    opens, closes = offer_window(jst(4, 0).date())
    assert (opens, closes) == (jst(3, 11, 30), jst(3, 14))
    assert still_offerable(jst(4, 9), jst(3, 13, 30))
    assert not still_offerable(jst(4, 9), jst(3, 14))
    assert in_offer_window(jst(4, 9), jst(3, 11, 30))
    assert not in_offer_window(jst(4, 9), jst(3, 11))


def test_horizon_blocks_clip_to_the_horizon() -> None:
    blocks = horizon_blocks(jst(3, 13, 30), 12, 0.5)
    assert [(b.start, b.first_slot, b.slots) for b in blocks] == [
        (jst(3, 12), 0, 3),
        (jst(3, 15), 3, 6),
        (jst(3, 18), 9, 3),
    ]
    with pytest.raises(ValueError, match="slot_hours"):
        horizon_blocks(jst(3, 0), 4, 0.7)


def test_market_for_marks_offerable_awarded_and_closed_blocks() -> None:
    now = jst(3, 13, 30)
    first = now
    prices = {jst(3, 12) + timedelta(hours=3 * k): 4.0 for k in range(20)}
    awards = {jst(3, 15): 2.0}
    market = market_for(FcrProduct(), first, 96, 0.5, now=now, prices=prices, awards=awards)
    kinds = [(b.first_slot, b.offerable, b.awarded_kw) for b in market.blocks]
    assert kinds[0] == (0, False, None)  # today's block, window long closed
    assert kinds[1] == (3, False, 2.0)  # awarded
    assert kinds[3][1] is False  # today 21:00: closed
    tomorrow = market.blocks[4:12]
    assert all(b.offerable and b.price == 4.0 for b in tomorrow)
    # The day after: its window has not even opened, but a plan already expects awards.
    assert all(b.offerable for b in market.blocks[12:16])
    assert market.blocks[-1].slots == 3
    assert market.blocks[-1].offerable is False  # clipped by the horizon: not offered
    after = market_for(
        FcrProduct(), jst(3, 14), 96, 0.5, now=jst(3, 14), prices=prices, awards=awards
    )
    assert not any(b.offerable for b in after.blocks[:12])
