"""Import prices for the planner: a day-ahead file or URL, a static ToU table, or an HA entity.

Every source answers ``prices(slot_starts)`` (one price per 30-minute slot) and ``version()``,
which changes when new prices arrive so the service re-plans. Slots past the last known
price take the price of the same slot on the latest day that has one (a persistence guess,
re-planned as soon as the day-ahead prices are published).

``quote(slot_starts)`` also says which of those prices can be trusted: a published price, or
the same slot at most :data:`MAX_REPEAT_DAYS` days earlier (what the service always guessed
while tomorrow's prices are not out: JEPX publishes day D+1 at about 10:00 on day D, so a
working feed always covers the 48-hour horizon this way). A feed that stops leaves the
later slots untrusted, and the planner runs the self-consumption rule there.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from optimizer.settings.service_config import HomeAssistantApi
from optimizer.settings.tariff import SpotFormat, TariffKind, TariffSettings, TouPeriod
from optimizer.site import FloatArray

from .ha_state import EntityStateReader, StateReadError

SLOT = timedelta(minutes=30)
JST = ZoneInfo("Asia/Tokyo")
_JEPX_PRICE_COLUMNS = ("エリアプライス東京", "システムプライス")
# No real tariff comes near this (JEPX's record is ~250 JPY/kWh); a price of 1e300 is a
# broken source, and the solver would plan on it as if it were real.
MAX_ABS_PRICE_PER_KWH = 1e4
MAX_REPEAT_DAYS = 2


class PriceError(ValueError):
    """Prices cannot be read; the message names the source and the field."""


BoolArray = npt.NDArray[np.bool_]


class PriceSource(Protocol):
    def prices(self, slot_starts: Sequence[datetime]) -> FloatArray: ...

    def quote(self, slot_starts: Sequence[datetime]) -> tuple[FloatArray, BoolArray]:
        """The prices, and per slot whether it is published or a short repeat (trusted)."""
        ...

    def version(self) -> str: ...


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class PriceTable:
    """Known prices by slot start (UTC); unknown slots repeat the latest known day.

    Every slot gets a price (the plan page and the economics show one); whether the planner
    may use it is ``quote``'s second answer.
    """

    def __init__(self, prices: dict[datetime, float], name: str) -> None:
        if not prices:
            raise PriceError(f"{name}: no prices")
        self._prices = {_utc(start): price for start, price in prices.items()}
        self.name = name
        self._starts = sorted(self._prices)
        self._last = self._starts[-1]

    def prices(self, slot_starts: Sequence[datetime]) -> FloatArray:
        return self.quote(slot_starts)[0]

    def quote(self, slot_starts: Sequence[datetime]) -> tuple[FloatArray, BoolArray]:
        result = np.empty(len(slot_starts))
        trusted = np.empty(len(slot_starts), dtype=np.bool_)
        for index, start in enumerate(slot_starts):
            moment = _utc(start)
            # Whole days back to the latest day with prices (one step, not a day-by-day walk:
            # a feed that stopped years ago must not cost a loop per day).
            repeats = max(math.ceil((moment - self._last) / timedelta(days=1)), 0)
            moment -= repeats * timedelta(days=1)
            price = self._prices.get(moment)
            if price is None:
                # A hole in the table, or a partial day repeated: the nearest earlier price
                # (the earliest if none) stands in, untrusted, for the page and the economics.
                at = bisect.bisect_right(self._starts, moment)
                result[index] = self._prices[self._starts[max(at - 1, 0)]]
                trusted[index] = False
                continue
            result[index] = price
            trusted[index] = repeats <= MAX_REPEAT_DAYS
        return result, trusted

    def version(self) -> str:
        return f"{self.name}@{self._last.isoformat()}#{len(self._prices)}"


def _price(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PriceError(f"{where}: price {text[:40]!r} is not a number") from None
    return plausible_price(value, where)


def plausible_price(value: float, where: str) -> float:
    """``value`` if it is a price a tariff can have; else PriceError naming ``where``."""
    if not math.isfinite(value):
        raise PriceError(f"{where}: price {value!r} is not finite")
    if abs(value) > MAX_ABS_PRICE_PER_KWH:
        raise PriceError(f"{where}: price {value:.6g} per kWh is beyond ±{MAX_ABS_PRICE_PER_KWH:g}")
    return value


def parse_timestamp_price_csv(text: str, name: str) -> PriceTable:
    """Rows ``timestamp,price`` (ISO-8601 with offset); a header row is skipped."""
    prices: dict[datetime, float] = {}
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip():
            continue
        where = f"{name} line {line_number}"
        try:
            start = datetime.fromisoformat(row[0].strip())
        except ValueError:
            if line_number == 1:
                continue  # header
            raise PriceError(f"{where}: timestamp {row[0]!r} is not ISO-8601") from None
        if start.tzinfo is None:
            raise PriceError(f"{where}: timestamp {row[0]!r} needs a UTC offset")
        if len(row) < 2:
            raise PriceError(f"{where}: price column missing")
        prices[start] = _price(row[1].strip(), where)
    return PriceTable(prices, name)


def parse_jepx_csv(text: str, name: str) -> PriceTable:
    """JEPX spot CSV: 受渡日 (YYYY/MM/DD), 時刻コード (1..48), area prices in JPY/kWh, JST.

    The Tokyo area price is used, or the system price when the file has no Tokyo column.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise PriceError(f"{name}: empty file")
    header = [cell.strip() for cell in rows[0]]
    column = next(
        (i for wanted in _JEPX_PRICE_COLUMNS for i, cell in enumerate(header) if wanted in cell),
        None,
    )
    if column is None or len(header) < 2:
        raise PriceError(f"{name}: header has no エリアプライス東京 or システムプライス column")
    prices: dict[datetime, float] = {}
    for line_number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        where = f"{name} line {line_number}"
        try:
            day = date.fromisoformat(row[0].strip().replace("/", "-"))
            code = int(row[1])
        except (ValueError, IndexError):
            raise PriceError(
                f"{where}: 受渡日/時刻コード {row[:2]!r} are not a date and slot"
            ) from None
        if not 1 <= code <= 48:
            raise PriceError(f"{where}: 時刻コード {code} is not in 1..48")
        start = datetime(day.year, day.month, day.day, tzinfo=JST) + (code - 1) * SLOT
        prices[start] = _price(row[column].strip() if column < len(row) else "", where)
    return PriceTable(prices, name)


