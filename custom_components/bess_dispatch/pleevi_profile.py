"""The Pleevi telemetry profile of one entry: its options, asset ids and device entry.

:class:`~.site_config.SiteConfig` reads the options once (``pleevi``) and builds the device
entry; this module holds no Home Assistant object.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .bess_dispatch_core.pleevi import (
    BatteryDeviceEntry,
    PleeviTopicTemplate,
    battery_device_entry,
)
from .bess_dispatch_core.pleevi.assets import AssetKind
from .bess_dispatch_core.pleevi.measurer import PleeviMeasurer
from .bess_dispatch_core.pleevi.topic import DEFAULT_TEMPLATE

# Options: which telemetry profile the gateway sends (today's protocol by default).
CONF_TELEMETRY_PROFILE: Final = "telemetry_profile"
PROFILE_PROTOCOL: Final = "protocol"
PROFILE_PLEEVI: Final = "pleevi"
CONF_PLEEVI_TOPIC_TEMPLATE: Final = "pleevi_topic_template"
DEFAULT_PLEEVI_TOPIC_TEMPLATE: Final = DEFAULT_TEMPLATE


@dataclass(frozen=True, slots=True)
class PleeviSettings:
    """The entry's Pleevi profile; None from :func:`pleevi_settings` means the protocol."""

    topic_template: PleeviTopicTemplate


def pleevi_settings(options: Mapping[str, Any]) -> PleeviSettings | None:
    """PleeviValueError names ``topic_template`` when the stored template is bad."""
    if options.get(CONF_TELEMETRY_PROFILE, PROFILE_PROTOCOL) != PROFILE_PLEEVI:
        return None
    template = options.get(CONF_PLEEVI_TOPIC_TEMPLATE) or DEFAULT_PLEEVI_TOPIC_TEMPLATE
    return PleeviSettings(PleeviTopicTemplate(template))


def asset_id(site_id: str, kind: AssetKind) -> str:
    """Stable and language-free (device names are translated): ``site-1-battery``."""
    return f"{site_id}-{kind.value}"


def asset_ids(site_id: str) -> dict[AssetKind, str]:
    return {kind: asset_id(site_id, kind) for kind in AssetKind}


def device_entry(
    *,
    site_id: str,
    gateway_id: str,
    capacity_kwh: float,
    max_charge_kw: float,
    max_discharge_kw: float,
) -> BatteryDeviceEntry:
    """The battery's device_list entry from the site's own configuration.

    The integration knows no efficiencies or priorities: this profile's defaults (0.95 one
    way, priority 5) are used; the owner's SoE window is a hard limit of the gateway, not
    a Pleevi policy, so ``policies`` is empty. PleeviValueError names a field out of range.
    """
    return battery_device_entry(
        name=asset_id(site_id, AssetKind.BATTERY),
        collector=gateway_id,
        capacity_kwh=capacity_kwh,
        max_charge_kw=max_charge_kw,
        max_discharge_kw=max_discharge_kw,
    )


def measurer(site_id: str, capacity_kwh: float, settings: PleeviSettings) -> PleeviMeasurer:
    return PleeviMeasurer(
        site_id=site_id,
        asset_ids=asset_ids(site_id),
        capacity_kwh=capacity_kwh,
        topic_template=settings.topic_template,
    )
