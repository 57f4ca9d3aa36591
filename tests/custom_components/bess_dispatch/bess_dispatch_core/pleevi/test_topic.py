"""The installer's topic template: {site_id} and {asset_id} only, no wildcards."""

from __future__ import annotations

import pytest

from bess_dispatch_core.pleevi import PleeviTopicTemplate, PleeviValueError


def test_template_builds_one_topic_per_asset() -> None:
    template = PleeviTopicTemplate("sites/{site_id}/assets/{asset_id}")
    assert template.build("site-1", "Battery") == "sites/site-1/assets/Battery"
    assert PleeviTopicTemplate().build("s", "PV") == "pleevi/s/PV/measurements"


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("pleevi/{site_id}", "must contain {asset_id}"),
        ("pleevi/{gateway_id}/{asset_id}", "unknown placeholder 'gateway_id'"),
        ("pleevi/+/{asset_id}", "must not contain"),
        ("pleevi/#/{asset_id}", "must not contain"),
        ("pleevi/{asset_id", "malformed braces"),
        ("pleevi/{asset_id:>5}", "no format spec"),
        ("", "must be 1-200"),
        ("x" * 201 + "{asset_id}", "must be 1-200"),
    ],
)
def test_bad_templates_are_refused_naming_the_field(template: str, why: str) -> None:
    with pytest.raises(PleeviValueError, match=f"^topic_template: .*{why[:12]}"):
        PleeviTopicTemplate(template)


def test_an_asset_id_that_is_not_a_topic_level_is_refused() -> None:
    with pytest.raises(PleeviValueError, match=r"^asset_id"):
        PleeviTopicTemplate().build("site-1", "a/b")
    with pytest.raises(PleeviValueError, match=r"^site_id"):
        PleeviTopicTemplate().build("", "PV")
