"""When to raise and clear the gateway's alerts (``dt/{siteId}/{gatewayId}/alert``).

Each condition is raised once (``active: true``) when it starts and cleared once
(``active: false``) when it ends; a clear carries the ``raised_at`` of the alert it clears
(so the receiver can pair them) and severity ``info``. Alerts go out immediately: the
caller submits the returned messages at once. Codes are stable (dashboards and the
optimizer key on them):

``SOURCE_UNAVAILABLE:<metric>`` (warning)
    The source of ``<metric>`` has been unavailable (or never reported) for at least
    ``source_grace``. Cleared when it reports again.
``SOE_OUT_OF_LIMITS`` (critical)
    The battery's state of energy is below ``soe_min_kwh - soe_tolerance_kwh`` or above
    ``soe_max_kwh + soe_tolerance_kwh`` (the owner's limits). Cleared once it is back
    within ``[soe_min_kwh, soe_max_kwh]``; the tolerance keeps a battery resting exactly at
    a limit from flapping.
``BACKLOG_GROWING`` (warning)
    More than ``backlog_max_messages`` messages queued, or the oldest queued message is
    older than ``backlog_max_age`` (the link is down or too slow). Cleared once both are
    back to half their threshold, so a backlog draining around a threshold does not flap.
``NO_SCHEDULE`` (warning)
    No live schedule entry covers now: the battery runs its own self-consumption
    (the fallback of docs/protocol.md). Cleared when a schedule covers now again.
``BATTERY_UNREACHABLE`` (critical)
    The actuator cannot reach the battery. Cleared when it answers again.
``MESSAGES_DROPPED`` (warning)
    The outbox dropped telemetry (full, too old, or not storable): raised for every drop
    with the counts, and never cleared, because lost data stays lost. Also raised when an
    unreadable outbox file was set aside with whatever it held.

:meth:`AlertTracker.to_dict` keeps the active alerts across restarts, so a condition that
ended while Home Assistant was down is still cleared afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..protocol.alert import Alert, Severity
from ..protocol.topics import DEFAULT_PROFILE, TopicKind, TopicProfile, validate_topic_id
from .outgoing_message import OutgoingMessage

SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
SOE_OUT_OF_LIMITS = "SOE_OUT_OF_LIMITS"
BACKLOG_GROWING = "BACKLOG_GROWING"
NO_SCHEDULE = "NO_SCHEDULE"
BATTERY_UNREACHABLE = "BATTERY_UNREACHABLE"
MESSAGES_DROPPED = "MESSAGES_DROPPED"


def source_unavailable_code(metric: str) -> str:
    return f"{SOURCE_UNAVAILABLE}:{metric}"


def unavailable_source(alert: Alert) -> str | None:
    """The metric a SOURCE_UNAVAILABLE alert (raised or cleared) is about, else None."""
    kind, _, metric = alert.code.partition(":")
    return metric if kind == SOURCE_UNAVAILABLE and metric else None


class AlertTracker:
    """Active alerts and the rules that raise and clear them; pure (the caller passes now)."""

    def __init__(
        self,
        *,
        site_id: str,
        gateway_id: str,
        soe_min_kwh: float,
        soe_max_kwh: float,
        soe_tolerance_kwh: float = 0.1,
        source_grace: timedelta = timedelta(minutes=5),
        backlog_max_messages: int = 1000,
        backlog_max_age: timedelta = timedelta(minutes=15),
        topic_profile: TopicProfile | None = None,
    ) -> None:
        for name, number in (
            ("soe_min_kwh", soe_min_kwh),
            ("soe_max_kwh", soe_max_kwh),
            ("soe_tolerance_kwh", soe_tolerance_kwh),
        ):
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {number!r}")
        if soe_min_kwh > soe_max_kwh:
            raise ValueError(f"soe_min_kwh {soe_min_kwh} is above soe_max_kwh {soe_max_kwh}")
        if source_grace < timedelta(0):
            raise ValueError(f"source_grace must not be negative, got {source_grace}")
        if backlog_max_messages < 1:
            raise ValueError(f"backlog_max_messages must be >= 1, got {backlog_max_messages}")
        if backlog_max_age <= timedelta(0):
            raise ValueError(f"backlog_max_age must be positive, got {backlog_max_age}")
        profile = topic_profile or DEFAULT_PROFILE
        self._topic = profile.build(
            TopicKind.ALERT,
            validate_topic_id(site_id, "site_id"),
            validate_topic_id(gateway_id, "gateway_id"),
        )
        self._soe_min = soe_min_kwh
        self._soe_max = soe_max_kwh
        self._soe_tolerance = soe_tolerance_kwh
        self.source_grace = source_grace
        self._backlog_max_messages = backlog_max_messages
        self._backlog_max_age = backlog_max_age
        self._active: dict[str, datetime] = {}  # code -> raised_at

    @property
    def active(self) -> dict[str, datetime]:
        """Active alert codes with the time each was raised."""
        return dict(self._active)

    def check_sources(
        self, unavailable_since: Mapping[str, datetime], now: datetime
    ) -> list[OutgoingMessage]:
        """``unavailable_since``: every metric whose source is unavailable now, with since
        when (``TelemetryPipeline.unavailable_since()``)."""
        messages: list[OutgoingMessage] = []
        for metric, since in sorted(unavailable_since.items()):
            if now - since >= self.source_grace:
                messages += self._raise(
                    source_unavailable_code(metric),
                    Severity.WARNING,
                    f"source of {metric} unavailable since {since.isoformat()}",
                    now,
                )
        prefix = f"{SOURCE_UNAVAILABLE}:"
        for code in [c for c in self._active if c.startswith(prefix)]:
            if code.removeprefix(prefix) not in unavailable_since:
                messages += self._clear(code, f"source of {code.removeprefix(prefix)} is back", now)
        return messages

    def check_soe(self, soe_kwh: float | None, now: datetime) -> list[OutgoingMessage]:
        """The latest state of energy (None = unknown: nothing changes)."""
        if soe_kwh is None:
            return []
        if soe_kwh < self._soe_min - self._soe_tolerance or soe_kwh > self._soe_max + (
            self._soe_tolerance
        ):
            return self._raise(
                SOE_OUT_OF_LIMITS,
                Severity.CRITICAL,
                f"state of energy {soe_kwh:.3f} kWh outside the owner's limits "
                f"{self._soe_min:.3f}..{self._soe_max:.3f} kWh",
                now,
            )
        if self._soe_min <= soe_kwh <= self._soe_max:
            return self._clear(
                SOE_OUT_OF_LIMITS, f"state of energy {soe_kwh:.3f} kWh within limits", now
            )
        return []

    def check_backlog(
        self, queued: int, oldest_age: timedelta | None, now: datetime
    ) -> list[OutgoingMessage]:
        """``queued``: messages in the outbox; ``oldest_age``: age of the oldest (None: empty)."""
        age = oldest_age or timedelta(0)
        if queued > self._backlog_max_messages or age > self._backlog_max_age:
            return self._raise(
                BACKLOG_GROWING,
                Severity.WARNING,
                f"{queued} messages queued, oldest {age.total_seconds():.0f} s old",
                now,
            )
        if queued <= self._backlog_max_messages // 2 and age <= self._backlog_max_age / 2:
            return self._clear(BACKLOG_GROWING, f"backlog down to {queued} messages", now)
        return []

    def check_schedule(self, covered: bool, now: datetime) -> list[OutgoingMessage]:
        """Whether a schedule entry covers now (False: the self-consumption fallback)."""
        if covered:
            return self._clear(NO_SCHEDULE, "a schedule covers now again", now)
        return self._raise(
            NO_SCHEDULE,
            Severity.WARNING,
            "no schedule covers now: the battery runs its own self-consumption",
            now,
        )

    def check_battery(
        self, reachable: bool, detail: str | None, now: datetime
    ) -> list[OutgoingMessage]:
        if reachable:
            return self._clear(BATTERY_UNREACHABLE, "the battery answers again", now)
        return self._raise(
            BATTERY_UNREACHABLE,
            Severity.CRITICAL,
            f"the battery cannot be reached: {detail or 'no answer'}",
            now,
        )

    def dropped(self, counts: Mapping[str, int], now: datetime) -> list[OutgoingMessage]:
        """Messages the outbox dropped, by reason: one alert per drop event, never silent."""
        total = sum(counts.values())
        if total <= 0:
            return []
        detail = ", ".join(f"{count} {reason}" for reason, count in sorted(counts.items()))
        return [
            self._message(
                MESSAGES_DROPPED,
                Severity.WARNING,
                True,
                now,
                text=f"{total} telemetry messages dropped ({detail})",
                now=now,
            )
        ]

    def outbox_set_aside(self, file_name: str, error: str, now: datetime) -> list[OutgoingMessage]:
        """The outbox file was unreadable: its messages (count unknown) are not sent."""
        text = (
            f"the outbox file was unreadable ({error[:200]}); it was set aside as {file_name} "
            "with any telemetry it held, and a new one was started"
        )
        return [self._message(MESSAGES_DROPPED, Severity.WARNING, True, now, text=text, now=now)]

    def _raise(
        self, code: str, severity: Severity, message: str, now: datetime
    ) -> list[OutgoingMessage]:
        if code in self._active:
            return []
        self._active[code] = now
        return [self._message(code, severity, True, now, text=message, now=now)]

    def _clear(self, code: str, message: str, now: datetime) -> list[OutgoingMessage]:
        raised_at = self._active.pop(code, None)
        if raised_at is None:
            return []
        return [self._message(code, Severity.INFO, False, raised_at, text=message, now=now)]

    def _message(
        self,
        code: str,
        severity: Severity,
        active: bool,
        raised_at: datetime,
        *,
        text: str,
        now: datetime,
    ) -> OutgoingMessage:
        alert = Alert.create(
            code=code, severity=severity, active=active, raised_at=raised_at, message=text, now=now
        )
        return OutgoingMessage(
            self._topic, alert.to_payload(), TopicKind.ALERT, alert.envelope.message_id, alert=alert
        )

    def to_dict(self) -> dict[str, Any]:
        return {"active": {code: at.isoformat() for code, at in self._active.items()}}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take the active alerts of :meth:`to_dict` (ValueError names a malformed entry)."""
        active = data.get("active") or {}
        if not isinstance(active, Mapping):
            raise ValueError("alert state: active must be an object")
        restored: dict[str, datetime] = {}
        for code, at in active.items():
            try:
                restored[str(code)] = datetime.fromisoformat(str(at))
            except ValueError:
                raise ValueError(f"alert state: active.{code}: bad time {at!r}") from None
        self._active = restored
