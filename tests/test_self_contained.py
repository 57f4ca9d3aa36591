"""The repository stands on its own: nothing in it cites the project's source documents.

Those documents live outside the repository (beside it, for the developers only); the
contract a reader can open is the AsyncAPI document and docs/protocol.md explains it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Built from parts so that this file does not cite them itself.
OUTSIDE_NAMES = ("seeds" + "/", "PROTOCOL" + ".md", "DESIGN" + ".md")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".toml", ".sh", ".txt", ".html", ".js"}


def tracked_text_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listing.split("\0") if Path(name).suffix in TEXT_SUFFIXES]


def test_no_file_cites_documents_outside_the_repository() -> None:
    files = tracked_text_files()
    assert len(files) > 100, "git ls-files listed too few files: is this a checkout?"
    citing = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(name in line for name in OUTSIDE_NAMES)
    ]
    assert citing == []


def test_the_protocol_guide_points_at_the_contract() -> None:
    guide = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    contract = "custom_components/bess_dispatch/bess_dispatch_core/protocol/asyncapi.yaml"
    assert contract in guide
    assert (ROOT / contract).is_file()
