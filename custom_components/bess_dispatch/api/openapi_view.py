"""GET /api/bess_dispatch/v1/openapi.json: the API's own OpenAPI 3.1 document."""

from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from .base import API_PREFIX, ApiView, Caller
from .roles import Action

OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")


def load_openapi() -> dict[str, Any]:
    """Blocking file read: call it in the executor."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


class OpenApiView(ApiView):
    url = f"{API_PREFIX}/openapi.json"
    name = "api:bess_dispatch:openapi"

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    async def get(self, request: web.Request) -> web.Response:
        async def answer(caller: Caller) -> web.Response:
            return self.json(self.document)

        return await self.guarded(request, Action.READ_INDEX, None, answer)
