"""The OpenAPI document: well formed (structurally: openapi-spec-validator is not in the
environment), every reference resolves, every schema is valid JSON Schema, every operation
answers the error shape, and the served copy is the file."""

from typing import Any

import jsonschema

from .conftest import API, Api
from .openapi_schemas import openapi

METHODS = ("get", "post", "put", "delete", "patch")


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_document_structure() -> None:
    document = openapi()
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["servers"] == [{"url": API}]
    assert document["security"] == [{"homeAssistantToken": []}]
    for ref in refs(document):
        resolve(document, ref)
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    operation_ids = []
    for path, item in document["paths"].items():
        assert path.startswith("/")
        templated = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        declared = {
            resolve(document, p["$ref"])["name"] if "$ref" in p else p["name"]
            for p in item.get("parameters", [])
        }
        assert templated <= declared, path
        for method in set(item) - {"parameters"}:
            assert method in METHODS, (path, method)
            operation = item[method]
            operation_ids.append(operation["operationId"])
            responses = operation["responses"]
            assert {"401", "429"} <= set(responses), (path, method)
            assert any(code.startswith("2") for code in responses), (path, method)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    body = resolve(document, response["$ref"])
                    schema = body["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, code)
    assert len(operation_ids) == len(set(operation_ids))


async def test_the_served_document_is_the_file(api: Api) -> None:
    status, body, _ = await api.call("utility", "GET", f"{API}/openapi.json")
    assert status == 200
    assert body == openapi()
