"""options.json -> typed settings, and clear errors that name the option."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from optimizer.settings.broker import BrokerMode
from optimizer.settings.options import (
    LogLevel,
    OptionsError,
    load_options,
    options_to_dict,
    parse_options,
)
from optimizer.settings.site import PvSystem, UseCase
from optimizer.settings.tariff import SpotFormat, TariffKind, TouPeriod

# The add-on options files the add-on tests use too.
RESOURCES = Path(__file__).parents[1] / "addon" / "resources"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESOURCES / name).read_text(encoding="utf-8"))
    return data


def problems_of(options: object) -> tuple[str, ...]:
    with pytest.raises(OptionsError) as caught:
        parse_options(options)
    return caught.value.problems


def test_own_broker_two_sites_example_parses_to_typed_settings() -> None:
    options = load_options(RESOURCES / "options_own_two_sites.json")

    site_a, site_b = options.sites
    assert (site_a.site_id, site_a.gateway_id, site_a.use_case) == ("A", "gw", UseCase.AC_LINK)
    assert site_a.gateway_username == "A.gw"
    assert site_a.max_discharge_kw == 4.5
    assert site_a.gateway_password is None
    assert site_a.pv == PvSystem(kwp=4.5, latitude=35.69, longitude=139.76)
    assert site_a.pv_forecast_entity == "sensor.solcast_pv_forecast_forecast_today"
    assert site_b.gateway_password == "owner-chosen-password-B"
    assert site_b.has_load is False  # stand-alone: no on-site load whatever the option says
    assert options.tariff.kind is TariffKind.TOU
    # Sorted by start, minutes after midnight, tiling the day.
    assert options.tariff.tou_periods == (
        TouPeriod(0, 420, 18.5),
        TouPeriod(420, 1380, 35.2),
        TouPeriod(1380, 1440, 18.5),
    )
    assert options.broker.mode is BrokerMode.OWN
    assert options.broker.tls is True
    assert options.log_level is LogLevel.DEBUG
    assert options.test_mode is True


def test_entity_and_spot_file_examples() -> None:
    entity = load_options(RESOURCES / "options_ha_entity.json")
    spot = load_options(RESOURCES / "options_spot_file.json")

    assert entity.broker.mode is BrokerMode.HA
    assert entity.tariff.entity_id == "sensor.nordpool_kwh_fi_eur"
    assert entity.tariff.export_price == 0.0  # optional, defaults to nothing paid for export
    assert spot.tariff.kind is TariffKind.SPOT_FILE
    assert spot.tariff.spot_format is SpotFormat.JEPX
    assert spot.tariff.spot_source == "/share/bess_dispatch/jepx_spot.csv"
    assert spot.tariff.entity_id is None


@pytest.mark.parametrize(
    "name", ["options_own_two_sites.json", "options_ha_entity.json", "options_spot_file.json"]
)
def test_options_to_dict_reads_back_unchanged(name: str) -> None:
    options = load_options(RESOURCES / name)

    assert parse_options(options_to_dict(options, with_passwords=True)) == options
    without = options_to_dict(options)
    assert all("gateway_password" not in site for site in without["sites"])


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    options = example("options_own_two_sites.json")
    options["sites"][0]["max_soe_percent"] = 120
    options["sites"][1]["site_id"] = "B/1"
    options["tariff"]["kind"] = "fixed"
    options["broker"]["mode"] = "cloud"

    problems = problems_of(options)

    assert problems == (
        "sites[0].max_soe_percent: 120 is above the maximum 100",
        "sites[1].site_id: 'B/1' is not valid: 1-64 letters, digits, '_' or '-', "
        "starting with a letter or digit",
        "tariff.kind: 'fixed' is not one of spot_file, tou, entity",
        "broker.mode: 'cloud' is not one of own, ha",
    )
    with pytest.raises(OptionsError, match=r"invalid add-on options:\n  - sites\[0\]"):
        parse_options(options)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda o: o["sites"][0].update(min_soe_percent=95),
            "sites[0].min_soe_percent: 95 must be below max_soe_percent (95)",
        ),
        (
            lambda o: o["sites"][0].update(round_trip_efficiency=1.2),
            "sites[0].round_trip_efficiency: 1.2 is above the maximum 1",
        ),
        (
            lambda o: o["sites"][0].update(max_charge_kw=0),
            "sites[0].max_charge_kw: 0 must be greater than 0",
        ),
        (
            lambda o: o["sites"][0].update(battery_capacity_kwh="10"),
            "sites[0].battery_capacity_kwh: must be a number, got str",
        ),
        (
            lambda o: o["sites"][0].update(has_load="yes"),
            "sites[0].has_load: must be true or false, got str",
        ),
        (lambda o: o["sites"][0].pop("gateway_id"), "sites[0].gateway_id: is required"),
        (
            lambda o: o["sites"][0].pop("longitude"),
            "sites[0].longitude: is required with pv_kwp, latitude",
        ),
        (
            lambda o: o["sites"][0].update(latitude=91),
            "sites[0].latitude: 91 is above the maximum 90",
        ),
        (
            lambda o: o["sites"][0].update(pv_kwp=0),
            "sites[0].pv_kwp: 0 must be greater than 0",
        ),
        (
            lambda o: o["sites"][0].update(pv_forecast_entity="Solcast today"),
            "sites[0].pv_forecast_entity: 'Solcast today' is not an entity id like "
            "sensor.solcast_pv_forecast_today",
        ),
        (
            lambda o: o["sites"][0].update(pv_forecast_entity=3),
            "sites[0].pv_forecast_entity: must be a string, got int",
        ),
        (
            lambda o: o["sites"][0].update(use_case="hybrid"),
            "sites[0].use_case: 'hybrid' is not one of ac_link, dc_link, standalone",
        ),
        (
            lambda o: o["sites"][1].update(site_id="A"),
            "sites[1].site_id: 'A' is already used by sites[0]",
        ),
        (
            lambda o: o["sites"][1].update(gateway_password="short"),
            "sites[1].gateway_password: must be at least 12 characters (or left empty)",
        ),
        (lambda o: o.update(sites=[]), "sites: at least one site is required"),
        (lambda o: o.pop("tariff"), "tariff: is required"),
        (
            lambda o: o["tariff"].update(tou_periods=["00:00-07:00 18.5", "07:00-23:00 35"]),
            "tariff.tou_periods: no price from 23:00 to 24:00",
        ),
        (
            lambda o: o["tariff"].update(tou_periods=["00:00-08:00 1", "07:00-24:00 2"]),
            "tariff.tou_periods: periods overlap at 07:00",
        ),
        (
            lambda o: o["tariff"].update(tou_periods=["00:00-07:00 1", "08:00-24:00 2"]),
            "tariff.tou_periods: no price from 07:00 to 08:00",
        ),
        (
            lambda o: o["tariff"].update(tou_periods=["0:00-24:00 1"]),
            "tariff.tou_periods[0]: '0:00-24:00 1' is not \"HH:MM-HH:MM price\", "
            'e.g. "07:00-23:00 31.2"',
        ),
        (
            lambda o: o["tariff"].update(tou_periods=["12:00-11:00 1"]),
            "tariff.tou_periods[0]: '12:00-11:00 1': start must be before end, within 00:00-24:00",
        ),
        (
            lambda o: o["tariff"].pop("tou_periods"),
            'tariff.tou_periods: is required for kind "tou": e.g. ["00:00-07:00 18.5", ...]',
        ),
        (
            lambda o: o["tariff"].update(kind="spot_file"),
            'tariff.spot_source: is required for kind "spot_file": a path such as '
            "/share/prices.csv or an http(s) URL",
        ),
        (
            lambda o: o["tariff"].update(kind="spot_file", spot_source="prices.csv"),
            "tariff.spot_source: 'prices.csv' must be an absolute path (e.g. "
            "/share/prices.csv) or an http(s) URL",
        ),
        (
            lambda o: o["tariff"].update(kind="entity"),
            'tariff.entity_id: is required for kind "entity", e.g. sensor.price',
        ),
        (
            lambda o: o["tariff"].update(kind="entity", entity_id="Sensor Price"),
            "tariff.entity_id: 'Sensor Price' is not an entity id like sensor.price",
        ),
        (
            lambda o: o["broker"].update(certfile="../etc/shadow"),
            "broker.certfile: '../etc/shadow' must stay inside /ssl",
        ),
        (
            lambda o: o.update(log_level="verbose"),
            "log_level: 'verbose' is not one of trace, debug, info, notice, warning, error, fatal",
        ),
    ],
)
def test_bad_option_gives_an_error_naming_it(change: Any, expected: str) -> None:
    options = copy.deepcopy(example("options_own_two_sites.json"))
    change(options)

    assert problems_of(options) == (expected,)


def test_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "options.json"
    broken.write_text("{not json", encoding="utf-8")

    with pytest.raises(OptionsError, match=r"options.json: not valid JSON"):
        load_options(broken)
    with pytest.raises(OptionsError, match=r"missing.json: cannot be read"):
        load_options(tmp_path / "missing.json")
    assert problems_of([1, 2]) == ("options: must be a JSON object, got list",)
