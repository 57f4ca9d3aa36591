"""The API's one error shape: ``{"error": {"code": "BESS_...", "message", "details"}}``."""

from http import HTTPStatus
from typing import Any

from aiohttp import web


class ApiError(Exception):
    """Raised by a view; the base view turns it into the error response."""

    def __init__(
        self,
        status: HTTPStatus,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = {"error": {"code": self.code, "message": self.message, "details": self.details}}
        return web.json_response(body, status=self.status, headers=self.headers)


def bad_field(field: str, message: str) -> ApiError:
    """400 naming the field (a dotted path for nested ones)."""
    return ApiError(
        HTTPStatus.BAD_REQUEST, "BESS_INVALID_FIELD", f"{field}: {message}", {"field": field}
    )


def hard_limit(field: str, message: str, limit: str) -> ApiError:
    """409: well-formed, but the owner's hard limits forbid it."""
    return ApiError(
        HTTPStatus.CONFLICT,
        "BESS_HARD_LIMIT",
        f"{field}: {message}",
        {"field": field, "limit": limit},
    )


def emergency_stop_held() -> ApiError:
    return ApiError(
        HTTPStatus.CONFLICT,
        "BESS_EMERGENCY_STOP_ACTIVE",
        "the emergency stop is held: clear it first (DELETE .../emergency_stop)",
        {"limit": "emergency_stop"},
    )


def not_found(what: str, name: str) -> ApiError:
    return ApiError(
        HTTPStatus.NOT_FOUND,
        "BESS_NOT_FOUND",
        f"no {what} {name!r}",
        {what.replace(" ", "_"): name},
    )
