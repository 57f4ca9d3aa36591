"""Home Assistant's own UI in a real Chromium (Debian's, driven by Playwright): an installer
adds BESS Dispatch through Settings > Devices & services, a wrong broker password is refused
with its message, the device page shows live values, the Control mode select drives the
simulated inverter over Modbus, and the plan page opens. Screenshots go to artifacts/ha-ui/."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ha_demo.dashboards import DASHBOARD_URL_PATH
from ha_demo.site_setup import device_answers
from ha_demo.stack import DemoStack

from .conftest import chromium_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "ha-ui"
UI_TIMEOUT_MS = 30_000
SETPOINT_KW = 2.0
T = TypeVar("T")
# The accessible text of the device page's sensor list, e.g. "State of charge 50.2%".
LIVE_SOC = re.compile(r"State of charge \d{1,3}(\.\d)?%")


def until(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


async def test_installer_sets_up_and_controls_the_battery_in_the_browser(
    demo_stack: DemoStack,
) -> None:
    chromium = chromium_or_skip()
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    # Playwright's sync API in a thread: its asyncio driver does not run under this test
    # harness's event loop. Stack calls go back to the loop that owns the stack.
    await asyncio.to_thread(walk_through_the_ui, demo_stack, chromium, loop)
    print(f"browser test took {time.monotonic() - started:.0f} s")


def walk_through_the_ui(stack: DemoStack, chromium: Path, loop: asyncio.AbstractEventLoop) -> None:
    from playwright.sync_api import expect, sync_playwright

    def call(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(UI_TIMEOUT_MS)
        expect.set_options(timeout=UI_TIMEOUT_MS)

        def shot(name: str) -> None:
            page.screenshot(path=SHOTS / f"{name}.png")

        try:
            # --- log in ----------------------------------------------------------------------
            page.goto(f"{stack.url}/")
            page.get_by_role("textbox", name="Username").fill(stack.owner.username)
            page.get_by_role("textbox", name="Password").fill(stack.owner.password)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_text("Settings")).to_be_visible()

            # --- Settings > Devices & services > Add integration > BESS Dispatch --------------
            page.goto(f"{stack.url}/config/integrations/dashboard")
            page.get_by_role("button", name="Add integration").click()
            page.get_by_placeholder("Search for a brand name").fill("BESS Dispatch")
            page.get_by_text("BESS Dispatch", exact=True).first.click()

            expect(page.get_by_text("Site and gateway", exact=True)).to_be_visible()
            field(page, "Site ID").fill(stack.site.site_id)
            field(page, "Gateway ID").fill(stack.site.gateway_id)
            page.get_by_role("radio", name="AC-link").check()
            # A home: the load comes from the balance at the SunSpec meter.
            expect(page.get_by_role("switch").first).to_be_checked()
            shot("01-site-and-gateway")
            page.get_by_role("button", name="Submit").click()

            expect(field(page, "Usable capacity")).to_be_visible()
            field(page, "Usable capacity").fill(str(stack.site.capacity_kwh))
            field(page, "Maximum charge power").fill(str(stack.site.max_charge_kw))
            field(page, "Maximum discharge power").fill(str(stack.site.max_discharge_kw))
            field(page, "Maximum state of charge").fill(str(int(stack.site.max_soe_percent)))
            page.get_by_role("button", name="Submit").click()

            page.get_by_text("A SunSpec device over Modbus TCP").click()
            device = device_answers(stack.device)
            field(page, "Host").fill(device["source_host"])
            field(page, "Port").fill(str(device["source_port"]))
            field(page, "Poll interval").fill(str(device["source_interval_s"]))
            shot("02-sunspec-device")
            page.get_by_role("button", name="Submit").click()

            page.get_by_text("Another broker").click()
            field(page, "Broker host").fill(stack.broker.host)
            field(page, "Port").fill(str(stack.broker.port))
            field(page, "Username").fill(stack.site.gateway_username)
            field(page, "Password").fill("not-the-password")
            page.get_by_role("button", name="Submit").click()
            expect(page.get_by_text("The broker refused the username or password.")).to_be_visible()
            shot("03-wrong-broker-password")
            field(page, "Password").fill(stack.services.gateway_password)
            page.get_by_role("button", name="Submit").click()
            # The entry exists: HA offers to name the new devices and assign areas.
            expect(page.get_by_text("Name and assign")).to_be_visible()
            expect(page.get_by_text("EMS gateway").first).to_be_visible()
            shot("04-created")
            page.get_by_role("button", name="Skip and finish").click()

            entries = call(
                stack.client.request("GET", "/api/config/config_entries/entry?domain=bess_dispatch")
            )
            assert [e["title"] for e in entries] == ["home / gateway"]
            stack.entry_id = entries[0]["entry_id"]
            # Options (decisions to the inverter over Modbus) and the dashboards, by API.
            call(stack.finish_site_setup())

            # --- the battery's device page: live values ---------------------------------------
            devices = call(stack.client.ws("config/device_registry/list"))
            battery = next(
                d
                for d in devices
                if stack.entry_id in d["config_entries"] and d["name"].startswith("Battery")
            )
            page.goto(f"{stack.url}/config/devices/device/{battery['id']}")
            expect(page.get_by_text("State of charge").first).to_be_visible()
            # A live reading from the simulator: the SoC as a percentage on the page.
            until(
                lambda: LIVE_SOC.search(page.locator("body").aria_snapshot()),
                "a state of charge reading on the device page",
            )
            expect(page.get_by_text("Control mode").first).to_be_visible()
            shot("05-battery-device")

            # --- manual setpoint through the Control mode select ------------------------------
            assert stack.simulator is not None
            simulation = stack.simulator.simulation
            setpoint = page.locator(
                "hui-number-entity-row", has_text="Manual setpoint"
            ).get_by_role("spinbutton")
            setpoint.fill(str(SETPOINT_KW))
            setpoint.press("Enter")
            page.locator("hui-select-entity-row", has_text="Control mode").locator(
                "ha-select"
            ).click()
            page.get_by_role("menuitem", name="Setpoint", exact=True).click()
            until(
                lambda: state(stack, call, "effective_mode") == "setpoint",
                "the effective mode sensor to show setpoint",
            )
            assert state(stack, call, "control_source") == "manual"
            # The inverter's model 124 controls: charge limited to +2 kW of 5 kW (40 %).
            until(
                lambda: simulation.storctl_mod & 1 and abs(simulation.in_rate_percent - 40) < 1,
                "the simulator's InWRte register to carry the 2 kW setpoint",
            )
            until(lambda: abs(simulation.battery_power_w - 2000) < 50, "the battery to follow")
            page.reload()
            until(
                lambda: "Effective mode Setpoint" in page.locator("body").aria_snapshot(),
                "the device page to show the effective mode Setpoint",
            )
            shot("06-manual-setpoint")

            # --- the dashboards and the plan page --------------------------------------------
            page.goto(f"{stack.url}/{DASHBOARD_URL_PATH}/battery")
            expect(page.get_by_text("Open the battery plan")).to_be_visible()
            shot("07-dashboard")
            page.goto(stack.services.plan_url)
            expect(page.get_by_role("heading", name="BESS Dispatch: plan")).to_be_visible()
            shot("08-plan-page")
        except Exception:
            shot("failure")
            (SHOTS / "failure-aria.txt").write_text(page.locator("body").aria_snapshot())
            raise
        finally:
            browser.close()


def field(page: Any, name: str) -> Any:
    """A text or number input by its accessible name (HA's forms label them, not <label>)."""
    exact = re.compile(rf"^{re.escape(name)}\*?$")
    return (
        page.get_by_role("textbox", name=exact).or_(page.get_by_role("spinbutton", name=exact))
    ).first


def state(stack: DemoStack, call: Callable[[Any], Any], key: str) -> str:
    answer: str = call(stack.client.state(stack.entities[key]))["state"]
    return answer
