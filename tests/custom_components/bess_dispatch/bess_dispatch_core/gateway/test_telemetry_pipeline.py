"""TelemetryPipeline: readings in, AsyncAPI-valid telemetry out, at each metric's cadence."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bess_dispatch_core.gateway.alerts import AlertTracker, source_unavailable_code
from bess_dispatch_core.gateway.energy_counter import MeterSemantics, PowerFlow
from bess_dispatch_core.gateway.telemetry_pipeline import (
    MetricSource,
    OutgoingMessage,
    SourceQuantity,
    TelemetryPipeline,
)
from bess_dispatch_core.protocol import (
    MetricKind,
    TopicKind,
    TopicProfile,
    UseCase,
    required_metrics,
)
from tests.helpers.asyncapi import DOCUMENT, validated

T0 = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
STEP = timedelta(seconds=10)
CAPACITY_KWH = 10.0
SITE, GATEWAY = "site-1", "gw-1"

METRIC_NAMES = DOCUMENT["components"]["parameters"]["metric"]["enum"]


def assert_valid(message: OutgoingMessage) -> dict[str, Any]:
    """The topic parses to the message's kind and the payload validates against its schema."""
    address, document = validated(message.topic, message.payload)
    assert address.kind is message.kind
    assert (address.site_id, address.gateway_id) == (SITE, GATEWAY)
    if address.metric is not None:
        assert address.metric in METRIC_NAMES
        assert address.metric == message.metric
    assert document["message_id"] == message.message_id
    return document


def source_for(name: str) -> MetricSource:
    """A mix of every kind of source, so each path is exercised by the use-case runs."""
    if name == "battery_soe":
        return MetricSource(name, SourceQuantity.SOC_PERCENT, "%")
    if name == "battery_energy_remaining":
        return MetricSource(name, SourceQuantity.ENERGY_STATE, "kWh")
    if name == "meter_import_ac":
        return MetricSource(name, SourceQuantity.ENERGY, "kWh", MeterSemantics.TOTAL_INCREASING)
    if name == "meter_export_ac":
        return MetricSource(name, SourceQuantity.ENERGY, "Wh", MeterSemantics.TOTAL)
    if name == "battery_discharge_ac":  # a signed battery power sensor: + charges
        return MetricSource(name, SourceQuantity.POWER, "W", flow=PowerFlow.NEGATIVE)
    if name == "battery_charge_ac":
        return MetricSource(name, SourceQuantity.POWER, "W", flow=PowerFlow.POSITIVE)
    return MetricSource(name, SourceQuantity.POWER, "kW")


def reading_for(source: MetricSource, at: datetime) -> float:
    """Readings of a site running steadily: 1 kWh/h imported, 2 kW flows, 50 % SoC."""
    hours = (at - T0).total_seconds() / 3600
    match source.quantity:
        case SourceQuantity.SOC_PERCENT:
            return 50.0
        case SourceQuantity.ENERGY_STATE:
            return 9.5
        case SourceQuantity.ENERGY:
            kwh = 1000.0 + 1.0 * hours
            return kwh * 1000 if source.unit == "Wh" else kwh
        case SourceQuantity.POWER:
            if source.metric == "battery_discharge_ac":
                return -1500.0  # discharging 1.5 kW: counted by the NEGATIVE flow
            if source.metric == "battery_charge_ac":
                return -1500.0  # the same sensor: no charging energy
            return 2.0


def pipeline_for(sources: Iterable[MetricSource], **options: Any) -> TelemetryPipeline:
    return TelemetryPipeline(
        site_id=SITE,
        gateway_id=GATEWAY,
        sources=list(sources),
        capacity_kwh=CAPACITY_KWH,
        **options,
    )


def run(
    pipeline: TelemetryPipeline,
    start: datetime,
    end: datetime,
    reading: Callable[[str, datetime], float | None],
) -> list[tuple[datetime, OutgoingMessage]]:
    """Readings every STEP in [start, end]; the caller's timer fires whenever next_due says."""
    sent: list[tuple[datetime, OutgoingMessage]] = []
    at = start
    while at <= end:
        for name in pipeline.metrics:
            pipeline.observe(name, reading(name, at), at)
        while (due := pipeline.next_due()) is not None and due <= at:
            sent += [(at, message) for message in pipeline.due(at)]
        at += STEP
    return sent


