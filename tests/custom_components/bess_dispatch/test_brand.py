"""brand/: the icon and logos HA (2026.3+) and HACS show, by the brands repository's rules.

Since 2026.3 a custom integration ships its images in ``brand/`` and HA's ``brands``
integration serves them at ``/api/brands/integration/<domain>/<image>`` before asking the
CDN; HACS requires at least ``brand/icon.png``. The image rules are those of
home-assistant/brands: PNG; icon square, 256 px (hDPI 512 px); logo's shortest side
128-256 px (hDPI 256-512 px), landscape; transparent background preferred.
"""

from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.bess_dispatch.const import DOMAIN

BRAND = Path(__file__).resolve().parents[3] / "custom_components" / "bess_dispatch" / "brand"
# Every name HA's brands integration serves; nothing else belongs in brand/.
ALLOWED = {
    f"{dark}{kind}{scale}.png"
    for dark in ("", "dark_")
    for kind in ("icon", "logo")
    for scale in ("", "@2x")
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def open_png(name: str) -> Image.Image:
    path = BRAND / name
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{name} is not a PNG"
    image = Image.open(path)
    image.load()
    return image


def test_only_names_home_assistant_serves() -> None:
    present = {path.name for path in BRAND.iterdir()}
    assert present <= ALLOWED, present - ALLOWED
    # HACS needs icon.png; logo.png makes the integration page show a logo, not the icon.
    assert {"icon.png", "logo.png"} <= present


@pytest.mark.parametrize(("name", "side"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_icons_are_square_and_sized(name: str, side: int) -> None:
    for variant in (name, f"dark_{name}"):
        if (BRAND / variant).exists():
            image = open_png(variant)
            assert image.size == (side, side), variant
            assert image.mode == "RGBA", f"{variant}: transparent background expected"


@pytest.mark.parametrize(
    ("name", "low", "high"), [("logo.png", 128, 256), ("logo@2x.png", 256, 512)]
)
def test_logos_are_landscape_with_the_shortest_side_in_range(
    name: str, low: int, high: int
) -> None:
    for variant in (name, f"dark_{name}"):
        if (BRAND / variant).exists():
            image = open_png(variant)
            width, height = image.size
            assert width >= height, f"{variant} is not landscape"
            assert low <= height <= high, f"{variant}: shortest side {height}"
            assert image.mode == "RGBA", f"{variant}: transparent background expected"


def test_images_are_trimmed() -> None:
    """No fully transparent border rows or columns around the drawing (the logo's rule)."""
    for name in sorted(path.name for path in BRAND.iterdir() if "logo" in path.name):
        image = open_png(name)
        assert image.getbbox() == (0, 0, *image.size), name


async def test_home_assistant_serves_the_local_images(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """HA's own brands endpoint returns these files, not the CDN's (no network here)."""
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    for name in sorted(path.name for path in BRAND.iterdir()):
        response = await client.get(f"/api/brands/integration/{DOMAIN}/{name}")
        assert response.status == 200, name
        assert await response.read() == (BRAND / name).read_bytes(), name
