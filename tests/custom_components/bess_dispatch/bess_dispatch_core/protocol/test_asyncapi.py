"""The shipped AsyncAPI document agrees with the code, in both directions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bess_dispatch_core.protocol import (
    DEFAULT_PROFILE,
    METRICS,
    Aggregation,
    Alert,
    Command,
    CommandResponse,
    ControlMode,
    ErrorCode,
    LifetimeTelemetry,
    PowerTelemetry,
    Priority,
    ProtocolError,
    ScheduleEconomics,
    ScheduleEntry,
    Severity,
    TelemetryFeedback,
    TopicKind,
    Unit,
    ValidationResult,
    WindowedTelemetry,
    parse_alert,
    parse_command,
    parse_command_response,
    parse_lifetime_telemetry,
    parse_power_telemetry,
    parse_telemetry_feedback,
    parse_windowed_telemetry,
)

NOW = datetime(2026, 11, 21, 4, 30, 0, 120_000, tzinfo=UTC)
DOCUMENT: dict[str, Any] = yaml.safe_load(
    resources.files("bess_dispatch_core.protocol").joinpath("asyncapi.yaml").read_text()
)
REGISTRY: Registry[Any] = Registry().with_resource(
    "urn:bess-dispatch:asyncapi",
    Resource.from_contents(DOCUMENT, default_specification=DRAFT202012),
)


def validator(schema_name: str) -> Draft202012Validator:
    schema = {"$ref": f"urn:bess-dispatch:asyncapi#/components/schemas/{schema_name}"}
    return Draft202012Validator(schema, registry=REGISTRY)


def assert_valid(schema_name: str, document: dict[str, Any]) -> None:
    # Through JSON text, exactly as on the wire.
    errors = list(validator(schema_name).iter_errors(json.loads(json.dumps(document))))
    assert not errors, [error.message for error in errors]


def entry(start_min: int, end_min: int, **fields: Any) -> ScheduleEntry:
    return ScheduleEntry(
        NOW + timedelta(minutes=start_min), NOW + timedelta(minutes=end_min), **fields
    )


def produced_messages() -> list[tuple[str, Any]]:
    error = ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[3].power_kw", "too large")
    schedule = [
        entry(0, 30, power_kw=-2.5),
        entry(30, 60, mode=ControlMode.NO_DISCHARGE),
        entry(60, 90, mode=ControlMode.LIMIT_CHARGE, max_charge_kw=1.0),
        entry(90, 120, mode=ControlMode.IDLE),
        entry(120, 150, mode=ControlMode.IDLE, power_kw=0.0),
        entry(150, 180, mode=ControlMode.SELF_CONSUMPTION),
        entry(180, 181, power_kw=100_000.0),
    ]
    return [
        *[
            ("Command", Command.create(command_id=f"c-{p}", priority=p, schedule=schedule, now=NOW))
            for p in Priority
        ],
        (
            "Command",
            Command.create(
                command_id="one", priority=Priority.FALLBACK, schedule=schedule[:1], now=NOW
            ),
        ),
        (
            "Command",
            Command.create(
                command_id="priced",
                priority=Priority.DAY_AHEAD,
                schedule=schedule,
                now=NOW,
                economics=ScheduleEconomics(
                    "EUR", NOW, NOW, NOW + timedelta(hours=48), -1.25, self_consumption_cost=3
                ),
            ),
        ),
        ("LifetimeTelemetry", LifetimeTelemetry.create(value=12345.678, measured_at=NOW, now=NOW)),
        ("LifetimeTelemetry", LifetimeTelemetry.create(value=0, measured_at=NOW, now=NOW)),
        (
            "WindowedTelemetry",
            WindowedTelemetry.create(
                value=1.234, window_start=NOW, window_end=NOW + timedelta(minutes=5), now=NOW
            ),
        ),
        ("PowerTelemetry", PowerTelemetry.create(value=-3.2, measured_at=NOW, now=NOW)),
        (
            "PowerTelemetry",
            PowerTelemetry.create(value=7.5, measured_at=NOW, now=NOW, unit=Unit.KWH),
        ),
        (
            "PowerTelemetry",
            PowerTelemetry.create(
                value=-3.2,
                measured_at=NOW,
                now=NOW,
                aggregation=Aggregation.AVERAGE,
                aggregation_window=timedelta(seconds=1),
            ),
        ),
        (
            "PowerTelemetry",
            PowerTelemetry.create(
                value=1, measured_at=NOW, now=NOW, aggregation_window=timedelta(milliseconds=500)
            ),
        ),
        *[
            (
                "Alert",
                Alert.create(
                    code="NO_SCHEDULE",
                    severity=s,
                    active=s is not Severity.INFO,
                    raised_at=NOW,
                    message="m",
                    now=NOW,
                ),
            )
            for s in Severity
        ],
        ("CommandResponse", CommandResponse.accepted(in_reply_to="m-1", command_id="c-1", now=NOW)),
        (
            "CommandResponse",
            CommandResponse.rejected(in_reply_to="m-1", command_id="c-1", errors=[error], now=NOW),
        ),
        *[
            (
                "CommandResponse",
                CommandResponse.rejected(
                    in_reply_to=None,
                    command_id=None,
                    errors=[ProtocolError(code, "", "x")],
                    now=NOW,
                ),
            )
            for code in ErrorCode
        ],
        ("TelemetryFeedback", TelemetryFeedback.ok(in_reply_to="t-1", now=NOW)),
        ("TelemetryFeedback", TelemetryFeedback.error(in_reply_to="t-1", errors=[error], now=NOW)),
    ]


@pytest.mark.parametrize(
    ("schema_name", "message"),
    [
        pytest.param(name, message, id=f"{name}-{index}")
        for index, (name, message) in enumerate(produced_messages())
    ],
)
def test_produced_messages_validate(schema_name: str, message: Any) -> None:
    assert_valid(schema_name, json.loads(message.to_payload()))


PARSERS: dict[str, Callable[[bytes], ValidationResult[Any]]] = {
    "LifetimeTelemetry": parse_lifetime_telemetry,
    "WindowedTelemetry": parse_windowed_telemetry,
    "PowerTelemetry": parse_power_telemetry,
    "Alert": parse_alert,
    # Each example command is read at its own send time.
    "Command": lambda p: parse_command(p, now=datetime.fromisoformat(json.loads(p)["sent_at"])),
    "CommandResponse": parse_command_response,
    "TelemetryFeedback": parse_telemetry_feedback,
}


def examples() -> list[Any]:
    cases = []
    for name, message in DOCUMENT["components"]["messages"].items():
        schema_name = message["payload"]["$ref"].rsplit("/", 1)[1]
        assert message["examples"], name
        for example in message["examples"]:
            cases.append(
                pytest.param(schema_name, example["payload"], id=f"{name}-{example['name']}")
            )
    return cases


@pytest.mark.parametrize(("schema_name", "payload"), examples())
def test_document_examples_validate_and_parse(schema_name: str, payload: dict[str, Any]) -> None:
    assert_valid(schema_name, payload)
    result = PARSERS[schema_name](json.dumps(payload).encode())
    assert result.ok, result.errors
    # What we read, we write back valid too.
    assert_valid(schema_name, result.unwrap().to_dict())


@pytest.mark.parametrize(
    ("schema_name", "document"),
    [
        pytest.param("Command", {"priority": 2}, id="command-missing"),
        pytest.param(
            "ScheduleEntry",
            {"start": "2026-11-21T05:00:00Z", "end": "2026-11-21T05:30:00Z"},
            id="setpoint-without-power",
        ),
        pytest.param(
            "ScheduleEntry",
            {
                "start": "2026-11-21T05:00:00Z",
                "end": "2026-11-21T05:30:00Z",
                "mode": "LIMIT_CHARGE",
            },
            id="limit-without-max",
        ),
        pytest.param(
            "ScheduleEntry",
            {
                "start": "2026-11-21T05:00:00Z",
                "end": "2026-11-21T05:30:00Z",
                "mode": "IDLE",
                "power_kw": 1,
            },
            id="idle-with-power",
        ),
        pytest.param(
            "ScheduleEntry",
            {"start": "2026-11-21T05:00:00", "end": "2026-11-21T05:30:00Z", "power_kw": 1},
            id="naive-start",
        ),
        pytest.param(
            "PowerMeasurement",
            {"value": 1, "unit": "kW", "aggregation": "average"},
            id="average-without-window",
        ),
        pytest.param(
            "CommandResponse",
            {
                "schema_version": "2.3.0",
                "message_id": "m",
                "sent_at": "2026-11-21T05:00:00Z",
                "in_reply_to": None,
                "command_id": None,
                "status": "rejected",
                "errors": [],
            },
            id="rejected-without-errors",
        ),
        pytest.param(
            "Economics",
            {
                "currency": "eur",
                "as_of": "2026-11-21T05:00:00Z",
                "horizon_start": "2026-11-21T05:00:00Z",
                "horizon_end": "2026-11-23T05:00:00Z",
                "plan_cost": 1.0,
                "no_battery_cost": 2.0,
            },
            id="economics-lowercase-currency",
        ),
        pytest.param(
            "Economics",
            {
                "currency": "EUR",
                "as_of": "2026-11-21T05:00:00Z",
                "horizon_start": "2026-11-21T05:00:00Z",
                "horizon_end": "2026-11-23T05:00:00Z",
                "plan_cost": 1.0,
            },
            id="economics-without-baseline",
        ),
        pytest.param(
            "Economics",
            {
                "currency": "EUR",
                "as_of": "2026-11-21T05:00:00Z",
                "horizon_start": "2026-11-21T05:00:00Z",
                "horizon_end": "2026-11-23T05:00:00Z",
                "plan_cost": 2e12,
                "no_battery_cost": 2.0,
            },
            id="economics-absurd-cost",
        ),
        pytest.param("Duration", "PT", id="empty-duration"),
        pytest.param(
            "Envelope",
            {"schema_version": "3.0.0", "message_id": "m", "sent_at": "2026-11-21T05:00:00Z"},
            id="major-3",
        ),
    ],
)
def test_schemas_reject_what_parsers_reject(schema_name: str, document: Any) -> None:
    assert not validator(schema_name).is_valid(document)


def test_document_matches_code_catalogues() -> None:
    assert DOCUMENT["asyncapi"] == "3.0.0"
    schemas = DOCUMENT["components"]["schemas"]
    for name in schemas:
        Draft202012Validator.check_schema(schemas[name])
    assert schemas["ErrorCode"]["enum"] == [code.value for code in ErrorCode]
    assert schemas["ControlMode"]["enum"] == [mode.value for mode in ControlMode]
    assert DOCUMENT["components"]["parameters"]["metric"]["enum"] == list(METRICS)
    addresses = {channel["address"] for channel in DOCUMENT["channels"].values()}
    assert addresses == {DEFAULT_PROFILE.template(kind) for kind in TopicKind}
    actions = {name: operation["action"] for name, operation in DOCUMENT["operations"].items()}
    assert actions["receiveCommand"] == "receive"
    assert actions["sendCommandResponse"] == "send"
    assert actions["receiveTelemetryFeedback"] == "receive"
