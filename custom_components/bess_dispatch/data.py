"""Typed runtime data the integration keeps on its config entry."""

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .runtime import SiteRuntime
from .site_config import SiteConfig
from .telemetry import SiteTelemetry


@dataclass(slots=True)
class BessDispatchData:
    """What one site+gateway entry holds while it is loaded."""

    config: SiteConfig  # read once at set-up; a changed option reloads the entry
    runtime: SiteRuntime
    telemetry: SiteTelemetry


type BessDispatchConfigEntry = ConfigEntry[BessDispatchData]
