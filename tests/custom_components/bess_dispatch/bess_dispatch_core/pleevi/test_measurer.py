"""Pleevi measurements read from the real telemetry pipeline: units, signs, honesty."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema

from bess_dispatch_core.gateway.energy_counter import MeterSemantics, PowerFlow
from bess_dispatch_core.gateway.metric_source import MetricSource, SourceQuantity
from bess_dispatch_core.gateway.telemetry_pipeline import TelemetryPipeline
from bess_dispatch_core.pleevi.assets import AssetKind
from bess_dispatch_core.pleevi.measurer import PleeviMeasurer
from bess_dispatch_core.pleevi.schemas import measurement_schema

T0 = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
ASSETS = {
    AssetKind.BATTERY: "Battery",
    AssetKind.PV: "PV",
    AssetKind.GRID_METER: "Grid meter",
    AssetKind.LOAD: "Load",
}


def _energy(metric: str) -> MetricSource:
    return MetricSource(metric, SourceQuantity.ENERGY, "kWh", MeterSemantics.TOTAL_INCREASING)


def pipeline() -> TelemetryPipeline:
    sources = [
        _energy("meter_import_ac"),
        _energy("meter_export_ac"),
        _energy("solar_net_generation_ac"),
        _energy("load_demand_ac"),
        MetricSource("battery_charge_ac", SourceQuantity.POWER, "W", flow=PowerFlow.POSITIVE),
        MetricSource("battery_discharge_ac", SourceQuantity.POWER, "W", flow=PowerFlow.NEGATIVE),
        MetricSource("battery_soe", SourceQuantity.SOC_PERCENT, "%"),
    ]
    return TelemetryPipeline(site_id="site-1", gateway_id="gw-1", sources=sources, capacity_kwh=10)


def _observe(p: TelemetryPipeline, at: datetime, k: int, battery_w: float, soc: float) -> None:
    p.observe("meter_import_ac", 100.0 + k * 0.5, at)
    p.observe("meter_export_ac", 50.0, at)
    p.observe("solar_net_generation_ac", 200.0 + k * 0.25, at)
    p.observe("load_demand_ac", 300.0 + k * 1.0, at)
    p.observe("battery_charge_ac", battery_w, at)
    p.observe("battery_discharge_ac", battery_w, at)
    p.observe("battery_soe", soc, at)


def test_every_asset_sends_pleevi_units_and_signs() -> None:
    p = pipeline()
    measurer = PleeviMeasurer(site_id="site-1", asset_ids=ASSETS, capacity_kwh=10)
    _observe(p, T0, 0, -2000.0, 50.0)
    # Energy-metered assets need a second reading for their average power; the battery's
    # power is measured, so it goes at once.
    assert [m.measurement.asset_id for m in measurer.measure(p, T0)] == ["Battery"]
    _observe(p, T0 + timedelta(minutes=30), 1, -2000.0, 45.0)
    messages = measurer.measure(p, T0 + timedelta(minutes=30))
    validator = jsonschema.Draft202012Validator(measurement_schema())
    by_asset = {}
    for message in messages:
        data = json.loads(message.payload)
        validator.validate(data)
        by_asset[data["assetId"]] = (message.topic, data)
    assert set(by_asset) == {"Battery", "PV", "Grid meter", "Load"}
    topic, battery = by_asset["Battery"]
    assert topic == "pleevi/site-1/Battery/measurements"
    assert battery["powerValue"] == -2000.0  # discharging: negative, as Pleevi defines it
    assert battery["currentStateOfCharge"] == 45.0
    assert battery["timestamp"] == "2026-11-21T04:30:00.000Z"
    # Wh: the gateway's lifetime counter (counted since the gateway began), as in the
    # protocol profile's lifetime topic.
    assert by_asset["Grid meter"][1]["energyValue"] == 500.0
    assert by_asset["Grid meter"][1]["powerValue"] == 1000.0  # 0.5 kWh in 30 min, net import
    assert by_asset["PV"][1]["powerValue"] == 500.0
    assert by_asset["Load"][1]["powerValue"] == 2000.0
    for name in ("PV", "Grid meter", "Load"):
        assert "currentStateOfCharge" not in by_asset[name][1]


def test_an_unavailable_source_silences_its_asset_only() -> None:
    p = pipeline()
    measurer = PleeviMeasurer(site_id="site-1", asset_ids=ASSETS, capacity_kwh=10)
    _observe(p, T0, 0, 1500.0, 50.0)
    measurer.measure(p, T0)
    at = T0 + timedelta(minutes=5)
    _observe(p, at, 1, 1500.0, 52.0)
    p.observe("battery_soe", None, at)
    assets = {m.measurement.asset_id for m in measurer.measure(p, at)}
    assert assets == {"PV", "Grid meter", "Load"}


def test_a_site_without_an_asset_sends_none_for_it() -> None:
    sources = [
        _energy("meter_import_ac"),
        _energy("meter_export_ac"),
        MetricSource("battery_soe", SourceQuantity.SOC_PERCENT, "%"),
    ]
    p = TelemetryPipeline(site_id="s", gateway_id="g", sources=sources, capacity_kwh=10)
    measurer = PleeviMeasurer(site_id="s", asset_ids=ASSETS, capacity_kwh=10)
    for k in range(2):
        at = T0 + timedelta(minutes=k)
        p.observe("meter_import_ac", 1.0 + k, at)
        p.observe("meter_export_ac", 1.0, at)
        p.observe("battery_soe", 100.0, at)
        messages = measurer.measure(p, at)
    # Stand-alone: the meter is the battery (and the grid meter); no PV, no load.
    assert {m.measurement.asset_id for m in messages} == {"Battery", "Grid meter"}


def test_a_measurement_at_the_same_instant_repeats_the_last_power() -> None:
    p = pipeline()
    measurer = PleeviMeasurer(site_id="site-1", asset_ids=ASSETS, capacity_kwh=10)
    _observe(p, T0, 0, 0.0, 50.0)
    measurer.measure(p, T0)
    at = T0 + timedelta(minutes=30)
    _observe(p, at, 1, 0.0, 50.0)
    first = {m.measurement.asset_id: m.measurement.power_w for m in measurer.measure(p, at)}
    again = {m.measurement.asset_id: m.measurement.power_w for m in measurer.measure(p, at)}
    assert again == first
    assert first["PV"] == 500.0
