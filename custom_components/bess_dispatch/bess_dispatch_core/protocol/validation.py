"""Parsers for every message: bytes in, a typed message or all its errors out.

Parsers never raise. They collect every problem with a field path (``schedule[3].power_kw``,
``priority``; ``""`` for the whole message). JSON ``null`` counts as an absent field;
unknown fields are ignored (newer MINOR versions may add some).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from .alert import Alert, Severity
from .command import (
    MAX_SCHEDULE_ENTRIES,
    Command,
    ControlMode,
    Priority,
    ScheduleEntry,
    entry_problems,
    find_overlaps,
)
from .economics import CURRENCY_CODE, CURRENCY_PROBLEM, ScheduleEconomics, economics_problems
from .envelope import MAX_ID_LENGTH, Envelope
from .errors import ErrorCode, ProtocolError, ProtocolValidationError
from .limits import MAX_ECHO_CHARS, MAX_PAYLOAD_BYTES
from .responses import CommandResponse, FeedbackStatus, ResponseStatus, TelemetryFeedback
from .telemetry import Aggregation, LifetimeTelemetry, PowerTelemetry, Unit, WindowedTelemetry
from .timeformat import parse_datetime, parse_duration
from .version import SchemaVersion, is_supported

MAX_TEXT_LENGTH = 10_000
# Larger integers cannot become floats; anything near this is nonsense anyway.
_MAX_MAGNITUDE = 1e300


@dataclass(frozen=True, slots=True)
class ValidationResult[T]:
    """Either ``value`` (and no errors) or a non-empty ``errors``.

    ``message_id`` and ``command_id`` are read on a best-effort basis even from a broken
    message, so a rejection can still say what it replies to.
    """

    value: T | None
    errors: tuple[ProtocolError, ...] = ()
    message_id: str | None = None
    command_id: str | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (not self.errors):
            raise ValueError("a ValidationResult holds either a value or errors")

    @property
    def ok(self) -> bool:
        return self.value is not None

    def unwrap(self) -> T:
        """The value, or ProtocolValidationError carrying the errors."""
        if self.value is None:
            raise ProtocolValidationError(self.errors)
        return self.value


CommandValidation = ValidationResult[Command]


class _Fields:
    """Typed reads of one JSON object's fields; every problem is appended to ``errors``."""

    def __init__(self, data: dict[str, Any], prefix: str, errors: list[ProtocolError]) -> None:
        self.data = data
        self.prefix = prefix
        self.errors = errors

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def fail(self, code: ErrorCode, key: str, message: str) -> None:
        self.errors.append(ProtocolError(code, self.path(key), message))

    def _raw(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            self.fail(ErrorCode.MISSING_FIELD, key, "is required")
        return value

    def text(
        self,
        key: str,
        *,
        required: bool = True,
        max_length: int = MAX_ID_LENGTH,
        allow_empty: bool = False,
    ) -> str | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"must be a string, got {_json_type(value)}")
            return None
        if not value and not allow_empty:
            self.fail(ErrorCode.FIELD_OUT_OF_RANGE, key, "must not be empty")
            return None
        if len(value) > max_length:
            self.fail(ErrorCode.FIELD_OUT_OF_RANGE, key, f"is longer than {max_length} characters")
            return None
        if not _is_unicode(value):
            self.fail(ErrorCode.TYPE_MISMATCH, key, "contains an unpaired surrogate")
            return None
        return value

    def number(self, key: str, *, required: bool = True) -> float | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"must be a number, got {_json_type(value)}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(ErrorCode.FIELD_OUT_OF_RANGE, key, "must be a finite number")
            return None
        if abs(value) > _MAX_MAGNITUDE:
            self.fail(ErrorCode.FIELD_OUT_OF_RANGE, key, "is absurdly large")
            return None
        return float(value)

    def integer(self, key: str, *, required: bool = True) -> int | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"must be an integer, got {_json_type(value)}")
            return None
        return value

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(
                ErrorCode.TYPE_MISMATCH, key, f"must be true or false, got {_json_type(value)}"
            )
            return None
        return value

    def timestamp(self, key: str, *, required: bool = True) -> datetime | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(
                ErrorCode.TYPE_MISMATCH, key, f"must be an RFC 3339 string, got {_json_type(value)}"
            )
            return None
        if len(value) > MAX_ECHO_CHARS:  # no timestamp is this long; keep the message short
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"{_echo(value)} is not an RFC 3339 timestamp")
            return None
        try:
            return parse_datetime(value)
        except ValueError as err:
            self.fail(ErrorCode.TYPE_MISMATCH, key, _clip(str(err)))
            return None

    def duration(self, key: str, *, required: bool = True) -> timedelta | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(
                ErrorCode.TYPE_MISMATCH,
                key,
                f"must be an ISO-8601 duration, got {_json_type(value)}",
            )
            return None
        if len(value) > MAX_ECHO_CHARS:
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"{_echo(value)} is not an ISO-8601 duration")
            return None
        try:
            return parse_duration(value)
        except ValueError as err:
            self.fail(ErrorCode.TYPE_MISMATCH, key, _clip(str(err)))
            return None

    def choice[E: Enum](self, key: str, enum: type[E], *, required: bool = True) -> E | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"must be a string, got {_json_type(value)}")
            return None
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in enum)
            self.fail(ErrorCode.FIELD_OUT_OF_RANGE, key, f"{_echo(value)} is not one of {allowed}")
            return None

    def mapping(self, key: str, *, required: bool = True) -> _Fields | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"must be an object, got {_json_type(value)}")
            return None
        return _Fields(value, self.path(key), self.errors)

    def array(self, key: str, *, required: bool = True) -> list[Any] | None:
        value = self._raw(key, required)
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(ErrorCode.TYPE_MISMATCH, key, f"must be an array, got {_json_type(value)}")
            return None
        return value


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _echo(value: str) -> str:
    """``value`` quoted for an error message, cut to MAX_ECHO_CHARS: never echo unbounded input."""
    if len(value) <= MAX_ECHO_CHARS:
        return repr(value)
    return f"{value[:MAX_ECHO_CHARS]!r}... ({len(value)} characters)"


