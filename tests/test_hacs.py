"""The repository is a valid HACS integration repository (hacs.xyz/docs/publish).

HACS checks, for an integration: hacs.json at the root with only the keys it knows and a
``name``; ``filename`` whenever ``zip_release`` is set; exactly one integration under
``custom_components/`` (or the content in the root with ``content_in_root``); its
manifest with domain, documentation, issue_tracker, codeowners, name and version; brand
images in the integration's ``brand/`` with at least ``icon.png``; a README; a license.
"""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant.const import __version__ as ha_version

REPO = Path(__file__).resolve().parents[1]
HACS_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "content_in_root": bool,
    "zip_release": bool,
    "filename": str,
    "hide_default_branch": bool,
    "country": (str, list),
    "homeassistant": str,
    "hacs": str,
    "persistent_directory": str,
    "render_readme": bool,
}
MANIFEST_REQUIRED = ("domain", "documentation", "issue_tracker", "codeowners", "name", "version")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def hacs() -> dict[str, Any]:
    loaded: dict[str, Any] = load_json(REPO / "hacs.json")
    return loaded


def integration_dir() -> Path:
    if hacs().get("content_in_root"):
        return REPO
    found = [path for path in (REPO / "custom_components").iterdir() if path.is_dir()]
    found = [path for path in found if path.name != "__pycache__"]
    # HACS manages only the first; a second one would silently be ignored.
    assert len(found) == 1, found
    return found[0]


def test_hacs_json_has_a_name_and_only_known_keys_of_the_right_type() -> None:
    data = hacs()
    assert isinstance(data.get("name"), str)
    assert data["name"].strip()
    assert set(data) <= set(HACS_KEYS), set(data) - set(HACS_KEYS)
    for key, value in data.items():
        assert isinstance(value, HACS_KEYS[key]), key


def test_zip_release_names_its_file() -> None:
    data = hacs()
    if data.get("zip_release"):
        assert data.get("filename"), "zip_release needs filename"


def test_country_codes_are_two_letters() -> None:
    country = hacs().get("country")
    codes = [] if country is None else [country] if isinstance(country, str) else country
    for code in codes:
        assert re.fullmatch(r"[A-Z]{2}", code.upper()), code


def test_minimum_home_assistant_is_a_version_and_the_one_the_tests_run() -> None:
    minimum = hacs()["homeassistant"]
    assert AwesomeVersion(minimum).strategy is not AwesomeVersionStrategy.UNKNOWN
    assert minimum == ha_version


def test_one_integration_with_everything_inside_it() -> None:
    component = integration_dir()
    assert (component / "manifest.json").is_file()
    assert (component / "__init__.py").is_file()
    assert load_json(component / "manifest.json")["domain"] == component.name


def test_manifest_has_what_hacs_requires() -> None:
    manifest = load_json(integration_dir() / "manifest.json")
    for key in MANIFEST_REQUIRED:
        assert manifest.get(key), key
    assert isinstance(manifest["codeowners"], list)
    for key in ("documentation", "issue_tracker"):
        assert urlparse(manifest[key]).scheme in ("http", "https"), key
    assert AwesomeVersion(manifest["version"]).strategy is not AwesomeVersionStrategy.UNKNOWN


def test_brand_icon_is_shipped() -> None:
    assert (integration_dir() / "brand" / "icon.png").is_file()


def test_readme_and_license() -> None:
    assert (REPO / "README.md").is_file()
    assert (REPO / "LICENSE").read_text(encoding="utf-8").strip()
