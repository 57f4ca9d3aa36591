"""Telemetry, alert and response messages: construction, wire form and parsers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bess_dispatch_core.protocol import (
    Aggregation,
    Alert,
    CommandResponse,
    Envelope,
    ErrorCode,
    FeedbackStatus,
    LifetimeTelemetry,
    PowerTelemetry,
    ProtocolError,
    ResponseStatus,
    Severity,
    TelemetryFeedback,
    Unit,
    ValidationResult,
    WindowedTelemetry,
    parse_alert,
    parse_command_response,
    parse_lifetime_telemetry,
    parse_power_telemetry,
    parse_telemetry_feedback,
    parse_windowed_telemetry,
)

NOW = datetime(2026, 11, 21, 4, 30, 0, 120_000, tzinfo=UTC)
ENVELOPE = {"schema_version": "2.3.0", "message_id": "m-1", "sent_at": "2026-11-21T04:30:00.120Z"}


def payload_of(**fields: Any) -> bytes:
    return json.dumps({**ENVELOPE, **fields}).encode()


def codes(result: ValidationResult[Any]) -> list[tuple[ErrorCode, str]]:
    return [(error.code, error.path) for error in result.errors]


def test_envelope_new_and_checks() -> None:
    envelope = Envelope.new(datetime(2026, 1, 1, 0, 0, 0, 123_456, tzinfo=UTC))
    assert envelope.sent_at.microsecond == 123_000
    assert envelope.to_dict()["sent_at"] == "2026-01-01T00:00:00.123Z"
    assert Envelope.new(NOW).message_id != Envelope.new(NOW).message_id
    with pytest.raises(ValueError, match="now"):
        Envelope.new(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="MAJOR"):
        Envelope("2.3", "m", NOW)
    with pytest.raises(ValueError, match="longer than 200"):
        Envelope("2.3.0", "m" * 201, NOW)


def test_lifetime_round_trip_and_errors() -> None:
    message = LifetimeTelemetry.create(value=12345.678, measured_at=NOW, now=NOW)
    assert message.to_dict()["measurement_value"] == {"value": 12345.678, "unit": "kWh"}
    assert parse_lifetime_telemetry(message.to_payload()).unwrap() == message
    result = parse_lifetime_telemetry(
        payload_of(measured_at="2026-11-21T04:30:00Z", measurement_value={"value": 1, "unit": "kW"})
    )
    assert codes(result) == [(ErrorCode.FIELD_OUT_OF_RANGE, "measurement_value.unit")]
    result = parse_lifetime_telemetry(payload_of(measured_at="x", measurement_value=[]))
    assert codes(result) == [
        (ErrorCode.TYPE_MISMATCH, "measured_at"),
        (ErrorCode.TYPE_MISMATCH, "measurement_value"),
    ]
    result = parse_lifetime_telemetry(
        payload_of(measured_at="2026-11-21T04:30:00Z", measurement_value={})
    )
    assert codes(result) == [
        (ErrorCode.MISSING_FIELD, "measurement_value.value"),
        (ErrorCode.MISSING_FIELD, "measurement_value.unit"),
    ]
    with pytest.raises(ValueError, match="kWh"):
        LifetimeTelemetry(message.envelope, NOW, 1.0, Unit.KW)
    with pytest.raises(ValueError, match="finite"):
        LifetimeTelemetry(message.envelope, NOW, float("nan"))


def test_windowed_round_trip_and_errors() -> None:
    start = NOW.replace(minute=25, microsecond=0)
    message = WindowedTelemetry.create(
        value=1.234, window_start=start, window_end=start + timedelta(minutes=5), now=NOW
    )
    assert message.window == timedelta(minutes=5)
    assert parse_windowed_telemetry(message.to_payload()).unwrap() == message
    assert parse_windowed_telemetry(message.to_payload(), expected_window=timedelta(minutes=5)).ok
    result = parse_windowed_telemetry(message.to_payload(), expected_window=timedelta(minutes=30))
    assert codes(result) == [(ErrorCode.TIME_WINDOW_INVALID, "window_end")]
    backwards = message.to_dict() | {"window_end": message.to_dict()["window_start"]}
    assert codes(parse_windowed_telemetry(json.dumps(backwards))) == [
        (ErrorCode.TIME_WINDOW_INVALID, "window_end")
    ]
    missing = {key: value for key, value in message.to_dict().items() if key != "window_start"}
    assert codes(parse_windowed_telemetry(json.dumps(missing))) == [
        (ErrorCode.MISSING_FIELD, "window_start")
    ]
    no_value = message.to_dict() | {"measurement_value": {"unit": "kWh"}, "schema_version": "9.0.0"}
    assert codes(parse_windowed_telemetry(json.dumps(no_value))) == [
        (ErrorCode.FIELD_OUT_OF_RANGE, "schema_version"),
        (ErrorCode.MISSING_FIELD, "measurement_value.value"),
    ]
    with pytest.raises(ValueError, match="window_end"):
        WindowedTelemetry(message.envelope, start, start, 1.0)
    with pytest.raises(ValueError, match="kWh"):
        WindowedTelemetry(message.envelope, start, start + timedelta(minutes=5), 1.0, Unit.KW)


def test_power_variants_round_trip() -> None:
    variants = [
        PowerTelemetry.create(value=-3.2, measured_at=NOW, now=NOW),
        PowerTelemetry.create(
            value=-3.2,
            measured_at=NOW,
            now=NOW,
            aggregation=Aggregation.AVERAGE,
            aggregation_window=timedelta(seconds=1),
        ),
        PowerTelemetry.create(value=7.5, measured_at=NOW, now=NOW, unit=Unit.KWH),
    ]
    for message in variants:
        assert parse_power_telemetry(message.to_payload()).unwrap() == message
    assert variants[1].to_dict()["measurement_value"]["aggregation_window"] == "PT1S"
    with pytest.raises(ValueError, match="aggregation_window is required"):
        PowerTelemetry.create(value=1, measured_at=NOW, now=NOW, aggregation=Aggregation.AVERAGE)
    with pytest.raises(ValueError, match="positive"):
        PowerTelemetry.create(value=1, measured_at=NOW, now=NOW, aggregation_window=timedelta(0))


@pytest.mark.parametrize(
    ("measurement", "expected"),
    [
        pytest.param({"value": 1, "unit": "kW"}, [], id="instant-default"),
        pytest.param(
            {"value": 1, "unit": "W"},
            [(ErrorCode.FIELD_OUT_OF_RANGE, "measurement_value.unit")],
            id="unit",
        ),
        pytest.param(
            {"value": 1, "unit": "kW", "aggregation": "average"},
            [(ErrorCode.MISSING_FIELD, "measurement_value.aggregation_window")],
            id="average-without-window",
        ),
        pytest.param(
            {"value": 1, "unit": "kW", "aggregation": "average", "aggregation_window": "1s"},
            [(ErrorCode.TYPE_MISMATCH, "measurement_value.aggregation_window")],
            id="bad-window",
        ),
        pytest.param(
            {"value": 1, "unit": "kW", "aggregation_window": 1},
            [(ErrorCode.TYPE_MISMATCH, "measurement_value.aggregation_window")],
            id="numeric-window",
        ),
        pytest.param(
            {"value": 1, "unit": "kW", "aggregation_window": "PT0S"},
            [(ErrorCode.FIELD_OUT_OF_RANGE, "measurement_value.aggregation_window")],
            id="zero-window",
        ),
        pytest.param(
            {"value": "1", "unit": "kW", "aggregation": "median"},
            [
                (ErrorCode.TYPE_MISMATCH, "measurement_value.value"),
                (ErrorCode.FIELD_OUT_OF_RANGE, "measurement_value.aggregation"),
            ],
            id="value-and-aggregation",
        ),
    ],
)
def test_power_errors(measurement: dict[str, Any], expected: list[tuple[ErrorCode, str]]) -> None:
    result = parse_power_telemetry(
        payload_of(measured_at="2026-11-21T04:30:00Z", measurement_value=measurement)
    )
    assert codes(result) == expected


def test_power_needs_measurement() -> None:
    result = parse_power_telemetry(payload_of(measured_at="2026-11-21T04:30:00Z"))
    assert codes(result) == [(ErrorCode.MISSING_FIELD, "measurement_value")]
    result = parse_power_telemetry(payload_of(measurement_value={"value": 1, "unit": "kW"}))
    assert codes(result) == [(ErrorCode.MISSING_FIELD, "measured_at")]


def test_alert_round_trip_and_errors() -> None:
    for severity in Severity:
        for active in (True, False):
            message = Alert.create(
                code="NO_SCHEDULE",
                severity=severity,
                active=active,
                raised_at=NOW,
                message="",
                now=NOW,
            )
            assert parse_alert(message.to_payload()).unwrap() == message
    result = parse_alert(
        payload_of(code="", severity="fatal", active="yes", raised_at=None, message=3)
    )
    assert codes(result) == [
        (ErrorCode.FIELD_OUT_OF_RANGE, "code"),
        (ErrorCode.FIELD_OUT_OF_RANGE, "severity"),
        (ErrorCode.TYPE_MISMATCH, "active"),
        (ErrorCode.MISSING_FIELD, "raised_at"),
        (ErrorCode.TYPE_MISMATCH, "message"),
    ]
    assert codes(parse_alert(payload_of(severity=1)))[1] == (ErrorCode.TYPE_MISMATCH, "severity")
    with pytest.raises(ValueError, match="active"):
        Alert(Envelope.new(NOW), "X", Severity.INFO, 1, NOW, "")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="message"):
        Alert(Envelope.new(NOW), "X", Severity.INFO, True, NOW, None)  # type: ignore[arg-type]


def test_command_response_variants() -> None:
    error = ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, "schedule[3].power_kw", "too large")
    variants = [
        CommandResponse.accepted(in_reply_to="m-1", command_id="c-1", now=NOW),
        CommandResponse.rejected(in_reply_to="m-1", command_id="c-1", errors=[error], now=NOW),
        CommandResponse.rejected(
            in_reply_to=None,
            command_id=None,
            errors=[ProtocolError(ErrorCode.MESSAGE_MALFORMED, "", "not JSON")],
            now=NOW,
        ),
        CommandResponse.accepted(
            in_reply_to="m-1",
            command_id="c-1",
            now=NOW,
            errors=[ProtocolError(ErrorCode.RESOURCE_UNAVAILABLE, "", "battery offline")],
        ),
    ]
    for response in variants:
        assert parse_command_response(response.to_payload()).unwrap() == response
    assert variants[2].to_dict()["in_reply_to"] is None
    assert variants[1].status is ResponseStatus.REJECTED
    assert str(error) == "FIELD_OUT_OF_RANGE at schedule[3].power_kw: too large"
    assert str(ProtocolError(ErrorCode.MESSAGE_MALFORMED, "", "x")) == "MESSAGE_MALFORMED at $: x"
    with pytest.raises(ValueError, match="at least one error"):
        CommandResponse.rejected(in_reply_to=None, command_id=None, errors=[], now=NOW)
    with pytest.raises(ValueError, match="in_reply_to"):
        CommandResponse.accepted(in_reply_to="", command_id=None, now=NOW)


def test_command_response_errors() -> None:
    result = parse_command_response(payload_of(status="rejected"))
    assert codes(result) == [(ErrorCode.MISSING_FIELD, "errors")]
    result = parse_command_response(
        payload_of(status="accepted", errors=[1, {"code": "NOPE", "path": 1}], in_reply_to=5)
    )
    assert codes(result) == [
        (ErrorCode.TYPE_MISMATCH, "in_reply_to"),
        (ErrorCode.TYPE_MISMATCH, "errors[0]"),
        (ErrorCode.FIELD_OUT_OF_RANGE, "errors[1].code"),
        (ErrorCode.TYPE_MISMATCH, "errors[1].path"),
        (ErrorCode.MISSING_FIELD, "errors[1].message"),
    ]
    # Absent ids and errors read as None and ().
    response = parse_command_response(payload_of(status="accepted")).unwrap()
    assert (response.in_reply_to, response.command_id, response.errors) == (None, None, ())


def test_telemetry_feedback_variants_and_errors() -> None:
    error = ProtocolError(ErrorCode.TIME_WINDOW_INVALID, "window_end", "before start")
    variants = [
        TelemetryFeedback.ok(in_reply_to="t-1", now=NOW),
        TelemetryFeedback.error(in_reply_to="t-1", errors=[error], now=NOW),
    ]
    for feedback in variants:
        assert parse_telemetry_feedback(feedback.to_payload()).unwrap() == feedback
    assert variants[1].code is ErrorCode.TIME_WINDOW_INVALID
    assert variants[1].status is FeedbackStatus.ERROR
    with pytest.raises(ValueError, match="at least one error"):
        TelemetryFeedback.error(in_reply_to="t-1", errors=[], now=NOW)
    with pytest.raises(ValueError, match="message"):
        TelemetryFeedback(Envelope.new(NOW), "t", FeedbackStatus.OK, None, 5)  # type: ignore[arg-type]
    result = parse_telemetry_feedback(payload_of(status="fine", code="OOPS", message=1))
    assert codes(result) == [
        (ErrorCode.MISSING_FIELD, "in_reply_to"),
        (ErrorCode.FIELD_OUT_OF_RANGE, "status"),
        (ErrorCode.FIELD_OUT_OF_RANGE, "code"),
        (ErrorCode.TYPE_MISMATCH, "message"),
    ]


def test_validation_result_invariant() -> None:
    with pytest.raises(ValueError, match="either"):
        ValidationResult(None)
    with pytest.raises(ValueError, match="either"):
        ValidationResult(1, (ProtocolError(ErrorCode.INTERNAL_ERROR, "", "x"),))


def test_every_parser_survives_garbage() -> None:
    parsers = [
        parse_lifetime_telemetry,
        parse_windowed_telemetry,
        parse_power_telemetry,
        parse_alert,
        parse_command_response,
        parse_telemetry_feedback,
    ]
    for parse in parsers:
        for payload in (b"\x80", b"[1]", b"{}", b'{"measurement_value": {"value": NaN}}'):
            result = parse(payload)
            assert not result.ok
            assert result.errors


def test_unexpected_failures_become_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from bess_dispatch_core.protocol import validation

    def explode(data: dict[str, Any], errors: list[ProtocolError]) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(validation, "_alert", explode)
    result = parse_alert(payload_of(command_id="c-9"))
    assert [(e.code, e.message) for e in result.errors] == [
        (ErrorCode.INTERNAL_ERROR, "RuntimeError: boom")
    ]
    assert (result.message_id, result.command_id) == ("m-1", "c-9")
