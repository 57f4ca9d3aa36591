"""Generated broker credentials: persisted in /data, 0600, stable across restarts."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.addon.credentials import (
    CREDENTIALS_FILE,
    CredentialsError,
    broker_credentials,
)
from optimizer.settings.options import load_options

RESOURCES = Path(__file__).parent / "resources"


def test_passwords_are_generated_once_and_survive_restarts(tmp_path: Path) -> None:
    sites = load_options(RESOURCES / "options_own_two_sites.json").sites

    first = broker_credentials(tmp_path, sites)
    second = broker_credentials(tmp_path, sites)

    assert set(first) == {"optimizer", "A.gw", "B.gw-2"}
    assert first == second
    assert len(first["optimizer"]) >= 43  # 32 random bytes, URL-safe base64
    assert first["optimizer"] != first["A.gw"]
    stored = tmp_path / CREDENTIALS_FILE
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_owner_password_wins_and_is_not_stored(tmp_path: Path) -> None:
    sites = load_options(RESOURCES / "options_own_two_sites.json").sites

    credentials = broker_credentials(tmp_path, sites)

    assert credentials["B.gw-2"] == "owner-chosen-password-B"
    stored = json.loads((tmp_path / CREDENTIALS_FILE).read_text(encoding="utf-8"))
    assert "owner-chosen-password-B" not in stored.values()


def test_removed_sites_lose_their_login_and_new_sites_get_one(tmp_path: Path) -> None:
    site_a, site_b = load_options(RESOURCES / "options_own_two_sites.json").sites
    before = broker_credentials(tmp_path, [site_a, site_b])

    after = broker_credentials(tmp_path, [site_a, replace(site_b, site_id="C")])

    assert after["A.gw"] == before["A.gw"]
    assert after["optimizer"] == before["optimizer"]
    assert "B.gw-2" not in after
    stored = json.loads((tmp_path / CREDENTIALS_FILE).read_text(encoding="utf-8"))
    assert set(stored) == {"optimizer", "A.gw", "C.gw-2"}


def test_a_damaged_file_is_reported_not_silently_replaced(tmp_path: Path) -> None:
    sites = load_options(RESOURCES / "options_spot_file.json").sites
    (tmp_path / CREDENTIALS_FILE).write_text("{", encoding="utf-8")

    with pytest.raises(CredentialsError, match=r"not valid JSON.*delete it"):
        broker_credentials(tmp_path, sites)
    (tmp_path / CREDENTIALS_FILE).write_text('{"optimizer": 1}', encoding="utf-8")
    with pytest.raises(CredentialsError, match="must map usernames to passwords"):
        broker_credentials(tmp_path, sites)
