"""REST API v1: the sites, their status and their plan, read from the StatusSource."""

from __future__ import annotations

from aiohttp import web

from .app_keys import STATUS_SOURCE
from .errors import json_error
from .json_view import plan_json, site_status_json, site_summary_json

API_PREFIX = "/api/v1"


def add_api_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get(f"{API_PREFIX}/sites", list_sites)
    app.router.add_get(f"{API_PREFIX}/sites/{{site_id}}/status", site_status)
    app.router.add_get(f"{API_PREFIX}/sites/{{site_id}}/plan", site_plan)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def list_sites(request: web.Request) -> web.Response:
    source = request.app[STATUS_SOURCE]
    sites = []
    for site_id in source.site_ids():
        try:
            sites.append(site_summary_json(source.status(site_id)))
        except KeyError:
            continue  # removed between the two calls
    return web.json_response({"sites": sites})


async def site_status(request: web.Request) -> web.Response:
    site_id = request.match_info["site_id"]
    try:
        status = request.app[STATUS_SOURCE].status(site_id)
    except KeyError:
        return unknown_site(site_id)
    return web.json_response(site_status_json(status))


async def site_plan(request: web.Request) -> web.Response:
    site_id = request.match_info["site_id"]
    try:
        points = request.app[STATUS_SOURCE].plan(site_id)
    except KeyError:
        return unknown_site(site_id)
    return web.json_response(plan_json(site_id, points))


def unknown_site(site_id: str) -> web.Response:
    return json_error(404, "site_not_found", f"unknown site: {site_id!r}")
