"""The Home Assistant configuration directory of the demo: what a user has, nothing more
(no default_config), HTTP on 127.0.0.1 only, and this repository's integration linked in."""

from __future__ import annotations

from pathlib import Path

from .processes import HOST

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "custom_components" / "bess_dispatch"

CONFIGURATION = """\
# Written by scripts/demo --ha. Location, time zone and currency come from onboarding.
homeassistant:
  name: BESS Dispatch demo
{http}frontend:
api:
auth:
onboarding:
config:
energy:
history:
recorder:
  db_url: sqlite:///{config_dir}/home-assistant_v2.db
  commit_interval: 1
logbook:
logger:
  default: warning
  logs:
    custom_components.bess_dispatch: info
    homeassistant.components.http: warning
"""
# Home Assistant 2026 moves these into its storage at the first start, as a trial that
# reverts to the defaults (every interface, port 8123) unless promoted: see promote_http.
HTTP_YAML = """\
http:
  server_host: {host}
  server_port: {port}
"""


def write_hass_config(config_dir: Path, port: int, *, http_yaml: bool = True) -> None:
    """configuration.yaml plus ``custom_components/bess_dispatch`` linked to the checkout.

    ``http_yaml=False`` once the HTTP settings live in Home Assistant's storage (a later
    start would otherwise raise the "YAML still present" repair issue)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    http = HTTP_YAML.format(host=HOST, port=port) if http_yaml else ""
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION.format(http=http, config_dir=config_dir)
    )
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / "bess_dispatch"
    if not link.is_symlink():
        link.symlink_to(INTEGRATION, target_is_directory=True)
