"""`python -m optimizer.addon generate`: options.json -> every file the services start from."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from optimizer.addon.__main__ import main
from optimizer.addon.credentials import write_private_file
from optimizer.addon.password_hash import verify_password
from optimizer.settings.service_config import load_service_config

RESOURCES = Path(__file__).parent / "resources"
HA_ENV = {
    "BESS_MQTT_HOST": "core-mosquitto",
    "BESS_MQTT_PORT": "1883",
    "BESS_MQTT_USERNAME": "addons",
    "BESS_MQTT_PASSWORD": "supervisor-secret",
    "BESS_MQTT_SSL": "false",
}


def run(tmp_path: Path, example: str, environ: dict[str, str] | None = None) -> int:
    options = tmp_path / "data" / "options.json"
    options.parent.mkdir(exist_ok=True)
    shutil.copy(RESOURCES / example, options)
    return main(
        [
            "generate",
            "--options", str(options),
            "--state", str(tmp_path / "data"),
            "--out", str(tmp_path / "run"),
            "--addon-config", str(tmp_path / "config"),
            "--ingress-port", "8099",
            "--hostname", "a0d7b954-bess-dispatch",
            "--timezone", "Asia/Tokyo",
        ],
        environ or {},
    )  # fmt: skip


def test_own_mode_writes_broker_service_and_gateway_sheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "options_own_two_sites.json") == 0

    credentials = json.loads((tmp_path / "data" / "mqtt_credentials.json").read_text())
    config = load_service_config(tmp_path / "run" / "service.json")
    assert config.mqtt.password == credentials["optimizer"]
    assert config.state_dir == tmp_path / "data" / "optimizer"
    passwd = dict(
        line.split(":", 1)
        for line in (tmp_path / "run" / "mosquitto" / "passwd").read_text().splitlines()
    )
    assert verify_password(credentials["A.gw"], passwd["A.gw"])
    assert verify_password("owner-chosen-password-B", passwd["B.gw-2"])
    assert "user B.gw-2\n" in (tmp_path / "run" / "mosquitto" / "acl").read_text()
    assert "listener 8883\n" in (tmp_path / "run" / "mosquitto" / "mosquitto.conf").read_text()
    sheet = tmp_path / "config" / "gateway_credentials.yaml"
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o600
    assert sheet.read_text().splitlines()[5:] == [
        "A:",
        '  gateway_id: "gw"',
        '  host: "a0d7b954-bess-dispatch"',
        "  port: 1883",
        "  tls_port: 8883",
        '  username: "A.gw"',
        f'  password: "{credentials["A.gw"]}"',
        "B:",
        '  gateway_id: "gw-2"',
        '  host: "a0d7b954-bess-dispatch"',
        "  port: 1883",
        "  tls_port: 8883",
        '  username: "B.gw-2"',
        '  password: "owner-chosen-password-B"',
    ]
    # The log line names users and files, never a password.
    out = capsys.readouterr().out
    assert "broker mode own; sites A/gw, B/gw-2" in out
    assert "users A.gw, B.gw-2, optimizer" in out
    for password in credentials.values():
        assert password not in out


def test_restart_keeps_the_passwords(tmp_path: Path) -> None:
    assert run(tmp_path, "options_spot_file.json") == 0
    first = load_service_config(tmp_path / "run" / "service.json").mqtt.password

    assert run(tmp_path, "options_spot_file.json") == 0

    assert load_service_config(tmp_path / "run" / "service.json").mqtt.password == first


def test_switch_to_ha_mode_removes_the_own_broker_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "options_spot_file.json") == 0
    assert (tmp_path / "run" / "mosquitto" / "mosquitto.conf").exists()

    assert run(tmp_path, "options_ha_entity.json", HA_ENV) == 0

    # No conf: the mosquitto service idles; no sheet with passwords that no longer work.
    assert not (tmp_path / "run" / "mosquitto").exists()
    assert not (tmp_path / "config" / "gateway_credentials.yaml").exists()
    config = load_service_config(tmp_path / "run" / "service.json")
    assert (config.mqtt.host, config.mqtt.username) == ("core-mosquitto", "addons")
    assert config.mqtt.password == "supervisor-secret"
    assert "supervisor-secret" not in capsys.readouterr().out


def test_invalid_options_fail_with_the_option_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((RESOURCES / "options_spot_file.json").read_text())
    data["sites"][0]["min_soe_percent"] = -5
    options = tmp_path / "data" / "options.json"
    options.parent.mkdir()
    options.write_text(json.dumps(data))
    code = main(["generate", "--options", str(options), "--state", str(tmp_path / "data"),
                 "--out", str(tmp_path / "run")], {})  # fmt: skip

    assert code == 1
    assert "sites[0].min_soe_percent: -5 is below the minimum 0" in capsys.readouterr().err
    assert not (tmp_path / "run" / "service.json").exists()


def test_ha_mode_without_mosquitto_add_on_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "options_ha_entity.json", {}) == 1

    assert "install and start the Mosquitto broker add-on" in capsys.readouterr().err


def test_a_failed_write_leaves_no_half_written_broker_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(tmp_path, "options_own_two_sites.json") == 0
    credentials = (tmp_path / "data" / "mqtt_credentials.json").read_text()
    real_fsync = os.fsync
    written: list[str] = []

    def disk_full_on_the_acl(descriptor: int) -> None:
        name = Path(f"/proc/self/fd/{descriptor}").readlink().name
        written.append(name)
        if name.startswith(".acl."):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", disk_full_on_the_acl)

    assert run(tmp_path, "options_own_two_sites.json") == 1

    assert any(name.startswith(".passwd.") for name in written)  # passwd came first and was done
    assert "acl: No space left on device" in capsys.readouterr().err
    # All or nothing: no conf (so Mosquitto does not start), no passwd without its ACL, no
    # temporary file; the stored passwords are untouched.
    assert not (tmp_path / "run").exists()
    assert (tmp_path / "data" / "mqtt_credentials.json").read_text() == credentials
    assert [p.name for p in (tmp_path / "data").iterdir() if p.name.startswith(".")] == []


def test_a_failed_write_keeps_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "passwd"
    write_private_file(target, "old:line\n")

    def fail(descriptor: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match=r"cannot write .*passwd: Input/output error"):
        write_private_file(target, "new:line\n" * 1000)

    assert target.read_text() == "old:line\n"
    assert [p.name for p in tmp_path.iterdir()] == ["passwd"]
