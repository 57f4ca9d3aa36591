"""EchonetPoller against the uEcho node: readings per class -> pipeline -> valid telemetry;
a silent node (alert-worthy availability, reconnect, nothing invented); refused and
no-data properties; the config flow's readable check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bess_dispatch_core.echonet.client import EchonetClient
from bess_dispatch_core.echonet.source import (
    EchonetPoller,
    default_metric_map,
    metric_sources,
    read_node,
    readable_metric_map,
)
from bess_dispatch_core.gateway.energy_counter import PowerFlow
from bess_dispatch_core.gateway.telemetry_pipeline import TelemetryPipeline
from bess_dispatch_core.protocol import TopicKind, UseCase, required_metrics
from tests.helpers.asyncapi import validated
from tests.plugins.echonet_device import (
    HOME_SOLAR,
    SMART_METER,
    STORAGE_BATTERY,
    SimulatedEchonetNode,
    until,
)

SITE, GATEWAY = "site-1", "gw-1"
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
AC_LINK_MAP = {
    "meter_import_ac": "grid_import_kwh",
    "meter_export_ac": "grid_export_kwh",
    "battery_soe": "battery_soc_percent",
    "battery_energy_remaining": "battery_effective_capacity_wh",
    "solar_net_generation_ac": "solar_generated_kwh",
    "battery_charge_ac": "battery_ac_charged_kwh",
    "battery_discharge_ac": "battery_ac_discharged_kwh",
}


class Recorder:
    def __init__(self) -> None:
        self.readings: list[tuple[str, float | None, datetime]] = []
        self.availability: list[tuple[bool, str | None]] = []

    def reading(self, metric: str, value: float | None, at: datetime) -> None:
        self.readings.append((metric, value, at))

    def available(self, available: bool, reason: str | None) -> None:
        self.availability.append((available, reason))

    def last(self) -> dict[str, float | None]:
        return {metric: value for metric, value, _ in self.readings}


def poller_for(
    client: EchonetClient, node: SimulatedEchonetNode, recorder: Recorder
) -> EchonetPoller:
    return EchonetPoller(
        client,
        node.host,
        metrics=AC_LINK_MAP,
        interval_s=60.0,
        on_reading=recorder.reading,
        on_availability=recorder.available,
    )


async def test_default_map_per_use_case_from_the_get_maps(
    echonet_pcs_node: SimulatedEchonetNode,
) -> None:
    client = EchonetClient(
        bind_host=echonet_pcs_node.client_host, local_ip=echonet_pcs_node.client_host
    )
    await client.start()
    try:
        node = await client.probe(echonet_pcs_node.host)
    finally:
        client.close()
    assert default_metric_map(node, UseCase.AC_LINK) == AC_LINK_MAP
    assert default_metric_map(node, UseCase.DC_LINK) == {
        **{k: v for k, v in AC_LINK_MAP.items() if not k.endswith("_ac") or "meter" in k},
        "solar_generation_dc": "solar_generated_kwh",
        "battery_charge_dc": "battery_charged_kwh",
        "battery_to_inverter_dc": "battery_discharged_kwh",
        "inverter_net_output_ac": "pcs_output_kwh",
        "grid_to_inverter_ac": "pcs_input_kwh",
    }
    assert set(default_metric_map(node, UseCase.STANDALONE)) == {
        "meter_import_ac",
        "meter_export_ac",
        "battery_soe",
        "battery_energy_remaining",
    }


def test_metric_sources_give_quantity_unit_and_flow() -> None:
    sources = {
        s.metric: s
        for s in metric_sources(
            {"battery_charge_ac": "battery_power_w", "meter_export_ac": "grid_power_w"}
        )
    }
    assert sources["battery_charge_ac"].flow is PowerFlow.POSITIVE
    assert sources["battery_charge_ac"].unit == "W"
    assert sources["meter_export_ac"].flow is PowerFlow.NEGATIVE


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        ({"meter_import_ac": "nonsense"}, r"meter_import_ac: ECHONET Lite reading 'nonsense'"),
        ({"battery_soe": "grid_import_kwh"}, r"battery_soe: quantity energy needs an energy"),
        ({}, r"map at least one metric"),
    ],
)
def test_bad_maps_are_refused_naming_the_metric(metrics: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        EchonetPoller(
            EchonetClient(), "127.0.0.1", metrics=metrics, interval_s=10, on_reading=print
        )


async def test_meter_unit_and_coefficient_are_applied(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    node = await echonet_client.probe(echonet_node.host)
    names = ["grid_import_kwh", "grid_export_kwh", "grid_power_w"]
    values, problems = await read_node(echonet_client, node, names)
    assert values == {
        "grid_import_kwh": pytest.approx(12_345.6),  # 123,456 x 1 x 0.1 kWh
        "grid_export_kwh": pytest.approx(5_432.1),
        "grid_power_w": 800.0,
    }
    assert problems == {}
    echonet_node.set_int(SMART_METER, 0xD3, 10, 4)  # coefficient 10
    echonet_node.set(SMART_METER, 0xE1, b"\x0a")  # unit 10 kWh
    values, _ = await read_node(echonet_client, node, names)
    assert values["grid_import_kwh"] == pytest.approx(123_456 * 10 * 10.0)
    echonet_node.set(SMART_METER, 0xE1, b"\x07")  # not a unit code
    values, problems = await read_node(echonet_client, node, names)
    assert values["grid_import_kwh"] is None
    assert "unknown code 0x07" in problems["grid_import_kwh"]
    # A meter without the coefficient property counts with 1.
    echonet_node.set(SMART_METER, 0xE1, b"\x02")  # 0.01 kWh
    echonet_node.remove(SMART_METER, 0xD3)
    node = await echonet_client.probe(echonet_node.host)
    values, _ = await read_node(echonet_client, node, names)
    assert values["grid_import_kwh"] == pytest.approx(1_234.56)


async def test_readings_per_class_feed_every_required_ac_link_metric(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    recorder = Recorder()
    poller = poller_for(echonet_client, echonet_node, recorder)
    pipeline = TelemetryPipeline(
        site_id=SITE,
        gateway_id=GATEWAY,
        sources=metric_sources(AC_LINK_MAP),
        capacity_kwh=10.0,
    )
    sent = []
    for minute in range(11):
        now = T0 + timedelta(minutes=minute)
        # Each minute: 0.2 kWh imported (2 counts of 0.1), 0.01 kWh PV, 0.005 kWh charged.
        echonet_node.set_int(SMART_METER, 0xE0, 123_456 + 2 * minute, 4)
        echonet_node.set_int(HOME_SOLAR, 0xE1, 8_765_432 + 10 * minute, 4)
        echonet_node.set_int(STORAGE_BATTERY, 0xA8, 1_234_567 + 5 * minute, 4)
        assert await poller.poll_once(now)
        for metric, value, at in recorder.readings:
            pipeline.observe(metric, value, at)
        recorder.readings.clear()
        sent += pipeline.due(now)
    assert recorder.availability == [(True, None)]

    documents = [(message, validated(message.topic, message.payload)[1]) for message in sent]
    for item in required_metrics(UseCase.AC_LINK, has_load=False):
        assert any(m.metric == item.name for m, _ in documents), item.name

    def lifetimes(metric: str) -> list[float]:
        return [
            d["measurement_value"]["value"]
            for m, d in documents
            if m.metric == metric and m.kind is TopicKind.LIFETIME
        ]

    # Counters start from the first reading: ten minutes of the deltas above.
    assert lifetimes("meter_import_ac")[-1] == pytest.approx(2.0)
    assert lifetimes("meter_export_ac")[-1] == pytest.approx(0.0)
    assert lifetimes("solar_net_generation_ac")[-1] == pytest.approx(0.1)
    assert lifetimes("battery_charge_ac")[-1] == pytest.approx(0.05)
    assert lifetimes("battery_soe") == pytest.approx([5.5] * len(lifetimes("battery_soe")))  # 55 %
    remaining = lifetimes("battery_energy_remaining")
    assert remaining == pytest.approx([9.8] * len(remaining))  # 0xA0, 9,800 Wh


async def test_silent_node_reports_none_once_unavailable_and_recovers_with_real_values(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    recorder = Recorder()
    poller = poller_for(echonet_client, echonet_node, recorder)
    assert await poller.poll_once(T0)
    echonet_node.silent = True
    assert not await poller.poll_once(T0 + timedelta(minutes=1))
    assert not await poller.poll_once(T0 + timedelta(minutes=2))
    silent = [value for _, value, at in recorder.readings if at > T0]
    assert silent == [None] * (2 * len(AC_LINK_MAP))  # nothing invented
    assert poller.node is None  # probed afresh when it is back
    echonet_node.silent = False
    echonet_node.set_int(STORAGE_BATTERY, 0xE4, 61, 1)
    assert await poller.poll_once(T0 + timedelta(minutes=3))
    assert recorder.last()["battery_soe"] == 61.0
    assert [available for available, _ in recorder.availability] == [True, False, True]
    assert "no answer from" in (recorder.availability[1][1] or "")


async def test_refused_and_no_data_properties_read_none_naming_them(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    recorder = Recorder()
    poller = poller_for(echonet_client, echonet_node, recorder)
    echonet_node.refuse(SMART_METER, 0xE3)  # SNA
    echonet_node.set(STORAGE_BATTERY, 0xA9, b"\xff\xff\xff\xfe")  # no data
    echonet_node.set(HOME_SOLAR, 0xE1, b"\x00\x01")  # wrong size
    assert await poller.poll_once(T0)
    last = recorder.last()
    assert last["meter_export_ac"] is None
    assert last["battery_discharge_ac"] is None
    assert last["solar_net_generation_ac"] is None
    assert last["meter_import_ac"] == pytest.approx(12_345.6)
    assert poller.last_problems == {
        "grid_export_kwh": "0x0288 0xE3 cumulative energy (reverse direction): not answered",
        "battery_ac_discharged_kwh": (
            "0x027D 0xA9 AC cumulative discharging energy: no measurement (0xFFFFFFFE)"
        ),
        "solar_generated_kwh": "0x0279 0xE1 cumulative generation: expected 4 byte(s), got 2",
    }
    assert recorder.availability == [(True, None)]


async def test_readable_map_leaves_out_what_the_node_will_not_answer(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    echonet_node.refuse(STORAGE_BATTERY, 0xE4)
    echonet_node.refuse(STORAGE_BATTERY, 0xE2)
    _, metric_map, problems = await readable_metric_map(
        echonet_client, echonet_node.host, UseCase.AC_LINK
    )
    assert "battery_soe" not in metric_map
    assert {"battery_soc_percent", "battery_stored_energy_wh"} <= set(problems)
    assert metric_map["meter_import_ac"] == "grid_import_kwh"


async def test_running_poller_stops_cleanly(
    echonet_node: SimulatedEchonetNode, echonet_client: EchonetClient
) -> None:
    recorder = Recorder()
    poller = EchonetPoller(
        echonet_client,
        echonet_node.host,
        metrics=AC_LINK_MAP,
        interval_s=0.1,
        on_reading=recorder.reading,
    )
    await poller.start()
    running = [poller.running]
    await poller.start()  # idempotent
    await until(lambda: len(recorder.readings) >= 2 * len(AC_LINK_MAP))
    await poller.stop()
    running.append(poller.running)
    assert running == [True, False]
    assert recorder.last()["battery_soe"] == 55.0


async def test_multi_input_pcs_readings(echonet_pcs_node: SimulatedEchonetNode) -> None:
    client = EchonetClient(
        bind_host=echonet_pcs_node.client_host, local_ip=echonet_pcs_node.client_host
    )
    await client.start()
    try:
        node = await client.probe(echonet_pcs_node.host)
        values, problems = await read_node(
            client, node, ["pcs_output_kwh", "pcs_input_kwh", "pcs_power_w"]
        )
    finally:
        client.close()
    assert values == {
        "pcs_output_kwh": pytest.approx(2_000.0),
        "pcs_input_kwh": pytest.approx(300.0),
        "pcs_power_w": 700.0,
    }
    assert problems == {}
