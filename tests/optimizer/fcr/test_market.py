"""Bad FCR input is refused naming the field."""

import numpy as np
import pytest

from optimizer.fcr.market import FcrBlock, FcrMarket, FcrProduct
from optimizer.site import Battery, Grid, InputError, Site, Tariff, Topology


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"duration_minutes": 4.0}, "fcr.duration_minutes"),
        ({"duration_minutes": float("nan")}, "fcr.duration_minutes"),
        ({"min_offer_kw": -1.0}, "fcr.min_offer_kw"),
        ({"step_kw": "1"}, "fcr.step_kw"),
        ({"aggregator_share": 1.5}, "fcr.aggregator_share"),
        ({"aggregator_share": True}, "fcr.aggregator_share"),
    ],
)
def test_bad_product(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as error:
        FcrProduct(**kwargs)  # type: ignore[arg-type]
    assert error.value.field_name == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"first_slot": -1, "slots": 6}, "fcr.block.first_slot"),
        ({"first_slot": 0, "slots": 0}, "fcr.block.slots"),
        ({"first_slot": 0, "slots": 6, "price": float("inf")}, "fcr.block.price"),
        ({"first_slot": 0, "slots": 6, "awarded_kw": -2.0}, "fcr.block.awarded_kw"),
        (
            {"first_slot": 0, "slots": 6, "awarded_kw": 2.0, "offerable": True},
            "fcr.block.offerable",
        ),
    ],
)
def test_bad_block(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as error:
        FcrBlock(**kwargs)  # type: ignore[arg-type]
    assert error.value.field_name == field


def test_overlapping_blocks_and_blocks_past_the_horizon() -> None:
    with pytest.raises(InputError, match=r"fcr.blocks\[1\].first_slot"):
        FcrMarket(FcrProduct(), (FcrBlock(0, 6), FcrBlock(3, 6)))
    market = FcrMarket(FcrProduct(), (FcrBlock(0, 6), FcrBlock(6, 6)))
    with pytest.raises(InputError, match=r"fcr.blocks\[1\]: ends at slot 12"):
        Site.build(
            topology=Topology.STAND_ALONE,
            battery=Battery(10, 5, 5, 5),
            grid=Grid(5, 5),
            tariff=Tariff.of(np.ones(8), np.ones(8)),
            fcr=market,
        )
    with pytest.raises(InputError, match=r"^fcr: must be a FcrMarket"):
        Site.build(
            topology=Topology.STAND_ALONE,
            battery=Battery(10, 5, 5, 5),
            grid=Grid(5, 5),
            tariff=Tariff.of(np.ones(8), np.ones(8)),
            fcr="fcr",  # type: ignore[arg-type]
        )


def test_revenue_per_kw_counts_half_hours_and_the_share() -> None:
    market = FcrMarket(
        FcrProduct(aggregator_share=0.5), (FcrBlock(0, 6, price=5.27, offerable=True),)
    )
    assert market.revenue_per_kw(market.blocks[0], 0.5) == pytest.approx(5.27 * 6 * 0.5)
