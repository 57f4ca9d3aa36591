"""AlertTracker: each condition raised once and cleared once, AsyncAPI-valid alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bess_dispatch_core.gateway.alerts import (
    BACKLOG_GROWING,
    SOE_OUT_OF_LIMITS,
    AlertTracker,
    source_unavailable_code,
)
from bess_dispatch_core.gateway.outgoing_message import OutgoingMessage
from bess_dispatch_core.protocol import TopicKind, parse_alert

T0 = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
DOCUMENT: dict[str, Any] = yaml.safe_load(
    resources.files("bess_dispatch_core.protocol").joinpath("asyncapi.yaml").read_text()
)
ALERT_SCHEMA = Draft202012Validator(
    {"$ref": "urn:bess-dispatch:asyncapi#/components/schemas/Alert"},
    registry=Registry().with_resource(
        "urn:bess-dispatch:asyncapi",
        Resource.from_contents(DOCUMENT, default_specification=DRAFT202012),
    ),
)


def tracker(**options: Any) -> AlertTracker:
    return AlertTracker(
        site_id="site-1", gateway_id="gw-1", soe_min_kwh=1.0, soe_max_kwh=9.0, **options
    )


def summary(messages: list[OutgoingMessage]) -> list[tuple[str, bool, str]]:
    """(code, active, severity) of each message, after checking it against the schema."""
    result = []
    for message in messages:
        assert message.topic == "dt/site-1/gw-1/alert"
        assert message.kind is TopicKind.ALERT
        document = json.loads(message.payload)
        errors = [error.message for error in ALERT_SCHEMA.iter_errors(document)]
        assert not errors
        assert parse_alert(message.payload).ok
        result.append((document["code"], document["active"], document["severity"]))
    return result


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_soe_outside_limits_is_raised_once_and_cleared_once() -> None:
    alerts = tracker(soe_tolerance_kwh=0.1)
    log: list[OutgoingMessage] = []
    for minute, soe in enumerate([5.0, 0.95, 0.8, 0.85, None, 0.95, 1.0, 9.05, 9.2, 9.3, 8.0]):
        log += alerts.check_soe(soe, at(minute))
    assert summary(log) == [
        (SOE_OUT_OF_LIMITS, True, "critical"),  # 0.8 < 1.0 - 0.1
        (SOE_OUT_OF_LIMITS, False, "info"),  # back at the limit (1.0)
        (SOE_OUT_OF_LIMITS, True, "critical"),  # 9.2 > 9.0 + 0.1
        (SOE_OUT_OF_LIMITS, False, "info"),
    ]
    first_raise, first_clear = (json.loads(m.payload) for m in log[:2])
    assert first_clear["raised_at"] == first_raise["raised_at"] == "2026-11-21T04:02:00.000Z"
    assert first_clear["sent_at"] == "2026-11-21T04:06:00.000Z"
    assert "0.800 kWh" in first_raise["message"]
    assert alerts.active == {}


def test_backlog_growing_by_count_or_age_with_hysteresis() -> None:
    alerts = tracker(backlog_max_messages=1000, backlog_max_age=timedelta(minutes=15))
    log: list[OutgoingMessage] = []
    for minute, (queued, age) in enumerate(
        [
            (500, timedelta(minutes=1)),
            (1500, timedelta(minutes=5)),  # too many: raised
            (1200, timedelta(minutes=6)),
            (600, timedelta(minutes=3)),  # below the threshold, above half: still active
            (400, timedelta(minutes=3)),  # cleared
            (10, timedelta(minutes=20)),  # few but old: raised again
            (0, None),  # empty: cleared
            (0, None),
        ]
    ):
        log += alerts.check_backlog(queued, age, at(minute))
    assert summary(log) == [
        (BACKLOG_GROWING, True, "warning"),
        (BACKLOG_GROWING, False, "info"),
        (BACKLOG_GROWING, True, "warning"),
        (BACKLOG_GROWING, False, "info"),
    ]


def test_sources_after_grace_then_cleared_each_on_its_own() -> None:
    alerts = tracker(source_grace=timedelta(minutes=5))
    assert alerts.check_sources({"meter_import_ac": at(0)}, at(4)) == []
    raised = alerts.check_sources({"meter_import_ac": at(0), "battery_soe": at(3)}, at(5))
    assert summary(raised) == [(source_unavailable_code("meter_import_ac"), True, "warning")]
    raised = alerts.check_sources({"meter_import_ac": at(0), "battery_soe": at(3)}, at(8))
    assert summary(raised) == [(source_unavailable_code("battery_soe"), True, "warning")]
    assert alerts.check_sources({"meter_import_ac": at(0), "battery_soe": at(3)}, at(9)) == []
    cleared = alerts.check_sources({"battery_soe": at(3)}, at(10))
    assert summary(cleared) == [("SOURCE_UNAVAILABLE:meter_import_ac", False, "info")]
    assert list(alerts.active) == ["SOURCE_UNAVAILABLE:battery_soe"]


def test_active_alerts_survive_a_restart_and_are_cleared_after_it() -> None:
    alerts = tracker()
    alerts.check_soe(0.2, at(0))
    stored = json.loads(json.dumps(alerts.to_dict()))
    restarted = tracker()
    restarted.restore(stored)
    assert restarted.check_soe(0.3, at(1)) == []  # still active: not raised twice
    (cleared,) = restarted.check_soe(5.0, at(2))
    assert json.loads(cleared.payload)["raised_at"] == "2026-11-21T04:00:00.000Z"
    with pytest.raises(ValueError, match=r"active\.SOE_OUT_OF_LIMITS"):
        restarted.restore({"active": {SOE_OUT_OF_LIMITS: "yesterday"}})


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="soe_min_kwh 5 is above soe_max_kwh 4"):
        AlertTracker(site_id="s", gateway_id="g", soe_min_kwh=5, soe_max_kwh=4)
    with pytest.raises(ValueError, match="soe_tolerance_kwh"):
        AlertTracker(
            site_id="s", gateway_id="g", soe_min_kwh=1, soe_max_kwh=4, soe_tolerance_kwh=-1
        )
    with pytest.raises(ValueError, match="gateway_id"):
        AlertTracker(site_id="s", gateway_id="g/1", soe_min_kwh=1, soe_max_kwh=4)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"source_grace": timedelta(seconds=-1)}, "source_grace must not be negative"),
        ({"backlog_max_messages": 0}, "backlog_max_messages must be >= 1, got 0"),
        ({"backlog_max_age": timedelta(0)}, "backlog_max_age must be positive"),
    ],
)
def test_bad_thresholds_are_refused_naming_them(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tracker(**options)


def test_a_malformed_saved_state_is_refused_naming_the_entry() -> None:
    with pytest.raises(ValueError, match="active must be an object"):
        tracker().restore({"active": ["NO_SCHEDULE"]})
    with pytest.raises(ValueError, match=r"active\.NO_SCHEDULE: bad time 'yesterday'"):
        tracker().restore({"active": {"NO_SCHEDULE": "yesterday"}})


def test_schedule_fallback_is_raised_and_cleared_once() -> None:
    tracker = AlertTracker(site_id="s", gateway_id="g", soe_min_kwh=1.0, soe_max_kwh=9.0)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    raised = tracker.check_schedule(False, now)
    assert [json.loads(m.payload)["code"] for m in raised] == ["NO_SCHEDULE"]
    assert tracker.check_schedule(False, now) == []
    cleared = tracker.check_schedule(True, now)
    assert [json.loads(m.payload)["active"] for m in cleared] == [False]
    assert tracker.check_schedule(True, now) == []


def test_battery_unreachable_is_raised_and_cleared_once() -> None:
    tracker = AlertTracker(site_id="s", gateway_id="g", soe_min_kwh=1.0, soe_max_kwh=9.0)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    raised = tracker.check_battery(False, "connection refused", now)
    alert = json.loads(raised[0].payload)
    assert (alert["code"], alert["severity"], alert["active"]) == (
        "BATTERY_UNREACHABLE",
        "critical",
        True,
    )
    assert "connection refused" in alert["message"]
    assert tracker.check_battery(False, "again", now) == []
    assert len(tracker.check_battery(True, None, now)) == 1


def test_every_drop_is_announced() -> None:
    tracker = AlertTracker(site_id="s", gateway_id="g", soe_min_kwh=1.0, soe_max_kwh=9.0)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert tracker.dropped({}, now) == []
    first = tracker.dropped({"capacity": 3}, now)
    second = tracker.dropped({"age": 1, "capacity": 2}, now)
    texts = [json.loads(m.payload)["message"] for m in first + second]
    assert texts == [
        "3 telemetry messages dropped (3 capacity)",
        "3 telemetry messages dropped (1 age, 2 capacity)",
    ]