class SpotFilePrices:
    """A day-ahead price file or URL, read again at most every ``refresh``."""

    def __init__(
        self,
        source: str,
        layout: SpotFormat,
        clock: Callable[[], datetime],
        refresh: timedelta = timedelta(hours=1),
    ) -> None:
        self._source = source
        self._layout = layout
        self._clock = clock
        self._refresh = refresh
        self._table: PriceTable | None = None
        self._read_at: datetime | None = None

    def _read_text(self) -> str:
        if self._source.startswith(("http://", "https://")):
            with urllib.request.urlopen(self._source, timeout=10) as response:
                body: bytes = response.read()
            return body.decode("utf-8-sig", errors="replace")
        try:
            return Path(self._source).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise PriceError(f"tariff.spot_source: {self._source} ({error.strerror})") from error

    def table(self) -> PriceTable:
        now = self._clock()
        if self._table is None or self._read_at is None or now - self._read_at >= self._refresh:
            text = self._read_text()
            parse = parse_jepx_csv if self._layout is SpotFormat.JEPX else parse_timestamp_price_csv
            self._table = parse(text, self._source)
            self._read_at = now
        return self._table

    def prices(self, slot_starts: Sequence[datetime]) -> FloatArray:
        return self.table().prices(slot_starts)

    def quote(self, slot_starts: Sequence[datetime]) -> tuple[FloatArray, BoolArray]:
        return self.table().quote(slot_starts)

    def version(self) -> str:
        return self.table().version()


class TouPrices:
    """A static time-of-use table in local time (the add-on options' ``tou_periods``)."""

    def __init__(self, periods: Sequence[TouPeriod], timezone: str) -> None:
        if not periods:
            raise PriceError("tariff.tou_periods: at least one period is required")
        for index, period in enumerate(periods):
            plausible_price(period.price, f"tariff.tou_periods[{index}]")
        self._periods = tuple(periods)
        self._zone = ZoneInfo(timezone)

    def price_at(self, moment: datetime) -> float:
        local = moment.astimezone(self._zone)
        minute = local.hour * 60 + local.minute
        for period in self._periods:
            start, end = period.start_minute, period.end_minute
            inside = start <= minute < end if start < end else minute >= start or minute < end
            if inside:
                return period.price
        raise PriceError(f"tariff.tou_periods: no period covers {local:%H:%M}")

    def prices(self, slot_starts: Sequence[datetime]) -> FloatArray:
        return np.array([self.price_at(start) for start in slot_starts], dtype=np.float64)

    def quote(self, slot_starts: Sequence[datetime]) -> tuple[FloatArray, BoolArray]:
        """A static table is known for every slot."""
        return self.prices(slot_starts), np.ones(len(slot_starts), dtype=np.bool_)

    def version(self) -> str:
        return "tou"


