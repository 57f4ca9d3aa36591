"""The Pleevi telemetry profile of one entry: its settings, asset ids and device entry.

Kept apart from Home Assistant objects: it reads the entry's data and options as plain
mappings, so the round trip (integration configuration -> Pleevi device entry -> optimizer
site) is testable without a running Home Assistant as well as through the action.
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

# Keys of the entry's data (const.py names them too; repeated here to keep this module
# free of the rest of the integration).
_SITE_ID = "site_id"
_GATEWAY_ID = "gateway_id"
_USABLE_KWH = "usable_kwh"
_MAX_CHARGE_KW = "max_charge_kw"
_MAX_DISCHARGE_KW = "max_discharge_kw"


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


def device_entry(data: Mapping[str, Any]) -> BatteryDeviceEntry:
    """The battery's device_list entry from the entry's own configuration.

    The integration knows no efficiencies or priorities: Pleevi's defaults of this profile
    (0.95 one way, priority 5) are used; the owner's SoE window is a hard limit of the
    gateway, not a Pleevi policy, so ``policies`` is empty.
    """
    return battery_device_entry(
        name=asset_id(data[_SITE_ID], AssetKind.BATTERY),
        collector=data[_GATEWAY_ID],
        capacity_kwh=float(data[_USABLE_KWH]),
        max_charge_kw=float(data[_MAX_CHARGE_KW]),
        max_discharge_kw=float(data[_MAX_DISCHARGE_KW]),
    )


def measurer(data: Mapping[str, Any], settings: PleeviSettings) -> PleeviMeasurer:
    site_id = data[_SITE_ID]
    return PleeviMeasurer(
        site_id=site_id,
        asset_ids=asset_ids(site_id),
        capacity_kwh=float(data[_USABLE_KWH]),
        topic_template=settings.topic_template,
    )
