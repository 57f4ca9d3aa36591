"""The base path Home Assistant ingress serves us under (X-Ingress-Path)."""

from __future__ import annotations

import re

from aiohttp import web

INGRESS_PATH_HEADER = "X-Ingress-Path"

# e.g. /api/hassio_ingress/4bX...; anything else (quotes, "//", "..") is not a path we emit.
_SAFE_PATH = re.compile(r"^(/[A-Za-z0-9_\-.~]+)+$")


def ingress_base_path(request: web.Request) -> str:
    """The page's base path ending in "/": the ingress path, or "/" when served directly.

    A malformed header is ignored rather than echoed into the page.
    """
    header = request.headers.get(INGRESS_PATH_HEADER, "").strip().rstrip("/")
    if header and _SAFE_PATH.fullmatch(header) and ".." not in header.split("/"):
        return header + "/"
    return "/"
