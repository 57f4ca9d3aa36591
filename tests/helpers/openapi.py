"""Validate an HTTP response of the web app against optimizer/web/openapi.yaml."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:bess-dispatch:openapi"
DOCUMENT: dict[str, Any] = yaml.safe_load(
    resources.files("optimizer.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
)
REGISTRY: Registry[Any] = Registry().with_resource(
    DOCUMENT_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
)


def path_template(path: str) -> str | None:
    """The document's path that matches a concrete request path ("/api/v1/sites/x/plan")."""
    path = path.split("?", 1)[0]
    for template in DOCUMENT["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return str(template)
    return None


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def validate_response(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    """AssertionError naming what the document does not allow (status, media type, body)."""
    template = path_template(path)
    if template is None:
        # Paths outside the document may only answer the documented error body.
        assert status in (403, 404), f"{method} {path}: undocumented path answered {status}"
        _validate_body("components/schemas/Error", json.loads(body), f"{method} {path} {status}")
        return
    operation = DOCUMENT["paths"][template].get(method.lower())
    if operation is None:
        # A method the path does not have: the document's 405 response.
        assert status == 405, f"{method} {template}: undocumented method answered {status}"
        responses = {"405": {"$ref": "#/components/responses/MethodNotAllowed"}}
    else:
        responses = operation["responses"]
    assert str(status) in responses, f"{method} {template}: status {status} not documented"
    pointer = ["paths", template, method.lower(), "responses", str(status)]
    response = responses[str(status)]
    if "$ref" in response:  # "#/components/responses/X"
        pointer = response["$ref"].removeprefix("#/").split("/")
        response = DOCUMENT["components"]["responses"][pointer[-1]]
    for header in response.get("headers", {}):
        assert header in headers, f"{method} {template} {status}: header {header} missing"
    media_type = headers.get("Content-Type", "").split(";")[0].strip()
    assert media_type in response["content"], (
        f"{method} {template} {status}: media type {media_type!r} not documented"
    )
    schema_pointer = "/".join(
        _pointer_escape(part) for part in [*pointer, "content", media_type, "schema"]
    )
    document: Any = json.loads(body) if media_type == "application/json" else body.decode()
    _validate_body(schema_pointer, document, f"{method} {path} {status}")


def _validate_body(schema_pointer: str, document: Any, what: str) -> None:
    validator = Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#/{schema_pointer}"}, registry=REGISTRY
    )
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]
    assert not errors, f"{what} breaks the OpenAPI document: {errors}"
