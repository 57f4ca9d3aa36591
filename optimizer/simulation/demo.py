"""``python -m optimizer demo``: broker + optimizer service + simulated site, one day.

Starts Mosquitto on a free 127.0.0.1 port in a temporary directory, the service (test
mode: it answers every telemetry message) and a simulated site driven by the gateway's own
Dispatcher and TelemetryPipeline, runs one day in accelerated time, prints what happened
and writes a plot. Built-in sample profiles by default; ``--data DIR`` uses the real Tokyo
series (JEPX, TEPCO PV, CAMSL load) for ``--day``.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from optimizer.baselines import no_battery, self_consumption_rule
from optimizer.service.planner import build_site
from optimizer.simulation.day_run import DayRun, demo_config, sample_site
from optimizer.simulation.sample_profiles import DayProfiles, sample_days, tokyo_days
from optimizer.simulation.simulated_site import SimulatedSite

TOKYO = ZoneInfo("Asia/Tokyo")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise SystemExit("demo: mosquitto not found (install it, or run through scripts/demo)")
    return found


class LocalBroker:
    """A throw-away Mosquitto: anonymous, loopback only, in a temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        config = directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"log_dest file {directory / 'mosquitto.log'}\n",
            encoding="utf-8",
        )
        self.process = subprocess.Popen(
            [find_mosquitto(), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise SystemExit("demo: mosquitto did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def baseline_costs(site: SimulatedSite, day: DayProfiles, soe_start: float) -> tuple[float, float]:
    """Energy cost of the same day with no battery and with the self-consumption rule."""
    problem = build_site(
        site.settings,
        soe_start,
        prices=day.import_price,
        export_price=day.export_price,
        pv_kw=day.pv_kw,
        load_kw=day.load_kw,
    )
    rule = self_consumption_rule(problem)
    return no_battery(problem).energy_cost, rule.energy_cost + _stored_value(
        problem.battery.terminal_value_per_kwh, soe_start, float(rule.soe_kwh[-1])
    )


def _stored_value(price: float, soe_start: float, soe_end: float) -> float:
    """Cost of energy taken out of the battery over the day (negative when it ends fuller)."""
    return price * (soe_start - soe_end)


def plot(site: SimulatedSite, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = [item.start.astimezone(TOKYO) for item in site.executed]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    top.step(times, [i.pv_kw for i in site.executed], where="post", label="PV kW", color="orange")
    top.step(times, [i.load_kw for i in site.executed], where="post", label="load kW", color="grey")
    top.step(
        times, [i.battery_kw for i in site.executed], where="post", label="battery kW (+charge)"
    )
    top.step(
        times,
        [i.grid_kw for i in site.executed],
        where="post",
        label="grid kW (+import)",
        color="purple",
    )
    top.legend(loc="upper left", fontsize=8)
    top.set_ylabel("kW")
    price_axis = top.twinx()
    price_axis.step(times, [i.price for i in site.executed], where="post", color="red", alpha=0.4)
    price_axis.set_ylabel("import price JPY/kWh", color="red")
    bottom.plot(times, [i.soe_end_kwh for i in site.executed], label="SoE kWh", color="green")
    bottom.axhline(site.limits.soe_min_kwh, color="green", linestyle=":")
    bottom.axhline(site.limits.soe_max_kwh, color="green", linestyle=":")
    bottom.set_ylabel("kWh")
    bottom.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"BESS Dispatch demo: {site.settings.site_id}, one simulated day")
    fig.autofmt_xdate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_demo(args: argparse.Namespace) -> int:
    start_wall = time.monotonic()
    first = datetime.fromisoformat(args.day).replace(tzinfo=TOKYO) - timedelta(days=1)
    profiles = tokyo_days(args.data, first) if args.data else sample_days(first)
    history, day = profiles.day(0), profiles.day(1)
    settings = sample_site()
    soe_start = settings.battery_capacity_kwh * 0.5
    with tempfile.TemporaryDirectory(prefix="bess-demo-") as temporary:
        directory = Path(temporary)
        broker = LocalBroker(directory)
        price_file = directory / "prices.csv"
        profiles.write_price_csv(price_file)
        config = demo_config(
            host="127.0.0.1",
            port=broker.port,
            state_dir=directory / "state",
            price_file=price_file,
            sites=(settings,),
            export_price=day.export_price,
        )
        print(f"broker: mosquitto on 127.0.0.1:{broker.port}; site {settings.site_id}")
        run = DayRun.create(config, day, soe_kwh=soe_start, start=day.start, history=history)
        try:
            run.start()

            def progress(now: datetime) -> None:
                local = now.astimezone(TOKYO)
                if local.minute == 0 and local.hour % 3 == 0:
                    status = run.service.status(settings.site_id)
                    print(
                        f"  {local:%H:%M}  SoE {run.site.soe_kwh:5.2f} kWh  "
                        f"commands received {len(run.site.received):3d}  "
                        f"telemetry sent {run.site.sent_telemetry:5d}  "
                        f"last p2 {status.layers['p2']}"
                    )

            run.run(day.start, day.start + timedelta(days=1) - timedelta(minutes=5), progress)
        finally:
            run.stop()
            broker.stop()
    site = run.site
    print("\nschedule layers received (accepted/total):")
    for priority in sorted({r.priority for r in site.received if r.priority is not None}):
        items = [r for r in site.received if r.priority is priority]
        accepted = sum(r.accepted for r in items)
        print(f"  p{int(priority)}: {accepted}/{len(items)}")
    hours: dict[str, float] = {}
    for item in site.executed:
        key = f"{item.mode.value} ({item.source})"
        hours[key] = hours.get(key, 0.0) + item.hours
    print("modes executed (hours):")
    for mode, total in sorted(hours.items(), key=lambda pair: -pair[1]):
        print(f"  {mode:32s} {total:5.2f}")
    soe = np.array([item.soe_end_kwh for item in site.executed])
    print(
        f"SoE range: {soe.min():.2f} .. {soe.max():.2f} kWh "
        f"(limits {site.limits.soe_min_kwh:.2f} .. {site.limits.soe_max_kwh:.2f}); "
        f"start {soe_start:.2f}, end {soe[-1]:.2f}"
    )
    no_battery_cost, rule_cost = baseline_costs(site, day, soe_start)
    planner = build_site(
        settings,
        soe_start,
        prices=day.import_price,
        export_price=day.export_price,
        pv_kw=day.pv_kw,
        load_kw=day.load_kw,
    )
    optimized = site.energy_cost() + _stored_value(
        planner.battery.terminal_value_per_kwh, soe_start, float(soe[-1])
    )
    print(
        "day's cost (JPY; energy, plus the energy the battery gave up valued at "
        f"{planner.battery.terminal_value_per_kwh:.2f} JPY/kWh):"
    )
    print(f"  no battery              {no_battery_cost:8.2f}")
    print(f"  self-consumption rule   {rule_cost:8.2f}")
    print(f"  optimizer service       {optimized:8.2f}")
    plot(site, args.plot)
    print(f"plot written to {args.plot}; wall clock {time.monotonic() - start_wall:.1f} s")
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="broker + service + simulated site, one day")
    demo.add_argument("--data", type=Path, default=None, help="real data directory (optional)")
    demo.add_argument("--day", default="2024-05-15", help="the simulated day (YYYY-MM-DD)")
    demo.add_argument("--plot", type=Path, default=Path("artifacts/demo.png"))
    demo.set_defaults(handler=run_demo)
