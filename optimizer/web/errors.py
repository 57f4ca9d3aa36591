"""Structured JSON errors: every failure the API returns has the same shape."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

_LOGGER = logging.getLogger(__name__)

# Codes a client can switch on; the message is for humans.
_CODE_OF_STATUS = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    500: "internal_error",
}


def json_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The error body {"error": {"code", "message"}} with its HTTP status."""
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


@web.middleware
async def json_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns aiohttp's HTTP exceptions (404, 405 ...) and crashes into JSON errors."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are not errors
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        code = _CODE_OF_STATUS.get(exc.status, "http_error")
        message = _message_of(exc, request)
        return json_error(exc.status, code, message, headers)
    except Exception:
        # The log keeps the traceback; the client only learns that it was our fault.
        _LOGGER.exception("%s %s failed", request.method, request.path)
        return json_error(500, "internal_error", "internal server error (see the add-on log)")


def _message_of(exc: web.HTTPException, request: web.Request) -> str:
    if exc.status == 404 and exc.text in (None, "", "404: Not Found"):
        return f"no such resource: {request.path}"
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return f"method {request.method} not allowed on {request.path} (allowed: {allowed})"
    return exc.reason if not exc.text or exc.text.startswith(f"{exc.status}:") else exc.text
