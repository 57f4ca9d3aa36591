"""The demo stack (``ha_demo``) for the browser and restart tests: real ``hass``, Mosquitto,
optimizer service and SunSpec simulator, in a temporary folder removed afterwards (logs are
printed when a test fails)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ha_demo.stack import DemoStack

CHROMIUM = Path("/usr/bin/chromium")


def chromium_or_skip() -> Path:
    """Debian's chromium; in CI its absence fails the test instead of skipping it."""
    if CHROMIUM.exists():
        return CHROMIUM
    message = "Debian's chromium is not installed (scripts/_env.sh installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _print_logs(stack: DemoStack) -> None:
    for log in sorted(stack.directory.rglob("*.log")):
        print(f"--- {log.relative_to(stack.directory)} (tail) ---")
        print(log.read_text(errors="replace")[-6000:])


@pytest.fixture
async def demo_stack(
    socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncIterator[DemoStack]:
    directory = Path(tempfile.mkdtemp(prefix="bess-ha-demo-"))
    stack = DemoStack(directory=directory)
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            _print_logs(stack)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if call.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
