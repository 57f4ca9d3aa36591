"""Typed keys for what the application stores (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from optimizer.service.status import StatusSource

STATUS_SOURCE = web.AppKey("status_source", StatusSource)
