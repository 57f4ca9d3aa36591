"""The sheet that tells the owner how each gateway logs in to the own broker.

Written to the add-on's config folder (``/addon_configs/<repo>_bess_dispatch/`` on the
host, ``/config`` inside the add-on), readable with the File editor or Samba add-on: the
only place generated gateway passwords appear. They are never written to the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from optimizer.settings.site import SiteSettings

SHEET_FILE = "gateway_credentials.yaml"


def render_gateway_sheet(
    sites: Iterable[SiteSettings],
    credentials: Mapping[str, str],
    *,
    hostname: str,
    port: int,
    tls_port: int | None,
) -> str:
    """YAML text, one block per site, with what the integration's broker settings need."""
    lines = [
        "# BESS Dispatch add-on: how each gateway (the BESS Dispatch integration) logs in to",
        "# the add-on's own MQTT broker. Regenerated at every add-on start.",
        "# Inside Home Assistant use the host below; from another machine, the Home Assistant",
        "# host's address and the host port set in the add-on's Network section.",
        "# Keep this file private: it holds passwords.",
    ]
    for site in sites:
        # JSON strings are valid YAML scalars and quote whatever needs quoting.
        lines += [
            f"{site.site_id}:",
            f"  gateway_id: {json.dumps(site.gateway_id)}",
            f"  host: {json.dumps(hostname)}",
            f"  port: {port}",
        ]
        if tls_port is not None:
            lines.append(f"  tls_port: {tls_port}")
        lines += [
            f"  username: {json.dumps(site.gateway_username)}",
            f"  password: {json.dumps(credentials[site.gateway_username])}",
        ]
    return "\n".join(lines) + "\n"