class EntityPrices:
    """A Home Assistant entity read through the REST API (``GET /api/states/<entity>``).

    The state is the current price. When the entity also lists future prices in an
    attribute (``prices``, ``forecast``, ``raw_today`` + ``raw_tomorrow``: items with a
    ``start`` and a ``price`` or ``value``) those are used, and a slot past the list takes the
    same slot up to :data:`MAX_REPEAT_DAYS` days earlier; a slot further out takes the current
    price and is untrusted. An entity that lists nothing is a flat price: the current price
    holds, trusted, for the whole horizon.
    """

    def __init__(
        self,
        api: HomeAssistantApi,
        entity_id: str,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._reader = EntityStateReader(
            api, entity_id, field="tariff.entity_id", token=token, timeout=timeout
        )
        self._entity = entity_id
        self._last: tuple[float, dict[datetime, float], str] | None = None

    def fetch(self) -> tuple[float, dict[datetime, float], str]:
        try:
            document = self._reader.read()
        except StateReadError as error:
            raise PriceError(str(error)) from error
        state = str(document.get("state"))
        try:
            current = float(state)
        except ValueError:
            raise PriceError(f"tariff.entity_id: state {state[:40]!r} is not a price") from None
        plausible_price(current, f"tariff.entity_id: {self._entity} state")
        future = _attribute_prices(document.get("attributes"), self._entity)
        self._last = (current, future, f"{state}@{document.get('last_updated')}")
        return self._last

    def prices(self, slot_starts: Sequence[datetime]) -> FloatArray:
        return self.quote(slot_starts)[0]

    def quote(self, slot_starts: Sequence[datetime]) -> tuple[FloatArray, BoolArray]:
        current, future, _version = self.fetch()
        result = np.full(len(slot_starts), current)
        if not future:
            return result, np.ones(len(slot_starts), dtype=np.bool_)
        table = {_utc(start): price for start, price in future.items()}
        trusted = np.zeros(len(slot_starts), dtype=np.bool_)
        trusted[:1] = True  # the state is the current slot's price
        for index, start in enumerate(slot_starts):
            for back in range(MAX_REPEAT_DAYS + 1):
                price = table.get(_utc(start) - back * timedelta(days=1))
                if price is not None:
                    result[index], trusted[index] = price, True
                    break
        return result, trusted

    def version(self) -> str:
        return (self._last or self.fetch())[2]


def _attribute_prices(attributes: object, entity: str) -> dict[datetime, float]:
    if not isinstance(attributes, dict):
        return {}
    items: list[object] = []
    for key in ("prices", "forecast", "raw_today", "raw_tomorrow"):
        value = attributes.get(key)
        if isinstance(value, list):
            items += value
    result: dict[datetime, float] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        start, price = item.get("start"), item.get("price", item.get("value"))
        if not isinstance(start, str) or not isinstance(price, int | float):
            continue
        try:
            moment = datetime.fromisoformat(start)
        except ValueError:
            continue
        if moment.tzinfo is not None:
            result[moment] = plausible_price(float(price), f"tariff.entity_id: {entity} {start}")
    return result


def price_source(
    tariff: TariffSettings,
    *,
    timezone: str,
    clock: Callable[[], datetime],
    home_assistant: HomeAssistantApi,
) -> PriceSource:
    """The source the add-on options describe."""
    if tariff.kind is TariffKind.TOU:
        return TouPrices(tariff.tou_periods, timezone)
    if tariff.kind is TariffKind.ENTITY:
        if tariff.entity_id is None:
            raise PriceError("tariff.entity_id: required for kind entity")
        return EntityPrices(home_assistant, tariff.entity_id)
    if tariff.spot_source is None:
        raise PriceError("tariff.spot_source: required for kind spot_file")
    return SpotFilePrices(tariff.spot_source, tariff.spot_format, clock)