CASES = [
    pytest.param(UseCase.AC_LINK, True, id="ac_link-with-load"),
    pytest.param(UseCase.DC_LINK, True, id="dc_link-with-load"),
    pytest.param(UseCase.STANDALONE, False, id="standalone"),
]


@pytest.mark.parametrize(("use_case", "has_load"), CASES)
def test_ten_minutes_of_every_required_metric(use_case: UseCase, has_load: bool) -> None:
    required = required_metrics(use_case, has_load=has_load)
    sources = {m.name: source_for(m.name) for m in required}
    pipeline = pipeline_for(sources.values())
    sent = run(
        pipeline,
        T0,
        T0 + timedelta(minutes=10),
        lambda name, at: reading_for(sources[name], at),
    )
    documents = [(at, message, assert_valid(message)) for at, message in sent]
    assert len({m.message_id for _, m, _ in documents}) == len(documents)  # fresh ids
    minutes = [T0 + timedelta(minutes=i) for i in range(11)]
    for item in required:
        mine = [(at, m, d) for at, m, d in documents if m.metric == item.name]
        by_kind = {kind: [(at, d) for at, m, d in mine if m.kind is kind] for kind in TopicKind}
        lifetime, windowed, power = (
            by_kind[TopicKind.LIFETIME],
            by_kind[TopicKind.WINDOWED],
            by_kind[TopicKind.POWER],
        )
        topic_prefix = f"dt/{SITE}/{GATEWAY}/{item.name}/"
        assert all(m.topic.startswith(topic_prefix) for _, m, _ in mine)
        if item.name == "battery_energy_remaining":  # hourly: once at start in ten minutes
            assert [at for at, _ in lifetime] == [T0]
            assert [d["measurement_value"] for _, d in power] == [
                {"value": 9.5, "unit": "kWh", "aggregation": "instant"}
            ]
            continue
        # Every other metric: each minute, at the minute (its own timer, default cadence).
        assert [at for at, _ in lifetime] == minutes, item.name
        if item.kind is MetricKind.STATE:  # battery_soe: 50 % of 10 kWh, on the power topic
            assert not windowed
            assert [at for at, _ in power] == minutes
            assert {d["measurement_value"]["value"] for _, d in power} == {5.0}
            assert {d["measurement_value"]["unit"] for _, d in power} == {"kWh"}
            continue
        # Energy metrics: two PT5M windows, each sent when it closes.
        assert [(at, d["window_start"], d["window_end"]) for at, d in windowed] == [
            (T0 + timedelta(minutes=5), "2026-11-21T04:00:00.000Z", "2026-11-21T04:05:00.000Z"),
            (T0 + timedelta(minutes=10), "2026-11-21T04:05:00.000Z", "2026-11-21T04:10:00.000Z"),
        ]
        assert all(
            m.topic == f"{topic_prefix}energy/PT5M"
            for _, m, _ in mine
            if m.kind is TopicKind.WINDOWED
        )
        per_window = {
            "meter_import_ac": 1 / 12,
            "meter_export_ac": 1 / 12,
            "battery_discharge_ac": 1.5 / 12,
            "battery_charge_ac": 0.0,
        }.get(item.name, 2 / 12)
        for _, document in windowed:
            assert document["measurement_value"]["value"] == pytest.approx(per_window, abs=1e-6)
        assert lifetime[-1][1]["measurement_value"]["value"] == pytest.approx(
            2 * per_window, abs=1e-6
        )
        if sources[item.name].quantity is SourceQuantity.POWER:
            assert [at for at, _ in power] == minutes
            expected_kw = {"battery_discharge_ac": 1.5, "battery_charge_ac": 0.0}.get(
                item.name, 2.0
            )
            assert {d["measurement_value"]["value"] for _, d in power} == {expected_kw}
            assert {d["measurement_value"]["unit"] for _, d in power} == {"kW"}
        else:
            assert not power


