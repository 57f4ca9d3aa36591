"""The plan page: one self-contained HTML document (inline script, SVG drawn in the browser)."""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

from aiohttp import web

from .api_routes import unknown_site
from .app_keys import STATUS_SOURCE
from .ingress import ingress_base_path
from .json_view import plan_json, site_status_json


@cache
def _template() -> str:
    package = resources.files(__package__)
    page = package.joinpath("plan_page.html").read_text(encoding="utf-8")
    script = package.joinpath("plan_chart.js").read_text(encoding="utf-8")
    return page.replace("@@PLAN_CHART_JS@@", script)


def add_plan_page_route(app: web.Application) -> None:
    app.router.add_get("/", plan_page)


async def plan_page(request: web.Request) -> web.Response:
    source = request.app[STATUS_SOURCE]
    site_ids = source.site_ids()
    site_id = request.query.get("site") or (site_ids[0] if site_ids else None)
    data: dict[str, Any] = {"site_id": site_id, "sites": site_ids}
    if site_id is not None:
        try:
            data["status"] = site_status_json(source.status(site_id))
            data["plan"] = plan_json(site_id, source.plan(site_id))
        except KeyError:
            return unknown_site(site_id)
    page = (
        _template()
        .replace("@@BASE_HREF@@", html.escape(ingress_base_path(request), quote=True))
        .replace("@@SITE_SELECTOR@@", _site_selector(site_ids, site_id))
        .replace("@@PAGE_DATA@@", _script_safe_json(data))
    )
    # The page embeds live data: a cached copy would show an old plan.
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})


def _site_selector(site_ids: list[str], current: str | None) -> str:
    if len(site_ids) < 2:
        return ""
    options = "".join(
        f'<option value="{html.escape(site, quote=True)}"'
        f"{' selected' if site == current else ''}>{html.escape(site)}</option>"
        for site in site_ids
    )
    # action="./" resolves against <base>: the ingress root, never the proxy's own root.
    return (
        '<form method="get" action="./"><label>site '
        f'<select name="site" onchange="this.form.submit()">{options}</select></label>'
        "<noscript><button>show</button></noscript></form>"
    )


def _script_safe_json(data: dict[str, Any]) -> str:
    """JSON that cannot end the <script> element it sits in (a site id may contain "</")."""
    text = json.dumps(data, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
