"""Typed runtime data the integration keeps on its config entry."""

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .bess_dispatch_core.protocol.metrics import UseCase
from .runtime import SiteRuntime
from .telemetry import SiteTelemetry


@dataclass(slots=True)
class BessDispatchData:
    """What one site+gateway entry holds while it is loaded."""

    use_case: UseCase
    has_load: bool
    runtime: SiteRuntime
    telemetry: SiteTelemetry


type BessDispatchConfigEntry = ConfigEntry[BessDispatchData]