def test_power_source_integrates_a_ramp_exactly_and_splits_by_flow() -> None:
    # A battery sensor ramping linearly from -3 kW (discharging) to +3 kW over ten minutes.
    def watts(at: datetime) -> float:
        return -3000.0 + 6000.0 * (at - T0).total_seconds() / 600

    pipeline = pipeline_for(
        [
            MetricSource("battery_charge_ac", SourceQuantity.POWER, "W", flow=PowerFlow.POSITIVE),
            MetricSource(
                "battery_discharge_ac", SourceQuantity.POWER, "W", flow=PowerFlow.NEGATIVE
            ),
        ]
    )
    run(pipeline, T0, T0 + timedelta(minutes=10), lambda _name, at: watts(at))
    # Each half is a triangle: 3 kW x 5 min / 2 = 0.125 kWh.
    assert pipeline.lifetime_kwh("battery_charge_ac") == pytest.approx(0.125)
    assert pipeline.lifetime_kwh("battery_discharge_ac") == pytest.approx(0.125)
    assert pipeline.value("battery_charge_ac") == pytest.approx(3.0)
    assert pipeline.value("battery_discharge_ac") == 0.0


def test_energy_units_and_semantics() -> None:
    pipeline = pipeline_for(
        [
            MetricSource("meter_import_ac", SourceQuantity.ENERGY, "MWh"),
            MetricSource("meter_export_ac", SourceQuantity.ENERGY, "Wh"),
            MetricSource("battery_energy_remaining", SourceQuantity.ENERGY_STATE, "Wh"),
        ]
    )
    for minute, (mwh, wh) in enumerate([(1.0, 500.0), (1.002, 900.0), (0.0005, 1400.0)]):
        at = T0 + timedelta(minutes=minute)
        pipeline.observe("meter_import_ac", mwh, at)
        pipeline.observe("meter_export_ac", wh, at)
    pipeline.observe("battery_energy_remaining", 9800.0, T0)
    # 1.000 -> 1.002 MWh is 2 kWh; then a meter reset to 0.5 kWh is kept, not lost.
    assert pipeline.lifetime_kwh("meter_import_ac") == pytest.approx(2.5)
    assert pipeline.lifetime_kwh("meter_export_ac") == pytest.approx(0.9)
    assert pipeline.value("battery_energy_remaining") == pytest.approx(9.8)
    assert pipeline.lifetime_kwh("battery_energy_remaining") is None


def test_unavailable_power_source_adds_no_energy_and_alerts_once() -> None:
    pipeline = pipeline_for([MetricSource("solar_net_generation_ac", SourceQuantity.POWER, "kW")])
    alerts = AlertTracker(
        site_id=SITE,
        gateway_id=GATEWAY,
        soe_min_kwh=1.0,
        soe_max_kwh=9.0,
        source_grace=timedelta(minutes=2),
    )

    def kw(_name: str, at: datetime) -> float | None:
        offline = T0 + timedelta(minutes=3) <= at < T0 + timedelta(minutes=7)
        return None if offline else 6.0

    sent: list[tuple[datetime, OutgoingMessage]] = []
    alert_log: list[tuple[datetime, OutgoingMessage]] = []
    at = T0
    while at <= T0 + timedelta(minutes=15):
        pipeline.observe("solar_net_generation_ac", kw("", at), at)
        while (due := pipeline.next_due()) is not None and due <= at:
            sent += [(at, message) for message in pipeline.due(at)]
        alert_log += [(at, m) for m in alerts.check_sources(pipeline.unavailable_since(), at)]
        at += STEP

    # No telemetry invented while offline (3:00 .. 6:59); it resumes at once at 7:00.
    offline_sends = [
        a for a, m in sent if T0 + timedelta(minutes=3) <= a < T0 + timedelta(minutes=7)
    ]
    assert offline_sends == []
    assert any(a == T0 + timedelta(minutes=7) for a, _ in sent)
    # 6 kW from 0:00 to the last reading before the outage (2:50) and from 7:00 to 15:00;
    # nothing for the outage, not even the 10 s up to the first missing reading.
    counted_s = 170 + 480
    assert pipeline.lifetime_kwh("solar_net_generation_ac") == pytest.approx(6 * counted_s / 3600)
    windows = [assert_valid(m) for _, m in sent if m.kind is TopicKind.WINDOWED]
    # The windows touching the outage are not reported; 10:00-15:00 is whole again.
    assert [(w["window_start"], w["measurement_value"]["value"]) for w in windows] == [
        ("2026-11-21T04:10:00.000Z", pytest.approx(0.5))
    ]
    # One alert raised after the grace (5:00), one cleared when the source is back (7:00).
    documents = [(a, assert_valid(m)) for a, m in alert_log]
    assert [(a, d["code"], d["active"]) for a, d in documents] == [
        (T0 + timedelta(minutes=5), source_unavailable_code("solar_net_generation_ac"), True),
        (T0 + timedelta(minutes=7), source_unavailable_code("solar_net_generation_ac"), False),
    ]
    assert documents[1][1]["raised_at"] == documents[0][1]["raised_at"]


