"""The installer's topic template for Pleevi measurements, e.g. ``pleevi/{site_id}/{asset_id}``.

Only ``{site_id}`` and ``{asset_id}`` may appear, ``{asset_id}`` must (one topic per asset),
and no MQTT wildcard: a published topic must be a plain name.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from .errors import PleeviValueError, echo

DEFAULT_TEMPLATE = "pleevi/{site_id}/{asset_id}/measurements"
MAX_TEMPLATE_CHARS = 200
_FIELDS = frozenset({"site_id", "asset_id"})


@dataclass(frozen=True, slots=True)
class PleeviTopicTemplate:
    template: str = DEFAULT_TEMPLATE

    def __post_init__(self) -> None:
        field = "topic_template"
        value = self.template
        if not isinstance(value, str) or not value or len(value) > MAX_TEMPLATE_CHARS:
            raise PleeviValueError(field, f"must be 1-{MAX_TEMPLATE_CHARS} characters")
        if any(char in value for char in "+#\0") or value.startswith("$"):
            raise PleeviValueError(
                field, f"must not contain + # NUL or start with $: {echo(value)}"
            )
        try:
            names = {name for _, name, spec, conv in string.Formatter().parse(value) if name}
            specs = [
                (spec, conv) for _, name, spec, conv in string.Formatter().parse(value) if name
            ]
        except ValueError as error:
            raise PleeviValueError(field, f"malformed braces ({error})") from None
        if unknown := names - _FIELDS:
            raise PleeviValueError(field, f"unknown placeholder {sorted(unknown)[0]!r}")
        if "asset_id" not in names:
            raise PleeviValueError(field, "must contain {asset_id}")
        if any(spec or conv for spec, conv in specs):
            raise PleeviValueError(field, "placeholders take no format spec")

    def subscription(self, site_id: str) -> str:
        """The MQTT filter matching every asset of ``site_id`` (a receiver's side); needs
        ``{asset_id}`` to be a whole topic level, where the ``+`` wildcard can stand."""
        levels = self.template.split("/")
        if not any(level == "{asset_id}" for level in levels) or any(
            "{asset_id}" in level and level != "{asset_id}" for level in levels
        ):
            raise PleeviValueError("topic_template", "{asset_id} must be a whole topic level")
        self.build(site_id, "x")  # checks site_id
        return self.template.replace("{asset_id}", "+").replace("{site_id}", site_id)

    def asset_of(self, site_id: str, topic: str) -> str | None:
        """The asset id in a received ``topic`` (None: not one of this site's topics)."""
        pattern = self.subscription(site_id).split("/")
        levels = topic.split("/")
        if len(levels) != len(pattern):
            return None
        asset = None
        for want, got in zip(pattern, levels, strict=True):
            if want == "+":
                asset = got
            elif want != got:
                return None
        return asset

    def build(self, site_id: str, asset_id: str) -> str:
        for name, value in (("site_id", site_id), ("asset_id", asset_id)):
            if not value or any(char in value for char in "+#/\0"):
                raise PleeviValueError(name, f"cannot be a topic level: {echo(value)}")
        return self.template.format(site_id=site_id, asset_id=asset_id)
