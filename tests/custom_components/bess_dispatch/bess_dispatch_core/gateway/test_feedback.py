"""FeedbackCounter: ok/error counts, the last error, unparseable payloads, duplicates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bess_dispatch_core.gateway.feedback import FeedbackCounter
from bess_dispatch_core.protocol import ErrorCode, ProtocolError, TelemetryFeedback

T0 = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)


def test_feedback_is_counted_by_status_with_the_last_error_kept() -> None:
    counter = FeedbackCounter()
    ok = TelemetryFeedback.ok(in_reply_to="tele-1", now=T0)
    error = TelemetryFeedback.error(
        in_reply_to="tele-2",
        errors=[ProtocolError(ErrorCode.FIELD_OUT_OF_RANGE, "measurement_value.value", "< 0")],
        now=T0,
    )
    later = TelemetryFeedback.error(
        in_reply_to="tele-3",
        errors=[ProtocolError(ErrorCode.MISSING_FIELD, "measured_at", "required")],
        now=T0,
    )
    assert counter.consume(ok.to_payload(), T0) == ok
    assert counter.consume(error.to_payload(), T0 + timedelta(seconds=1)) == error
    counter.consume(later.to_payload().decode(), T0 + timedelta(seconds=2))  # str works too
    counter.consume(error.to_payload(), T0 + timedelta(seconds=3))  # redelivered: once only
    assert (counter.ok, counter.errors, counter.duplicates, counter.unparseable) == (1, 2, 1, 0)
    assert counter.errors_by_code == {"FIELD_OUT_OF_RANGE": 1, "MISSING_FIELD": 1}
    assert counter.last_error is not None
    assert counter.last_error.to_dict() == {
        "in_reply_to": "tele-3",
        "code": "MISSING_FIELD",
        "message": "MISSING_FIELD at measured_at: required",
        "received_at": "2026-11-21T04:00:02+00:00",
    }


def test_unparseable_feedback_is_counted_separately_and_never_raises() -> None:
    counter = FeedbackCounter()
    valid = TelemetryFeedback.ok(in_reply_to="tele-1", now=T0).to_dict()
    for payload in (
        b"not json",
        b"[1, 2]",
        json.dumps({**valid, "status": "maybe"}).encode(),
        json.dumps({k: v for k, v in valid.items() if k != "in_reply_to"}).encode(),
        b"\xff\xfe",
    ):
        assert counter.consume(payload, T0) is None
    assert (counter.ok, counter.errors, counter.unparseable) == (0, 0, 5)
    assert counter.last_unparseable is not None
    assert counter.to_dict()["unparseable"] == 5
    assert counter.to_dict()["last_error"] is None


def test_duplicate_memory_is_bounded() -> None:
    counter = FeedbackCounter(id_memory=2)
    messages = [TelemetryFeedback.ok(in_reply_to=f"t-{i}", now=T0).to_payload() for i in range(3)]
    for payload in messages:
        counter.consume(payload, T0)
    counter.consume(messages[0], T0)  # forgotten: counted again
    counter.consume(messages[2], T0)  # remembered: a duplicate
    assert (counter.ok, counter.duplicates) == (4, 1)