def _clip(message: str) -> str:
    """A message that may quote input (a parser's ValueError), cut to a bounded length."""
    limit = 2 * MAX_ECHO_CHARS + 80
    return message if len(message) <= limit else f"{message[:limit]}..."


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _decode(payload: object) -> dict[str, Any] | ProtocolError:
    def malformed(message: str) -> ProtocolError:
        return ProtocolError(ErrorCode.MESSAGE_MALFORMED, "", message)

    if isinstance(payload, bytes | bytearray | memoryview):
        if len(payload) > MAX_PAYLOAD_BYTES:
            return malformed(f"payload is larger than {MAX_PAYLOAD_BYTES} bytes")
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as err:
            return malformed(_clip(f"payload is not UTF-8: {err}"))
    elif isinstance(payload, str):
        if len(payload) > MAX_PAYLOAD_BYTES:
            return malformed(f"payload is larger than {MAX_PAYLOAD_BYTES} characters")
        text = payload
    else:
        return malformed(f"payload must be bytes or str, got {type(payload).__name__}")
    try:
        document = json.loads(text)
    except RecursionError:
        return malformed("JSON is nested too deeply")
    except ValueError as err:
        return malformed(_clip(f"payload is not JSON: {err}"))
    if not isinstance(document, dict):
        return malformed(f"payload must be a JSON object, got {_json_type(document)}")
    return document


