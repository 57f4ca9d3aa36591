"""The protocol package must not pull in Home Assistant."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[5]


# The integration folder itself (as the optimizer's wheel maps it) and pure/ (the link
# the test and type-check configuration use).
@pytest.mark.parametrize("python_path", ["custom_components/bess_dispatch", "pure"])
def test_protocol_imports_no_homeassistant(python_path: str) -> None:
    code = (
        "import sys, bess_dispatch_core.protocol\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant')\n"
        "print(loaded)\n"
    )
    env = dict(os.environ, PYTHONPATH=python_path)
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert completed.stdout.strip() == "[]"
