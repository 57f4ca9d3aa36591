"""The aiohttp application: plan page, REST API and OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

from optimizer.service.status import StatusSource

from .api_routes import add_api_routes
from .app_keys import STATUS_SOURCE
from .client_allow_list import client_allow_list_middleware, parse_allowed_clients
from .errors import json_error_middleware
from .openapi_route import add_openapi_route
from .plan_page import add_plan_page_route


def create_app(
    source: StatusSource, *, ingress_only: bool, allowed_clients: Sequence[str]
) -> web.Application:
    """The web application over ``source``.

    ingress_only: production mode; only TCP peers in ``allowed_clients`` (the ingress proxy,
    client_allow_list.HA_INGRESS_PROXY) are answered, everyone else gets 403.
    """
    middlewares: list[Middleware] = [json_error_middleware]
    if ingress_only:
        networks = parse_allowed_clients(allowed_clients)
        if not networks:
            raise ValueError("allowed_clients: empty, but ingress_only needs at least one")
        # Outermost, so that a refused client learns nothing, not even which paths exist.
        middlewares.insert(0, client_allow_list_middleware(networks))
    app = web.Application(middlewares=middlewares)
    app[STATUS_SOURCE] = source
    add_plan_page_route(app)
    add_api_routes(app)
    add_openapi_route(app)
    return app