def _best_effort_id(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and _is_unicode(value):
        return value
    return None


def _envelope(fields: _Fields) -> Envelope | None:
    version_text = fields.text("schema_version", max_length=32)
    if version_text is not None:
        try:
            version = SchemaVersion.parse(version_text)
        except ValueError as err:
            fields.fail(ErrorCode.TYPE_MISMATCH, "schema_version", _clip(str(err)))
            version_text = None
        else:
            if not is_supported(version):
                fields.fail(
                    ErrorCode.FIELD_OUT_OF_RANGE,
                    "schema_version",
                    f"MAJOR version {version.major} is not supported",
                )
                version_text = None
    message_id = fields.text("message_id")
    sent_at = fields.timestamp("sent_at")
    if version_text is None or message_id is None or sent_at is None:
        return None
    return Envelope(version_text, message_id, sent_at)


def _schedule_entry(item: object, path: str, errors: list[ProtocolError]) -> ScheduleEntry | None:
    if not isinstance(item, dict):
        errors.append(
            ProtocolError(
                ErrorCode.TYPE_MISMATCH, path, f"must be an object, got {_json_type(item)}"
            )
        )
        return None
    fields = _Fields(item, path, errors)
    before = len(errors)
    start = fields.timestamp("start")
    end = fields.timestamp("end")
    mode = fields.choice("mode", ControlMode, required=False)
    power_kw = fields.number("power_kw", required=False)
    max_charge_kw = fields.number("max_charge_kw", required=False)
    if len(errors) > before:
        if start is not None and end is not None and start >= end:
            fields.fail(ErrorCode.TIME_WINDOW_INVALID, "end", "end must be after start")
        return None
    # No errors, so both were read.
    assert start is not None
    assert end is not None
    # No mode means SETPOINT (which then needs power_kw).
    mode = mode or ControlMode.SETPOINT
    problems = entry_problems(
        start, end, mode, power_kw=power_kw, max_charge_kw=max_charge_kw, path=path
    )
    if problems:
        errors.extend(problems)
        return None
    return ScheduleEntry(start, end, mode, power_kw, max_charge_kw)


def _command(data: dict[str, Any], errors: list[ProtocolError]) -> Command | None:
    fields = _Fields(data, "", errors)
    envelope = _envelope(fields)
    command_id = fields.text("command_id")
    issued_at = fields.timestamp("issued_at")
    priority = fields.integer("priority")
    if priority is not None and priority not in tuple(Priority):
        fields.fail(ErrorCode.FIELD_OUT_OF_RANGE, "priority", f"must be 0, 1 or 2, got {priority}")
        priority = None
    raw_schedule = fields.array("schedule")
    schedule: list[ScheduleEntry] | None = None
    if raw_schedule is not None:
        if not raw_schedule:
            fields.fail(ErrorCode.FIELD_OUT_OF_RANGE, "schedule", "must not be empty")
        elif len(raw_schedule) > MAX_SCHEDULE_ENTRIES:
            fields.fail(
                ErrorCode.FIELD_OUT_OF_RANGE,
                "schedule",
                f"has more than {MAX_SCHEDULE_ENTRIES} entries",
            )
        else:
            entries = [
                _schedule_entry(item, f"schedule[{index}]", errors)
                for index, item in enumerate(raw_schedule)
            ]
            valid = [entry for entry in entries if entry is not None]
            if len(valid) == len(entries):
                schedule = valid
            # Overlaps among the readable entries are reported even if others are broken.
            errors.extend(_overlaps(entries))
    economics = _economics(fields)
    if envelope is None or command_id is None or issued_at is None or priority is None:
        return None
    if schedule is None or errors:
        return None
    return Command(envelope, command_id, issued_at, Priority(priority), tuple(schedule), economics)


def _economics(fields: _Fields) -> ScheduleEconomics | None:
    """The optional ``economics`` block; a broken one rejects the whole command."""
    block = fields.mapping("economics", required=False)
    if block is None:
        return None
    before = len(block.errors)
    currency = block.text("currency", max_length=MAX_ECHO_CHARS)
    if currency is not None and CURRENCY_CODE.fullmatch(currency) is None:
        # Reported with the other fields' errors, not only once they are all readable.
        block.fail(ErrorCode.FIELD_OUT_OF_RANGE, "currency", CURRENCY_PROBLEM)
    as_of = block.timestamp("as_of")
    horizon_start = block.timestamp("horizon_start")
    horizon_end = block.timestamp("horizon_end")
    amounts = {
        "plan_cost": block.number("plan_cost"),
        "no_battery_cost": block.number("no_battery_cost", required=False),
        "self_consumption_cost": block.number("self_consumption_cost", required=False),
    }
    if len(block.errors) > before:
        return None
    # No errors, so every required field was read.
    assert currency is not None
    assert as_of is not None
    assert horizon_start is not None
    assert horizon_end is not None
    plan_cost = amounts["plan_cost"]
    assert plan_cost is not None
    problems = economics_problems(
        currency=currency,
        horizon_start=horizon_start,
        horizon_end=horizon_end,
        amounts=amounts,
        path=block.prefix,
    )
    if problems:
        block.errors.extend(problems)
        return None
    return ScheduleEconomics(
        currency,
        as_of,
        horizon_start,
        horizon_end,
        plan_cost,
        amounts["no_battery_cost"],
        amounts["self_consumption_cost"],
    )


def _overlaps(entries: list[ScheduleEntry | None]) -> list[ProtocolError]:
    readable = [(index, entry) for index, entry in enumerate(entries) if entry is not None]
    overlaps = find_overlaps([(entry.start, entry.end) for _, entry in readable])
    return [
        ProtocolError(
            ErrorCode.TIME_WINDOW_INVALID,
            f"schedule[{readable[later][0]}]",
            f"overlaps schedule[{readable[earlier][0]}]",
        )
        for later, earlier in overlaps
    ]


def _lifetime(data: dict[str, Any], errors: list[ProtocolError]) -> LifetimeTelemetry | None:
    fields = _Fields(data, "", errors)
    envelope = _envelope(fields)
    measured_at = fields.timestamp("measured_at")
    value = _energy_value(fields)
    if envelope is None or measured_at is None or value is None:
        return None
    return LifetimeTelemetry(envelope, measured_at, value)


def _energy_value(fields: _Fields) -> float | None:
    measurement = fields.mapping("measurement_value")
    if measurement is None:
        return None
    value = measurement.number("value")
    unit = measurement.choice("unit", Unit)
    if unit is not None and unit is not Unit.KWH:
        measurement.fail(ErrorCode.FIELD_OUT_OF_RANGE, "unit", "energy is reported in kWh")
        return None
    if value is None or unit is None:
        return None
    return value


def _windowed(
    data: dict[str, Any], errors: list[ProtocolError], expected_window: timedelta | None
) -> WindowedTelemetry | None:
    fields = _Fields(data, "", errors)
    envelope = _envelope(fields)
    window_start = fields.timestamp("window_start")
    window_end = fields.timestamp("window_end")
    value = _energy_value(fields)
    if window_start is None or window_end is None:
        return None
    if window_end <= window_start:
        fields.fail(ErrorCode.TIME_WINDOW_INVALID, "window_end", "must be after window_start")
        return None
    if expected_window is not None and window_end - window_start != expected_window:
        fields.fail(
            ErrorCode.TIME_WINDOW_INVALID,
            "window_end",
            f"window is {window_end - window_start}, the topic says {expected_window}",
        )
        return None
    if envelope is None or value is None:
        return None
    return WindowedTelemetry(envelope, window_start, window_end, value)


def _power(data: dict[str, Any], errors: list[ProtocolError]) -> PowerTelemetry | None:
    fields = _Fields(data, "", errors)
    envelope = _envelope(fields)
    measured_at = fields.timestamp("measured_at")
    measurement = fields.mapping("measurement_value")
    if measurement is None:
        return None
    value = measurement.number("value")
    unit = measurement.choice("unit", Unit)
    aggregation = measurement.choice("aggregation", Aggregation, required=False)
    window = measurement.duration("aggregation_window", required=False)
    window_given = measurement.data.get("aggregation_window") is not None
    if window is not None and window <= timedelta(0):
        measurement.fail(ErrorCode.FIELD_OUT_OF_RANGE, "aggregation_window", "must be positive")
        return None
    if aggregation is Aggregation.AVERAGE and not window_given:
        measurement.fail(ErrorCode.MISSING_FIELD, "aggregation_window", "is required for average")
        return None
    if envelope is None or measured_at is None or value is None or unit is None:
        return None
    if errors:
        return None
    return PowerTelemetry(
        envelope, measured_at, value, unit, aggregation or Aggregation.INSTANT, window
    )


def _alert(data: dict[str, Any], errors: list[ProtocolError]) -> Alert | None:
    fields = _Fields(data, "", errors)
    envelope = _envelope(fields)
    code = fields.text("code")
    severity = fields.choice("severity", Severity)
    active = fields.boolean("active")
    raised_at = fields.timestamp("raised_at")
    message = fields.text("message", max_length=MAX_TEXT_LENGTH, allow_empty=True)
    if (
        envelope is None
        or code is None
        or severity is None
        or active is None
        or raised_at is None
        or message is None
    ):
        return None
    return Alert(envelope, code, severity, active, raised_at, message)


def _protocol_error(item: object, path: str, errors: list[ProtocolError]) -> ProtocolError | None:
    if not isinstance(item, dict):
        errors.append(
            ProtocolError(
                ErrorCode.TYPE_MISMATCH, path, f"must be an object, got {_json_type(item)}"
            )
        )
        return None
    fields = _Fields(item, path, errors)
    code = fields.choice("code", ErrorCode)
    where = fields.text("path", max_length=MAX_TEXT_LENGTH, allow_empty=True)
    message = fields.text("message", max_length=MAX_TEXT_LENGTH, allow_empty=True)
    if code is None or where is None or message is None:
        return None
    return ProtocolError(code, where, message)


def _command_response(data: dict[str, Any], errors: list[ProtocolError]) -> CommandResponse | None:
    fields = _Fields(data, "", errors)
    envelope = _envelope(fields)
    in_reply_to = fields.text("in_reply_to", required=False)
    command_id = fields.text("command_id", required=False)
    status = fields.choice("status", ResponseStatus)
    raw_errors = fields.array("errors", required=False) or []
    reported = [
        _protocol_error(item, f"errors[{index}]", errors) for index, item in enumerate(raw_errors)
    ]
    if status is ResponseStatus.REJECTED and not raw_errors:
        fields.fail(ErrorCode.MISSING_FIELD, "errors", "a rejection needs at least one error")
    if envelope is None or status is None or errors:
        return None
    return CommandResponse(
        envelope,
        in_reply_to,
        command_id,
        status,
        tuple(error for error in reported if error is not None),
    )


def _telemetry_feedback(
    data: dict[str, Any], errors: list[ProtocolError]
) -> TelemetryFeedback | None:
    fields = _Fields(data, "", errors)
    envelope = _envelope(fields)
    in_reply_to = fields.text("in_reply_to")
    status = fields.choice("status", FeedbackStatus)
    code = fields.choice("code", ErrorCode, required=False)
    message = fields.text("message", required=False, max_length=MAX_TEXT_LENGTH, allow_empty=True)
    if envelope is None or in_reply_to is None or status is None or errors:
        return None
    return TelemetryFeedback(envelope, in_reply_to, status, code, message)


def _run[T](
    payload: object, build: Callable[[dict[str, Any], list[ProtocolError]], T | None]
) -> ValidationResult[T]:
    data: dict[str, Any] | ProtocolError | None = None
    try:
        data = _decode(payload)
        if isinstance(data, ProtocolError):
            return ValidationResult(None, (data,))
        return _from_object(data, build)
    except Exception as err:  # the contract is "never raises"
        message_id = command_id = None
        if isinstance(data, dict):
            message_id = _best_effort_id(data, "message_id")
            command_id = _best_effort_id(data, "command_id")
        error = ProtocolError(ErrorCode.INTERNAL_ERROR, "", _clip(f"{type(err).__name__}: {err}"))
        return ValidationResult(None, (error,), message_id, command_id)


def _from_object[T](
    data: dict[str, Any], build: Callable[[dict[str, Any], list[ProtocolError]], T | None]
) -> ValidationResult[T]:
    errors: list[ProtocolError] = []
    value = build(data, errors)
    message_id = _best_effort_id(data, "message_id")
    command_id = _best_effort_id(data, "command_id")
    if errors or value is None:
        if not errors:  # pragma: no cover - every builder reports why it returned None
            errors.append(ProtocolError(ErrorCode.INTERNAL_ERROR, "", "message was not read"))
        return ValidationResult(None, tuple(errors), message_id, command_id)
    return ValidationResult(value, (), message_id, command_id)


def parse_command(payload: bytes | str, *, now: datetime) -> CommandValidation:
    """Read a ``cmd/`` payload; a command whose every entry ended by ``now`` is EXPIRED."""
    result = _run(payload, _command)
    command = result.value
    try:
        if command is not None and all(entry.end <= now for entry in command.schedule):
            error = ProtocolError(ErrorCode.EXPIRED, "schedule", "every entry ends in the past")
            return ValidationResult(None, (error,), result.message_id, result.command_id)
    except Exception as err:  # e.g. a naive ``now``: still never raise
        error = ProtocolError(ErrorCode.INTERNAL_ERROR, "", _clip(f"{type(err).__name__}: {err}"))
        return ValidationResult(None, (error,), result.message_id, result.command_id)
    return result


def command_from_dict(data: object) -> CommandValidation:
    """Read an already decoded command (no expiry check), e.g. a stored one."""
    if not isinstance(data, dict):
        error = ProtocolError(ErrorCode.MESSAGE_MALFORMED, "", "a command must be an object")
        return ValidationResult(None, (error,))
    return _from_object(data, _command)


def economics_from_dict(data: object) -> ValidationResult[ScheduleEconomics]:
    """Read an already decoded economics block, e.g. a stored one."""
    if not isinstance(data, dict):
        error = ProtocolError(ErrorCode.MESSAGE_MALFORMED, "", "economics must be an object")
        return ValidationResult(None, (error,))
    return _from_object(
        data, lambda document, errors: _economics(_Fields({"economics": document}, "", errors))
    )


def parse_lifetime_telemetry(payload: bytes | str) -> ValidationResult[LifetimeTelemetry]:
    return _run(payload, _lifetime)


def parse_windowed_telemetry(
    payload: bytes | str, *, expected_window: timedelta | None = None
) -> ValidationResult[WindowedTelemetry]:
    """``expected_window`` (from the topic) must equal ``window_end - window_start``."""
    return _run(payload, lambda data, errors: _windowed(data, errors, expected_window))


def parse_power_telemetry(payload: bytes | str) -> ValidationResult[PowerTelemetry]:
    return _run(payload, _power)


def parse_alert(payload: bytes | str) -> ValidationResult[Alert]:
    return _run(payload, _alert)


def parse_command_response(payload: bytes | str) -> ValidationResult[CommandResponse]:
    return _run(payload, _command_response)


def parse_telemetry_feedback(payload: bytes | str) -> ValidationResult[TelemetryFeedback]:
    return _run(payload, _telemetry_feedback)