def test_unavailable_meter_sends_nothing_and_catches_up_from_the_meter() -> None:
    pipeline = pipeline_for([MetricSource("meter_import_ac", SourceQuantity.ENERGY, "kWh")])
    pipeline.observe("meter_import_ac", 100.0, T0)
    assert [m.kind for m in pipeline.due(T0)] == [TopicKind.LIFETIME]
    pipeline.observe("meter_import_ac", None, T0 + timedelta(seconds=30))
    assert pipeline.due(T0 + timedelta(minutes=1)) == []
    assert pipeline.due(T0 + timedelta(minutes=2)) == []
    assert pipeline.unavailable_metrics(T0 + timedelta(minutes=2), timedelta(minutes=1)) == [
        "meter_import_ac"
    ]
    # The meter kept counting: its next reading carries the energy of the gap.
    back = T0 + timedelta(minutes=2, seconds=5)
    pipeline.observe("meter_import_ac", 100.4, back)
    assert pipeline.next_due() == back  # owed since 1:00: sent now, not at 3:00
    (message,) = pipeline.due(back)
    assert assert_valid(message)["measurement_value"]["value"] == pytest.approx(0.4)
    assert pipeline.unavailable_metrics(back, timedelta(0)) == []


def test_metric_without_any_reading_is_sent_as_soon_as_it_reports() -> None:
    pipeline = pipeline_for(
        [MetricSource("battery_energy_remaining", SourceQuantity.ENERGY_STATE, "kWh")]
    )
    assert pipeline.next_due() is not None
    assert pipeline.due(T0) == []  # due, but nothing to say yet
    assert pipeline.unavailable_metrics(T0 + timedelta(minutes=5), timedelta(minutes=5)) == [
        "battery_energy_remaining"
    ]
    later = T0 + timedelta(minutes=7)
    pipeline.observe("battery_energy_remaining", 9.7, later)
    assert pipeline.next_due() == later  # not an hour later
    kinds = [m.kind for m in pipeline.due(later)]
    assert kinds == [TopicKind.LIFETIME, TopicKind.POWER]
    assert pipeline.next_due() == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # hourly grid


def test_curtailment_is_sent_on_change() -> None:
    pipeline = pipeline_for([MetricSource("curtailment", SourceQuantity.POWER, "W")])
    pipeline.observe("curtailment", 5000.0, T0)
    (first,) = pipeline.due(T0)
    assert assert_valid(first)["measurement_value"] == {
        "value": 5.0,
        "unit": "kW",
        "aggregation": "instant",
    }
    changed = T0 + timedelta(minutes=3)
    pipeline.observe("curtailment", 5000.0, changed - timedelta(minutes=1))
    # Same value: only the daily heartbeat (aligned to midnight UTC) is pending.
    assert pipeline.next_due() == datetime(2026, 11, 22, tzinfo=UTC)
    pipeline.observe("curtailment", 0.0, changed)
    assert pipeline.next_due() == changed
    (second,) = pipeline.due(changed)
    assert json.loads(second.payload)["measurement_value"]["value"] == 0.0


def test_publish_all_sends_everything_without_moving_timers() -> None:
    pipeline = pipeline_for(
        [
            MetricSource("meter_import_ac", SourceQuantity.ENERGY, "kWh"),
            MetricSource("battery_soe", SourceQuantity.SOC_PERCENT, "%"),
        ]
    )
    pipeline.observe("meter_import_ac", 1.0, T0)
    pipeline.observe("battery_soe", 20.0, T0)
    pipeline.due(T0)
    nxt = pipeline.next_due()
    now = T0 + timedelta(seconds=20)
    messages = pipeline.publish_all(now)
    assert sorted((m.metric, m.kind) for m in messages) == [
        ("battery_soe", TopicKind.LIFETIME),
        ("battery_soe", TopicKind.POWER),
        ("meter_import_ac", TopicKind.LIFETIME),
    ]
    assert all(json.loads(m.payload)["sent_at"] == "2026-11-21T04:00:20.000Z" for m in messages)
    assert pipeline.next_due() == nxt


