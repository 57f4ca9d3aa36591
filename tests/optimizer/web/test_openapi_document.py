"""The OpenAPI document describes exactly the application's routes, with valid schemas."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator

from optimizer.web import create_app
from tests.helpers.openapi import DOCUMENT
from tests.helpers.status_samples import InMemoryStatusSource


def test_document_is_openapi_3_1_with_valid_schemas() -> None:
    assert DOCUMENT["openapi"] == "3.1.0"
    for schema in DOCUMENT["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_route_is_documented_and_every_documented_path_is_served() -> None:
    app = create_app(InMemoryStatusSource(), ingress_only=False, allowed_clients=[])
    served = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue  # added by aiohttp for every GET
        path = route.resource.canonical if route.resource is not None else ""
        served.add((route.method.lower(), path))
    documented = {
        (method, path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch", "head", "options"}
    }
    assert served == documented


def test_every_operation_documents_its_responses_and_parameters() -> None:
    for path, item in DOCUMENT["paths"].items():
        parameters = {p["$ref"].rsplit("/", 1)[-1] for p in item.get("parameters", [])}
        if re.search(r"\{site_id\}", path):
            assert parameters == {"SiteId"}, path
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["operationId"], (path, method)
            assert "200" in operation["responses"], (path, method)
            assert "403" in operation["responses"], (path, method)  # production mode
