"""Validate a (topic, payload) seen on a real broker against the AsyncAPI document."""

import json
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bess_dispatch_core.protocol import DEFAULT_PROFILE, TopicAddress, TopicKind

DOCUMENT: dict[str, Any] = yaml.safe_load(
    resources.files("bess_dispatch_core.protocol").joinpath("asyncapi.yaml").read_text()
)
REGISTRY: Registry[Any] = Registry().with_resource(
    "urn:bess-dispatch:asyncapi",
    Resource.from_contents(DOCUMENT, default_specification=DRAFT202012),
)
SCHEMA_OF_KIND = {
    TopicKind.LIFETIME: "LifetimeTelemetry",
    TopicKind.WINDOWED: "WindowedTelemetry",
    TopicKind.POWER: "PowerTelemetry",
    TopicKind.ALERT: "Alert",
    TopicKind.COMMAND: "Command",
    TopicKind.COMMAND_RESPONSE: "CommandResponse",
    TopicKind.TELEMETRY_FEEDBACK: "TelemetryFeedback",
}


def validated(topic: str, payload: bytes) -> tuple[TopicAddress, dict[str, Any]]:
    """The topic's address and the decoded payload; AssertionError naming what is wrong."""
    address = DEFAULT_PROFILE.parse(topic)
    assert address is not None, f"not a protocol topic: {topic}"
    schema = {
        "$ref": f"urn:bess-dispatch:asyncapi#/components/schemas/{SCHEMA_OF_KIND[address.kind]}"
    }
    document = json.loads(payload)
    errors = list(Draft202012Validator(schema, registry=REGISTRY).iter_errors(document))
    assert not errors, (topic, [error.message for error in errors])
    return address, document
