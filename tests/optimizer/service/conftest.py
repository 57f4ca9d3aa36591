"""An optimizer service that is never connected: for what it does without a broker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from optimizer.service.service import OptimizerService
from optimizer.simulation.day_run import demo_config, sample_site

OFFLINE_T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


@pytest.fixture
def offline_service(tmp_path: Path) -> OptimizerService:
    """The demo site, state files in ``tmp_path``, its clock stopped at OFFLINE_T0."""
    config = demo_config(
        host="127.0.0.1",
        port=1,  # never started: nothing listens there
        state_dir=tmp_path,
        price_file=tmp_path / "none.csv",
        sites=(sample_site(),),
        export_price=8.0,
    )
    return OptimizerService(config, clock=lambda: OFFLINE_T0)
