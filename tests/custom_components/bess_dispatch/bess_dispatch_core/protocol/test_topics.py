"""Topic builders, filters and the parser, with the default and a custom profile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bess_dispatch_core.protocol import (
    DEFAULT_PROFILE,
    TopicAddress,
    TopicKind,
    TopicProfile,
    alert_topic,
    command_response_topic,
    command_topic,
    lifetime_topic,
    parse_topic,
    power_topic,
    telemetry_feedback_topic,
    validate_topic_id,
    windowed_topic,
)

IDS = st.text(min_size=1, max_size=20).filter(lambda s: not any(c in s for c in "/+#\x00"))
WINDOWS = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=30))


def test_builders_follow_protocol_md() -> None:
    assert lifetime_topic("s", "g", "meter_import_ac") == "dt/s/g/meter_import_ac/lifetime"
    assert (
        windowed_topic("s", "g", "battery_soe", timedelta(minutes=5))
        == "dt/s/g/battery_soe/energy/PT5M"
    )
    assert windowed_topic("s", "g", "m", timedelta(minutes=30)) == "dt/s/g/m/energy/PT30M"
    assert power_topic("s", "g", "m") == "dt/s/g/m/power"
    assert alert_topic("s", "g") == "dt/s/g/alert"
    assert command_topic("site-1") == "cmd/site-1/battery/power"
    assert command_response_topic("s") == "res/s/command"
    assert telemetry_feedback_topic("s", "g") == "res/s/g/telemetry"


@given(IDS, IDS, IDS, WINDOWS)
def test_build_parse_round_trip(site: str, gateway: str, metric: str, window: timedelta) -> None:
    cases = [
        (
            lifetime_topic(site, gateway, metric),
            TopicAddress(TopicKind.LIFETIME, site, gateway, metric),
        ),
        (
            windowed_topic(site, gateway, metric, window),
            TopicAddress(TopicKind.WINDOWED, site, gateway, metric, window),
        ),
        (power_topic(site, gateway, metric), TopicAddress(TopicKind.POWER, site, gateway, metric)),
        (alert_topic(site, gateway), TopicAddress(TopicKind.ALERT, site, gateway)),
        (command_topic(site), TopicAddress(TopicKind.COMMAND, site)),
        (command_response_topic(site), TopicAddress(TopicKind.COMMAND_RESPONSE, site)),
        (
            telemetry_feedback_topic(site, gateway),
            TopicAddress(TopicKind.TELEMETRY_FEEDBACK, site, gateway),
        ),
    ]
    for topic, address in cases:
        assert parse_topic(topic) == address
        rebuilt = DEFAULT_PROFILE.build(
            address.kind, address.site_id, address.gateway_id, address.metric, address.window
        )
        assert rebuilt == topic


@pytest.mark.parametrize(
    "topic",
    [
        "dt/s/g/m/energy/5min",
        "dt/s/g/m/energy/PT0S",
        "dt/s//m/power",
        "dt/s/g/m/volts",
        "cmd/s/battery",
        "cmd/s/battery/power/extra",
        "res/s/command/x",
        "other/s/command",
        "",
        "cmd/+/battery/power",
    ],
)
def test_parse_rejects(topic: str) -> None:
    assert parse_topic(topic) is None


@pytest.mark.parametrize("bad", ["", "a/b", "a+", "#", "a\x00"])
def test_invalid_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="site"):
        validate_topic_id(bad, "site")
    with pytest.raises(ValueError, match="siteId"):
        command_topic(bad)


def test_build_needs_every_id_and_positive_window() -> None:
    with pytest.raises(ValueError, match="needs gatewayId"):
        DEFAULT_PROFILE.build(TopicKind.ALERT, "s")
    with pytest.raises(ValueError, match="positive"):
        windowed_topic("s", "g", "m", timedelta(0))


def test_filters() -> None:
    assert DEFAULT_PROFILE.filter(TopicKind.LIFETIME, site_id="s") == "dt/s/+/+/lifetime"
    assert DEFAULT_PROFILE.filter(TopicKind.WINDOWED, "s", "g", "m") == "dt/s/g/m/energy/+"
    assert DEFAULT_PROFILE.filter(TopicKind.COMMAND) == "cmd/+/battery/power"
    with pytest.raises(ValueError, match="gatewayId"):
        DEFAULT_PROFILE.filter(TopicKind.ALERT, "s", "g/h")


def test_custom_profile() -> None:
    profile = TopicProfile.from_dict(
        {
            "command": "bess/{siteId}/commands",
            "lifetime": "bess/{siteId}/{gatewayId}/lifetime/{metric}",
        }
    )
    assert profile.build(TopicKind.COMMAND, "s") == "bess/s/commands"
    assert profile.parse("bess/s/commands") == TopicAddress(TopicKind.COMMAND, "s")
    assert profile.parse("bess/s/g/lifetime/m") == TopicAddress(TopicKind.LIFETIME, "s", "g", "m")
    assert profile.parse("cmd/s/battery/power") is None
    assert profile.to_dict()["alert"] == DEFAULT_PROFILE.alert
    assert TopicProfile.from_dict(profile.to_dict()) == profile


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        pytest.param({"commands": "x/{siteId}"}, "unknown topic kinds", id="unknown-kind"),
        pytest.param({"command": 1}, "must be a string", id="not-string"),
        pytest.param({"command": "cmd/{site}/power"}, "must use each of", id="wrong-placeholder"),
        pytest.param({"command": "cmd/power"}, "must use each of", id="missing-placeholder"),
        pytest.param(
            {"alert": "dt/{siteId}/{siteId}/{gatewayId}"}, "must use each of", id="repeated"
        ),
        pytest.param({"command": "cmd/x{siteId}/power"}, "whole", id="partial-level"),
        pytest.param({"command": "cmd//{siteId}"}, "whole", id="empty-level"),
        pytest.param({"command": "cmd/+/{siteId}"}, "whole", id="wildcard"),
    ],
)
def test_invalid_profiles(templates: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TopicProfile.from_dict(templates)  # type: ignore[arg-type]
