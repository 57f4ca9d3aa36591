"""Checks responses against the API's own OpenAPI document (jsonschema, draft 2020-12)."""

from functools import cache
from typing import Any

import jsonschema
import yaml

from custom_components.bess_dispatch.api.openapi_view import OPENAPI_FILE


@cache
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


def assert_matches(schema: str, body: Any) -> None:
    """``body`` is valid for ``#/components/schemas/{schema}``."""
    root = {"components": openapi()["components"], "$ref": f"#/components/schemas/{schema}"}
    jsonschema.Draft202012Validator(root).validate(body)


def assert_error(body: Any, code: str, field: str | None = None) -> None:
    assert_matches("Error", body)
    assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["details"]["field"] == field, body
