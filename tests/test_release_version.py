"""One version for a release: pyproject.toml, the integration's manifest, the add-on's
config.yaml (the Supervisor pulls the image tagged with it) and the changelog's newest entry."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_manifest_addon_and_changelog_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    manifest = json.loads(
        (ROOT / "custom_components" / "bess_dispatch" / "manifest.json").read_text("utf-8")
    )
    addon = yaml.safe_load((ROOT / "addon" / "config.yaml").read_text(encoding="utf-8"))
    changelog = (ROOT / "addon" / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\S+)", changelog, re.MULTILINE)

    assert newest is not None, "addon/CHANGELOG.md has no '## <version>' entry"
    versions = {
        "pyproject.toml": project["version"],
        "manifest.json": manifest["version"],
        "addon/config.yaml": addon["version"],
        "addon/CHANGELOG.md": newest[1],
    }
    assert len(set(versions.values())) == 1, versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
