"""MQTT topics of the protocol: a profile of templates, builders, filters and a parser.

Templates use the placeholders of asyncapi.yaml (``{siteId}``, ``{gatewayId}``, ``{metric}``,
``{window}``), each filling one whole topic level, so a deployment can adapt the layout by
configuration (``TopicProfile.from_dict``) instead of code edits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from enum import StrEnum

from .timeformat import format_duration, parse_duration


class TopicKind(StrEnum):
    """The seven topics of the protocol."""

    LIFETIME = "lifetime"
    WINDOWED = "windowed"
    POWER = "power"
    ALERT = "alert"
    COMMAND = "command"
    COMMAND_RESPONSE = "command_response"
    TELEMETRY_FEEDBACK = "telemetry_feedback"


SITE_ID = "siteId"
GATEWAY_ID = "gatewayId"
METRIC = "metric"
WINDOW = "window"

# Which placeholders each template must contain (no more, no fewer).
_PLACEHOLDERS: dict[TopicKind, frozenset[str]] = {
    TopicKind.LIFETIME: frozenset({SITE_ID, GATEWAY_ID, METRIC}),
    TopicKind.WINDOWED: frozenset({SITE_ID, GATEWAY_ID, METRIC, WINDOW}),
    TopicKind.POWER: frozenset({SITE_ID, GATEWAY_ID, METRIC}),
    TopicKind.ALERT: frozenset({SITE_ID, GATEWAY_ID}),
    TopicKind.COMMAND: frozenset({SITE_ID}),
    TopicKind.COMMAND_RESPONSE: frozenset({SITE_ID}),
    TopicKind.TELEMETRY_FEEDBACK: frozenset({SITE_ID, GATEWAY_ID}),
}
_PLACEHOLDER_LEVEL = re.compile(r"\{([A-Za-z]+)\}")


def validate_topic_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it can fill one topic level; raise ValueError naming ``what``."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    for forbidden in ("/", "+", "#", "\x00"):
        if forbidden in value:
            raise ValueError(f"{what} {value!r} must not contain {forbidden!r}")
    return value


@dataclass(frozen=True, slots=True)
class TopicAddress:
    """What a topic says: its kind and the ids it carries (None where the kind has none)."""

    kind: TopicKind
    site_id: str
    gateway_id: str | None = None
    metric: str | None = None
    window: timedelta | None = None


@dataclass(frozen=True, slots=True)
class TopicProfile:
    """Topic templates of one deployment; the defaults are the AsyncAPI document's."""

    lifetime: str = "dt/{siteId}/{gatewayId}/{metric}/lifetime"
    windowed: str = "dt/{siteId}/{gatewayId}/{metric}/energy/{window}"
    power: str = "dt/{siteId}/{gatewayId}/{metric}/power"
    alert: str = "dt/{siteId}/{gatewayId}/alert"
    command: str = "cmd/{siteId}/battery/power"
    command_response: str = "res/{siteId}/command"
    telemetry_feedback: str = "res/{siteId}/{gatewayId}/telemetry"

    def __post_init__(self) -> None:
        for kind in TopicKind:
            template = self.template(kind)
            levels = template.split("/")
            names: list[str] = []
            for level in levels:
                match = _PLACEHOLDER_LEVEL.fullmatch(level)
                if match is not None:
                    names.append(match[1])
                elif not level or any(c in level for c in "{}+#\x00"):
                    raise ValueError(
                        f"topic template {kind.value}={template!r}: level {level!r} must be "
                        "a literal or one whole {placeholder}"
                    )
            if len(names) != len(set(names)) or set(names) != _PLACEHOLDERS[kind]:
                expected = ", ".join(sorted(_PLACEHOLDERS[kind]))
                raise ValueError(
                    f"topic template {kind.value}={template!r} must use each of {{{expected}}} once"
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> TopicProfile:
        """Build a profile from ``{kind: template}``; missing kinds keep the defaults."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown topic kinds: {', '.join(sorted(unknown))}")
        for key, value in data.items():
            if not isinstance(value, str):
                raise ValueError(f"topic template {key} must be a string")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, str]:
        return {kind.value: self.template(kind) for kind in TopicKind}

    def template(self, kind: TopicKind) -> str:
        template: str = getattr(self, kind.value)
        return template

    def build(
        self,
        kind: TopicKind,
        site_id: str,
        gateway_id: str | None = None,
        metric: str | None = None,
        window: timedelta | None = None,
    ) -> str:
        """Fill the template of ``kind``; every id it needs must be given and valid."""
        values: dict[str, str | None] = {
            SITE_ID: site_id,
            GATEWAY_ID: gateway_id,
            METRIC: metric,
            WINDOW: None if window is None else _window_text(window),
        }
        levels = []
        for level in self.template(kind).split("/"):
            match = _PLACEHOLDER_LEVEL.fullmatch(level)
            if match is None:
                levels.append(level)
                continue
            value = values[match[1]]
            if value is None:
                raise ValueError(f"{kind.value} topic needs {match[1]}")
            levels.append(validate_topic_id(value, match[1]))
        return "/".join(levels)

    def filter(
        self,
        kind: TopicKind,
        site_id: str | None = None,
        gateway_id: str | None = None,
        metric: str | None = None,
    ) -> str:
        """A subscription filter: given ids are filled in, the others become ``+``."""
        values = {SITE_ID: site_id, GATEWAY_ID: gateway_id, METRIC: metric, WINDOW: None}
        levels = []
        for level in self.template(kind).split("/"):
            match = _PLACEHOLDER_LEVEL.fullmatch(level)
            if match is None:
                levels.append(level)
            else:
                value = values[match[1]]
                levels.append("+" if value is None else validate_topic_id(value, match[1]))
        return "/".join(levels)

    def parse(self, topic: str) -> TopicAddress | None:
        """Recognise a concrete topic; None when it matches no template of this profile."""
        levels = topic.split("/")
        for kind in TopicKind:
            address = self._match(kind, levels)
            if address is not None:
                return address
        return None

    def _match(self, kind: TopicKind, levels: list[str]) -> TopicAddress | None:
        template_levels = self.template(kind).split("/")
        if len(template_levels) != len(levels):
            return None
        values: dict[str, str] = {}
        for template_level, level in zip(template_levels, levels, strict=True):
            match = _PLACEHOLDER_LEVEL.fullmatch(template_level)
            if match is None:
                if level != template_level:
                    return None
                continue
            try:
                values[match[1]] = validate_topic_id(level, match[1])
            except ValueError:
                return None
        window: timedelta | None = None
        if WINDOW in values:
            try:
                window = parse_duration(values[WINDOW])
            except ValueError:
                return None
            if window <= timedelta(0):
                return None
        return TopicAddress(
            kind=kind,
            site_id=values[SITE_ID],
            gateway_id=values.get(GATEWAY_ID),
            metric=values.get(METRIC),
            window=window,
        )


def _window_text(window: timedelta) -> str:
    if window <= timedelta(0):
        raise ValueError(f"window {window} must be positive")
    return format_duration(window)


DEFAULT_PROFILE = TopicProfile()


def lifetime_topic(site_id: str, gateway_id: str, metric: str) -> str:
    """``dt/{siteId}/{gatewayId}/{metric}/lifetime``"""
    return DEFAULT_PROFILE.build(TopicKind.LIFETIME, site_id, gateway_id, metric)


def windowed_topic(site_id: str, gateway_id: str, metric: str, window: timedelta) -> str:
    """``dt/{siteId}/{gatewayId}/{metric}/energy/{window}``"""
    return DEFAULT_PROFILE.build(TopicKind.WINDOWED, site_id, gateway_id, metric, window)


def power_topic(site_id: str, gateway_id: str, metric: str) -> str:
    """``dt/{siteId}/{gatewayId}/{metric}/power``"""
    return DEFAULT_PROFILE.build(TopicKind.POWER, site_id, gateway_id, metric)


def alert_topic(site_id: str, gateway_id: str) -> str:
    """``dt/{siteId}/{gatewayId}/alert``"""
    return DEFAULT_PROFILE.build(TopicKind.ALERT, site_id, gateway_id)


def command_topic(site_id: str) -> str:
    """``cmd/{siteId}/battery/power``"""
    return DEFAULT_PROFILE.build(TopicKind.COMMAND, site_id)


def command_response_topic(site_id: str) -> str:
    """``res/{siteId}/command``"""
    return DEFAULT_PROFILE.build(TopicKind.COMMAND_RESPONSE, site_id)


def telemetry_feedback_topic(site_id: str, gateway_id: str) -> str:
    """``res/{siteId}/{gatewayId}/telemetry``"""
    return DEFAULT_PROFILE.build(TopicKind.TELEMETRY_FEEDBACK, site_id, gateway_id)


def parse_topic(topic: str) -> TopicAddress | None:
    """Parse with the default profile."""
    return DEFAULT_PROFILE.parse(topic)