def test_restore_continues_counters_windows_and_unsent_windows() -> None:
    sources = [
        MetricSource("meter_import_ac", SourceQuantity.ENERGY, "kWh"),
        MetricSource("solar_net_generation_ac", SourceQuantity.POWER, "kW"),
        MetricSource("battery_soe", SourceQuantity.SOC_PERCENT, "%"),
    ]

    def reading(name: str, at: datetime) -> float:
        minutes = (at - T0).total_seconds() / 60
        return {"meter_import_ac": 50.0 + minutes / 10, "solar_net_generation_ac": 3.0}.get(
            name, 40.0
        )

    reference = pipeline_for(sources)
    expected = run(reference, T0, T0 + timedelta(minutes=12), reading)

    before = pipeline_for(sources)
    sent = run(before, T0, T0 + timedelta(minutes=7), reading)
    # The 10:00 reading closes a window; the process stops before it is sent.
    closing = T0 + timedelta(minutes=10)
    for name in before.metrics:
        before.observe(name, reading(name, closing), closing)
    stored = json.loads(json.dumps(before.to_dict()))
    after = TelemetryPipeline.from_dict(
        stored, site_id=SITE, gateway_id=GATEWAY, sources=sources, capacity_kwh=CAPACITY_KWH
    )
    # The restart missed the 7:10 .. 9:50 readings; the power gap is short enough to bridge.
    sent += [(closing, m) for m in after.due(closing)]
    sent += run(after, closing + STEP, T0 + timedelta(minutes=12), reading)

    def windows(messages: list[tuple[datetime, OutgoingMessage]]) -> list[tuple[Any, ...]]:
        return [
            (m.metric, d["window_start"], round(d["measurement_value"]["value"], 6))
            for _, m in messages
            if m.kind is TopicKind.WINDOWED
            for d in [assert_valid(m)]
        ]

    assert windows(sent) == windows(expected)
    assert len(windows(sent)) == 4  # two windows of each energy metric
    for name in ("meter_import_ac", "solar_net_generation_ac"):
        assert after.lifetime_kwh(name) == pytest.approx(reference.lifetime_kwh(name))
    assert after.lifetime_kwh("meter_import_ac") == pytest.approx(1.2)


def test_restore_with_a_changed_source_keeps_only_the_lifetime() -> None:
    meter = MetricSource("meter_import_ac", SourceQuantity.ENERGY, "kWh")
    before = pipeline_for([meter])
    before.observe("meter_import_ac", 10.0, T0)
    before.observe("meter_import_ac", 12.0, T0 + timedelta(minutes=1))
    power = MetricSource("meter_import_ac", SourceQuantity.POWER, "kW")
    after = TelemetryPipeline.from_dict(
        before.to_dict(),
        site_id=SITE,
        gateway_id=GATEWAY,
        sources=[power],
        capacity_kwh=CAPACITY_KWH,
        window=timedelta(minutes=15),
    )
    assert after.lifetime_kwh("meter_import_ac") == pytest.approx(2.0)
    after.observe("meter_import_ac", 6.0, T0 + timedelta(minutes=2))
    after.observe("meter_import_ac", 6.0, T0 + timedelta(minutes=3))
    assert after.lifetime_kwh("meter_import_ac") == pytest.approx(2.1)
    with pytest.raises(ValueError, match=r"metrics\.meter_import_ac"):
        TelemetryPipeline.from_dict(
            {
                "version": 1,
                "window_s": 300.0,
                "metrics": {"meter_import_ac": {"counter": {"lifetime_kwh": "x"}}},
            },
            site_id=SITE,
            gateway_id=GATEWAY,
            sources=[meter],
            capacity_kwh=CAPACITY_KWH,
        )


