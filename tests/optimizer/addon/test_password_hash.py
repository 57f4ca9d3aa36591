"""Mosquitto sha512-pbkdf2 ($7$) hashes made in Python."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from optimizer.addon.password_hash import hash_password, verify_password


def test_hash_has_mosquittos_layout_and_verifies() -> None:
    hashed = hash_password("s3cret", salt=b"0123456789ab", iterations=1000)

    empty, scheme, iterations, salt, digest = hashed.split("$")
    assert (empty, scheme, iterations) == ("", "7", "1000")
    assert base64.b64decode(salt) == b"0123456789ab"
    assert len(base64.b64decode(digest)) == 64  # SHA-512
    assert verify_password("s3cret", hashed)
    assert not verify_password("s3cret ", hashed)


def test_each_hash_gets_a_fresh_salt() -> None:
    assert hash_password("same") != hash_password("same")


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="iterations must be positive"):
        hash_password("x", iterations=0)
    with pytest.raises(ValueError, match=r"not a Mosquitto sha512-pbkdf2 \(\$7\$\) hash"):
        verify_password("x", "$6$abc$def")


def test_verifies_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    # The same scheme both ways: our verifier accepts the real tool's $7$ line.
    mosquitto_passwd = Path("/usr/bin/mosquitto_passwd")
    if not mosquitto_passwd.exists():
        pytest.fail("mosquitto_passwd missing: run the tests through scripts/env")
    password_file = tmp_path / "passwd"
    password_file.write_text("user:plain-password\n", encoding="utf-8")
    password_file.chmod(0o600)

    subprocess.run([str(mosquitto_passwd), "-U", str(password_file)], check=True, timeout=10)

    username, hashed = password_file.read_text(encoding="utf-8").strip().split(":", 1)
    assert username == "user"
    assert hashed.startswith("$7$")
    assert verify_password("plain-password", hashed)
