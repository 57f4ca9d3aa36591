"""The dispatch protocol in one place, for the gateway and the optimizer.

The contract is asyncapi.yaml beside this file; docs/protocol.md explains it.

Standard library only, no Home Assistant. One idea per module:

- ``version``: ``SCHEMA_VERSION`` and the rule "same MAJOR, newer MINOR accepted".
- ``errors``: the nine ``ErrorCode`` values and ``ProtocolError(code, path, message)``.
- ``timeformat``: RFC 3339 timestamps (aware in, UTC ``Z`` with milliseconds out) and
  ISO-8601 durations (``PT5M``, ``P1D``).
- ``topics``: the seven topics; a ``TopicProfile`` of templates builds, filters and parses
  them (``command_topic("site-1") == "cmd/site-1/battery/power"``).
- ``economics``: ``ScheduleEconomics``, a plan's expected costs (optional on a command).
- ``envelope``, ``telemetry``, ``alert``, ``command``, ``responses``: frozen message types,
  each with ``to_dict()`` (wire form) and ``to_payload()`` (UTF-8 JSON bytes).
- ``validation``: ``parse_*`` functions that never raise and return a
  ``ValidationResult`` holding the message or every error with its field path.
- ``schedule_book``: the layered ``ScheduleBook`` (offer, resolve, prune, blocks, restore).
- ``metrics``: the metric catalogue and what each use case must report.

``asyncapi.yaml`` next to this file is the machine-readable contract (AsyncAPI 3.0.0); the
tests check every message type against it.

Typical gateway use::

    result = parse_command(payload, now=now)
    errors = result.errors or book.offer(result.unwrap(), now=now)
    response = (
        CommandResponse.rejected(in_reply_to=result.message_id, command_id=result.command_id,
                                 errors=errors, now=now)
        if errors
        else CommandResponse.accepted(in_reply_to=result.message_id,
                                      command_id=result.command_id, now=now)
    )
"""

from .alert import Alert, Severity
from .command import (
    MAX_POWER_KW,
    MAX_SCHEDULE_ENTRIES,
    Command,
    ControlMode,
    Priority,
    ScheduleEntry,
)
from .economics import ScheduleEconomics
from .envelope import Envelope
from .errors import ErrorCode, ProtocolError, ProtocolValidationError
from .metrics import (
    METRICS,
    Metric,
    MetricKind,
    Requirement,
    UseCase,
    metric,
    optional_metrics,
    required_metrics,
)
from .responses import CommandResponse, FeedbackStatus, ResponseStatus, TelemetryFeedback
from .schedule_book import (
    DEFAULT_ID_MEMORY,
    ReceivedEconomics,
    ResolvedEntry,
    ScheduleBlock,
    ScheduleBook,
)
from .telemetry import (
    Aggregation,
    LifetimeTelemetry,
    PowerTelemetry,
    Telemetry,
    Unit,
    WindowedTelemetry,
)
from .timeformat import format_datetime, format_duration, parse_datetime, parse_duration
from .topics import (
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
from .validation import (
    CommandValidation,
    ValidationResult,
    command_from_dict,
    parse_alert,
    parse_command,
    parse_command_response,
    parse_lifetime_telemetry,
    parse_power_telemetry,
    parse_telemetry_feedback,
    parse_windowed_telemetry,
)
from .version import CURRENT_VERSION, SCHEMA_VERSION, SchemaVersion, is_supported

__all__ = [
    "CURRENT_VERSION",
    "DEFAULT_ID_MEMORY",
    "DEFAULT_PROFILE",
    "MAX_POWER_KW",
    "MAX_SCHEDULE_ENTRIES",
    "METRICS",
    "SCHEMA_VERSION",
    "Aggregation",
    "Alert",
    "Command",
    "CommandResponse",
    "CommandValidation",
    "ControlMode",
    "Envelope",
    "ErrorCode",
    "FeedbackStatus",
    "LifetimeTelemetry",
    "Metric",
    "MetricKind",
    "PowerTelemetry",
    "Priority",
    "ProtocolError",
    "ProtocolValidationError",
    "ReceivedEconomics",
    "Requirement",
    "ResolvedEntry",
    "ResponseStatus",
    "ScheduleBlock",
    "ScheduleBook",
    "ScheduleEconomics",
    "ScheduleEntry",
    "SchemaVersion",
    "Severity",
    "Telemetry",
    "TelemetryFeedback",
    "TopicAddress",
    "TopicKind",
    "TopicProfile",
    "Unit",
    "UseCase",
    "ValidationResult",
    "WindowedTelemetry",
    "alert_topic",
    "command_from_dict",
    "command_response_topic",
    "command_topic",
    "format_datetime",
    "format_duration",
    "is_supported",
    "lifetime_topic",
    "metric",
    "optional_metrics",
    "parse_alert",
    "parse_command",
    "parse_command_response",
    "parse_datetime",
    "parse_duration",
    "parse_lifetime_telemetry",
    "parse_power_telemetry",
    "parse_telemetry_feedback",
    "parse_topic",
    "parse_windowed_telemetry",
    "power_topic",
    "required_metrics",
    "telemetry_feedback_topic",
    "validate_topic_id",
    "windowed_topic",
]
