"""What the dispatch model needs to know about FCR over one horizon: the product and its blocks.

A block is a run of slots of the plan (a 3-hour EPRX block, clipped to the horizon). It is
either still *offerable* (the offer window has not closed: the model chooses the capacity and
earns the forecast price times the aggregator's share), *awarded* (the capacity is a hard
duty: every later plan keeps it, a shortfall costs the model's penalty), or neither (closed
without an award: no capacity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..site import InputError

SLOT_PRICE_HOURS = 0.5  # EPRX prices are per kW per 30 minutes


def _number(name: str, value: float, *, low: float = 0.0, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(name, f"must be a number, got {value!r}")
    if not math.isfinite(value) or value < low or (strict and value == low):
        raise InputError(
            name, f"must be a finite number {'>' if strict else '>='} {low}, got {value!r}"
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class FcrProduct:
    """The product's rules as the pool sees one site.

    ``duration_minutes``: full activation the SoE must sustain either way (EPRX online FCR
    asks at least 5 minutes; 15 keeps a margin for repeated activations). ``min_offer_kw``
    and ``step_kw``: the smallest capacity a site offers and its granularity (0: any).
    ``aggregator_share``: the part of the clearing price the site owner keeps.
    """

    duration_minutes: float = 15.0
    min_offer_kw: float = 1.0
    step_kw: float = 0.5
    aggregator_share: float = 0.5

    def __post_init__(self) -> None:
        if _number("fcr.duration_minutes", self.duration_minutes) < 5.0:
            raise InputError(
                "fcr.duration_minutes", f"must be >= 5 (online FCR), got {self.duration_minutes!r}"
            )
        _number("fcr.min_offer_kw", self.min_offer_kw)
        _number("fcr.step_kw", self.step_kw)
        share = _number("fcr.aggregator_share", self.aggregator_share)
        if share > 1.0:
            raise InputError("fcr.aggregator_share", f"must be in [0, 1], got {share!r}")

    @property
    def duration_hours(self) -> float:
        return self.duration_minutes / 60.0


@dataclass(frozen=True, slots=True)
class FcrBlock:
    """Slots ``[first_slot, first_slot + slots)`` of the plan; ``price``: JPY per kW per 30
    minutes (the forecast while offerable); ``awarded_kw``: None until awarded."""

    first_slot: int
    slots: int
    price: float = 0.0
    offerable: bool = False
    awarded_kw: float | None = None

    def __post_init__(self) -> None:
        for name in ("first_slot", "slots"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"fcr.block.{name}", f"must be an integer >= 0, got {value!r}")
        if self.slots == 0:
            raise InputError("fcr.block.slots", "must be >= 1")
        _number("fcr.block.price", self.price, low=-math.inf)
        if self.awarded_kw is not None:
            _number("fcr.block.awarded_kw", self.awarded_kw)
            if self.offerable:
                raise InputError("fcr.block.offerable", "an awarded block is no longer offerable")


@dataclass(frozen=True, slots=True)
class FcrMarket:
    """The product and the blocks of one horizon, in slot order, not overlapping."""

    product: FcrProduct
    blocks: tuple[FcrBlock, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.product, FcrProduct):
            raise InputError(
                "fcr.product", f"must be an FcrProduct, got {type(self.product).__name__}"
            )
        object.__setattr__(self, "blocks", tuple(self.blocks))
        end = 0
        for index, block in enumerate(self.blocks):
            if not isinstance(block, FcrBlock):
                raise InputError(f"fcr.blocks[{index}]", "must be an FcrBlock")
            if block.first_slot < end:
                raise InputError(
                    f"fcr.blocks[{index}].first_slot", "blocks overlap or are out of order"
                )
            end = block.first_slot + block.slots

    def check_horizon(self, slots: int) -> None:
        """Every block inside a horizon of ``slots`` slots (the Site calls this)."""
        for index, block in enumerate(self.blocks):
            if block.first_slot + block.slots > slots:
                raise InputError(
                    f"fcr.blocks[{index}]",
                    f"ends at slot {block.first_slot + block.slots}, after the horizon ({slots})",
                )

    def revenue_per_kw(self, block: FcrBlock, slot_hours: float) -> float:
        """What one kW offered in ``block`` earns the owner: price x share x 30-min periods."""
        return (
            block.price
            * self.product.aggregator_share
            * block.slots
            * slot_hours
            / SLOT_PRICE_HOURS
        )
