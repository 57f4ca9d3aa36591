"""A site's PV forecast from a Home Assistant solar forecast entity, read like the price entity.

``GET /api/states/<entity>`` through HA's REST API (the Supervisor's proxy in the add-on);
the attributes are read by :func:`optimizer.forecast.pv_entity.pv_from_attributes`. Every
failure is a :class:`~optimizer.forecast.pv_entity.PvForecastError` naming the entity: the
planner then plans on the site's own forecast and says why in an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from bess_dispatch_core.protocol.alert import Severity
from optimizer.forecast.pv_entity import PvForecastError, pv_from_attributes
from optimizer.settings.service_config import HomeAssistantApi
from optimizer.site import FloatArray

from .ha_state import EntityStateReader, StateReadError
from .plan_alerts import PV_FORECAST_UNAVAILABLE, PlanAlert


class EntityPvForecast:
    """The PV forecast of one entity; read on every planning round (HA keeps it current)."""

    def __init__(
        self,
        api: HomeAssistantApi,
        entity_id: str,
        *,
        kwp: float | None,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._reader = EntityStateReader(
            api, entity_id, field="pv_forecast_entity", token=token, timeout=timeout
        )
        self.entity_id = entity_id
        self._kwp = kwp

    def pv_kw(self, slot_starts: Sequence[datetime]) -> FloatArray:
        """PV kW per slot; NaN where the entity does not cover it."""
        try:
            document = self._reader.read()
        except StateReadError as error:
            raise PvForecastError(str(error)) from error
        try:
            return pv_from_attributes(document.get("attributes"), slot_starts, kwp=self._kwp)
        except PvForecastError as error:
            raise PvForecastError(f"pv_forecast_entity: {self.entity_id} {error}") from None


def with_entity_pv(
    own_kw: FloatArray, source: EntityPvForecast, slot_starts: Sequence[datetime]
) -> tuple[FloatArray, PlanAlert | None]:
    """The entity's PV where it covers, ``own_kw`` elsewhere; all ``own_kw`` and an alert
    saying why when the entity cannot be used."""
    try:
        given = source.pv_kw(slot_starts)
    except PvForecastError as error:
        reason = str(error)
    else:
        if not np.isnan(given).all():
            return np.where(np.isnan(given), own_kw, given), None
        reason = f"pv_forecast_entity: {source.entity_id} covers none of the horizon"
    alert = PlanAlert(
        PV_FORECAST_UNAVAILABLE, Severity.WARNING, f"{reason}; the own PV forecast is used"
    )
    return own_kw, alert
