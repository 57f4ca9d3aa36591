"""Fixtures: status sources with one and with two sites."""

from __future__ import annotations

import pytest

from tests.helpers.status_samples import InMemoryStatusSource, sample_plan, sample_status


@pytest.fixture
def one_site() -> InMemoryStatusSource:
    return InMemoryStatusSource(
        statuses={"home": sample_status("home")}, plans={"home": sample_plan()}
    )


@pytest.fixture
def two_sites() -> InMemoryStatusSource:
    return InMemoryStatusSource(
        statuses={"home": sample_status("home"), "cabin": sample_status("cabin", connected=False)},
        plans={"home": sample_plan(), "cabin": []},
    )
