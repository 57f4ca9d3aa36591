"""Serves the OpenAPI document that describes every route of this application."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

OPENAPI_PATH = "/api/v1/openapi.yaml"


def openapi_document_text() -> str:
    return resources.files(__package__).joinpath("openapi.yaml").read_text(encoding="utf-8")


def add_openapi_route(app: web.Application) -> None:
    text = openapi_document_text()  # read once: the file ships with the package

    async def openapi_document(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="application/yaml")

    app.router.add_get(OPENAPI_PATH, openapi_document)
