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
http:
  server_host: {host}
  server_port: {port}
frontend:
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


def write_hass_config(config_dir: Path, port: int) -> None:
    """configuration.yaml plus ``custom_components/bess_dispatch`` linked to the checkout."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION.format(host=HOST, port=port, config_dir=config_dir)
    )
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / "bess_dispatch"
    if not link.is_symlink():
        link.symlink_to(INTEGRATION, target_is_directory=True)