def test_topic_profile_and_window_are_used() -> None:
    profile = TopicProfile(
        lifetime="v2/{siteId}/{gatewayId}/{metric}/total",
        windowed="v2/{siteId}/{gatewayId}/{metric}/{window}",
    )
    pipeline = pipeline_for(
        [MetricSource("meter_import_ac", SourceQuantity.ENERGY, "kWh")],
        topic_profile=profile,
        window=timedelta(minutes=30),
        cadence=timedelta(minutes=10),
    )
    sent = run(pipeline, T0, T0 + timedelta(minutes=30), lambda _n, at: (at - T0).total_seconds())
    topics = [(at.minute, m.topic) for at, m in sent]
    assert topics == [
        (0, "v2/site-1/gw-1/meter_import_ac/total"),
        (10, "v2/site-1/gw-1/meter_import_ac/total"),
        (20, "v2/site-1/gw-1/meter_import_ac/total"),
        (30, "v2/site-1/gw-1/meter_import_ac/PT30M"),
        (30, "v2/site-1/gw-1/meter_import_ac/total"),
    ]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: MetricSource("no_such_metric", SourceQuantity.ENERGY, "kWh"), "no_such_metric"),
        (
            lambda: MetricSource("meter_import_ac", SourceQuantity.ENERGY, "W"),
            "meter_import_ac: unit 'W' is not an energy unit",
        ),
        (
            lambda: MetricSource("meter_import_ac", SourceQuantity.POWER, "kWh"),
            "meter_import_ac: unit 'kWh' is not a power unit",
        ),
        (
            lambda: MetricSource("meter_import_ac", SourceQuantity.SOC_PERCENT, "%"),
            "meter_import_ac: quantity soc_percent feeds battery_soe only",
        ),
        (
            lambda: MetricSource("battery_soe", SourceQuantity.ENERGY, "kWh"),
            "battery_soe: quantity energy needs an energy metric",
        ),
        (
            lambda: MetricSource("battery_soe", SourceQuantity.SOC_PERCENT, "kWh"),
            "battery_soe: unit must be '%'",
        ),
        (
            lambda: MetricSource("curtailment", SourceQuantity.ENERGY_STATE, "kWh"),
            "curtailment: quantity energy_state",
        ),
        (
            lambda: MetricSource("meter_import_ac", SourceQuantity("volts"), "V"),
            "'volts' is not a valid SourceQuantity",
        ),
        (
            lambda: MetricSource(
                "meter_import_ac", SourceQuantity.ENERGY, "kWh", semantics=MeterSemantics("bad")
            ),
            "'bad' is not a valid MeterSemantics",
        ),
        (
            lambda: MetricSource(
                "meter_import_ac", SourceQuantity.POWER, "kW", semantics=MeterSemantics.TOTAL
            ),
            "meter_import_ac: semantics applies to energy sources only",
        ),
    ],
)
def test_bad_sources_are_refused_naming_the_metric(make: Callable[[], Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        make()


def test_bad_configuration_and_readings_are_refused() -> None:
    meter = MetricSource("meter_import_ac", SourceQuantity.ENERGY, "kWh")
    with pytest.raises(ValueError, match="meter_import_ac: configured twice"):
        pipeline_for([meter, meter])
    with pytest.raises(ValueError, match="capacity_kwh"):
        TelemetryPipeline(site_id=SITE, gateway_id=GATEWAY, sources=[meter], capacity_kwh=0)
    with pytest.raises(ValueError, match="site_id"):
        TelemetryPipeline(site_id="a/b", gateway_id=GATEWAY, sources=[meter], capacity_kwh=1)
    with pytest.raises(ValueError, match="interval of meter_import_ac"):
        pipeline_for([meter], cadence=timedelta(minutes=11))
    pipeline = pipeline_for([meter, MetricSource("battery_soe", SourceQuantity.SOC_PERCENT, "%")])
    with pytest.raises(ValueError, match=r"battery_soe: soc_percent must be within 0\.\.100"):
        pipeline.observe("battery_soe", 101.0, T0)
    with pytest.raises(ValueError, match="solar_generation_dc: no source"):
        pipeline.observe("solar_generation_dc", 1.0, T0)
    with pytest.raises(ValueError, match="at must be a timezone-aware"):
        pipeline.observe("meter_import_ac", 1.0, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="value must be a finite number"):
        pipeline.observe("meter_import_ac", float("nan"), T0)
